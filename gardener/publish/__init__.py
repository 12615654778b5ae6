"""Publish a worklog to GitHub: a sticky PR or commit comment, or one issue per cluster.

The seam is `Publisher`: `GitHubPublisher` talks to GitHub through PyGithub, `DryRunPublisher`
prints what would be posted. `publish` drives either one from a JSON worklog document;
`publish_worklog` builds the right publisher from settings. A failure to publish is reported in
`PublishResult.errors` and never changes the gate's verdict.
"""

from __future__ import annotations

from gardener.publish.core import publish, publish_worklog
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

__all__ = ["CommitTarget", "GitHubSettings", "IssueRef", "IssuesTarget", "PublishOptions",
           "PublishResult", "PublishTarget", "Publisher", "PullRequestTarget", "publish",
           "publish_worklog"]
