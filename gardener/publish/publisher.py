"""The `Publisher` seam: where a worklog goes (GitHub, or stdout for a dry run)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gardener.publish.issues import IssuePlan, KnownIssue, LabelSpec
from gardener.publish.markers import CommentKey
from gardener.publish.model import (
    CommitTarget,
    IssueRef,
    PullInfo,
    PullRequestTarget,
)


class Publisher(Protocol):
    """Where a worklog goes. Reads return plain values; writes return what was written."""

    def pulls_for_commit(self, sha: str) -> list[PullInfo]:
        """Pull requests that contain commit `sha`."""
        ...

    def upsert_comment(self, where: PullRequestTarget | CommitTarget, key: CommentKey,
                       body: str) -> str:
        """Edit the comment carrying `key`'s marker that the token's account wrote, or create it;
        returns its web address."""
        ...

    def known_issues(self) -> list[KnownIssue]:
        """Issues (open and closed) that carry a Log Gardener fingerprint marker and that the
        token's account opened (`gardener.publish.identity`)."""
        ...

    def ensure_labels(self, labels: Sequence[LabelSpec]) -> None:
        """Create the labels that are missing."""
        ...

    def create_issue(self, plan: IssuePlan) -> IssueRef:
        """Open a new issue."""
        ...

    def update_issue(self, plan: IssuePlan) -> IssueRef:
        """Rewrite an issue; reopen it and comment `plan.note` when it regressed."""
        ...
