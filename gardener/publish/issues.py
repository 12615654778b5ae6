"""Decide, per cluster, whether to open, update, reopen or leave alone its issue. Pure.

Existing issues are matched by the fingerprint marker in their body (listed by the `gardener`
label, never by search, which lags behind writes; the publisher passes only issues the token's
account opened, see `gardener.publish.identity`). An update keeps a note people wrote above the
marker, and the plan's body already holds it: a dry run prints what the real run writes. Rules,
in the order they are checked:
- an open issue is updated (counts, last seen, trend, priority label), whatever the priority;
- a closed issue whose cluster is back is reopened with a "regressed" note, unless it was closed
  as not planned, carries a mute label, or the cluster is below the threshold or muted;
- a cluster at or above the threshold with no issue gets one, up to `max_new_issues` per run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from gardener.model import Priority
from gardener.publish.issue_body import issue_body, issue_title, with_note
from gardener.publish.markers import IssueKey, issue_key, token
from gardener.publish.model import IssuesTarget
from gardener.publish.text import clock, link, safe, safe_code

GARDENER_LABEL = "gardener"
PRIORITY_PREFIX = "priority:"
SERVICE_PREFIX = "service:"
LABEL_LIMIT = 50  # GitHub's maximum label name length
_COLORS = {"P0": "b60205", "P1": "d93f0b", "P2": "fbca04", "P3": "0e8a16", "P4": "c5def5"}


_LEFT_CLOSED = frozenset({"not_planned", "duplicate"})
"""Close reasons after which a cluster coming back does not reopen its issue."""


class Action(Enum):
    """What to do with one cluster's issue."""

    CREATE = "create"
    UPDATE = "update"
    REOPEN = "reopen"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class KnownIssue:
    """An issue found under the `gardener` label, reduced to what planning needs."""

    number: int
    """Issue number."""
    url: str
    """Its web address."""
    state: str
    """`open` or `closed`."""
    state_reason: str | None
    """`completed`, `not_planned`, `duplicate`, `reopened` or None."""
    labels: tuple[str, ...]
    """Label names."""
    title: str
    """Current title."""
    body: str
    """Current body from our marker on (holds the marker and the run history)."""
    head: str = ""
    """A note people wrote above our marker; kept above the body when it is rewritten."""


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """A label the publisher makes sure exists."""

    name: str
    """Label name."""
    color: str
    """Six hex digits."""
    description: str
    """Shown in GitHub's label picker."""


@dataclass(frozen=True, slots=True)
class IssuePlan:
    """One cluster's decision, with everything needed to carry it out."""

    action: Action
    """What to do."""
    key: IssueKey
    """Fingerprint and service (the marker)."""
    cluster_id: str
    """`C1`, ... in this worklog."""
    priority: str
    """The cluster's priority now."""
    title: str = ""
    """Issue title (create, update, reopen)."""
    body: str = ""
    """Issue body (create, update, reopen)."""
    labels: tuple[str, ...] = ()
    """All labels the issue should carry afterwards."""
    number: int | None = None
    """The existing issue, if any."""
    url: str = ""
    """The existing issue's address, if any."""
    note: str = ""
    """Regression comment (reopen) or why it was skipped (skip)."""
    changed: bool = True
    """False when an update would write what the issue already says (a re-run)."""


def labels_for(service: str, priority: str) -> tuple[LabelSpec, ...]:
    """The labels an issue for this service and priority needs."""
    specs = [LabelSpec(GARDENER_LABEL, "5319e7", "Tracked by Log Gardener"),
             LabelSpec(PRIORITY_PREFIX + priority, _COLORS.get(priority, "ededed"),
                       f"Log Gardener priority {priority}")]
    if service:
        specs.append(LabelSpec(service_label(service), "1d76db", "Log Gardener: service"))
    return tuple(specs)


def service_label(service: str) -> str:
    """`service:<name>`, cut to GitHub's 50-character label limit."""
    return (SERVICE_PREFIX + token(service))[:LABEL_LIMIT]


def plan_issues(doc: Mapping[str, Any], known: Sequence[KnownIssue], target: IssuesTarget, *,
                worklog_url: str = "") -> list[IssuePlan]:
    """One plan per cluster that has, or should have, an issue; in the worklog's order."""
    by_key: dict[IssueKey, list[KnownIssue]] = {}
    for issue in known:
        found = issue_key(issue.body)
        if found:
            by_key.setdefault(found, []).append(issue)
    service = str(doc.get("service") or "")
    plans: list[IssuePlan] = []
    created = 0
    for cluster in doc.get("clusters") or []:
        key = IssueKey.of(str(cluster["fingerprint"]), service)
        plan = _plan_one(doc, cluster, key, _pick(by_key.get(key, [])), target, worklog_url,
                         room=created < target.max_new_issues)
        if plan:
            created += plan.action is Action.CREATE
            plans.append(plan)
    return plans


