"""Render the worklog document as Markdown a person scanning a PR reads top-down.

Verdict first, then the cluster table, then one section per cluster. Every log-derived string
goes through `gardener.markup` (it is already redacted in the document). Deterministic: the same
document gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from itertools import accumulate
from typing import Any

from gardener.markup import code, code_block, details, inline
from gardener.queries import gcloud_command

URGENT = frozenset({"P0", "P1", "P2"})
"""Priorities whose sections carry every sample, the full entry and per-minute counts."""
BAR_WIDTH = 30
SPARK_WIDTH = 60
SPARK_ROWS = 48
"""Hour rows a sparkline draws at most: two days, whatever the span of the entries."""
SPARK_GAP_ROWS = 3
"""Quiet hours between two drawn rows shown as blank rows; a longer stretch is one line."""
_SPARKS = " ▁▂▃▄▅▆▇█"


def markdown(doc: Mapping[str, Any]) -> str:
    """The full worklog."""
    parts = [header(doc), verdict(doc), overview(doc), cluster_table(doc["clusters"])]
    parts += [cluster_section(c) for c in doc["clusters"]]
    parts += [gone_section(doc), skipped_section(doc), reproduce_section(doc)]
    return "\n\n".join(p for p in parts if p) + "\n"


def header(doc: Mapping[str, Any]) -> str:
    service = doc.get("service") or "unknown service"
    return f"# Log Gardener worklog: {inline(service)}"


def verdict(doc: Mapping[str, Any]) -> str:
    """One line that says pass or fail and why, then the reasons."""
    gate = doc["gate"]
    if gate["passed"]:
        line = f"**Verdict: ✅ passed** ({code('--fail-on ' + gate['fail_on'])})"
    else:
        line = f"**Verdict: ❌ failed** ({code('--fail-on ' + gate['fail_on'])})"
    summary = doc["summary"]
    counts = ", ".join(f"{n} {p}" for p, n in summary["by_priority"].items() if n)
    line += f": {summary['clusters']} clusters" + (f" ({counts})" if counts else "")
    change = change_line(doc)
    lines = [line] + ([change] if change else [])
    lines += [f"- {inline(reason, 400)}" for reason in gate["reasons"]]
    return "\n".join(lines)


def change_line(doc: Mapping[str, Any]) -> str:
    """`Against the baseline: 2 new clusters, 1 spiking, 3 gone.` (empty without a baseline)."""
    summary = doc["summary"]
    if not summary.get("baseline"):
        return ""
    return (f"Against {inline(summary['baseline'])}: **{summary['new']} new** "
            f"clusters, **{summary['spiking']} spiking**, {summary['gone']} gone.")


def overview(doc: Mapping[str, Any]) -> str:
    window, entries = doc["window"], doc["entries"]
    lines = []
    if window["start"]:
        lines.append(f"- **Window:** {window['start']} → {window['end']} (UTC)")
    if doc.get("project"):
        lines.append(f"- **Project:** {inline(doc['project'])}")
    source = doc["source"]
    inputs = ", ".join(inline(i) for i in source["inputs"])
    lines.append(f"- **Source:** {source['kind']}" + (f" ({inputs})" if inputs else ""))
    skipped = f", **{entries['skipped']:,} skipped** (see below)" if entries["skipped"] else ""
    cut = " — truncated by --max-entries" if entries["truncated"] else ""
    lines.append(f"- **Entries:** {entries['total']:,} read, {entries['analysed']:,} "
                 f"analysed{skipped}{cut}")
    total = entries["analysed"] or 1
    severities = " · ".join(f"{name} {n:,} ({pct(n / total)})"
                            for name, n in doc["severity_counts"].items())
    if severities:
        lines.append(f"- **Severity:** {severities}")
    lines += [f"- **Note:** {inline(n, 400)}" for n in source.get("notes", [])]
    return "\n".join(lines)


def _entries(count: int) -> str:
    return f"{count:,} entry" if count == 1 else f"{count:,} entries"


def pct(share: float) -> str:
    """`0.0902` -> `9.0%`; small shares keep two decimals."""
    pct = share * 100
    return f"{pct:.2f}%" if pct < 1 else f"{pct:.1f}%"


def _time(stamp: str) -> str:
    """`2025-09-15T23:46:30.123Z` -> `23:46:30` for tables (the date is in the header)."""
    return stamp[11:19] if len(stamp) >= 19 else stamp


def cluster_table(clusters: Sequence[Mapping[str, Any]]) -> str:
    if not clusters:
        return "## Clusters\n\nNo entries in this window."
    rows = ["## Clusters", "",
            "| | Priority | Cluster | Count | Share | First seen | Last seen |",
            "|---|---|---|---:|---:|---|---|"]
    for c in clusters:
        status = f" · {c['status']}" if c.get("status") and c["status"] != "known" else ""
        muted = " (muted)" if c["muted"] else ""
        rows.append(f"| {c['id']} | {c['priority']}{status}{muted} | {inline(c['title'], 120)} | "
                    f"{c['count']:,}{_rate(c)} | {pct(c['share'])} | {_time(c['first_seen'])} | "
                    f"{_time(c['last_seen'])} |")
    return "\n".join(rows)


def _rate(c: Mapping[str, Any]) -> str:
    """` (new)` or ` (×12)` against the baseline; nothing without one."""
    if c.get("status") == "new":
        return " (new)"
    ratio = c.get("rate_ratio")
    return f" (×{ratio:g})" if ratio is not None else ""


def cluster_section(c: Mapping[str, Any]) -> str:
    """One cluster: counts, template, locations, timeline, samples, how to reproduce."""
    severities = " · ".join(f"{k} {v:,}" for k, v in c["severity_counts"].items())
    lines = [f"## {c['id']} · {c['priority']} · {inline(c['title'], 120)}", "",
             f"**{_entries(c['count'])} ({pct(c['share'])})** · {severities} · "
             f"first {c['first_seen']} · last {c['last_seen']}"]
    if c.get("status"):
        base = c.get("baseline_count")
        lines.append(f"- **Change:** {c['status']} (baseline {base:,} entries)"
                     if base is not None else f"- **Change:** {c['status']}")
    lines.append(f"- **Why {c['priority']}:** {inline(c['reason'])} (rule `{inline(c['rule'])}`)"
                 + (" — **muted**" if c["muted"] else ""))
    lines.append(f"- **Template:** {code(c['template'], 1000)}")
    if c.get("exception_type"):
        lines.append(f"- **Exception:** {code(c['exception_type'])}")
    if c["source_locations"]:
        locs = ", ".join(code(location(loc)) + f" ×{loc['count']:,}"
                         for loc in c["source_locations"][:5])
        lines.append(f"- **Source locations:** {locs}")
    if c["resources"]:
        res = ", ".join(code(_resource(r)) + f" ×{r['count']:,}" for r in c["resources"][:3])
        lines.append(f"- **Resources:** {res}")
    if c.get("loggers"):
        lines.append("- **Loggers:** " + ", ".join(code(k) + f" ×{v:,}"
                                                   for k, v in list(c["loggers"].items())[:3]))
    urgent = c["priority"] in URGENT
    lines += ["", "Timeline (UTC):", "", code_block(sparkline(c["timeline"]))]
    if urgent:
        lines += ["", details("Entries per minute", code_block(timeline(c["timeline"])))]
    # Urgent clusters show every sample and the full entry; the rest one sample, to stay short.
    for i, sample in enumerate(c["samples"] if urgent else c["samples"][:1], 1):
        lines += ["", f"Sample {i} · {sample['severity']} · {sample['timestamp']} · "
                  f"insertId {code(sample['insert_id'])}", "", code_block(sample["message"])]
        if urgent and i == 1:
            lines += ["", details("Full entry (redacted)", _entry_block(sample["entry"]))]
    lines += ["", "Reproduce:", "", code_block(c["gcloud"], "bash"), "",
              f"[Open in Logs Explorer]({c['logs_explorer_url']})"]
    return "\n".join(lines)


def _entry_block(entry: Any) -> str:
    """The sample's entry as indented JSON; one nested deeper than the encoder's stack is
    named, not shown (it is in the JSON worklog)."""
    try:
        text = json.dumps(entry, indent=2, sort_keys=True, ensure_ascii=False)
    except RecursionError:
        return "(nested too deeply to show here; see the sample in the JSON worklog)"
    return code_block(text, "json")


def location(loc: Mapping[str, Any]) -> str:
    """`file:line (function)` for a source location of the worklog document."""
    text = str(loc.get("file", ""))
    if loc.get("line") is not None:
        text += f":{loc['line']}"
    return f"{text} ({loc['function']})" if loc.get("function") else text


def _resource(r: Mapping[str, Any]) -> str:
    labels = " ".join(f"{k}={v}" for k, v in r["labels"].items())
    return f"{r['type']} {labels}".strip()


@lru_cache(maxsize=4096)  # the clusters of a worklog share their minutes
def _minute(stamp: str) -> tuple[datetime, int]:
    """A timeline point's minute, and the same as minutes since the epoch."""
    moment = datetime.fromisoformat(stamp)
    return moment, int(moment.timestamp()) // 60


