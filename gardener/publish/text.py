"""Small, pure text helpers shared by the comment and issue renderers.

Log-derived strings are redacted again here (the worklog is already redacted; posting is the last
point where a secret could leave) and then made inert with `gardener.markup`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gardener.markup import code, inline
from gardener.redact import redact

# Shared with the full worklog; re-exported so the publisher's modules import from one place.
from gardener.render import location as location
from gardener.render import pct as pct

# GitHub rejects issue and comment bodies longer than this many characters (HTTP 422).
GITHUB_BODY_LIMIT = 65_536
TITLE_LIMIT = 256
_JOINER = "\u2060"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
LOGS_EXPLORER = "https://console.cloud.google.com/logs/"
_LINKABLE = re.compile(r"^https?://[^\s<>`\"']+$")


def safe(text: object, limit: int = 300) -> str:
    """Redacted, inert, one-line Markdown for a log-derived value."""
    return inline(redact(str(text)), limit)


def safe_code(text: object, limit: int = 300) -> str:
    """Redacted inline code span for a log-derived value."""
    return code(redact(str(text)), limit)


def plain_title(text: str, limit: int = TITLE_LIMIT) -> str:
    """An issue title: redacted, one line, no mentions or issue references, at most `limit`."""
    flat = " ".join(_CONTROL.sub(" ", redact(text)).split())
    flat = re.sub(r"([@#])(?=\w)", lambda m: m.group(1) + _JOINER, flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def link(label: str, url: str) -> str:
    """`[label](<url>)`, or just the label when the URL is not a plain http(s) address."""
    if not url or not _LINKABLE.match(url):
        return label
    return f"[{label}](<{url}>)"


def logs_link(url: str) -> str:
    """A link to Logs Explorer, only if `url` really points there (it is built from log text)."""
    if not url.startswith(LOGS_EXPLORER):
        return "Logs Explorer link unavailable"
    return link("Open in Logs Explorer", url)


def clock(stamp: str | None) -> str:
    """`2025-09-15T23:46:30Z` -> `2025-09-15 23:46:30 UTC` (empty stays empty)."""
    if not stamp:
        return ""
    return f"{stamp[:10]} {stamp[11:19]} UTC" if len(stamp) >= 19 else safe(stamp, 40)


def severities(counts: Mapping[str, int]) -> str:
    """`ERROR 451 · WARNING 3`."""
    return " · ".join(f"{safe(name, 20)} {n:,}" for name, n in counts.items())


def body_length(text: str) -> int:
    """Length as GitHub may count it: UTF-16 code units, never less than Python's `len`."""
    return len(text.encode("utf-16-le")) // 2
