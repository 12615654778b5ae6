"""Text folded the way a case-insensitive regex compares it.

A lower-case regex compiled without IGNORECASE finds in folded text what it finds with IGNORECASE
in the text itself, several times faster: Python's case-insensitive matching compares character
by character through case tables. Redaction looks for its needles this way, and the default
priority rules search cluster texts this way.
"""

from __future__ import annotations

import re
from typing import Final

_FOLDS: Final = str.maketrans({"\u017f": "s", "\u0131": "i", "\u0130": "I", "\u212a": "K"})
"""Letters an IGNORECASE regex takes for ASCII ones that `lower()` keeps (long s, dotless i),
turns into two characters (dotted capital I) or leaves non-ASCII (the Kelvin sign lowers to `k`,
but is no capital to a camelCase split)."""


_FOLDED: Final = re.compile("[\u017f\u0131\u0130\u212a]")
"""The letters of `_FOLDS`: `translate` is slow (a dict lookup per character), so it runs only on
text that holds one."""


def fold(text: str) -> str:
    """`text` lower-cased, with the letters of `_FOLDS` mapped: one character for each of
    `text`'s, so offsets in the folded text are offsets in `text`."""
    if text.isascii() or not _FOLDED.search(text):
        return text.lower()
    return text.translate(_FOLDS).lower()


def plain_letters(text: str) -> str:
    """`text` with the letters of `_FOLDS` mapped and its case kept (`paſſWord` ->
    `passWord`): for reading words out of a name, as `fold` is for searching."""
    return text if text.isascii() or not _FOLDED.search(text) else text.translate(_FOLDS)