def timeline(points: Sequence[Mapping[str, Any]]) -> str:
    """Per-minute counts as text bars; runs of quiet minutes are folded into one line."""
    if not points:
        return "(no entries)"
    counts = {_minute(p["minute"])[0]: int(p["count"]) for p in points}
    peak = max(counts.values())
    label = _labeller(min(counts), max(counts))
    rows, previous = [], None
    for moment in sorted(counts):
        quiet = int((moment - previous).total_seconds() // 60) - 1 if previous else 0
        if quiet > 0:
            rows.append(f"{'':{len(label(moment))}}  {'·':>6}  ({_quiet(quiet)})")
        n = counts[moment]
        rows.append(f"{label(moment)}  {n:>6,}  {'█' * max(1, round(n / peak * BAR_WIDTH))}")
        previous = moment
    return "\n".join(rows)


def sparkline(points: Sequence[Mapping[str, Any]]) -> str:
    """One character per minute, one row per hour: the shape of a cluster at a glance. Only hours
    with entries are drawn, whatever the span: a quiet stretch of a few hours stays as blank rows,
    a longer one is a line saying how long; past `SPARK_ROWS` hours, the busiest ones."""
    if not points:
        return "(no entries)"
    minutes = [_minute(p["minute"]) for p in points]
    counts = {m: int(p["count"]) for (_, m), p in zip(minutes, points, strict=True)}
    first, peak = min(counts), max(counts.values())
    zone = min(moment for moment, _ in minutes).tzinfo
    grid, totals = _spark_grid(counts, first, peak)
    shown = _busiest(totals)

    def when(row: int) -> datetime:
        return datetime.fromtimestamp((first + row * SPARK_WIDTH) * 60, zone)

    label = _labeller(when(shown[0]), when(shown[-1]))
    pad = " " * len(label(when(shown[0])))
    rows, previous = [], shown[0]
    for row in shown:
        gap = row - previous - 1
        if gap > SPARK_GAP_ROWS:
            rows.append(f"{pad} ⋮ {_duration(gap * SPARK_WIDTH)} with no entries")
        else:
            rows += [f"{label(when(quiet))} |" for quiet in range(previous + 1, row)]
        rows.append(f"{label(when(row))} |{''.join(grid[row]).rstrip()}")
        previous = row
    rows.append(f"{pad} one column per minute; █ = {peak:,} entries (the peak minute)")
    outside = sum(totals.values()) - sum(totals[row] for row in shown)
    if outside:
        rows.append(f"{pad} the busiest {len(shown)} hours; {outside:,} more "
                    f"{'entry' if outside == 1 else 'entries'} outside them (JSON `timeline`)")
    return "\n".join(rows)


def _spark_grid(counts: Mapping[int, int], first: int, peak: int
                ) -> tuple[dict[int, list[str]], dict[int, int]]:
    """The cells of each hour row that has a point, and each such row's total."""
    top = len(_SPARKS) - 1
    grid: dict[int, list[str]] = {}
    totals: dict[int, int] = {}
    for minute, n in counts.items():
        row, column = divmod(minute - first, SPARK_WIDTH)
        cells = grid.setdefault(row, [" "] * SPARK_WIDTH)
        totals[row] = totals.get(row, 0) + n
        if n:
            cells[column] = _SPARKS[min(top, -(-n * top // peak))]
    return grid, totals


def _busiest(totals: Mapping[int, int]) -> list[int]:
    """The rows to draw, in order: all of them, or the `SPARK_ROWS` consecutive ones holding the
    most entries (the earliest such run on a tie)."""
    rows = sorted(totals)
    if len(rows) <= SPARK_ROWS:
        return rows
    sums = list(accumulate((totals[row] for row in rows), initial=0))
    best = max(range(len(rows) - SPARK_ROWS + 1),
               key=lambda i: (sums[i + SPARK_ROWS] - sums[i], -i))
    return rows[best:best + SPARK_ROWS]


def _labeller(start: datetime, end: datetime) -> Callable[[datetime], str]:
    """`09-16 00:47`, or with the year when the times are in different years."""
    if start.year == end.year:
        return lambda moment: f"{moment:%m-%d %H:%M}"
    return lambda moment: f"{moment.year:04d}-{moment:%m-%d %H:%M}"


def _quiet(minutes: int) -> str:
    """`5 quiet minutes`; a long stretch also says how long it is."""
    if minutes < 60:
        return f"{minutes} quiet minute{'s' if minutes > 1 else ''}"
    return f"{minutes:,} quiet minutes: {_duration(minutes)}"


def _duration(minutes: int) -> str:
    """`3 days 4 hours`: the two largest units of a length in minutes (years of 365.25 days)."""
    parts = []
    for name, size in (("year", 525_960), ("day", 1_440), ("hour", 60), ("minute", 1)):
        amount, minutes = divmod(minutes, size)
        if amount:
            parts.append(f"{amount:,} {name}{'s' if amount > 1 else ''}")
    return " ".join(parts[:2]) or "0 minutes"


def gone_section(doc: Mapping[str, Any]) -> str:
    gone = doc.get("gone") or []
    if not gone:
        return ""
    rows = ["## Gone since the baseline", ""]
    rows += [f"- {code(g['template'], 200)} ({g['baseline_count']:,} entries before)"
             for g in gone]
    return "\n".join(rows)


def skipped_section(doc: Mapping[str, Any]) -> str:
    entries = doc["entries"]
    if not entries["skipped"]:
        return ""
    rows = ["## Skipped entries", "",
            f"{entries['skipped']:,} of {entries['total']:,} elements could not be analysed:", ""]
    rows += [f"- {inline(reason, 200)}: {n:,}" for reason, n in entries["skipped_reasons"].items()]
    examples = entries.get("skipped_examples") or []
    if examples:
        rows += ["", details("First skipped elements", "\n".join(f"- {inline(e, 300)}"
                                                              for e in examples))]
    return "\n".join(rows)


def reproduce_section(doc: Mapping[str, Any]) -> str:
    source = doc["source"]
    if not source["filter"]:
        return ""
    return "\n".join(["## Reproduce this worklog", "",
                      code_block(gcloud_command(source["filter"], doc.get("project") or ""),
                                 "bash"), "",
                      f"[Open in Logs Explorer]({source['logs_explorer_url']})",
                      "", "<sub>Generated by Log Gardener "
                      f"{doc['tool']['version']} (schema {doc['schema_version']}).</sub>"])
