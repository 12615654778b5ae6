"""`gardener.sources.files`: exports (JSON arrays) and JSON Lines, streamed, bad elements skipped
one by one with the good ones around them kept, and big inputs decoded chunk by chunk."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gardener.sources.files as files
from gardener.entries import parse_entry
from gardener.errors import InputError
from gardener.model import LogEntry, Skip
from gardener.sources import ORIGIN_KEY
from gardener.sources.files import FileSource, read_stream

SHAPES = Path(__file__).resolve().parent / "fixtures" / "shapes"


def entry(i: int, **extra: Any) -> dict[str, Any]:
    return {"insertId": f"{i:04x}f1e2d3", "timestamp": f"2025-09-15T23:{i % 60:02d}:21.5Z",
            "severity": "ERROR" if i % 5 == 0 else "INFO",
            "jsonPayload": {"message": f"order {i} placed", "n": i, "tags": ["é", "\u2028", "]"]},
            "resource": {"type": "cloud_run_revision", "labels": {"service_name": "orders"}},
            **extra}


def read(text: str, name: str = "export.json") -> list[dict[str, Any] | Skip]:
    return list(read_stream(io.StringIO(text), name))


def read_in_chunks(text: str, name: str, chunk: int) -> list[dict[str, Any] | Skip]:
    """`read`, the reader's buffer filled `chunk` characters at a time."""
    saved = files.CHUNK
    files.CHUNK = chunk
    try:
        return read(text, name)
    finally:
        files.CHUNK = saved


def bare(items: list[Any]) -> list[Any]:
    """Items without the origin the reader adds."""
    return [{k: v for k, v in item.items() if k != ORIGIN_KEY} if isinstance(item, dict)
            else item for item in items]


def ids(items: list[Any]) -> list[str]:
    return [item["insertId"] if isinstance(item, dict) else f"skip:{item.origin}"
            for item in items]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(files, "CHUNK", 7)
    yield


# --- good input ---------------------------------------------------------------------------------

def test_gcloud_export_is_read_with_origins() -> None:
    values = [entry(i) for i in range(3)]
    items = read(json.dumps(values, indent=2), "prod.json")  # gcloud prints indent=2
    assert bare(items) == values
    assert [item[ORIGIN_KEY] for item in items if isinstance(item, dict)] == [
        "prod.json#0", "prod.json#1", "prod.json#2"]


def test_every_shape_fixture_reads_like_json_load(small_chunks: None) -> None:
    paths = sorted(SHAPES.glob("*.json"))
    assert len(paths) >= 14
    for path in paths:
        items = list(FileSource([str(path)]).read())
        assert bare(items) == json.loads(path.read_text(encoding="utf-8")), path.name


def test_json_lines() -> None:
    values = [entry(i) for i in range(4)]
    items = read("".join(json.dumps(v) + "\n" for v in values), "l.jsonl")
    assert bare(items) == values
    assert items[3][ORIGIN_KEY] == "l.jsonl#3"  # type: ignore[index]


def test_concatenated_exports_and_blank_lines() -> None:
    a, b = [entry(0), entry(1)], [entry(2)]
    assert bare(read(json.dumps(a) + "\n\n" + json.dumps(b) + "\n")) == a + b
    assert bare(read(json.dumps(a) + "\n\ufeff" + json.dumps(b))) == a + b  # second file's BOM


def test_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([entry(1)]).encode())
    assert bare(list(FileSource([str(path)]).read())) == [entry(1)]
    assert bare(read("\ufeff" + json.dumps(entry(2)) + "\n")) == [entry(2)]  # on stdin, JSON Lines


