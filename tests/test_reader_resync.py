"""A broken element whose brackets never pair up costs that element only, however far the
bracket matching had to look before giving up."""

from __future__ import annotations

import io
import json

import pytest

import gardener.sources.files as files
from gardener.model import Skip
from gardener.sources.files import read_stream


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
