"""The sticky PR/commit comment: verdict and P0/P1 first, the rest folded, within GitHub's limit.

Every cluster is shown at one of three levels: `FULL` (facts, template, one sample), `BRIEF` (one
line or table row) or `HIDDEN`. When the body is too long the least urgent clusters lose detail
first (samples of P4, P3, P2; then their rows; then P1/P0 samples), and the comment says what was
left out and where the full worklog is. The smallest number of such steps that fits is found by
bisection, so a worklog with thousands of clusters costs a dozen renders, not thousands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gardener.markup import code_block, details
from gardener.publish.markers import CommentKey
from gardener.publish.text import (
    GITHUB_BODY_LIMIT,
    body_length,
    clock,
    link,
    location,
    pct,
    safe,
    safe_code,
    severities,
)
from gardener.redact import redact

FULL, BRIEF, HIDDEN = 2, 1, 0
URGENT = ("P0", "P1")
MAX_REASONS = 10
SAMPLE_LIMIT = 1500

Cluster = Mapping[str, Any]


def render_comment(doc: Mapping[str, Any], key: CommentKey, *, worklog_url: str = "",
                   limit: int = GITHUB_BODY_LIMIT) -> str:
    """The comment body for `doc`, at most `limit` characters (as GitHub counts them)."""
    clusters: Sequence[Cluster] = doc.get("clusters") or []
    levels = [FULL] * len(clusters)
    steps = _trim_steps(clusters)

    def body(k: int) -> str:
        trimmed = list(levels)
        for index, level in steps[:k]:
            trimmed[index] = level
        return _assemble(doc, key, clusters, trimmed, worklog_url)

    lo, hi = 0, len(steps)
    if body_length(body(0)) <= limit:
        return body(0)
    while lo < hi:  # smallest k whose body fits; more steps never make it longer
        mid = (lo + hi) // 2
        if body_length(body(mid)) <= limit:
            hi = mid
        else:
            lo = mid + 1
    text = body(lo)
    if body_length(text) > limit:  # only the head is left and it is still too long
        text = _assemble(doc, key, [], [], worklog_url, reasons=1)
    return text


def _trim_steps(clusters: Sequence[Cluster]) -> list[tuple[int, int]]:
    """Level changes in the order they are applied: least urgent clusters lose detail first."""
    others = [i for i, c in enumerate(clusters) if c.get("priority") not in URGENT][::-1]
    urgent = [i for i, c in enumerate(clusters) if c.get("priority") in URGENT][::-1]
    return ([(i, BRIEF) for i in others] + [(i, HIDDEN) for i in others]
            + [(i, BRIEF) for i in urgent] + [(i, HIDDEN) for i in urgent])


def _assemble(doc: Mapping[str, Any], key: CommentKey, clusters: Sequence[Cluster],
              levels: Sequence[int], worklog_url: str, reasons: int = MAX_REASONS) -> str:
    pairs = list(zip(clusters, levels, strict=True))
    urgent = [(c, lv) for c, lv in pairs if c.get("priority") in URGENT]
    others = [(c, lv) for c, lv in pairs if c.get("priority") not in URGENT]
    blocks = [key.marker() + "\n" + head(doc, key, reasons)]
    blocks.append(_urgent_section(urgent))
    if others:
        blocks.append(_others_section(others))
    note = trim_note(clusters, levels, worklog_url)
    if note:
        blocks.append(note)
    blocks.append(footer(doc, worklog_url))
    return "\n\n".join(b for b in blocks if b) + "\n"


def head(doc: Mapping[str, Any], key: CommentKey, reasons: int = MAX_REASONS) -> str:
    """Title line with the verdict, then the window, counts and the gate's reasons."""
    gate = doc.get("gate") or {}
    service = doc.get("service") or key.service
    passed = bool(gate.get("passed", True))
    verdict = "✅ gate passed" if passed else "❌ gate failed"
    lines = [f"## Log Gardener · {safe_code(service, 100)} · {verdict}", ""]
    window = doc.get("window") or {}
    entries = doc.get("entries") or {}
    summary = doc.get("summary") or {}
    by_priority = summary.get("by_priority") or {}
    counts = " · ".join((f"**{n} {p}**" if p in URGENT else f"{n} {p}")
                        for p, n in by_priority.items() if n)
    facts = [f"{int(entries.get('analysed', 0)):,} entries analysed",
             f"{int(summary.get('clusters', 0)):,} clusters" + (f" ({counts})" if counts else "")]
    if window.get("start"):
        facts.insert(0, f"{clock(window['start'])} → {clock(window['end'])}")
    if key.workflow:
        facts.append(f"workflow {safe_code(key.workflow, 100)}")
    lines.append(" · ".join(facts))
    fail_on = safe_code(gate.get("fail_on", ""), 40)
    why = list(gate.get("reasons") or [])
    if why and not passed:
        lines += ["", f"Failed on {fail_on} because:"]
    elif why:
        lines += ["", "Notes:"]
    lines += [f"- {safe(r, 400)}" for r in why[:reasons]]
    if len(why) > reasons:
        lines.append(f"- … and {len(why) - reasons} more")
    return "\n".join(lines)