def test_empty_input_is_one_skip() -> None:
    (item,) = read("  \n ")
    assert isinstance(item, Skip) and item.field == "(file)" and "[]" in item.reason
    assert read("[]") == [] and read("[\n]\n") == []


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError) as missing:
        list(FileSource([str(tmp_path / "nope.json")]).read())
    assert "nope.json" in missing.value.what and "gcloud logging read" in missing.value.fix
    with pytest.raises(InputError) as directory:
        list(FileSource([str(tmp_path)]).read())
    assert "cannot read" in directory.value.what
    with pytest.raises(InputError):
        list(FileSource(["-"]).read())  # `-` but no stdin given
    assert bare(list(FileSource(["-"], stdin=io.StringIO(json.dumps([entry(3)]))).read())) \
        == [entry(3)]


# --- bad input: a Skip naming the file, the element and the fix; the rest is kept --------------

def test_not_json_at_all() -> None:
    (item,) = read("Traceback (most recent call last):\n  oops", "dump.txt")
    assert isinstance(item, Skip)
    assert item.origin == "dump.txt" and item.field == "(json)"
    assert "not JSON" in item.reason and "--format=json" in item.reason


def test_truncated_inside_an_entry_keeps_the_ones_before() -> None:
    text = json.dumps([entry(0), entry(1), entry(2)], indent=2)
    items = read(text[: text.rindex('"severity"')], "cut.json")
    assert ids(items) == [entry(0)["insertId"], entry(1)["insertId"], "skip:cut.json#2"]
    skip = items[-1]
    assert isinstance(skip, Skip) and "truncated inside entry 2" in skip.reason
    assert "export again" in skip.reason


def test_missing_closing_bracket() -> None:
    items = read(json.dumps([entry(0), entry(1)])[:-1] + "\n", "cut.json")
    assert bare(items[:2]) == [entry(0), entry(1)]
    (skip,) = items[2:]
    assert isinstance(skip, Skip) and skip.origin == "cut.json#2"
    assert "no closing `]`" in skip.reason and "export again" in skip.reason


def test_bad_element_in_the_middle_keeps_its_neighbours() -> None:
    text = "[" + json.dumps(entry(0)) + ',\n{"insertId": "bad", "severity": ERROR},\n' \
        + json.dumps(entry(2)) + "]"
    items = read(text, "mid.json")
    assert ids(items) == [entry(0)["insertId"], "skip:mid.json#1", entry(2)["insertId"]]
    assert items[2][ORIGIN_KEY] == "mid.json#2"  # type: ignore[index]
    skip = items[1]
    assert isinstance(skip, Skip) and "invalid JSON in entry 1" in skip.reason


def test_bad_element_holding_a_list_of_objects_costs_only_itself() -> None:
    """An audit log's `authorizationInfo: [{...}, {...}]` inside a broken element: resyncing at
    the first `}, {` used to land inside it, yield an inner object as an entry, read its `]` as
    the end of the export and drop every entry after it."""
    bad = ('{"insertId": "bad", "timestamp": 2025-09-15, "protoPayload": {"authorizationInfo": '
           '[{"permission": "run.services.get"}, {"permission": "run.services.update"}]}}')
    text = json.dumps([entry(0)], indent=2)[:-2] + ",\n  " + bad + ",\n" + ",\n".join(
        json.dumps(entry(i)) for i in range(2, 6)) + "\n]"
    items = read(text, "audit.json")
    assert ids(items) == [entry(0)["insertId"], "skip:audit.json#1"] + [
        entry(i)["insertId"] for i in range(2, 6)]
    assert items[-1][ORIGIN_KEY] == "audit.json#5"  # type: ignore[index]


def test_bad_bare_word_elements() -> None:
    items = read('[{"a": 1}, tru, {"b": 2}, nul]', "w.json")
    assert [type(i).__name__ for i in items] == ["dict", "Skip", "dict", "Skip"]
    assert bare(items)[2] == {"b": 2}


def test_element_cut_short_in_the_middle_falls_back_to_the_next_object() -> None:
    # the first element lost its closing brace: brackets never pair up
    items = read('[{"a": {"b": 1}, {"c": 2}, {"d": 3}]', "c.json")
    assert isinstance(items[0], Skip)
    assert bare(items[1:]) == [{"c": 2}, {"d": 3}]


