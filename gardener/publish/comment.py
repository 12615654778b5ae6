"""The sticky PR/commit comment: verdict and P0/P1 first, the rest folded, within GitHub's limit.

Every cluster is shown at one of three levels: `FULL` (facts, template, one sample), `BRIEF` (one
line or table row) or `HIDDEN`. When the body is too long the least urgent clusters lose detail
first (samples of P4, P3, P2; then their rows; then P1/P0 samples), and the comment says what was
left out and where the full worklog is. It is built the other way round, most urgent first, adding
pieces while they fit, so only what is posted gets rendered: a worklog with thousands of clusters
costs a few dozen cluster renders, not thousands.
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
    logs_link,
    pct,
    safe,
    safe_code,
    severities,
)
from gardener.redact import redact

FULL, BRIEF, HIDDEN = 2, 1, 0
URGENT = ("P0", "P1")
MAX_REASONS = 10
NOTE_RESERVE = 600  # room kept for the "trimmed" note, besides the worklog URL
SAMPLE_LIMIT = 1500

Cluster = Mapping[str, Any]


def render_comment(doc: Mapping[str, Any], key: CommentKey, *, worklog_url: str = "",
                   limit: int = GITHUB_BODY_LIMIT) -> str:
    """The comment body for `doc`, at most `limit` characters (as GitHub counts them)."""
    pieces = _Pieces(doc.get("clusters") or [])
    levels = [HIDDEN] * len(pieces.clusters)
    upgrades = [(i, BRIEF if level == HIDDEN else FULL)
                for i, level in reversed(_trim_steps(pieces.clusters))]
    reserve = NOTE_RESERVE + body_length(worklog_url)
    used = body_length(_assemble(doc, key, pieces, levels, worklog_url))
    done, rows = 0, False
    for i, level in upgrades:  # most urgent first; stop at the first piece that does not fit
        row = level == BRIEF and pieces.clusters[i].get("priority") not in URGENT
        cost = pieces.cost(i, level, first_row=row and not rows)
        if used + cost > limit - reserve:
            break
        levels[i], used, done, rows = level, used + cost, done + 1, rows or row
    text = _assemble(doc, key, pieces, levels, worklog_url)
    while body_length(text) > limit and done:  # the estimate was short: give back a step
        done -= 1
        i, level = upgrades[done]
        levels[i] = HIDDEN if level == BRIEF else BRIEF
        text = _assemble(doc, key, pieces, levels, worklog_url)
    if body_length(text) > limit:  # only the head is left and it is still too long
        text = _assemble(doc, key, _Pieces([]), [], worklog_url, reasons=1)
    return text


class _Pieces:
    """Each cluster's rendered parts, made once however often the comment is reassembled."""

    def __init__(self, clusters: Sequence[Cluster]) -> None:
        self.clusters = clusters
        self._made: dict[tuple[str, int], str] = {}

    def get(self, kind: str, i: int) -> str:
        """`urgent` (full section), `brief` (bullet), `row` (table row) or `fold` (details)."""
        if (kind, i) not in self._made:
            c = self.clusters[i]
            match kind:
                case "urgent":
                    text = cluster_detail(c, heading="####")
                case "brief":
                    text = brief_line(c)
                case "row":
                    text = table_row(c)
                case _:
                    text = details(f"{safe(c.get('id', ''), 20)} · {safe(c.get('title', ''), 120)}",
                                   cluster_detail(c, heading=""))
            self._made[(kind, i)] = text
        return self._made[(kind, i)]

    def cost(self, i: int, level: int, *, first_row: bool) -> int:
        """Roughly how many characters raising cluster `i` to `level` adds (rendering only it)."""
        if self.clusters[i].get("priority") in URGENT:
            brief = body_length(self.get("brief", i)) + 2
            return brief if level == BRIEF else body_length(self.get("urgent", i)) - brief + 2
        if level == BRIEF:
            return body_length(self.get("row", i)) + 1 + (len(TABLE_HEAD) + 2 if first_row else 0)
        return body_length(self.get("fold", i)) + 2


def _trim_steps(clusters: Sequence[Cluster]) -> list[tuple[int, int]]:
    """Level changes in the order they are applied: least urgent clusters lose detail first."""
    others = [i for i, c in enumerate(clusters) if c.get("priority") not in URGENT][::-1]
    urgent = [i for i, c in enumerate(clusters) if c.get("priority") in URGENT][::-1]
    return ([(i, BRIEF) for i in others] + [(i, HIDDEN) for i in others]
            + [(i, BRIEF) for i in urgent] + [(i, HIDDEN) for i in urgent])


def _assemble(doc: Mapping[str, Any], key: CommentKey, pieces: _Pieces, levels: Sequence[int],
              worklog_url: str, reasons: int = MAX_REASONS) -> str:
    urgent = [i for i, c in enumerate(pieces.clusters) if c.get("priority") in URGENT]
    others = [i for i, c in enumerate(pieces.clusters) if c.get("priority") not in URGENT]
    blocks = [key.marker() + "\n" + head(doc, key, reasons),
              _urgent_section(pieces, urgent, levels)]
    if others:
        blocks.append(_others_section(pieces, others, levels))
    blocks.append(trim_note(pieces.clusters, levels, worklog_url))
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


def _urgent_section(pieces: _Pieces, urgent: Sequence[int], levels: Sequence[int]) -> str:
    if not urgent:
        return "No P0 or P1 clusters."
    parts = ["### P0 and P1 clusters"]
    parts += [pieces.get("urgent" if levels[i] == FULL else "brief", i)
              for i in urgent if levels[i] != HIDDEN]
    return "\n\n".join(parts)


def _others_section(pieces: _Pieces, others: Sequence[int], levels: Sequence[int]) -> str:
    shown = [i for i in others if levels[i] != HIDDEN]
    priorities = sorted({str(pieces.clusters[i].get("priority", "")) for i in others})
    span = priorities[0] if len(priorities) == 1 else f"{priorities[0]}–{priorities[-1]}"
    summary = f"{len(others)} more cluster{'s' if len(others) != 1 else ''} ({safe(span, 20)})"
    body = [TABLE_HEAD + "\n" + "\n".join(pieces.get("row", i) for i in shown)] if shown else []
    body += [pieces.get("fold", i) for i in shown if levels[i] == FULL]
    return details(summary, "\n\n".join(body) or "Left out to fit the comment; see the worklog.")


TABLE_HEAD = ("| Cluster | Priority | Title | Count | Share | Last seen |\n"
              "|---|---|---|---:|---:|---|")


def table_row(c: Cluster) -> str:
    """A table row: id, priority, title, count, share, last seen (no code spans: see `|`)."""
    return (f"| {safe(c.get('id', ''), 20)} | {_priority(c)} | {safe(c.get('title', ''), 120)} "
            f"| {int(c.get('count', 0)):,} | {pct(float(c.get('share', 0.0)))} "
            f"| {clock(c.get('last_seen'))} |")


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
    lines.append("- " + logs_link(str(c.get("logs_explorer_url", ""))))
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
