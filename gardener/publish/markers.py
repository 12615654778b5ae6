"""Hidden HTML-comment markers that let the next run find what this run posted.

The markers carry only characters we allow (`[A-Za-z0-9._:/-]`), so a service or workflow name
can never close the comment (`-->`) or smuggle Markdown into the body. A name that needed more
than spaces replaced gets a short hash of itself appended in comment keys, so `部署` and
`夜间巡检` (or `Deploy (prod)` and `Deploy [prod]`) do not share one comment.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_UNSAFE = re.compile(r"[^A-Za-z0-9._:/-]+")
_UNSAFE_BESIDES_SPACE = re.compile(r"[^A-Za-z0-9._:/\s-]")
_ISSUE = re.compile(r"<!-- log-gardener:fingerprint=(?P<fp>[^\s]+) service=(?P<svc>[^\s]*) -->")
# Below the top, only a marker that starts a line and is followed by our state line counts: people
# may write a note above it, while a log line quoted further down is a single line in a code block.
_ISSUE_BELOW = re.compile(r"^[ \t]*(?P<marker>" + _ISSUE.pattern + r")[ \t]*\r?\n"
                          r"[ \t]*<!-- log-gardener:state ", re.MULTILINE)
_COMMENT = re.compile(r"<!-- log-gardener:comment service=(?P<svc>[^\s]*) "
                      r"workflow=(?P<wf>[^\s]*) -->")
BEGIN = "<!-- log-gardener:begin -->"
END = "<!-- log-gardener:end -->"


def token(text: str, limit: int = 100) -> str:
    """`text` reduced to marker-safe characters (runs of others become `_`)."""
    return _UNSAFE.sub("_", text.strip())[:limit]


def distinct_token(text: str, limit: int = 100) -> str:
    """`token(text)`, plus 8 hex of the name's SHA-256 when a character had to be replaced.

    Names made only of allowed characters and spaces (`Deploy staging`, the usual case) keep the
    plain token, so markers posted before this existed are still found; names that differ only in
    other replaced characters (`部署`, `Deploy (prod)`) get different tokens.
    """
    raw = text.strip()
    if not _UNSAFE_BESIDES_SPACE.search(raw):
        return token(text, limit)
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{token(text, limit - 9)}-{digest}"


@dataclass(frozen=True, slots=True)
class IssueKey:
    """Identifies the issue that tracks one cluster of one service."""

    fingerprint: str
    """The cluster's stable fingerprint."""
    service: str
    """The service name ("" if unknown)."""

    @classmethod
    def of(cls, fingerprint: str, service: str) -> IssueKey:
        """A key with both parts reduced to marker-safe characters."""
        return cls(token(fingerprint, 64), token(service))

    def marker(self) -> str:
        """The marker line at the top of the issue body."""
        return f"<!-- log-gardener:fingerprint={self.fingerprint} service={self.service} -->"


@dataclass(frozen=True, slots=True)
class CommentKey:
    """Identifies the sticky comment of one (service, workflow) on a PR or commit."""

    service: str
    """Service name, or the `--marker-key` override."""
    workflow: str
    """Workflow name ("" when unknown)."""

    @classmethod
    def of(cls, service: str, workflow: str) -> CommentKey:
        """A key with both parts reduced to marker-safe, still distinct, characters."""
        return cls(distinct_token(service) or "default", distinct_token(workflow))

    def marker(self) -> str:
        """The marker line at the top of the comment."""
        return f"<!-- log-gardener:comment service={self.service} workflow={self.workflow} -->"


def issue_marker_at(body: str | None) -> int | None:
    """Where the issue's own marker starts: at the top, or below a note people added above it.

    Below the top it counts only at the start of a line and followed by the state line we write
    under it, so one log line quoting a marker in a code block further down does not.
    """
    text = body or ""
    top = len(text) - len(text.lstrip())
    if _ISSUE.match(text, top):
        return top
    below = _ISSUE_BELOW.search(text)
    return below.start("marker") if below else None


def split_issue_body(body: str | None) -> tuple[str, str]:
    """(people's text above our marker, the body from the marker on); ("", body) without one."""
    text = body or ""
    at = issue_marker_at(text)
    return (text[:at].strip(), text[at:]) if at else ("", text)


def issue_key(body: str | None) -> IssueKey | None:
    """The key in the issue's own marker (see `issue_marker_at`; quoted log text doesn't count)."""
    at = issue_marker_at(body)
    match = _ISSUE.match(body or "", at) if at is not None else None
    return IssueKey(match["fp"], match["svc"]) if match else None


def comment_key(body: str | None) -> CommentKey | None:
    """The key in a comment's marker, only if the marker opens the body (quotes don't count)."""
    match = _COMMENT.match((body or "").lstrip())
    return CommentKey(match["svc"], match["wf"]) if match else None


def human_tail(body: str | None) -> str:
    """Whatever people wrote below our managed block, kept across edits."""
    text = body or ""
    at = text.rfind(END)  # the last one: log text inside the block may quote the marker
    return text[at + len(END):].strip() if at >= 0 else ""
