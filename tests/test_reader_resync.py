"""The careful reader where an export is not what it should be: a broken element costs itself
only, a line of text in JSON Lines is one skip, text before the export and a UTF-16 file are
named for what they are."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import gardener.sources.files as files
from gardener.model import Skip
from gardener.sources.files import FileSource, read_stream


def test_a_stray_brace_in_a_pretty_export_costs_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """One `{` too many: the matching gives up after `_MAX_ELEMENT` characters (8 MiB; 2 KiB
    here) and resyncs at the next element's line. It used to resync from where it gave up, so
    every entry in between was gone, uncounted, and the gate passed."""
    monkeypatch.setattr(files, "_MAX_ELEMENT", 2048)
    monkeypatch.setattr(files, "CHUNK", 1024)  # the limit is checked where a chunk ends
    entries = [{"insertId": f"id{i}", "timestamp": "2025-09-16T00:00:00Z",
                "jsonPayload": {"message": f"request {i}", "pad": "x" * 100}} for i in range(200)]
    text = json.dumps(entries, indent=2).replace('"jsonPayload": {', '"jsonPayload": {{', 1)
    items = list(read_stream(io.StringIO(text), "stray.json"))
    skips = [item for item in items if isinstance(item, Skip)]
    assert [skip.origin for skip in skips] == ["stray.json#0"]
    assert [item["insertId"] for item in items if not isinstance(item, Skip)] == [
        f"id{i}" for i in range(1, 200)]


def test_a_line_of_text_in_json_lines_is_one_skip() -> None:
    """`2025-09-16 12:00:01 ERROR db down` decodes as 2025, -9, ...: it was five "got int" skips
    and an invalid-JSON one, and every entry after it was numbered wrong."""
    text = "\n".join([
        '{"insertId": "a", "timestamp": "2025-09-16T00:00:00Z", "textPayload": "x"}',
        "2025-09-16 12:00:01 ERROR db down",
        '{"insertId": "c", "timestamp": "2025-09-16T00:00:01Z", "textPayload": "x"}']) + "\n"
    items = list(read_stream(io.StringIO(text), "mixed.jsonl"))
    assert [type(item).__name__ for item in items] == ["dict", "Skip", "dict"]
    skip = items[1]
    assert isinstance(skip, Skip) and skip.origin == "mixed.jsonl#1"
    assert "a line of text" in skip.reason
    assert items[2][files.ORIGIN_KEY] == "mixed.jsonl#2"  # type: ignore[index]


def _export(n: int = 3) -> str:
    return json.dumps([{"insertId": f"id{i}", "timestamp": "2025-09-16T00:00:00Z",
                        "textPayload": f"request {i}"} for i in range(n)], indent=2)


def test_text_lines_before_the_export_are_one_skip() -> None:
    """gcloud's warnings captured with `2>&1` used to cost the whole file (not JSON, exit 2)."""
    text = "WARNING: Reading from a project without billing.\nUpdates are available.\n" + _export()
    items = list(read_stream(io.StringIO(text), "warned.json"))
    assert [type(item).__name__ for item in items] == ["Skip", "dict", "dict", "dict"]
    skip = items[0]
    assert isinstance(skip, Skip) and "2 lines of text before the export" in skip.reason
    assert "2>" in skip.reason  # the fix


def test_a_utf16_export_is_named_as_such(tmp_path: Path) -> None:
    """PowerShell's `>` writes UTF-16: the message said "starts with '\ufffd'"."""
    path = tmp_path / "ps.json"
    path.write_text(_export(), encoding="utf-16")
    items = list(FileSource([str(path)]).read())
    assert len(items) == 1 and isinstance(items[0], Skip)
    assert "not UTF-8" in items[0].reason and "UTF-16" in items[0].reason


def test_a_quote_missing_in_a_one_line_array_costs_one_entry() -> None:
    """`jq -c` output with one `"` lost turns every string after it inside out, so brackets never
    pair up: reading used to stop there (998 of 1,000 entries gone, uncounted, gate passed). The
    next `}, {"insertId"` is where the next entry starts."""
    entries = [{"insertId": f"id{i}", "timestamp": "2025-09-16T00:00:00Z", "textPayload": "ok",
                "resource": {"labels": {"a": "b"}, "type": "global"}} for i in range(100)]
    text = json.dumps(entries).replace('"id1"', '"id1', 1)
    items = list(read_stream(io.StringIO(text), "min.json"))
    assert [item.origin for item in items if isinstance(item, Skip)] == ["min.json#1"]
    assert [item["insertId"] for item in items if not isinstance(item, Skip)] == [
        "id0", *(f"id{i}" for i in range(2, 100))]
