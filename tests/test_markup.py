"""Log text made inert for GitHub Markdown: string properties, golden hostile inputs, and a check
against cmark-gfm (GitHub's own Markdown engine) that what renders is exactly the log text.

Mentions and `#123` references are resolved by GitHub's server, not by cmark-gfm, so those are
checked on the strings.
"""

from __future__ import annotations

import html
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gardener import markup
from gardener.markup import code, code_block, details, inline

cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (GitHub's cmark) renders the oracle")
from cmarkgfm.cmark import Options  # noqa: E402

J = "\u2060"  # the word joiner markup.py inserts
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
HOSTILE = st.sampled_from([
    "@octocat", "#123", "GH-42", "owner/repo#7", "</details><img src=x onerror=alert(1)>",
    "```", "~~~", "[click](http://evil)", "<!-- -->", "javascript:alert(1)", "https://evil.com",
    "www.evil.com", "_www.evil.com", "a@b.com", "&#64;x", "&lt;", "\\", "`", "``", "|", "*", "_",
    "\r", "\n", "\u2028", "\x00", "\x85", "\u202e", "<b>", ":", "!", "[", "](", "![x](y)",
])
TEXT = st.one_of(st.text(), st.lists(st.one_of(HOSTILE, st.text(max_size=5)), max_size=15)
                 .map("".join))


def gfm(markdown: str) -> str:
    """HTML as GitHub's cmark renders it, raw HTML let through so that any would show."""
    rendered = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return str(rendered)


def unescaped(markdown: str) -> str:
    """The characters of `markdown` that are not backslash-escaped."""
    return re.sub(r"\\.", "", markdown)


def visible(text: str) -> str:
    """What a reader should see: the text on one line, control and bidi characters gone (and word
    joiners, which are invisible and which the comparisons strip from the rendering too)."""
    return re.sub(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI}{J}]", "", " ".join(text.split())).strip()


def no_autolinks(markdown: str) -> None:
    lowered = markdown.lower()
    assert "http://" not in lowered and "https://" not in lowered and "www." not in lowered


# --- inline -------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(TEXT)
def test_inline_is_inert(text: str) -> None:
    out = inline(text, limit=10_000)
    assert "\n" not in out and "\r" not in out
    assert "<" not in out and ">" not in out
    assert "](" not in out
    assert not re.search(r"@\w", out), "no mention can form"
    assert not re.search(r"#\d|gh-\d", out, re.IGNORECASE), "no issue reference can form"
    assert not re.search(r"&(?!amp;|lt;|gt;)", out), "no entity of the log's own"
    assert not set(unescaped(out)) & set("`*_[]()!|~#\\"), "every Markdown character is escaped"
    assert not set(out) & set(BIDI)
    no_autolinks(out)


@settings(max_examples=300)
@given(TEXT)
def test_inline_renders_as_exactly_the_text(text: str) -> None:
    rendered = gfm("x " + inline(text, limit=10_000))
    assert rendered.startswith("<p>x") and rendered.endswith("</p>\n")
    body = rendered[len("<p>x"):-len("</p>\n")]
    assert "<" not in body, f"no element of any kind: {rendered!r}"
    assert html.unescape(body).replace(J, "").strip() == visible(text)


def test_inline_truncates_before_escaping() -> None:
    assert inline("a" * 10, limit=5) == "aaaa…"
    assert inline("<" * 10, limit=3) == "&lt;&lt;…"


# --- code ---------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(TEXT)
def test_code_span_cannot_be_closed_early(text: str) -> None:
    out = code(text, limit=10_000)
    fence = re.match("`+", out)
    assert fence is not None and out.endswith(fence.group())
    n = len(fence.group())
    inner = out[n:-n]
    assert not inner.startswith("`") and not inner.endswith("`")
    assert all(len(run) < n for run in re.findall("`+", inner))
    assert "\n" not in out and "\r" not in out
    assert not re.search(r"@\w", out)
    no_autolinks(out)


@settings(max_examples=300)
@given(TEXT)
def test_code_span_renders_as_exactly_the_text(text: str) -> None:
    rendered = gfm("x " + code(text, limit=10_000))
    match = re.fullmatch(r"<p>x <code>(.*)</code></p>\n", rendered, re.DOTALL)
    assert match is not None, rendered
    shown = html.unescape(match.group(1)).replace(J, "").strip()
    assert shown == visible(text)


# --- code_block ---------------------------------------------------------------------------------


@settings(max_examples=300)
@given(TEXT, st.one_of(st.just(""), st.just("json"), st.text(max_size=8)))
def test_code_block_cannot_be_closed_early(text: str, lang: str) -> None:
    out = code_block(text, lang, limit=100_000)
    lines = out.split("\n")
    fence = re.match("`{3,}", lines[0])
    assert fence is not None and lines[-1] == fence.group()
    assert re.fullmatch(r"[A-Za-z0-9_+.-]*", lines[0][len(fence.group()):])
    body = "\n".join(lines[1:-1])
    assert all(len(run) < len(fence.group()) for run in re.findall("`+", body))
    assert "\r" not in body
    assert not re.search(r"@\w", out)
    no_autolinks(out)