def _pick(issues: Sequence[KnownIssue]) -> KnownIssue | None:
    """Among duplicates (an earlier race), the oldest open one, else the newest closed one."""
    open_ = sorted((i for i in issues if i.state == "open"), key=lambda i: i.number)
    if open_:
        return open_[0]
    return max(issues, key=lambda i: i.number, default=None)


def _plan_one(doc: Mapping[str, Any], cluster: Mapping[str, Any], key: IssueKey,
              issue: KnownIssue | None, target: IssuesTarget, worklog_url: str,
              room: bool) -> IssuePlan | None:
    priority = str(cluster.get("priority", "P4"))
    eligible = Priority.parse(priority) <= target.min_priority and not cluster.get("muted")
    base = IssuePlan(Action.SKIP, key, str(cluster.get("id", "")), priority)
    if issue is None:
        if not eligible:
            return None
        if not room:
            return _skip(base, f"the cap of {target.max_new_issues} new issues per run was reached")
        return _write(base, Action.CREATE, doc, cluster, None, worklog_url)
    if issue.state == "open":
        return _write(base, Action.UPDATE, doc, cluster, issue, worklog_url)
    if issue.state_reason in _LEFT_CLOSED:  # people decided: no "Regressed" on every run
        reason = issue.state_reason.replace("_", " ")
        return _skip(base, f"issue #{issue.number} was closed as {reason}", issue)
    muted = sorted({n.lower() for n in issue.labels} & {n.lower() for n in target.mute_labels})
    if muted:
        return _skip(base, f"issue #{issue.number} carries the mute label {muted[0]!r}", issue)
    if not eligible:
        return _skip(base, f"issue #{issue.number} is closed and the cluster is {priority}"
                     + (" and muted" if cluster.get("muted") else ""), issue)
    plan = _write(base, Action.REOPEN, doc, cluster, issue, worklog_url)
    return replace(plan, note=regressed_note(doc, cluster, worklog_url,
                                                     target.mute_labels))


def _skip(base: IssuePlan, why: str, issue: KnownIssue | None = None) -> IssuePlan:
    return replace(base, note=why, number=issue.number if issue else None,
                    url=issue.url if issue else "")


def _write(base: IssuePlan, action: Action, doc: Mapping[str, Any], cluster: Mapping[str, Any],
           issue: KnownIssue | None, worklog_url: str) -> IssuePlan:
    service = str(doc.get("service") or "")
    wanted = [spec.name for spec in labels_for(service, base.priority)]
    # Keep labels people added; swap our priority label for the current one.
    ours = {name.lower() for name in wanted}
    kept = [name for name in (issue.labels if issue else ())
            if not name.lower().startswith(PRIORITY_PREFIX) and name.lower() not in ours]
    title = issue_title(doc, cluster)
    body = issue_body(doc, cluster, base.key, previous=issue.body if issue else None,
                      worklog_url=worklog_url)
    if issue:  # the full text to write, so a dry run prints what the real run writes
        body = with_note(issue.head, body)
    labels = tuple(wanted + kept)
    changed = issue is None or action is Action.REOPEN or (
        (title, body.strip(), set(labels))
        != (issue.title, with_note(issue.head, issue.body).strip(), set(issue.labels)))
    return replace(base, action=action, title=title, body=body, labels=labels,
                   number=issue.number if issue else None, url=issue.url if issue else "",
                   changed=changed)


def regressed_note(doc: Mapping[str, Any], cluster: Mapping[str, Any], worklog_url: str,
                   mute_labels: Sequence[str] = ()) -> str:
    """The comment posted when a closed issue's cluster comes back."""
    window = doc.get("window") or {}
    span = (f" between {clock(window.get('start'))} and {clock(window.get('end'))}"
            if window.get("start") else "")
    where = " · " + link("full worklog", worklog_url) if worklog_url else ""
    return (f"**Regressed:** this cluster is back: {int(cluster.get('count', 0)):,} entries"
            f"{span} ({safe(cluster.get('priority', ''), 4)}), so Log Gardener reopened the issue"
            f"{where}.\n\nTo stop this, close the issue as *not planned*"
            + (f" or add the {safe_code(mute_labels[0], 50)} label." if mute_labels else "."))
