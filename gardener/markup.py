"""Make log text inert in GitHub Markdown: no mentions, no HTML, no links, no broken fences.

Every string that came from a log goes through `inline` (tables, titles, lists) or `code_block`
(samples) before it is put in Markdown. Redaction (`gardener.redact`) happens before this.
"""

from __future__ import annotations

import re

# U+2060 WORD JOINER: invisible, and it stops GitHub from seeing "@name", "#123" or "GH-1" as a
# reference while the text still reads the same.
_JOINER = "\u2060"
_MENTION = re.compile(r"([@#])(?=[\w\[])")
_GH_REF = re.compile(r"(gh)(?=-\d)", re.IGNORECASE)
# Every "://" and "www.", not only those after a word boundary: GitHub's autolinker also starts
# after "_", "*", "~" and "(", and "xhttp://" must not leave "http://" standing either.
_SCHEME = re.compile(r":(?=//)")
_WWW = re.compile(r"(www)(?=\.)", re.IGNORECASE)
_INLINE_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~>=$-])")
"""Markdown's punctuation, and `$`: GitHub renders `$...$` as math, where `\\color` and
`\\text` could draw a fake verdict in a gate's comment."""
# C0/C1 controls except tab and newline (a lone CR would end a line inside a code block), and the
# bidi marks, embeddings, overrides and isolates that can make text read differently than it is.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BACKTICKS = re.compile(r"`+")
_LANG = re.compile(r"[^A-Za-z0-9_+.-]")


def _defuse(text: str) -> str:
    """Break mentions, autolinks and bare URLs so GitHub renders them as plain text.

    Each substitution runs only on text holding a character every match needs (a control is
    never printable; the others need "@" or "#", "-", "://" or "."): most strings hold none, and
    five scans of every string were a quarter of the Markdown's time.
    """
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    if "@" in text or "#" in text:
        text = _MENTION.sub(lambda m: m.group(1) + _JOINER, text)
    if "-" in text:
        text = _GH_REF.sub(lambda m: m.group(1) + _JOINER, text)
    if "://" in text:
        text = _SCHEME.sub(_JOINER + ":", text)
    if "." in text:
        text = _WWW.sub(lambda m: m.group(1) + _JOINER, text)
    return text


def inline(text: str, limit: int = 300) -> str:
    """One line of inert Markdown: escaped, entity-encoded, single-line; `limit` caps the text's
    characters (escaping then adds some)."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _INLINE_SPECIAL.sub(r"\\\1", _defuse(flat))
    return flat


def code(text: str, limit: int = 300) -> str:
    """An inline code span that no backtick in `text` can close early."""
    flat = _defuse(" ".join(text.split()))
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def code_block(text: str, lang: str = "", limit: int = 4000) -> str:
    """A fenced block whose fence is longer than any backtick run inside, so it cannot be closed.

    `lang` keeps only the characters of a language name: a backtick or newline in the info string
    would break the fence.
    """
    lang = _LANG.sub("", lang)
    body = _defuse(text)
    if len(body) > limit:
        body = body[: limit - 1] + "…"
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body.rstrip()}\n{fence}"


def details(summary: str, body: str) -> str:
    """A collapsed `<details>` section; `summary` must already be inert (see `inline`)."""
    return f"<details>\n<summary>{summary}</summary>\n\n{body.rstrip()}\n\n</details>"