@settings(max_examples=300)
@given(TEXT)
def test_code_block_renders_as_exactly_the_text(text: str) -> None:
    rendered = gfm(code_block(text, "text", limit=100_000))
    match = re.fullmatch(r'<pre lang="text"><code>(.*)</code></pre>\n', rendered, re.DOTALL)
    assert match is not None, rendered
    kept = re.sub(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI}{J}]", "", text).rstrip()
    assert html.unescape(match.group(1)).replace(J, "") == kept + "\n"


# --- the substitutions' pre-checks -------------------------------------------------------------


def test_every_control_character_removed_is_unprintable() -> None:
    """`_defuse` skips the control-character pass on printable text: sound only if so."""
    removed = [c for c in map(chr, range(sys.maxunicode + 1)) if markup._CONTROL.fullmatch(c)]
    assert len(removed) > 60 and not any(c.isprintable() for c in removed)


@settings(max_examples=500)
@given(st.one_of(TEXT, st.lists(st.sampled_from(["GH", "gh", "-1", "www", "WwW", ".", "://",
                                                  "@", "#x", "\x85", "a"]), max_size=12)
                 .map("".join)))
def test_defuse_is_the_five_substitutions_unchecked(text: str) -> None:
    unchecked = markup._CONTROL.sub("", text)
    unchecked = markup._MENTION.sub(lambda m: m.group(1) + J, unchecked)
    unchecked = markup._GH_REF.sub(lambda m: m.group(1) + J, unchecked)
    unchecked = markup._SCHEME.sub(J + ":", unchecked)
    unchecked = markup._WWW.sub(lambda m: m.group(1) + J, unchecked)
    assert markup._defuse(text) == unchecked


# --- golden hostile strings ---------------------------------------------------------------------

GOLDEN = [
    ("@octocat", f"@{J}octocat", f"`@{J}octocat`"),
    ("#123", f"\\#{J}123", f"`#{J}123`"),
    ("see GH-12", f"see GH{J}\\-12", f"`see GH{J}-12`"),
    ("</details><img src=x onerror=alert(1)>",
     "&lt;/details&gt;&lt;img src\\=x onerror\\=alert\\(1\\)&gt;",
     "`</details><img src=x onerror=alert(1)>`"),
    ("```", "\\`\\`\\`", "```` ``` ````"),
    ("[click](http://evil)", f"\\[click\\]\\(http{J}://evil\\)", f"`[click](http{J}://evil)`"),
    ("<!-- -->", "&lt;\\!\\-\\- \\-\\-&gt;", "`<!-- -->`"),
    ("javascript:alert(1)", "javascript:alert\\(1\\)", "`javascript:alert(1)`"),
    ("_www.evil.com", f"\\_www{J}.evil.com", f"`_www{J}.evil.com`"),
    ("xhttps://e.com", f"xhttps{J}://e.com", f"`xhttps{J}://e.com`"),
    ("admin@example.com", f"admin@{J}example.com", f"`admin@{J}example.com`"),
    ("safe\u202egnp.exe", "safegnp.exe", "`safegnp.exe`"),
    ("a\u2066b\u2069c\u200fd", "abcd", "`abcd`"),
]


@pytest.mark.parametrize(("text", "as_inline", "as_code"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_hostile_strings(text: str, as_inline: str, as_code: str) -> None:
    assert inline(text) == as_inline
    assert code(text) == as_code
    assert "<a " not in gfm(f"x {as_inline} {as_code}")


def test_code_block_golden() -> None:
    assert code_block("a ```` b\n```", "js`\nx") == "`````jsx\na ```` b\n```\n`````"
    assert code_block("x\r\ny\rz\n\n", "") == "```\nx\nyz\n```"


def test_details_keeps_hostile_summary_and_body_inside() -> None:
    hostile = "</summary></details><script>alert(1)</script>\n```\n@octocat"
    rendered = gfm(details(inline(hostile), code_block(hostile, "json")) + "\n\nafter")
    assert rendered.count("<details>") == 1 and rendered.count("</details>") == 1
    assert rendered.count("<summary>") == 1 and rendered.count("</summary>") == 1
    assert "<script" not in rendered
    assert rendered.index("</details>") < rendered.index("<p>after</p>")


def test_dollar_signs_cannot_open_math() -> None:
    """GitHub renders `$...$` as math, where `\\color` and `\\text` could draw a fake verdict in
    a gate's comment; an escaped `$` is no delimiter."""
    text = inline("total $\\color{green}{\\text{PASSED}}$ ok")
    assert "$" in text
    assert all(text[i - 1] == "\\" for i, char in enumerate(text) if char == "$")
