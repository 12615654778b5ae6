"""The same entries given twice: a file named twice is read once, and entries whose insertId
another entry already has (exports whose windows overlap) are counted and said in the worklog,
so doubled counts never pass unremarked."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from gardener.cli import main
from gardener.render import markdown


def entries(first: int, last: int) -> list[dict[str, Any]]:
    return [{"insertId": f"id-{i}", "timestamp": f"2025-09-16T00:{i % 60:02d}:00Z",
             "severity": "ERROR" if i % 7 == 0 else "INFO",
             "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
             "textPayload": f"request {i} served in {i * 3} ms"} for i in range(first, last)]


def write(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps(rows))
    return str(path)


def worklog(tmp_path: Path, *inputs: str) -> dict[str, Any]:
    out = tmp_path / "worklog.json"
    args = ["analyze", "--fail-on", "never", "--json", str(out)]
    for path in inputs:
        args += ["--input", path]
    assert main(args, {}, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def test_a_file_named_twice_is_read_once_and_the_worklog_says_so(tmp_path: Path) -> None:
    export = write(tmp_path / "api.json", entries(0, 50))
    alias = tmp_path / "alias.json"
    os.link(export, alias)  # the same file by another name, as a glob and a name can give it
    doc = worklog(tmp_path, export, str(alias), export)
    assert doc["entries"]["total"] == 50
    assert sum(c["count"] for c in doc["clusters"]) == 50
    notes = doc["source"]["notes"]
    assert [n for n in notes if "the same file was given before" in n] == [
        f"{alias}: the same file was given before, so it was read once",
        f"{export}: the same file was given before, so it was read once"]
    assert doc["source"]["inputs"] == ["api.json"]


def test_overlapping_exports_are_counted_and_named(tmp_path: Path) -> None:
    morning = write(tmp_path / "morning.json", entries(0, 40))
    noon = write(tmp_path / "noon.json", entries(30, 70))  # ten entries in both windows
    doc = worklog(tmp_path, morning, noon)
    assert doc["entries"]["analysed"] == 80  # as read: the note says why it is more than 70
    assert doc["entries"]["repeated_insert_ids"] == 10
    [note] = [n for n in doc["source"]["notes"] if "insertId" in n]
    assert note.startswith("10 entries repeat the insertId of another")
    assert "export each window once" in note
    assert "10 entries repeat the insertId of another" in markdown(doc)


def test_distinct_exports_have_no_note(tmp_path: Path) -> None:
    doc = worklog(tmp_path, write(tmp_path / "a.json", entries(0, 30)),
                  write(tmp_path / "b.json", entries(30, 60)))
    assert doc["entries"]["repeated_insert_ids"] == 0
    assert doc["entries"]["analysed"] == 60
    assert not doc["source"]["notes"]
