"""Values that span tokens: `Fri Jul 1 07:57:30 2005`, `1190 bytes (1.16 KB)`, `tag="View Lock"`.

Masking works token by token (`gardener.masking`); these few values are split over several
tokens, so `join_runs` folds each of them into one `<*>` after the per-token pass has masked
their numbers.
"""

from __future__ import annotations

import re

from gardener.model import WILDCARD

SIZE_UNIT = r"(?:[KMGTP]i?[Bb]|[Bb]ytes?|B)"
EDGE = "()[]{}<>,;:'\"`!?."
"""Punctuation that may wrap a value (`(8.0s)`, `"x",`)."""
_MONTHS = frozenset("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec January February March "
                    "April June July August September October November December".split())
_DAYS = frozenset("Mon Tue Wed Thu Fri Sat Sun Monday Tuesday Wednesday Thursday Friday "
                  "Saturday Sunday".split())
_ZONES = frozenset(("GMT", "UTC", "Z", "AM", "PM", "am", "pm"))
_OFFSET = re.compile(r"(?:GMT|UTC)[+-]<\*>[,.]?")
_SIZE_WORD = re.compile(rf"{SIZE_UNIT}[,;.)]?")
_PUNCT = ("", ",", ";", ".", ")")
MONTH_WORDS = frozenset(w + p for w in _MONTHS for p in _PUNCT)
SIZE_WORDS = frozenset(w + p for w in {"B", "b", "byte", "bytes", "Byte", "Bytes"} |
                       {f"{k}{i}{b}" for k in "KMGTP" for i in ("", "i") for b in "Bb"}
                       for p in _PUNCT)
"""Tokens that may end or carry a value spanning tokens: only then does `join_runs` run."""


def join_runs(tokens: list[str], months: bool, sizes: bool, quotes: bool) -> list[str]:
    """Fold values that span tokens: dates with names, sizes with units, quoted `key="a b"`.

    The flags say which of them the message may hold, so only those are looked for.
    """
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        run = None
        if months and (token.startswith(WILDCARD) or token.rstrip(",") in _MONTHS
                       or token.rstrip(",") in _DAYS):
            run = _date(tokens, i)
        if run is None and sizes and token == WILDCARD:
            run = _size(tokens, i)
        if run is None and quotes and '="' in token:
            run = _quoted(tokens, i)
        if run:
            out.append(run[1])
            i = run[0]
        else:
            out.append(token)
            i += 1
    return out


def _tail(token: str) -> str:
    """Trailing punctuation of a token (`2005,` -> `,`)."""
    token = token.replace(WILDCARD, "")
    return token[len(token.rstrip(EDGE)):]


def _date(tokens: list[str], i: int) -> tuple[int, str] | None:
    """A date with a month name at i: `[Fri] Jul 1 07:57:30 [2005]`, `Mon, 15 Sep 2025
    23:46:21 GMT`, `Sep 15, 2025 11:46 PM`. Returns (index after it, replacement)."""
    n = len(tokens)
    j = i + 1 if tokens[i].rstrip(",") in _DAYS else i
    if j + 1 >= n:
        return None
    if tokens[j].rstrip(",") in _MONTHS and _is_value(tokens[j + 1]):
        j += 2  # Jul 1
    elif _is_value(tokens[j]) and tokens[j + 1].rstrip(",") in _MONTHS:
        j += 2  # 15 Sep
    else:
        return None
    start = j
    while j < n and j - start < 3 and _is_value(tokens[j]):
        j += 1  # year, time, offset, in any order
    if j == start:
        return None  # `Jun 5` alone may be anything
    if j < n and (tokens[j].rstrip(",.") in _ZONES or _OFFSET.fullmatch(tokens[j])):
        j += 1
    return j, WILDCARD + _tail(tokens[j - 1])


def _is_value(token: str) -> bool:
    """A masked value, maybe followed by `,` or `.`."""
    return token.rstrip(",.") == WILDCARD


def _size(tokens: list[str], i: int) -> tuple[int, str] | None:
    """`<*> bytes` or `<*> bytes (<*> KB)` at i: (index after it, replacement)."""
    if tokens[i] != WILDCARD or i + 1 >= len(tokens) or not _SIZE_WORD.fullmatch(tokens[i + 1]):
        return None
    end, tail = i + 2, _tail(tokens[i + 1])
    if not tail and end + 1 < len(tokens) and tokens[end] == "(" + WILDCARD and \
            _SIZE_WORD.fullmatch(tokens[end + 1]) and tokens[end + 1].endswith(")"):
        end, tail = end + 2, _tail(tokens[end + 1])[1:]
    return end, WILDCARD + tail


def _quoted(tokens: list[str], i: int) -> tuple[int, str] | None:
    """`key="several words"` at i: (index after it, replacement)."""
    tok = tokens[i]
    at = tok.find('="')
    if at < 0:
        return None
    if '"' in tok[at + 2:]:
        return i + 1, f'{tok[:at + 2]}{WILDCARD}{tok[tok.index(chr(34), at + 2):]}'
    for j in range(i + 1, min(len(tokens), i + 16)):
        if '"' in tokens[j]:
            last = tokens[j]
            return j + 1, f'{tok[:at + 2]}{WILDCARD}{last[last.index(chr(34)):]}'
    return None
