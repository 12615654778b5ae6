"""Hidden HTML-comment markers that let the next run find what this run posted.

The markers carry only characters we allow (`[A-Za-z0-9._:/-]`), so a service or workflow name
can never close the comment (`-->`) or smuggle Markdown into the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNSAFE = re.compile(r"[^A-Za-z0-9._:/-]+")
_ISSUE = re.compile(r"<!-- log-gardener:fingerprint=(?P<fp>[^\s]+) service=(?P<svc>[^\s]*) -->")
_COMMENT = re.compile(r"<!-- log-gardener:comment service=(?P<svc>[^\s]*) "
                      r"workflow=(?P<wf>[^\s]*) -->")
BEGIN = "<!-- log-gardener:begin -->"
END = "<!-- log-gardener:end -->"


def token(text: str, limit: int = 100) -> str:
    """`text` reduced to marker-safe characters (runs of others become `_`)."""
    return _UNSAFE.sub("_", text.strip())[:limit]


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
        """A key with both parts reduced to marker-safe characters."""
        return cls(token(service) or "default", token(workflow))

    def marker(self) -> str:
        """The marker line at the top of the comment."""
        return f"<!-- log-gardener:comment service={self.service} workflow={self.workflow} -->"


def issue_key(body: str | None) -> IssueKey | None:
    """The key in the marker that opens an issue body (log text quoted below doesn't count)."""
    match = _ISSUE.match((body or "").lstrip())
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
