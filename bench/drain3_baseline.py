"""The obvious pipeline, for comparison: json.load an export, mine it with drain3, count.

    python bench/drain3_baseline.py EXPORT.json --json SUMMARY.json

What a team would write first: load the whole `gcloud logging read --format=json` array (or JSON
Lines), take each entry's message (textPayload, jsonPayload.message, the audit method, or an
httpRequest summary), feed drain3's `TemplateMiner` (default configuration plus number masking),
and write per-cluster counts, severities and first/last timestamps as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from typing import Any
from urllib.parse import urlsplit

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

NUMBER = r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)"
"""drain3's own example masking for numbers."""


def load(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as stream:
        text = stream.read()
    if text.lstrip().startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def message_of(entry: dict[str, Any]) -> str:
    if isinstance(entry.get("textPayload"), str):
        return str(entry["textPayload"])
    payload = entry.get("jsonPayload") or {}
    if payload.get("message"):
        return str(payload["message"])
    proto = entry.get("protoPayload") or {}
    if proto.get("methodName"):
        return f"{proto.get('serviceName', '')} {proto['methodName']}"
    request = entry.get("httpRequest") or {}
    if request:
        path = urlsplit(str(request.get("requestUrl", ""))).path
        return f"{request.get('requestMethod', '')} {path} {request.get('status', '')}"
    return json.dumps(payload, sort_keys=True)


def summarise(entries: list[dict[str, Any]]) -> dict[str, Any]:
    config = TemplateMinerConfig()
    config.masking_instructions.append(MaskingInstruction(NUMBER, "NUM"))
    miner = TemplateMiner(config=config)
    severities: Counter[str] = Counter()
    per_cluster: dict[int, Counter[str]] = defaultdict(Counter)
    first: dict[int, str] = {}
    last: dict[int, str] = {}
    for entry in entries:
        severity = str(entry.get("severity", "DEFAULT"))
        severities[severity] += 1
        cluster_id = miner.add_log_message(message_of(entry))["cluster_id"]
        per_cluster[cluster_id][severity] += 1
        stamp = str(entry.get("timestamp", ""))
        first[cluster_id] = min(first.get(cluster_id, stamp), stamp)
        last[cluster_id] = max(last.get(cluster_id, stamp), stamp)
    clusters = [{"id": c.cluster_id, "template": c.get_template(), "count": c.size,
                 "severity_counts": dict(per_cluster[c.cluster_id]),
                 "first_seen": first[c.cluster_id], "last_seen": last[c.cluster_id]}
                for c in miner.drain.clusters]
    clusters.sort(key=lambda c: -c["count"])
    return {"entries": len(entries), "severity_counts": dict(severities), "clusters": clusters}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--json", required=True, metavar="OUT.json")
    args = parser.parse_args(argv)
    summary = summarise(load(args.input))
    with open(args.json, "w", encoding="utf-8") as out:
        json.dump(summary, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
