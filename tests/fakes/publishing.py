"""What the publisher's tests share: the seed worklog's markers and fingerprints, and one call
that publishes a worklog to the fake GitHub with fast settings."""

from __future__ import annotations

import io
from typing import Any

from gardener.publish import PublishOptions, PublishResult, publish_worklog
from tests.fakes.github import FakeGitHub, fast_settings
from tests.fakes.worklogs import seed_worklog

MARKER = "<!-- log-gardener:comment service=netra-backend-staging workflow=Deploy -->"
"""The sticky comment's marker for the seed worklog's service and the `Deploy` workflow."""
P0 = "9f2c4e1a0b7d3c55"
"""The fingerprint of the seed worklog's P0 cluster."""
LATER = {"start": "2025-09-16T00:46:21Z", "end": "2025-09-16T01:46:21Z"}
"""A later window, for a second run of the seed worklog (`seed_worklog(**LATER)`)."""


def publish(fake: FakeGitHub, target: Any, doc: dict[str, Any] | None = None,
            workflow: str = "Deploy", **settings: Any) -> PublishResult:
    """Publish `doc` (the seed worklog by default) to `fake`, as the workflow `workflow`."""
    return publish_worklog(doc or seed_worklog(), target=target,
                           github=fast_settings(fake, **settings), out=io.StringIO(),
                           options=PublishOptions(workflow=workflow))