def _urgent_section(urgent: Sequence[tuple[Cluster, int]]) -> str:
    shown = [(c, lv) for c, lv in urgent if lv != HIDDEN]
    if not urgent:
        return "No P0 or P1 clusters."
    parts = ["### P0 and P1 clusters"]
    parts += [cluster_detail(c, heading="####") if lv == FULL else brief_line(c)
              for c, lv in shown]
    return "\n\n".join(parts)


def _others_section(others: Sequence[tuple[Cluster, int]]) -> str:
    shown = [(c, lv) for c, lv in others if lv != HIDDEN]
    priorities = sorted({str(c.get("priority", "")) for c, _ in others})
    span = priorities[0] if len(priorities) == 1 else f"{priorities[0]}–{priorities[-1]}"
    summary = f"{len(others)} more cluster{'s' if len(others) != 1 else ''} ({safe(span, 20)})"
    body = [cluster_table([c for c, _ in shown])] if shown else []
    body += [details(f"{safe(c.get('id', ''), 20)} · {safe(c.get('title', ''), 120)}",
                     cluster_detail(c, heading=""))
             for c, lv in shown if lv == FULL]
    return details(summary, "\n\n".join(body) or "Left out to fit the comment; see the worklog.")


def cluster_table(clusters: Sequence[Cluster]) -> str:
    """A table row per cluster: id, priority, title, count, share, last seen."""
    rows = ["| Cluster | Priority | Title | Count | Share | Last seen |",
            "|---|---|---|---:|---:|---|"]
    rows += [f"| {safe(c.get('id', ''), 20)} | {_priority(c)} | {safe(c.get('title', ''), 120)} "
             f"| {int(c.get('count', 0)):,} | {pct(float(c.get('share', 0.0)))} "
             f"| {clock(c.get('last_seen'))} |" for c in clusters]
    return "\n".join(rows)


def brief_line(c: Cluster) -> str:
    """One bullet for a cluster shown without detail."""
    return (f"- **{safe(c.get('id', ''), 20)} · {_priority(c)}** · {safe(c.get('title', ''), 160)}"
            f" · {int(c.get('count', 0)):,} entries ({pct(float(c.get('share', 0.0)))})")


def cluster_detail(c: Cluster, *, heading: str) -> str:
    """Facts, template, where it is logged from, a link to the logs, and one sample."""
    lines = []
    if heading:
        lines += [f"{heading} {safe(c.get('id', ''), 20)} · {_priority(c)} · "
                  f"{safe(c.get('title', ''), 160)}", ""]
    lines.append(f"**{int(c.get('count', 0)):,} entries ({pct(float(c.get('share', 0.0)))})** · "
                 f"{severities(c.get('severity_counts') or {})} · "
                 f"first {clock(c.get('first_seen'))} · last {clock(c.get('last_seen'))}")
    if c.get("reason"):
        lines.append(f"- **Why {_priority(c)}:** {safe(c['reason'])}")
    lines.append(f"- **Template:** {safe_code(c.get('template', ''), 600)}")
    locations = c.get("source_locations") or []
    if locations:
        lines.append("- **Logged from:** " + ", ".join(
            f"{safe_code(location(loc), 160)} ×{int(loc.get('count', 0)):,}"
            for loc in locations[:3]))
    lines.append("- " + link("Open in Logs Explorer", str(c.get("logs_explorer_url", ""))))
    samples = c.get("samples") or []
    if samples:
        first = samples[0]
        lines += ["", f"Sample ({safe(first.get('severity', ''), 20)}, "
                      f"{clock(first.get('timestamp'))}):", "",
                  code_block(redact(str(first.get("message", ""))), limit=SAMPLE_LIMIT)]
    return "\n".join(lines)


def _priority(c: Cluster) -> str:
    text = safe(c.get("priority", ""), 4)
    status = c.get("status")
    if status in ("new", "spiking"):
        text += f" · {status}"
    return text + (" (muted)" if c.get("muted") else "")


def trim_note(clusters: Sequence[Cluster], levels: Sequence[int], worklog_url: str) -> str:
    """What was left out to fit, and where to read everything; empty if nothing was."""
    briefed = sum(1 for lv in levels if lv == BRIEF)
    hidden = sum(1 for lv in levels if lv == HIDDEN)
    if not briefed and not hidden:
        return ""
    parts = []
    if briefed:
        parts.append(f"the details of {briefed} cluster{'s' if briefed != 1 else ''}")
    if hidden:
        least = max(str(c.get("priority", "")) for c, lv in zip(clusters, levels, strict=True)
                    if lv == HIDDEN)
        parts.append(f"{hidden} cluster{'s' if hidden != 1 else ''} entirely (down to {least})")
    where = link("the full worklog", worklog_url) if worklog_url else (
        "the full worklog (job summary or artifact of this run)")
    return (f"> [!NOTE]\n> Trimmed to fit GitHub's {GITHUB_BODY_LIMIT:,}-character limit: left out "
            f"{' and '.join(parts)}, least urgent first. See {where}.")


def footer(doc: Mapping[str, Any], worklog_url: str) -> str:
    """Link to the full worklog and the tool version; says the comment is edited in place."""
    tool = doc.get("tool") or {}
    version = safe(tool.get("version", ""), 20)
    full = link("Full worklog", worklog_url) + " · " if worklog_url else ""
    return (f"<sub>{full}Log Gardener {version} · this comment is edited in place on every run"
            "</sub>")
