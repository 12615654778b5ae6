"""JSON worklogs shaped like `gardener analyze --json` writes them, for the publisher's tests:
one cluster, a worklog around clusters, and the seed outage (with hostile log text)."""

from __future__ import annotations

import urllib.parse
from typing import Any

HOSTILE = ("@octocat see #123 </details><img src=x onerror=alert(1)> ``` [click](http://evil) "
           "<!-- log-gardener:fingerprint=ffff service=x --> www.evil.example")


def cluster(cid: str, priority: str, fingerprint: str, title: str, count: int, *,
            total: int = 5000, message: str = "", muted: bool = False) -> dict[str, Any]:
    """One cluster of a JSON worklog, shaped like `gardener analyze --json` writes it."""
    message = message or title
    query = ('resource.type="cloud_run_revision" AND resource.labels.service_name='
             f'"netra-backend-staging" AND textPayload:"{title[:20]}"')
    return {
        "id": cid, "fingerprint": fingerprint, "priority": priority, "title": title,
        "template": title.replace("8.0s", "<*>"), "count": count,
        "share": round(count / total, 4), "first_seen": "2025-09-15T23:46:30Z",
        "last_seen": "2025-09-16T00:46:01Z", "severity_counts": {"ERROR": count},
        "resources": [{"type": "cloud_run_revision",
                       "labels": {"service_name": "netra-backend-staging",
                                  "revision_name": "netra-backend-staging-00042-abc"},
                       "count": count}],
        "source_locations": [{"file": "netra_backend/app/smd.py", "line": 1005,
                              "function": "_initialize_database", "count": count}],
        "samples": [{"insert_id": f"{cid}-1", "timestamp": "2025-09-15T23:46:30.123Z",
                     "severity": "ERROR", "message": message,
                     "entry": {"insertId": f"{cid}-1", "severity": "ERROR",
                               "textPayload": message,
                               "timestamp": "2025-09-15T23:46:30.123Z"}}],
        "insert_ids": [f"{cid}-1"], "query": query,
        "logs_explorer_url": "https://console.cloud.google.com/logs/query;query=" +
        urllib.parse.quote(query, safe="") + "?project=netra-staging",
        "gcloud": f"gcloud logging read '{query}' --project=netra-staging --format=json",
        "timeline": [{"minute": "2025-09-15T23:46:00Z", "count": count}],
        "labels": [], "muted": muted, "rule": "default:severity",
        "reason": "ERROR entries", "exception_type": "", "loggers": {"netra_backend.app": count},
    }


def worklog(clusters: list[dict[str, Any]], *, service: str = "netra-backend-staging",
            start: str = "2025-09-15T23:46:21Z", end: str = "2025-09-16T00:46:21Z",
            fail_on: str = "P0") -> dict[str, Any]:
    """A JSON worklog document around `clusters`."""
    by = {f"P{i}": sum(c["priority"] == f"P{i}" for c in clusters) for i in range(5)}
    worst = min((c["priority"] for c in clusters), default=None)
    failing = [c for c in clusters if c["priority"] <= fail_on and not c["muted"]]
    return {
        "schema_version": 1, "tool": {"name": "log-gardener", "version": "0.1.0"},
        "service": service, "project": "netra-staging",
        "source": {"kind": "file", "inputs": ["logs.json"], "filter": "", "logs_explorer_url": ""},
        "window": {"start": start, "end": end},
        "entries": {"total": 5000, "analysed": 4998, "skipped": 2,
                    "skipped_reasons": {"timestamp: missing": 2}, "truncated": False},
        "severity_counts": {"ERROR": 451, "WARNING": 268, "INFO": 4279},
        "summary": {"clusters": len(clusters), "by_priority": by, "max_priority": worst},
        "clusters": clusters,
        "gate": {"fail_on": fail_on, "passed": not failing,
                 "reasons": [f"{c['id']} ({c['priority']}): {c['title']}" for c in failing]},
        "gone": [],
    }


def seed_worklog(**kwargs: Any) -> dict[str, Any]:
    """The seed outage: P0 database timeout, P1 restart loop, P2, two P3, two P4 (one hostile)."""
    return worklog([
        cluster("C1", "P0", "9f2c4e1a0b7d3c55", "CRITICAL STARTUP FAILURE: Database "
                "initialization timeout after 8.0s in staging environment", 451),
        cluster("C2", "P1", "1b2c3d4e5f607182", "Container called exit(3)", 39),
        cluster("C3", "P2", "2c3d4e5f60718293", "SSOT WARNING: Found other WebSocket Manager "
                "classes", 120, message=HOSTILE),
        cluster("C4", "P3", "3d4e5f60718293a4", "SERVICE_ID contains trailing whitespace", 268),
        cluster("C5", "P3", "4e5f60718293a4b5", "Sentry SDK not available " + HOSTILE, 40),
        cluster("C6", "P4", "5f60718293a4b5c6", "Backend service starting", 6),
        cluster("C7", "P4", "60718293a4b5c6d7", "Uvicorn running on 0.0.0.0:8080", 4),
    ], **kwargs)
