"""Publish a worklog to GitHub: a sticky PR or commit comment, or one issue per cluster.

The seam is `Publisher`: `GitHubPublisher` talks to GitHub through PyGithub, `DryRunPublisher`
prints what would be posted. `publish` drives either one from a JSON worklog document;
`publish_worklog` builds the right publisher from settings. A failure to publish is reported in
`PublishResult.errors` and never changes the gate's verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gardener.publish.model import (
    CommitTarget,
    GitHubSettings,
    IssueRef,
    IssuesTarget,
    PublishOptions,
    PublishResult,
    PublishTarget,
    PullRequestTarget,
)
from gardener.publish.publisher import Publisher

if TYPE_CHECKING:
    from gardener.publish.core import publish, publish_worklog

__all__ = ["CommitTarget", "GitHubSettings", "IssueRef", "IssuesTarget", "PublishOptions",
           "PublishResult", "PublishTarget", "Publisher", "PullRequestTarget", "publish",
           "publish_worklog"]


def __getattr__(name: str) -> Any:
    """`publish` and `publish_worklog` load PyGithub: import them on first use, so that
    `gardener analyze` (which builds the `publish` subcommand's flags) never pays for it."""
    if name in ("publish", "publish_worklog"):
        from gardener.publish import core
        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