def test_non_object_elements() -> None:
    items = read(json.dumps([entry(0), 42, "text", None, [1], entry(5)]), "n.json")
    assert ids(items)[0] == entry(0)["insertId"] and ids(items)[-1] == entry(5)["insertId"]
    skips = items[1:5]
    for index, (skip, kind) in enumerate(zip(skips, ["int", "str", "null", "list"], strict=True)):
        assert isinstance(skip, Skip) and skip.origin == f"n.json#{index + 1}"
        assert skip.field == "(entry)" and f"got {kind}" in skip.reason
        assert "remove that element" in skip.reason


def test_text_after_the_array() -> None:
    items = read(json.dumps([entry(0)]) + "\ntotal: 1 entry\n", "t.json")
    assert bare(items[:1]) == [entry(0)]
    skip = items[1]
    assert isinstance(skip, Skip) and "after the closing `]`" in skip.reason


def test_json_lines_with_a_bad_line_in_the_middle() -> None:
    lines = [json.dumps(entry(0)), '{"insertId": "x", "timestamp": ', json.dumps(entry(2)),
             "this is not json", json.dumps(entry(4))]
    items = read("\n".join(lines) + "\n", "l.jsonl")
    assert ids(items) == [entry(0)["insertId"], "skip:l.jsonl#1", entry(2)["insertId"],
                          "skip:l.jsonl#3", entry(4)["insertId"]]
    assert all("invalid JSON" in i.reason for i in items if isinstance(i, Skip))


def test_skips_and_entries_together_through_parse_entry(tmp_path: Path) -> None:
    """File-level and entry-level problems both name the file and element; good ones parse."""
    values: list[Any] = [entry(0), {"insertId": "nots", "jsonPayload": {"message": "m"}},
                         entry(2, timestamp=1757979981), entry(3, jsonPayload="plain text"),
                         entry(4, severity=["ERROR"]),
                         entry(5, httpRequest={"requestUrl": "/x", "status": "5O3"}), 7, entry(7)]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(values), encoding="utf-8")
    results: list[LogEntry | Skip] = []
    for item in FileSource([str(path)]).read():
        if isinstance(item, Skip):
            results.append(item)
        else:
            results.append(parse_entry(item, item.pop(ORIGIN_KEY)))
    good = [r.insert_id for r in results if isinstance(r, LogEntry)]
    assert good == [entry(0)["insertId"], entry(7)["insertId"]]
    skips = {r.origin: r for r in results if isinstance(r, Skip)}
    assert set(skips) == {f"{path}#1 (insertId nots)",
                          f"{path}#2 (insertId {entry(2)['insertId']})",
                          f"{path}#3 (insertId {entry(3)['insertId']})",
                          f"{path}#4 (insertId {entry(4)['insertId']})",
                          f"{path}#5 (insertId {entry(5)['insertId']})", f"{path}#6"}
    fields = [s.field for s in sorted(skips.values(), key=lambda s: s.origin)]
    assert fields == ["timestamp", "timestamp", "jsonPayload", "severity", "httpRequest.status",
                      "(entry)"]


# --- big inputs, chunk by chunk -----------------------------------------------------------------

@pytest.mark.parametrize("chunk", [1, 2, 5, 64, 4096])
def test_big_array_over_many_chunks_decodes_like_json_load(monkeypatch: pytest.MonkeyPatch,
                                                           chunk: int) -> None:
    values = [entry(i, jsonPayload={"message": "x" * (i % 97), "ratio": i / 7, "big": 10 ** 20,
                                    "neg": -i, "emoji": "🙂\\\"", "nested": [[], {}, [None]]})
              for i in range(300)]
    text = json.dumps(values, indent=2 if chunk % 2 else None)
    monkeypatch.setattr(files, "CHUNK", chunk)
    items = read(text)
    assert bare(items) == json.loads(text)


