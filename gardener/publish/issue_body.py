"""The body and title of the issue that tracks one cluster, and the run history kept inside it.

The body is ours between the `begin`/`end` markers and rewritten on every run; anything people add
below `end` is kept. A hidden JSON line holds the last runs (window, count, priority), so the next
run can say whether the cluster is growing without any other storage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gardener.markup import code_block, details
from gardener.publish.markers import BEGIN, END, IssueKey, human_tail
from gardener.publish.text import (
    GITHUB_BODY_LIMIT,
    body_length,
    clock,
    link,
    location,
    logs_link,
    pct,
    plain_title,
    safe,
    safe_code,
    severities,
)
from gardener.redact import redact, redact_json

MAX_RUNS = 12
_STATE = re.compile(r"<!-- log-gardener:state (\{[^\n]*\}) -->")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_PRIORITY = re.compile(r"^P[0-4]$")


@dataclass(frozen=True, slots=True)
class Run:
    """One run's sighting of a cluster, as kept in the issue body."""

    start: str
    """Window start (RFC 3339, may be empty)."""
    end: str
    """Window end (RFC 3339); identifies the run."""
    count: int
    """Entries in the cluster in that window."""
    priority: str
    """Priority then (`P0`..`P4`)."""

    def per_hour(self) -> float | None:
        """Entries per hour over the window, None when the window is unknown or empty."""
        try:
            span = (_parse(self.end) - _parse(self.start)).total_seconds()
        except ValueError:
            return None
        return self.count * 3600 / span if span > 0 else None


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def issue_title(doc: Mapping[str, Any], cluster: Mapping[str, Any]) -> str:
    """`[P0] service: title`, plain text (titles are not Markdown), at most 256 characters."""
    service = str(doc.get("service") or "")
    prefix = f"[{cluster.get('priority', '')}] " + (f"{service}: " if service else "")
    return plain_title(prefix + str(cluster.get("title") or cluster.get("template") or ""))


def with_note(note: str, body: str) -> str:
    """`body` below the note people wrote above our marker, unless together they don't fit."""
    joined = f"{note}\n\n{body}" if note else body
    return joined if body_length(joined) <= GITHUB_BODY_LIMIT else body


def read_runs(body: str | None) -> list[Run]:
    """The run history in an issue body; anything malformed is ignored, never trusted.

    Only the line right after the marker counts: log text quoted further down could imitate it.
    """
    lines = (body or "").lstrip().split("\n", 2)
    match = _STATE.fullmatch(lines[1].strip()) if len(lines) > 1 else None
    if not match:
        return []
    try:
        raw = json.loads(match[1]).get("runs", [])
    except (ValueError, AttributeError):
        return []
    runs = []
    for item in raw if isinstance(raw, list) else []:
        run = _run(item)
        if run:
            runs.append(run)
    return runs


def _run(item: Any) -> Run | None:
    if not isinstance(item, dict):
        return None
    start, end = str(item.get("start", "")), str(item.get("end", ""))
    count, priority = item.get("count"), str(item.get("priority", ""))
    if not _STAMP.match(end) or (start and not _STAMP.match(start)):
        return None
    if not isinstance(count, int) or count < 0 or not _PRIORITY.match(priority):
        return None
    return Run(start, end, count, priority)


def this_run(doc: Mapping[str, Any], cluster: Mapping[str, Any]) -> Run | None:
    """This run's sighting, or None when the document has no usable window."""
    window = doc.get("window") or {}
    start = str(window.get("start") or cluster.get("first_seen") or "")
    end = str(window.get("end") or cluster.get("last_seen") or "")
    return _run({"start": start, "end": end, "count": int(cluster.get("count", 0)),
                 "priority": str(cluster.get("priority", ""))})


def merge_runs(previous: Sequence[Run], current: Run | None) -> list[Run]:
    """History with `current` added (a re-run of the same window replaces it), newest last."""
    runs = [r for r in previous if current is None or r.end != current.end]
    if current:
        runs.append(current)
    return sorted(runs, key=lambda r: r.end)[-MAX_RUNS:]


def trend(runs: Sequence[Run]) -> str:
    """How this run compares with the previous one, per hour so different windows compare."""
    if len(runs) < 2:
        return "first run that saw it"
    now, before = runs[-1], runs[-2]
    rate_now, rate_before = now.per_hour(), before.per_hour()
    if rate_now is None or rate_before is None or rate_before == 0:
        return f"{now.count:,} entries now, {before.count:,} in the previous run"
    ratio = rate_now / rate_before
    arrow = "▲ rising" if ratio >= 1.25 else "▼ falling" if ratio <= 0.8 else "≈ steady"
    return (f"{arrow}: {rate_now:,.1f}/h now, {rate_before:,.1f}/h in the previous run "
            f"({before.count:,} entries, window ending {clock(before.end)})")


