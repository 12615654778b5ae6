"""Publish a worklog to GitHub: a sticky PR or commit comment, or one issue per cluster.

The seam is `Publisher`: `GitHubPublisher` talks to GitHub through PyGithub, `DryRunPublisher`
prints what would be posted. `publish` drives either one from a JSON worklog document;
`publish_worklog` builds the right publisher from settings. A failure to publish is reported in
`PublishResult.errors` and never changes the gate's verdict.

Names are imported on first use: `gardener analyze` defines the `publish` subcommand's flags
(`gardener.publish.args`) on every run, and must not pay for the publisher's modules to do it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {"CommitTarget": "model", "GitHubSettings": "model", "IssueRef": "model",
          "IssuesTarget": "model", "PublishOptions": "model", "PublishResult": "model",
          "PublishTarget": "model", "PullRequestTarget": "model", "Publisher": "publisher",
          "publish": "core", "publish_worklog": "core"}
"""Where each public name lives (`core` loads PyGithub)."""

__all__ = ["CommitTarget", "GitHubSettings", "IssueRef", "IssuesTarget", "PublishOptions",
           "PublishResult", "PublishTarget", "Publisher", "PullRequestTarget", "publish",
           "publish_worklog"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"gardener.publish.{home}"), name)
    globals()[name] = value  # the next lookup is a plain global
    return value
