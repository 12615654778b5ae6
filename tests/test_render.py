"""The Markdown renderer: verdict first, inert log text, a plain-text timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gardener.render import SPARK_GAP_ROWS, cluster_section, markdown, sparkline, timeline


def cluster(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "C1", "fingerprint": "0123456789abcdef", "priority": "P0",
        "title": "Container called exit(…).", "template": "Container called exit(<*>).",
        "count": 12, "share": 0.12, "first_seen": "2025-09-15T10:00:05Z",
        "last_seen": "2025-09-15T10:04:59Z", "severity_counts": {"ERROR": 12},
        "resources": [{"type": "cloud_run_revision", "labels": {"service_name": "api"},
                       "count": 12}],
        "source_locations": [{"file": "app/main.py", "line": 12, "function": "boot",
                              "count": 12}],
        "samples": [{"insert_id": "abc", "timestamp": "2025-09-15T10:00:05Z",
                     "severity": "ERROR", "message": "Container called exit(3).",
                     "entry": {"textPayload": "Container called exit(3)."}}],
        "insert_ids": ["abc"], "query": 'resource.type="cloud_run_revision"',
        "logs_explorer_url": "https://console.cloud.google.com/logs/query;query=x",
        "gcloud": "gcloud logging read 'x' --format=json",
        "timeline": [{"minute": "2025-09-15T10:00:00Z", "count": 4},
                     {"minute": "2025-09-15T10:04:00Z", "count": 8}],
        "labels": [], "muted": False, "rule": "default:crash-loop", "reason": "crashing",
        "exception_type": "", "loggers": {},
    }
    base.update(overrides)
    return base


def doc(clusters: list[dict[str, Any]], passed: bool = False) -> dict[str, Any]:
    return {
        "schema_version": 1, "tool": {"name": "log-gardener", "version": "0.1.0"},
        "service": "api", "project": "demo",
        "source": {"kind": "file", "inputs": ["x.json"], "filter": 'resource.type="x"',
                   "logs_explorer_url": "https://console.cloud.google.com/logs/query;query=y",
                   "notes": []},
        "window": {"start": "2025-09-15T10:00:00Z", "end": "2025-09-15T10:05:00Z"},
        "entries": {"total": 100, "analysed": 100, "skipped": 0, "skipped_reasons": {},
                    "skipped_examples": [], "truncated": False},
        "severity_counts": {"ERROR": 12, "INFO": 88},
        "summary": {"clusters": len(clusters), "by_priority": {"P0": 1, "P1": 0, "P2": 0,
                                                              "P3": 0, "P4": 0},
                    "max_priority": "P0", "baseline": "", "new": 0, "spiking": 0, "gone": 0},
        "clusters": clusters,
        "gate": {"fail_on": "P0", "passed": passed,
                 "reasons": [] if passed else ["C1 (P0, 12 entries) meets P0: restart"]},
        "gone": [],
    }


def test_verdict_comes_first_then_the_table() -> None:
    text = markdown(doc([cluster()]))
    lines = text.splitlines()
    assert lines[0] == "# Log Gardener worklog: api"
    assert lines[2].startswith("**Verdict: ❌ failed**")
    assert text.index("**Verdict") < text.index("| C1 | P0 |") < text.index("## C1 · P0")
    assert "- **Severity:** ERROR 12 (12.0%) · INFO 88 (88.0%)" in text
    assert markdown(doc([cluster()], passed=True)).splitlines()[2].startswith(
        "**Verdict: ✅ passed**")


def test_timeline_folds_quiet_minutes_and_scales_bars() -> None:
    rows = timeline([{"minute": "2025-09-15T10:00:00Z", "count": 4},
                     {"minute": "2025-09-15T10:03:00Z", "count": 8}]).splitlines()
    assert len(rows) == 3
    assert rows[0].split()[:3] == ["09-15", "10:00", "4"]
    assert "(2 quiet minutes)" in rows[1]
    assert rows[2].split()[:3] == ["09-15", "10:03", "8"]
    assert rows[0].count("█") * 2 == rows[2].count("█")


def test_sparkline_is_one_column_per_minute_and_one_row_per_hour() -> None:
    points = [{"minute": f"2025-09-15T{10 + m // 60:02d}:{m % 60:02d}:00Z", "count": 1 + m % 3}
              for m in range(0, 120, 2)]
    rows = sparkline(points).splitlines()
    assert [r[:11] for r in rows[:2]] == ["09-15 10:00", "09-15 11:00"]
    cells = rows[0].split("|", 1)[1]
    assert cells[1] == " " and cells[0] != " "  # minute 1 had no entry
    assert "█" in rows[0] + rows[1] and "peak minute" in rows[2]
    assert "3 entries" in rows[2]



@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(0, 300), st.integers(0, 5000), min_size=1),
       st.sampled_from(["Z", "+05:30", "-08:00"]))
def test_sparkline_has_each_minutes_cell_where_its_minute_is(counts: dict[int, int],
                                                             offset: str) -> None:
    """Cell i of hour row r is minute first + 60r + i: blank when quiet (or counted 0), else
    the count's eighth of the peak, rounded up. Hours with points are drawn; up to
    `SPARK_GAP_ROWS` quiet hours between them keep their (blank) rows, more are one line."""
    start = datetime(2025, 9, 15, 10, 0, tzinfo=UTC)
    zone = datetime.fromisoformat(f"2025-09-15T10:00:00{offset}").tzinfo
    points = [{"minute": (start + timedelta(minutes=m)).astimezone(zone).isoformat(), "count": n}
              for m, n in counts.items()]
    first, peak = min(counts), max(counts.values())
    drawn = sorted({(m - first) // 60 for m in counts})
    expected: list[int | str] = []  # hour rows, or "gap" for a folded quiet stretch
    for previous, r in zip([drawn[0], *drawn], drawn, strict=False):
        quiet = list(range(previous + 1, r))
        expected += ["gap"] if len(quiet) > SPARK_GAP_ROWS else quiet
        expected.append(r)
    rows = sparkline(points).splitlines()
    assert len(rows) == len(expected) + 1
    for r, row in zip(expected, rows, strict=False):
        if r == "gap":
            assert "⋮" in row and "with no entries" in row
            continue
        assert isinstance(r, int)
        when = (start + timedelta(minutes=first + 60 * r)).astimezone(zone)
        cells = [counts.get(first + 60 * r + i, 0) for i in range(60)]
        assert row == f"{when:%m-%d %H:%M} |" + "".join(
            " ▁▂▃▄▅▆▇█"[min(8, -(-n * 8 // peak))] if n else " " for n in cells).rstrip()
    assert rows[-1].endswith(f"█ = {peak:,} entries (the peak minute)")


HOSTILE = ["@octocat please look", "#123", "</details><img src=x onerror=alert(1)>",
           "```\n# injected heading", "[click](https://evil.example)", "<!-- hidden -->",
           "javascript:alert(1)", "www.evil.example", "\u202eevil"]


def outside_code(markdown_text: str) -> str:
    """The text GitHub would interpret: fenced blocks and code spans removed."""
    kept, fence = [], ""
    for line in markdown_text.splitlines():
        run = re.match(r"^(`{3,})", line)
        if fence:
            if run and line.strip() == fence:
                fence = ""
            continue
        if run:
            fence = run.group(1)
            continue
        kept.append(line)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", "\n".join(kept))


def test_hostile_log_text_is_inert() -> None:
    for text in HOSTILE:
        c = cluster(title=text, template=text, samples=[{
            "insert_id": text, "timestamp": "2025-09-15T10:00:05Z", "severity": "ERROR",
            "message": text, "entry": {"textPayload": text}}])
        out = cluster_section(c)
        live = outside_code(out)
        assert "<img" not in live and "<!--" not in live
        assert "@octocat" not in live and "#123" not in live
        assert "](https://evil" not in live and "https://evil" not in live
        assert "\u202e" not in out
        assert not re.search(r"^#+ injected", live, re.M)
        # no fence was left open: the section's last line is still live Markdown
        assert live.rstrip().endswith("[Open in Logs Explorer](https://console.cloud.google.com"
                                      "/logs/query;query=x)")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_title_stays_on_its_table_row(title: str) -> None:
    text = markdown(doc([cluster(title=title)]))
    table = text.split("## Clusters", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.strip().splitlines() if line.startswith("| C1 ")]
    assert len(rows) == 1
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == 8  # 7 cells: no pipe leaks from the title
