"""The worklog document: the report as JSON-ready data, every log-derived string redacted.

This document is a contract (README "JSON worklog"): `--json` writes it, the Markdown renderer,
the publisher and the action read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gardener import __version__
from gardener.model import Finding, Severity
from gardener.queries import (
    gcloud_command,
    join,
    logs_explorer_url,
    rfc3339,
    template_filter,
    trace_filter,
)
from gardener.redact import redact, redact_json
from gardener.report import Report
from gardener.sources import ORIGIN_KEY

SCHEMA_VERSION = 1


def cluster_ids(findings: tuple[Finding, ...]) -> list[str]:
    """`C1`, `C2`, ... in report order."""
    return [f"C{i + 1}" for i in range(len(findings))]


def to_document(report: Report, *, samples: int = 3) -> dict[str, Any]:
    """The JSON worklog for `report` (see the README for every field)."""
    by_priority = {f"P{p}": 0 for p in range(5)}
    for finding in report.findings:
        by_priority[finding.priority.name] += 1
    ids = cluster_ids(report.findings)
    clusters = [_cluster(cid, f, report, samples) for cid, f in zip(ids, report.findings,
                                                                     strict=True)]
    window = ({"start": rfc3339(report.window_start), "end": rfc3339(report.window_end)}
              if report.window_start and report.window_end else {"start": None, "end": None})
    source = report.source
    base_filter = redact(report.base_filter)  # a filter the user gave may hold anything
    document: dict[str, Any] = _redacted({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "log-gardener", "version": __version__},
        "service": report.service,
        "project": report.project,
        "source": {
            "kind": source.kind, "inputs": list(source.inputs), "filter": base_filter,
            "logs_explorer_url": logs_explorer_url(report.project, base_filter,
                                                   report.window_start, report.window_end),
            "notes": list(source.notes),
        },
        "window": window,
        "entries": {
            "total": report.entries.total, "analysed": report.entries.analysed,
            "skipped": report.entries.skipped,
            "skipped_reasons": dict(sorted(report.entries.skipped_reasons.items())),
            "skipped_examples": list(report.entries.skip_examples),
            "truncated": report.entries.truncated,
            "repeated_insert_ids": report.entries.repeated_ids,
        },
        "severity_counts": _severities(report.severity_counts),
        "summary": {
            "clusters": len(report.findings), "by_priority": by_priority,
            "max_priority": _max_priority(report),
            "baseline": report.baseline,
            "new": sum(f.status == "new" for f in report.findings),
            "spiking": sum(f.status == "spiking" for f in report.findings),
            "gone": len(report.gone),
        },
        "clusters": clusters,
        "gate": {"fail_on": report.gate.fail_on, "passed": report.gate.passed,
                 "reasons": list(report.gate.reasons)},
        "gone": [{"fingerprint": g.fingerprint, "template": g.template,
                  "baseline_count": g.baseline_count} for g in report.gone],
    })
    return document


def _redacted(value: Any) -> Any:
    """`value` with every string in it redacted, keys too: every field of the document, so none
    can slip through (titles, templates, resource labels, source locations, loggers, insert ids,
    skip reasons, exception types). Only what is built from log text before it gets here (a
    query, and the links and commands made from it) is redacted where it is built. Redaction
    remembers short strings, so repeated ones cost a lookup; a long list of strings (insert ids)
    is checked joined, in one pass; `_REDACTED_ALREADY` parts are skipped."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        if len(value) > _JOIN_OVER and all(isinstance(item, str) for item in value):
            joined = "\n".join(value)
            if redact(joined) == joined:
                return value
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {redact(key) if isinstance(key, str) else key:
                item if key in _REDACTED_ALREADY else _redacted(item)
                for key, item in value.items()}
    return value


_JOIN_OVER = 32
_REDACTED_ALREADY = frozenset({"entry", "timeline"})
"""A sample's entry (`redact_json`) and a timeline (minutes and counts, no log text)."""


def _max_priority(report: Report) -> str | None:
    live = [f.priority for f in report.findings if not f.muted]
    return min(live).name if live else None


