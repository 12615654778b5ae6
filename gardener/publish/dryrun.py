"""`DryRunPublisher`: prints exactly what would be posted, writes nothing.

With a reader (a `GitHubPublisher`, when a token is available) it looks at what is already there,
so it can say "update #12" instead of "open"; without one it assumes a repository with nothing
from Log Gardener in it yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from gardener.publish.issues import IssuePlan, KnownIssue, LabelSpec
from gardener.publish.markers import CommentKey
from gardener.publish.model import CommitTarget, IssueRef, PullInfo, PullRequestTarget
from gardener.publish.publisher import Publisher

RULE = "=" * 72


class DryRunPublisher:
    """A `Publisher` that prints each write (bodies verbatim) and delegates reads, if it can."""

    def __init__(self, out: TextIO, *, reader: Publisher | None = None) -> None:
        self.out = out
        self.reader = reader

    def _show(self, heading: str, body: str = "") -> None:
        self.out.write(f"{RULE}\nDRY RUN: {heading}\n")
        if body:
            self.out.write(f"{RULE}\n{body.rstrip()}\n")
        self.out.write(f"{RULE}\n")

    def pulls_for_commit(self, sha: str) -> list[PullInfo]:
        """The reader's answer, or none without a reader."""
        return self.reader.pulls_for_commit(sha) if self.reader else []

    def upsert_comment(self, where: PullRequestTarget | CommitTarget, key: CommentKey,
                       body: str) -> str:
        """Print the comment body that would be created or edited in place."""
        place = (f"pull request #{where.number}" if isinstance(where, PullRequestTarget)
                 else f"commit {where.sha}")
        self._show(f"would create, or edit in place, the comment on {place} "
                   f"({len(body):,} characters) marked {key.marker()}", body)
        return "(dry run: not posted)"

    def known_issues(self) -> list[KnownIssue]:
        """The reader's answer, or none without a reader."""
        return self.reader.known_issues() if self.reader else []

    def ensure_labels(self, labels: Sequence[LabelSpec]) -> None:
        """Print the labels that would be created if missing."""
        names = ", ".join(spec.name for spec in labels)
        self._show(f"would create these labels if missing: {names}")

    def create_issue(self, plan: IssuePlan) -> IssueRef:
        """Print the issue that would be opened."""
        self._show(f"would open an issue for {plan.cluster_id} ({plan.priority})\n"
                   f"title: {plan.title}\nlabels: {', '.join(plan.labels)}", plan.body)
        return IssueRef(0, "(dry run: not posted)", plan.key.fingerprint)

    def update_issue(self, plan: IssuePlan) -> IssueRef:
        """Print the edit (and the regression comment) that would be made."""
        verb = "reopen and rewrite" if plan.note else "rewrite"
        if plan.changed:
            self._show(f"would {verb} issue #{plan.number} for {plan.cluster_id}\n"
                       f"title: {plan.title}\nlabels: {', '.join(plan.labels)}", plan.body)
        if plan.note:
            self._show(f"would comment on issue #{plan.number}", plan.note)
        return IssueRef(plan.number or 0, plan.url, plan.key.fingerprint)