def test_a_bad_element_does_not_pull_the_whole_file_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error far from the chunk's end is the input's: the reader must not keep reading (and
    re-copying) the rest of the file to retry the element."""
    monkeypatch.setattr(files, "CHUNK", 1000)
    reads: list[int] = []
    rest = ",".join(json.dumps(entry(i)) for i in range(1, 400))
    stream = io.StringIO('[{"insertId": "bad", "x": tru},' + rest + "]")
    original = stream.read

    def counting_read(size: int = -1) -> str:
        chunk = original(size)
        reads.append(len(chunk))
        return chunk

    stream.read = counting_read  # type: ignore[method-assign]
    items = read_stream(stream, "big.json")
    first = next(items)
    assert isinstance(first, Skip) and first.origin == "big.json#0"
    assert len(reads) <= 2  # one chunk held the bad element; the old reader read all ~100
    assert len(list(items)) == 399


# --- properties ---------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


def expect_one_item_per_element(values: list[Any], items: list[Any], name: str) -> None:
    assert len(items) == len(values)
    for index, (value, item) in enumerate(zip(values, items, strict=True)):
        if isinstance(value, dict):
            assert isinstance(item, dict)
            assert {k: v for k, v in item.items() if k != ORIGIN_KEY or ORIGIN_KEY in value} \
                == value
        else:
            assert isinstance(item, Skip) and item.origin == f"{name}#{index}"


@settings(max_examples=200, deadline=None)
@given(values=st.lists(JSON, max_size=8), chunk=st.sampled_from([1, 2, 3, 16, 1 << 20]),
       indent=st.sampled_from([None, 0, 2]), ascii_only=st.booleans())
def test_any_array_gives_one_item_per_element(values: list[Any], chunk: int,
                                               indent: int | None, ascii_only: bool) -> None:
    text = json.dumps(values, indent=indent, ensure_ascii=ascii_only)
    items = read_in_chunks(text, "a.json", chunk)
    expect_one_item_per_element(values, items, "a.json")


@settings(max_examples=200, deadline=None)
@given(values=st.lists(JSON, min_size=1, max_size=8).filter(lambda v: not isinstance(v[0], list)),
       chunk=st.sampled_from([1, 2, 3, 16, 1 << 20]), ascii_only=st.booleans())
def test_any_json_lines_give_one_item_per_element(values: list[Any], chunk: int,
                                                   ascii_only: bool) -> None:
    # a first value that is a list makes the input an array export, by definition
    text = "".join(json.dumps(v, ensure_ascii=ascii_only) + "\n" for v in values)
    items = read_in_chunks(text, "l.jsonl", chunk)
    expect_one_item_per_element(values, items, "l.jsonl")


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.dictionaries(st.text(max_size=3), JSON, max_size=3), min_size=2,
                       max_size=6),
       bad=st.integers(min_value=0, max_value=5),
       damage=st.sampled_from(["tru", '{"a": tru}', '{"a": [{"b": 1}, {"c": tru}]}',
                               '{"x": "\\q"}', '{"a": 1 "b": 2}']),
       chunk=st.sampled_from([1, 3, 1 << 20]))
def test_one_damaged_element_costs_one_item(values: list[dict[str, Any]], bad: int, damage: str,
                                            chunk: int) -> None:
    bad %= len(values)
    parts = [damage if i == bad else json.dumps(v) for i, v in enumerate(values)]
    items = read_in_chunks("[" + ",\n".join(parts) + "]", "d.json", chunk)
    assert len(items) == len(values)
    skip = items[bad]
    assert isinstance(skip, Skip) and skip.origin == f"d.json#{bad}"
    assert bare([i for n, i in enumerate(items) if n != bad]) == [
        v for n, v in enumerate(values) if n != bad]