def _severities(counts: Mapping[Severity, int]) -> dict[str, int]:
    return {s.name: counts[s] for s in sorted(counts, reverse=True) if counts[s]}


def _cluster(cid: str, finding: Finding, report: Report, samples: int) -> dict[str, Any]:
    cluster = finding.cluster
    http = next((s.http for s in cluster.samples if s.http), None)
    status_class = max(cluster.status_classes, key=lambda k: cluster.status_classes[k],
                       default="")
    if cluster.exception_types:  # a stack trace: its template is a summary, not log text
        [(kind, _)] = _top(cluster.exception_types, 1)
        where = _top(cluster.source_locations, 1)
        clause = trace_filter(redact(kind), redact(where[0][0].function) if where else "")
    else:
        clause = template_filter(redact(cluster.template),
                                 http_method=http.method if http else "",
                                 status_class=status_class,
                                 texts=[_strings(s.raw) for s in cluster.samples])
    query = redact(join(report.base_filter, clause))  # redacted before the link is built
    doc: dict[str, Any] = {
        "id": cid,
        "fingerprint": cluster.fingerprint,
        "priority": finding.priority.name,
        "title": finding.title,
        "template": cluster.template,
        "count": cluster.count,
        "share": round(cluster.count / report.entries.analysed, 4)
        if report.entries.analysed else 0.0,
        "first_seen": rfc3339(cluster.first_seen),
        "last_seen": rfc3339(cluster.last_seen),
        "severity_counts": _severities(cluster.severity_counts),
        "resources": [{"type": t, "labels": dict(labels), "count": n}
                      for (t, labels), n in _top(cluster.resources)],
        "source_locations": [{"file": loc.file, "line": loc.line, "function": loc.function,
                              "count": n} for loc, n in _top(cluster.source_locations)],
        "samples": [_sample(entry) for entry in cluster.samples[:samples]],
        "insert_ids": list(cluster.insert_ids),
        "query": query,
        "logs_explorer_url": logs_explorer_url(report.project, query, report.window_start,
                                               report.window_end),
        "gcloud": gcloud_command(query, report.project),
        "timeline": [{"minute": rfc3339(m), "count": n} for m, n in cluster.minute_counts.items()],
        "labels": list(finding.labels),
        "muted": finding.muted,
        "rule": finding.rule,
        "reason": finding.reason,
        "exception_type": next(iter(_top(cluster.exception_types)), ("", 0))[0],
        "loggers": dict(_top(cluster.loggers)),
    }
    if finding.status:
        doc.update(status=finding.status, baseline_count=finding.baseline_count,
                   rate_ratio=finding.rate_ratio, spike_p_value=finding.spike_score)
    return doc


def _top(counts: Mapping[Any, int], limit: int = 10) -> list[tuple[Any, int]]:
    """The most frequent keys, ties broken by the key's text so output is deterministic."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:limit]


def _strings(value: Any) -> list[str]:
    """Every string in a decoded JSON value, whitespace runs as one space (as templates have
    them): what a full-text search can find. Depth-first in document order, without recursion:
    a payload may be nested deeper than Python's call stack."""
    found: list[str] = []
    stack = [iter((value,))]
    while stack:
        for item in stack[-1]:
            if isinstance(item, str):
                found.append(" ".join(item.split()))
            elif isinstance(item, dict | list):
                stack.append(iter(item.values() if isinstance(item, dict) else item))
                break  # the rest of this level after the nested value's strings
        else:
            stack.pop()
    return found


def _sample(entry: Any) -> dict[str, Any]:
    raw = {k: v for k, v in entry.raw.items() if k != ORIGIN_KEY}
    try:
        redacted = redact_json(raw)
    except RecursionError:  # nested hundreds deep: the reader takes it, but it is no sample
        redacted = {"note": "this entry is nested too deeply to show"}
    return {"insert_id": entry.insert_id, "timestamp": rfc3339(entry.timestamp),
            "severity": entry.severity.name, "message": entry.message,
            "entry": redacted}
