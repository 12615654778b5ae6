"""The export reader: arrays and JSON Lines, streamed in chunks, bad elements skipped one by one."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gardener.sources.files as files
from gardener.entries import parse_entry
from gardener.errors import InputError
from gardener.http_request import route_shape
from gardener.model import LogEntry, Skip
from gardener.sources import ORIGIN_KEY
from gardener.sources.files import FileSource, read_stream


def entry(i: int) -> dict[str, Any]:
    return {"insertId": f"id-{i}", "timestamp": f"2025-09-15T23:46:{i % 60:02d}Z",
            "severity": "ERROR" if i % 3 == 0 else "INFO",
            "jsonPayload": {"message": f"request {i} took {i * 7} ms", "n": i, "ok": i % 2 == 0,
                            "tags": ["a", "é", "\u2028", None], "ratio": i / 7}}


def read(text: str, name: str = "export.json") -> list[Any]:
    return list(read_stream(io.StringIO(text), name))


def strip(items: list[Any]) -> list[Any]:
    """Elements without the origin the reader adds (it is checked separately)."""
    return [{k: v for k, v in item.items() if k != ORIGIN_KEY} if isinstance(item, dict)
            else item for item in items]


@contextmanager
def chunk(size: int) -> Iterator[None]:
    saved = files.CHUNK
    files.CHUNK = size
    try:
        yield
    finally:
        files.CHUNK = saved


def assert_skip(item: Any, origin: str, *fix_words: str) -> Skip:
    assert isinstance(item, Skip), item
    assert item.origin == origin
    for word in fix_words:
        assert word in item.reason, item.reason
    return item


def test_array_entries_carry_their_origin() -> None:
    items = read(json.dumps([entry(0), entry(1)]))
    assert strip(items) == [entry(0), entry(1)]
    assert [i[ORIGIN_KEY] for i in items] == ["export.json#0", "export.json#1"]


def test_not_json() -> None:
    (item,) = read("<html><body>502 Bad Gateway</body></html>")
    skip = assert_skip(item, "export.json", "--format=json")
    assert "not JSON" in skip.reason


def test_truncated_mid_entry_keeps_the_good_ones() -> None:
    text = json.dumps([entry(0), entry(1), entry(2)])
    cut = text[: text.index('"id-2"') + 10]
    items = read(cut)
    assert strip(items[:2]) == [entry(0), entry(1)]
    assert_skip(items[2], "export.json#2", "truncated", "export again")
    assert len(items) == 3


def test_missing_closing_bracket() -> None:
    items = read(json.dumps([entry(0), entry(1)])[:-1] + "\n")
    assert strip(items[:2]) == [entry(0), entry(1)]
    assert_skip(items[2], "export.json#2", "no closing `]`", "export again")
    assert len(items) == 3


def test_non_object_elements() -> None:
    items = read(json.dumps([entry(0), 42, None, "text", [entry(1)], entry(2)]))
    assert strip([items[0], items[5]]) == [entry(0), entry(2)]
    for index, kind in ((1, "int"), (2, "null"), (3, "str"), (4, "list")):
        skip = assert_skip(items[index], f"export.json#{index}", "remove that element")
        assert f"got {kind}" in skip.reason
    assert len(items) == 6


def test_invalid_element_in_array_middle() -> None:
    text = "[" + json.dumps(entry(0)) + ', {"insertId": "x", oops}, ' + json.dumps(entry(2)) + "]"
    items = read(text)
    assert strip([items[0], items[2]]) == [entry(0), entry(2)]
    assert items[2][ORIGIN_KEY] == "export.json#2"
    assert_skip(items[1], "export.json#1", "invalid JSON in entry 1", "delete that element")


def test_json_lines_with_a_bad_line_in_the_middle() -> None:
    lines = [json.dumps(entry(0)), '{"insertId": "id-1", "timestamp": ', json.dumps(entry(2)),
             json.dumps(entry(3))]
    items = read("\n".join(lines) + "\n", "lines.jsonl")
    assert len(items) == 4
    assert strip([items[0], items[2], items[3]]) == [entry(0), entry(2), entry(3)]
    assert [items[i][ORIGIN_KEY] for i in (0, 2, 3)] == \
        ["lines.jsonl#0", "lines.jsonl#2", "lines.jsonl#3"]
    assert_skip(items[1], "lines.jsonl#1", "invalid JSON", "export again")


def test_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([entry(0)], ensure_ascii=False).encode())
    items = list(FileSource([str(path)]).read())
    assert strip(items) == [entry(0)]
    assert items[0][ORIGIN_KEY] == f"{path}#0"


def test_utf8_bom_on_stdin() -> None:
    source = FileSource(["-"], stdin=io.StringIO("\ufeff" + json.dumps([entry(1)])))
    items = list(source.read())
    assert strip(items) == [entry(1)]
    lines = read("\ufeff" + json.dumps(entry(2)) + "\n")
    assert strip(lines) == [entry(2)]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("  \n")
    (item,) = list(FileSource([str(path)]).read())
    assert_skip(item, str(path), "`[]`")


def test_empty_array() -> None:
    assert read("[]") == []
    assert read(" [ \n ] \n") == []


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        list(FileSource([str(tmp_path / "nope.json")]).read())
    assert "no such file" in info.value.what and "--format=json" in info.value.fix


def test_stdin_source() -> None:
    items = list(FileSource(["-"], stdin=io.StringIO(json.dumps([entry(5)]))).read())
    assert strip(items) == [entry(5)]
    assert items[0][ORIGIN_KEY] == "<stdin>#0"


def test_concatenated_arrays_are_all_read() -> None:
    text = json.dumps([entry(0), entry(1)]) + "\n" + json.dumps([entry(2)]) + "\n"
    items = read(text)
    assert strip(items) == [entry(0), entry(1), entry(2)]
    assert items[2][ORIGIN_KEY] == "export.json#2"


def test_text_after_the_array_is_reported() -> None:
    items = read(json.dumps([entry(0)]) + "\ngcloud: ERROR: quota exceeded\n")
    assert strip(items[:1]) == [entry(0)]
    assert_skip(items[1], "export.json#1", "after the closing `]`")


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1000])
def test_many_chunks_decode_like_json_load(size: int) -> None:
    data = [entry(i) for i in range(40)] + [12345678901234567890, -1.5e-7, "a\\\"b", None, True]
    text = json.dumps(data, indent=1, ensure_ascii=False)
    with chunk(size):
        items = read(text)
    decoded = json.loads(text)
    objects = [i for i in items if isinstance(i, dict)]
    assert strip(objects) == decoded[:40]
    assert [i[ORIGIN_KEY] for i in objects] == [f"export.json#{n}" for n in range(40)]
    skips = [i for i in items if isinstance(i, Skip)]
    assert [s.origin for s in skips] == [f"export.json#{n}" for n in range(40, 45)]
    assert [s.reason.split(";")[0].split("got ")[1] for s in skips] == \
        ["int", "float", "str", "null", "bool"]


@pytest.mark.parametrize("size", [1, 5, 100])
def test_many_chunks_json_lines(size: int) -> None:
    text = "".join(json.dumps(entry(i)) + "\n" for i in range(30))
    with chunk(size):
        items = read(text)
    assert strip(items) == [entry(i) for i in range(30)]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


def expect(values: list[Any], items: list[Any], name: str) -> None:
    assert len(items) == len(values)
    for index, (value, item) in enumerate(zip(values, items, strict=True)):
        if isinstance(value, dict):
            assert isinstance(item, dict)
            assert item[ORIGIN_KEY] == f"{name}#{index}" or ORIGIN_KEY in value
            assert {k: v for k, v in item.items() if k != ORIGIN_KEY or ORIGIN_KEY in value} \
                == value
        else:
            assert isinstance(item, Skip) and item.origin == f"{name}#{index}"


@settings(max_examples=150, deadline=None)
@given(values=st.lists(JSON, max_size=8), size=st.sampled_from([1, 3, 16, 1 << 20]),
       indent=st.sampled_from([None, 2]))
def test_any_array_gives_one_item_per_element(values: list[Any], size: int,
                                               indent: int | None) -> None:
    text = json.dumps(values, indent=indent)
    with chunk(size):
        items = read(text, "a.json")
    expect(values, items, "a.json")


@settings(max_examples=150, deadline=None)
@given(values=st.lists(JSON, min_size=1, max_size=8).filter(lambda v: not isinstance(v[0], list)),
       size=st.sampled_from([1, 3, 16, 1 << 20]))
def test_any_json_lines_give_one_item_per_element(values: list[Any], size: int) -> None:
    # A first value that is a list would make the file an array export: that is the format.
    text = "".join(json.dumps(v) + "\n" for v in values)
    with chunk(size):
        items = read(text, "l.jsonl")
    expect(values, items, "l.jsonl")


LOGENTRY_KEYS = ["insertId", "timestamp", "receiveTimestamp", "severity", "textPayload",
                 "jsonPayload", "protoPayload", "httpRequest", "resource", "labels", "logName",
                 "trace", "sourceLocation"]
PAYLOAD_KEYS = ["message", "msg", "event", "level", "severity", "err", "error", "exception",
                "stack_trace", "stack", "caller", "logger", "log", "log.level", "context",
                "@type", "methodName", "serviceName", "status",
                "logging.googleapis.com/sourceLocation", "logging.googleapis.com/trace"]
VALUES = JSON | st.sampled_from(["2025-09-15T23:46:21Z", "ERROR", "DEFAULT", "Traceback (most "
                                 "recent call last):\nKeyError: 1", "panic: x\n\ngoroutine 1",
                                 "x\n\tat a.B(C.java:1)", "/api/v1/users/42?x=1", "500", 50])
PAYLOAD = st.dictionaries(st.sampled_from(PAYLOAD_KEYS) | st.text(max_size=5),
                          VALUES | st.dictionaries(st.sampled_from(PAYLOAD_KEYS), VALUES),
                          max_size=6)
RAW = st.dictionaries(st.sampled_from(LOGENTRY_KEYS) | st.text(max_size=5),
                      VALUES | PAYLOAD, max_size=8)


@settings(max_examples=400, deadline=None)
@given(raw=RAW | JSON)
def test_parse_entry_never_raises(raw: Any) -> None:
    result = parse_entry(raw, "f.json#0")
    assert isinstance(result, LogEntry | Skip)
    if isinstance(result, Skip):
        assert result.origin.startswith("f.json#0") and result.reason


@settings(max_examples=300, deadline=None)
@given(url=st.text() | st.lists(st.sampled_from(["api", "v1", "42", "users", "a1b2", "x@y",
                                                  "%20", "ffffffff-ffff", "?q=1", "#f", ""]))
       .map("/".join))
def test_route_shape_is_idempotent(url: str) -> None:
    once = route_shape(url)
    assert route_shape(once) == once
    assert "?" not in once