def issue_body(doc: Mapping[str, Any], cluster: Mapping[str, Any], key: IssueKey, *,
               previous: str | None = None, worklog_url: str = "") -> str:
    """The whole body: marker, managed block with facts and history, then people's notes."""
    runs = merge_runs(read_runs(previous), this_run(doc, cluster))
    tail = human_tail(previous)
    for samples in (3, 1, 0):
        block = _managed(doc, cluster, runs, worklog_url, samples)
        text = f"{key.marker()}\n{_state(runs)}\n{BEGIN}\n\n{block}\n\n{END}\n"
        text += f"\n{tail}\n" if tail else ""
        if body_length(text) <= GITHUB_BODY_LIMIT:
            return text
    # People's notes pushed it over: keep ours, drop theirs (they are still in the edit history).
    return (f"{key.marker()}\n{_state(runs)}\n{BEGIN}\n"
            f"\n{_managed(doc, cluster, runs, worklog_url, 0)}\n\n{END}\n")


def _state(runs: Sequence[Run]) -> str:
    data = {"v": 1, "runs": [{"start": r.start, "end": r.end, "count": r.count,
                              "priority": r.priority} for r in runs]}
    return f"<!-- log-gardener:state {json.dumps(data, separators=(',', ':'))} -->"


def _managed(doc: Mapping[str, Any], c: Mapping[str, Any], runs: Sequence[Run],
             worklog_url: str, samples: int) -> str:
    service = doc.get("service") or ""
    where = f" in {safe_code(service, 100)}" if service else ""
    project = f" (project {safe_code(doc['project'], 100)})" if doc.get("project") else ""
    first = min((r.start for r in runs if r.start), default=str(c.get("first_seen", "")))
    lines = [f"**{safe(c.get('priority', ''), 4)}** log cluster{where}{project}, tracked by "
             "Log Gardener. This text is updated on every scheduled run.", "",
             "| | |", "|---|---|",
             f"| Latest run | **{int(c.get('count', 0)):,} entries** "
             f"({pct(float(c.get('share', 0.0)))} of the window) · "
             f"{severities(c.get('severity_counts') or {})} |",
             f"| Last seen | {clock(c.get('last_seen'))} |",
             f"| First seen | {clock(first)} (earliest window that had it) |",
             f"| Trend | {trend(runs)} |",
             f"| Why {safe(c.get('priority', ''), 4)} | {safe(c.get('reason', ''))} "
             # Table cells get no code spans: a `|` inside one would still split the cell.
             f"(rule {safe(c.get('rule', ''), 80)}) |", ""]
    lines += ["**Template**", "", code_block(redact(str(c.get("template", ""))), limit=2000)]
    lines += _where(c)
    lines += _history(runs)
    for i, sample in enumerate((c.get("samples") or [])[:samples], 1):
        lines += ["", f"**Sample {i}** ({safe(sample.get('severity', ''), 20)}, "
                      f"{clock(sample.get('timestamp'))})", "",
                  code_block(redact(str(sample.get("message", ""))), limit=3000)]
        if i == 1 and sample.get("entry"):
            entry = json.dumps(redact_json(sample["entry"]), indent=2, sort_keys=True,
                               ensure_ascii=False)
            lines += ["", details("Full entry (redacted)", code_block(entry, "json", 8000))]
    lines += ["", "**Reproduce**", "", code_block(redact(str(c.get("gcloud", ""))), "bash", 3000),
              "", logs_link(str(c.get("logs_explorer_url", "")))
              + (" · " + link("Full worklog", worklog_url) if worklog_url else "")]
    return "\n".join(lines)


def _where(c: Mapping[str, Any]) -> list[str]:
    lines = []
    locations = c.get("source_locations") or []
    if locations:
        lines += ["", "**Logged from**", ""]
        lines += [f"- {safe_code(location(loc), 200)} ×{int(loc.get('count', 0)):,}"
                  for loc in locations[:5]]
    resources = c.get("resources") or []
    if resources:
        lines += ["", "**Resources**", ""]
        for r in resources[:3]:
            labels = " ".join(f"{k}={v}" for k, v in (r.get("labels") or {}).items())
            text = f"{r.get('type', '')} {labels}".strip()
            lines.append(f"- {safe_code(text, 200)} ×{int(r.get('count', 0)):,}")
    return lines


def _history(runs: Sequence[Run]) -> list[str]:
    if len(runs) < 2:
        return []
    rows = ["| Window end | Entries | Per hour | Priority |", "|---|---:|---:|---|"]
    for r in reversed(runs):
        rate = r.per_hour()
        rows.append(f"| {clock(r.end)} | {r.count:,} | "
                    f"{'' if rate is None else f'{rate:,.1f}'} | {r.priority} |")
    return ["", details(f"Last {len(runs)} runs", "\n".join(rows))]
