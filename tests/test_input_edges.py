"""Hostile input found by black-box testing: huge spans, huge digit strings, deep nesting, an
unreadable baseline, leap seconds. Each is a skip or a bounded output, never a crash or a hang."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gardener.cli import main
from gardener.entries import parse_entry
from gardener.http_request import http_summary
from gardener.model import EntryError, LogEntry, Severity, Skip
from gardener.render import sparkline, timeline
from gardener.worklog import _strings

HUGE = "9" * 4301
"""More digits than `int` converts (Python's 4,300-digit limit)."""


def entry(i: int, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"insertId": f"id-{i}", "timestamp": "2025-09-16T00:00:00Z",
                            "severity": "ERROR", "textPayload": f"boom {i}"}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def write(tmp_path: Path, name: str, rows: list[Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(rows))
    return str(path)


def analyze(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["analyze", *args], {}, stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, err.getvalue()


# 1. A span of years stays a few rows.

@pytest.mark.parametrize("old", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"])
def test_entries_years_apart_give_a_short_worklog(tmp_path: Path, old: str) -> None:
    rows = [entry(1), entry(2, timestamp=old)]
    md, js = tmp_path / "w.md", tmp_path / "w.json"
    code, _ = analyze("--input", write(tmp_path, "in.json", rows), "--markdown", str(md),
                      "--json", str(js))
    assert code == 0
    text = md.read_text()
    assert len(text) < 10_000 and len(text.splitlines()) < 150
    assert "years" in text and "with no entries" in text  # the gap is one line saying how long
    [cluster] = json.loads(js.read_text())["clusters"]
    assert len(cluster["timeline"]) == 2  # the JSON timeline is per counted minute


def points(minutes: list[int]) -> list[dict[str, Any]]:
    return [{"minute": f"2025-09-{1 + m // 1440:02d}T{m // 60 % 24:02d}:{m % 60:02d}:00Z",
             "count": 1 + m % 3} for m in minutes]


def test_sparkline_keeps_short_gaps_folds_long_ones_and_caps_rows() -> None:
    short = sparkline(points([0, 125])).splitlines()  # a quiet hour: a blank row, as before
    assert short[:3] == ["09-01 00:00 |▃", "09-01 01:00 |", "09-01 02:00 |     █"]
    folded = sparkline(points([0, 60 * 24 * 5])).splitlines()
    assert folded[1].strip() == "⋮ 4 days 23 hours with no entries" and len(folded) == 4
    many = sparkline(points([m * 60 for m in range(200)] + [10_000 + m for m in range(30)]))
    rows = [r for r in many.splitlines() if "|" in r]
    assert len(rows) <= 48 + 3
    assert "outside them" in many and "09-07 22:00 |" in many  # the busiest hour is kept


def test_timeline_says_how_long_a_long_quiet_stretch_is() -> None:
    text = timeline([{"minute": "1970-01-01T00:00:00Z", "count": 1},
                     {"minute": "1970-01-03T00:00:00Z", "count": 2}])
    assert "(2,879 quiet minutes: 1 day 23 hours)" in text
    assert timeline(points([0, 6])).count("(5 quiet minutes)") == 1


# 2. Digit strings and numbers out of range are skips naming the field.

def skipped(raw: dict[str, Any]) -> Skip:
    result = parse_entry(raw, "in.json#0")
    assert isinstance(result, Skip), result
    return result


@pytest.mark.parametrize(("fields", "field", "says"), [
    ({"httpRequest": {"status": HUGE}}, "httpRequest.status", "100-599"),
    ({"httpRequest": {"status": 99999}}, "httpRequest.status", "100-599"),
    ({"httpRequest": {"status": -5}}, "httpRequest.status", "100-599"),
    ({"httpRequest": {"status": True}}, "httpRequest.status", "HTTP status code"),
    ({"httpRequest": {"requestMethod": 5, "status": 404}}, "httpRequest.requestMethod",
     "must be a string"),
    ({"httpRequest": {"requestUrl": ["a"], "status": 404}}, "httpRequest.requestUrl",
     "must be a string"),
    ({"severity": HUGE}, "severity", "0 (DEFAULT) to 800"),
    ({"severity": "1000"}, "severity", "0 (DEFAULT) to 800"),
    ({"severity": 1000}, "severity", "0 (DEFAULT) to 800"),
    ({"severity": int("1" * 100)}, "severity", "0 (DEFAULT) to 800"),
    ({"severity": -1}, "severity", "0 (DEFAULT) to 800"),
])
def test_bad_numbers_are_skips_naming_the_field(fields: dict[str, Any], field: str,
                                                says: str) -> None:
    skip = skipped(entry(0, **fields))
    assert skip.field == field and says in skip.reason and "Exceeds" not in skip.reason


@pytest.mark.parametrize("fields", [
    {"sourceLocation": {"file": "a.py", "line": HUGE}},
    {"textPayload": None, "jsonPayload": {"message": "x", "logging.googleapis.com/"
                                          "sourceLocation": {"file": "a.py", "line": HUGE}}},
    {"textPayload": None, "jsonPayload": {"message": "x", "caller": "main.go:" + HUGE}},
    {"textPayload": "Traceback (most recent call last):\n  File \"/app/a.py\", line "
     f"{HUGE}, in f\nValueError: x"},
    {"textPayload": f"java.lang.IllegalStateException: x\n\tat a.B.c(B.java:{HUGE})"},
    {"textPayload": f"Error: x\n    at f (/app/a.js:{HUGE}:3)"},
    {"textPayload": f"panic: x\n\ngoroutine 1 [running]:\nmain.f()\n\t/app/main.go:{HUGE} +0x1"},
])
def test_a_huge_line_number_is_an_unknown_line(fields: dict[str, Any]) -> None:
    result = parse_entry(entry(0, **fields), "in.json#0")
    assert isinstance(result, LogEntry) and result.source_location is not None
    assert result.source_location.line is None


def test_plain_numbers_still_parse() -> None:
    http = http_summary({"status": "503", "requestMethod": "post", "requestUrl": "/a/1"})
    assert http is not None and (http.status, http.method, http.route) == (503, "POST", "/a/<*>")
    assert http_summary({"status": 0, "requestUrl": "/"}).status is None  # type: ignore[union-attr]
    for level, expected in (("800", Severity.EMERGENCY), (450, Severity.WARNING), (50,
                                                                                    Severity.ERROR)):
        result = parse_entry(entry(0, severity=level), "in.json#0")
        assert isinstance(result, LogEntry) and result.severity is expected
    with pytest.raises(EntryError):
        http_summary({"status": 600})


def test_bad_numbers_cost_only_their_entry_end_to_end(tmp_path: Path) -> None:
    rows = [entry(0), entry(1, severity=1000), entry(2, httpRequest={"status": HUGE}),
            entry(3, sourceLocation={"file": "a.py", "line": HUGE})]
    out = tmp_path / "w.json"
    code, err = analyze("--input", write(tmp_path, "in.json", rows), "--json", str(out))
    doc = json.loads(out.read_text())
    assert code == 0 and doc["entries"]["analysed"] == 2 and doc["entries"]["skipped"] == 2
    assert "severity 1000 is out of range" in err and "Traceback" not in err


# 3. Deep nesting.

def test_strings_walks_deep_values_iteratively_in_document_order() -> None:
    value: Any = "bottom"
    for depth in range(5000):
        value = {"k": value, "s": f"level {depth}"} if depth % 2 else [value, f"l  {depth}"]
    found = _strings(value)
    assert found[0] == "bottom" and found[-1] == "level 4999" and len(found) == 5001
    assert _strings({"a": "x  y", "b": [1, {"c": "z"}, "w"], "d": None}) == ["x y", "z", "w"]


# 4. A baseline that cannot be read.

@pytest.mark.parametrize("content", [b"", b"{}", json.dumps([entry(0)]).encode("utf-16")])
def test_an_unreadable_baseline_is_exit_2_naming_it(tmp_path: Path, content: bytes) -> None:
    base = tmp_path / "before.json"
    base.write_bytes(content)
    code, err = analyze("--input", write(tmp_path, "in.json", [entry(1)]), "--baseline",
                        str(base), "--fail-on", "new>=P1", "--json", str(tmp_path / "w.json"))
    assert code == 2
    assert "the baseline before.json: no entry could be read" in err and "--baseline" in err


def test_a_baseline_s_skips_are_reported_and_noted(tmp_path: Path) -> None:
    before = [entry(1), entry(2, timestamp="yesterday")]
    out = tmp_path / "w.json"
    code, err = analyze("--input", write(tmp_path, "in.json", [entry(1)]), "--baseline",
                        write(tmp_path, "before.json", before), "--fail-on", "new>=P1",
                        "--json", str(out))
    assert code == 0, err
    assert "gardener: skipped (baseline) " in err and "'yesterday'" in err
    notes = json.loads(out.read_text())["source"]["notes"]
    assert any("1 of 2 elements skipped" in note for note in notes)


# 5. Leap seconds.

def test_a_leap_second_is_the_end_of_its_minute() -> None:
    for stamp in ("2016-12-31T23:59:60Z", "2016-12-31t23:59:60.5z", "2017-01-01T00:59:60+01:00"):
        result = parse_entry(entry(0, timestamp=stamp), "in.json#0")
        assert isinstance(result, LogEntry), result
        assert result.timestamp.isoformat() == "2016-12-31T23:59:59.999999+00:00"
    assert isinstance(parse_entry(entry(0, timestamp="2016-12-31T23:59:61Z"), "x"), Skip)


def test_stdin_bytes_that_are_not_utf8_are_read_as_files_are(tmp_path: Path) -> None:
    """`--input -` with Latin-1 bytes (and a strict locale): read like a file, bad bytes
    replaced, not an internal error (exit 4) from decoding standard input."""
    data = json.dumps([entry(1, textPayload="café ok")], ensure_ascii=False).encode("latin-1")
    out = tmp_path / "w.json"
    done = subprocess.run([sys.executable, "-m", "gardener", "analyze", "--input", "-", "--json",
                           str(out)], input=data, capture_output=True, check=False, timeout=60,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"})
    assert done.returncode == 0, done.stderr.decode()
    [cluster] = json.loads(out.read_text("utf-8"))["clusters"]
    assert cluster["samples"][0]["message"] == "caf\ufffd ok"
