"""`gardener.sources.split`: an export cut into batches without decoding it reads exactly like the
careful reader (`FileSource.read`): the same dicts with the same `__origin__`, the same `Skip`s in
the same order, whatever the format, the batch size, the read block, or the damage to the bytes.

The smallest inputs that once broke it (a batch not cut where elements start) are kept below;
such a batch now makes the rest of its input go through the careful reader (`Recut`).
"""

from __future__ import annotations

import io
import itertools
import json
import math
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gardener.sources.split as split_module
from gardener.errors import InputError
from gardener.model import Skip
from gardener.sources import ORIGIN_KEY
from gardener.sources.files import FileSource, read_stream
from gardener.sources.split import Elements, entries, split

SIZES = (1, 2, 3, 7, 4096)
BLOCKS = (64, 1000, split_module.BLOCK)
"""Small blocks end inside elements (and inside markers and UTF-8 sequences); the real one
holds a whole test file."""
BOM = b"\xef\xbb\xbf"

ENTRIES: list[dict[str, Any]] = [
    {"insertId": "t1", "timestamp": "2025-09-15T23:46:21.5Z", "severity": "ERROR",
     "textPayload": "disk 91% full on /dev/sda1",
     "resource": {"type": "gce_instance", "labels": {"zone": "europe-west1-b"}}},
    {"insertId": "j2", "timestamp": "2025-09-15T23:46:22Z",
     "jsonPayload": {"message": "order placed", "order": {"lines": [{"sku": "a", "n": 2},
                                                                    {"sku": "b", "n": 1}]},
                     "deep": {"a": {"b": {"c": [{"d": [{}, {"e": None}]}]}}}}},
    {"insertId": "u3", "textPayload": "é 日本語 😀 \u2028 \u2029 \x7f",
     "labels": {"ключ": "значение"}},
    {"insertId": "m4", "textPayload": "a line\n  {\n    \"insertId\": \"fake\"\n  },\n  {",
     "jsonPayload": {"message": "\n{\"x\": 1}\n,{", "crlf": "one\r\ntwo"}},
    {"insertId": "b5", "jsonPayload": {"message": "} { ] [ }, { ], [ \"},\n  {\"", "k}": "{v"}},
    {},
    {"insertId": "e7", "jsonPayload": {}, "labels": {}, "tags": [], "nested": [[], [{}], {}]},
    {"insertId": "n8", "jsonPayload": {"int": -12, "big": 2 ** 70, "float": 0.1, "exp": 1.5e-300,
                                       "neg0": -0.0, "t": True, "f": False, "none": None}},
    {"insertId": "h9", "httpRequest": {"status": 503, "requestUrl": "https://x.test/a?b=c&d={e}"},
     "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                      "status": {"code": 7, "message": "PERMISSION_DENIED"}}},
    {"insertId": "s10", "textPayload": "back\\slash \\\" quote \t tab \u0000 nul \\n not newline"},
]
"""Varied LogEntries; several hold text that looks like the element markers (escaped, so it
cannot be one)."""


def formats(items: list[dict[str, Any]]) -> dict[str, bytes]:
    """The ways an export of `items` is written in the wild."""
    half = len(items) // 2

    def gcloud(part: list[dict[str, Any]]) -> bytes:  # gcloud logging read --format=json
        return json.dumps(part, indent=2, ensure_ascii=False).encode() + b"\n"

    return {
        "gcloud": gcloud(items),
        "gcloud ascii": json.dumps(items, indent=2).encode(),
        "indent 4": json.dumps(items, indent=4).encode(),
        "tabs": json.dumps(items, indent="\t", ensure_ascii=False).encode(),
        "crlf": gcloud(items).replace(b"\n", b"\r\n"),
        "one per line": ("[\n" + ",\n".join(json.dumps(e) for e in items) + "\n]\n").encode(),
        "one line": json.dumps(items, ensure_ascii=False).encode(),
        "jsonl": "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in items).encode(),
        "jsonl crlf": "".join(json.dumps(e) + "\r\n" for e in items).encode(),
        "jsonl no final newline": "\n".join(json.dumps(e) for e in items).encode(),
        "bom": BOM + gcloud(items),
        "bom jsonl": BOM + "".join(json.dumps(e) + "\n" for e in items).encode(),
        "two arrays": gcloud(items[:half]) + gcloud(items[half:]),
        "two arrays with boms": BOM + gcloud(items[:half]) + BOM + gcloud(items[half:]),
        "two arrays, one compact": gcloud(items[:half]) + json.dumps(items[half:]).encode(),
    }


EMPTY = {"empty array": b"[]", "empty pretty array": b"[\n]\n", "empty file": b"",
         "whitespace only": b" \n\t\r\n", "bom only": BOM, "empty jsonl lines": b"\n\n\n"}


def careful(path: Path) -> list[dict[str, Any] | Skip]:
    """What the careful reader gives, element by element."""
    return list(FileSource([str(path)]).read())


def batched(path: Path, size: int) -> list[dict[str, Any] | Skip]:
    """What the batches give, flattened."""
    return list(entries(FileSource([str(path)]).batches(size), size))


def bare(items: list[Any]) -> list[Any]:
    """Items without the origin the readers add."""
    return [{k: v for k, v in item.items() if k != ORIGIN_KEY} if isinstance(item, dict)
            else item for item in items]


def assert_batches_read_alike(path: Path, monkeypatch: pytest.MonkeyPatch,
                              sizes: tuple[int, ...] = SIZES,
                              blocks: tuple[int, ...] = BLOCKS) -> list[dict[str, Any] | Skip]:
    """The central property, for every batch size and read block; returns what was read."""
    want = careful(path)
    for block in blocks:
        monkeypatch.setattr(split_module, "BLOCK", block)
        for size in sizes:
            assert batched(path, size) == want, (block, size, path.read_bytes()[:120])
    return want


def write(tmp_path: Path, data: bytes, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- well-formed exports ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", list(formats(ENTRIES)))
def test_every_format_batches_like_the_careful_reader(tmp_path: Path, fmt: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every entry, with its origin, whatever the layout."""
    path = write(tmp_path, formats(ENTRIES)[fmt])
    items = assert_batches_read_alike(path, monkeypatch)
    assert bare(items) == ENTRIES  # the property is not vacuous: all entries were read
    assert [item[ORIGIN_KEY] for item in items] == [  # type: ignore[index]
        f"{path}#{i}" for i in range(len(ENTRIES))]


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("fmt", ["gcloud", "indent 4", "jsonl", "two arrays", "one per line"])
def test_tiny_exports(tmp_path: Path, fmt: str, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """One, two, three elements: the first, the last and the only one are special to the cutter."""
    path = write(tmp_path, formats(ENTRIES[:n])[fmt])
    assert bare(assert_batches_read_alike(path, monkeypatch)) == ENTRIES[:n]


@pytest.mark.parametrize("name", list(EMPTY))
def test_exports_with_no_entries(tmp_path: Path, name: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    items = assert_batches_read_alike(write(tmp_path, EMPTY[name]), monkeypatch)
    if name.startswith("empty array") or name.startswith("empty pretty"):
        assert items == []
    else:
        [skip] = items
        assert isinstance(skip, Skip) and "empty" in skip.reason


def test_blocks_smaller_than_a_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A block of a few bytes splits every marker (`\\n    {`) and every UTF-8 sequence."""
    for fmt in ("gcloud", "indent 4", "jsonl crlf", "bom"):
        path = write(tmp_path, formats(ENTRIES)[fmt])
        items = assert_batches_read_alike(path, monkeypatch, sizes=(1, 3), blocks=(1, 2, 5))
        assert bare(items) == ENTRIES, fmt


def test_a_big_export_with_many_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of elements over many blocks: batches cut at element starts far into the file."""
    items = [dict(ENTRIES[i % len(ENTRIES)], insertId=f"x{i}") for i in range(600)]
    path = write(tmp_path, formats(items)["gcloud"])
    got = assert_batches_read_alike(path, monkeypatch, sizes=(7, 64, 4096), blocks=(1000, 4096))
    assert bare(got) == items


def test_an_export_gone_before_a_worker_reads_it_is_an_input_error(tmp_path: Path) -> None:
    """Batches are read again by path, in other processes: a file removed (or unreadable) by
    then is an `InputError` naming it (exit 2), as when `--input` is missing, not an OSError
    that would read as a bug; it survives the trip back from a worker."""
    items = [dict(ENTRIES[i % len(ENTRIES)], insertId=f"x{i}") for i in range(9)]
    path = write(tmp_path, formats(items)["gcloud"])
    batch = next(b for b in FileSource([str(path)]).batches(4) if isinstance(b, Elements))
    path.unlink()
    for read_again in (lambda: list(batch), lambda: list(split_module.reread(batch, 4))):
        with pytest.raises(InputError, match="no such file") as raised:
            read_again()
        assert str(path) in str(raised.value)
        again = pickle.loads(pickle.dumps(raised.value))
        assert type(again) is InputError and str(again) == str(raised.value)


# --- the fast path is taken ---------------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 4, 7, 22, 23, 4096])
@pytest.mark.parametrize("fmt", ["gcloud", "tabs", "jsonl", "crlf"])
def test_a_line_structured_export_is_cut_into_elements(tmp_path: Path, fmt: str, size: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """N elements, batches of k: every element but the last (which goes with the closing `]` to
    the careful reader) is in an `Elements` batch of k, and those decode without the careful
    reader."""
    items = [dict(ENTRIES[i % len(ENTRIES)], insertId=f"x{i}") for i in range(23)]
    path = write(tmp_path, formats(items)[fmt])
    batches = list(FileSource([str(path)]).batches(size))
    fast = [b for b in batches if isinstance(b, Elements)]
    assert len(fast) == math.ceil((len(items) - 1) / size)
    assert [len(b) for b in fast[:-1]] == [size] * (len(fast) - 1)
    assert sum(map(len, fast)) == len(items) - 1
    assert all(b.path == str(path) and not b.data for b in fast)  # workers read the bytes

    def no_careful_reader(*args: object) -> Iterator[object]:
        raise AssertionError("a well-formed batch went to the careful reader")

    monkeypatch.setattr(split_module, "read_stream", no_careful_reader)
    decoded = list(itertools.chain.from_iterable(fast))
    assert bare(decoded) == items[:-1]
    assert decoded[5][ORIGIN_KEY] == f"{path}#5"


def test_what_is_not_line_structured_goes_to_the_careful_reader(tmp_path: Path) -> None:
    """A one-line array is all careful reading; so is a compact array after a pretty one."""
    path = write(tmp_path, formats(ENTRIES)["one line"])
    batches = list(FileSource([str(path)]).batches(3))
    assert not any(isinstance(b, Elements) for b in batches)
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    path = write(tmp_path, formats(ENTRIES)["two arrays, one compact"])
    batches = list(FileSource([str(path)]).batches(3))
    half = len(ENTRIES) // 2
    assert sum(len(b) for b in batches if isinstance(b, Elements)) == half - 1
    assert sum(map(len, batches)) == len(ENTRIES)


def test_batches_of_a_stream_carry_their_bytes() -> None:
    """Without a path (`split` on a stream), batches hold the bytes themselves, survive pickling
    (as they do on their way to a worker) and read like the careful reader on the same text."""
    data = BOM + formats(ENTRIES)["gcloud"]
    want = list(read_stream(io.StringIO(data.decode("utf-8", "replace")), "s.json"))
    batches = list(split(io.BytesIO(data), "s.json", 3))
    assert any(isinstance(b, Elements) and b.data and not b.path for b in batches)
    assert list(itertools.chain.from_iterable(batches)) == want
    again = [pickle.loads(pickle.dumps(b)) for b in split(io.BytesIO(data), "s.json", 3)]
    assert list(itertools.chain.from_iterable(again)) == want


def test_a_stream_that_cannot_seek_is_read_carefully() -> None:
    class Pipe(io.BytesIO):
        def seekable(self) -> bool:
            return False

    data = formats(ENTRIES)["gcloud"]
    batches = list(split(Pipe(data), "p.json", 3))
    assert not any(isinstance(b, Elements) for b in batches)
    assert list(itertools.chain.from_iterable(batches)) == list(
        read_stream(io.StringIO(data.decode()), "p.json"))


# --- damaged exports ----------------------------------------------------------------------------

FIVE = ENTRIES[:5]
PRETTY = formats(FIVE)["gcloud"]
LINES = formats(FIVE)["jsonl"]
SECOND = b'  {\n    "insertId": "j2"'
"""Where the second element of PRETTY starts."""


@pytest.mark.parametrize("fmt", ["gcloud", "jsonl", "tabs"])
def test_cut_off_anywhere(tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An export cut short at every byte (a full disk, an interrupted command)."""
    data = formats(FIVE)[fmt]
    path = tmp_path / "cut.json"
    truncated = 0
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        items = assert_batches_read_alike(path, monkeypatch, sizes=(1, 2, 3, 7),
                                          blocks=(64, split_module.BLOCK))
        truncated += any(isinstance(i, Skip) and "truncated" in i.reason for i in items)
    assert truncated > len(data) // 2  # the cuts were noticed, not silently read as whole


def _replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, old
    return data.replace(old, new, 1)


BROKEN = {
    "missing comma inside an element": _replace(PRETTY, b'"j2",', b'"j2"'),
    "missing comma between elements": _replace(PRETTY, b"},\n" + SECOND, b"}\n" + SECOND),
    "two commas between elements": _replace(PRETTY, b"},\n" + SECOND, b"},,\n" + SECOND),
    "invalid UTF-8 in a string": _replace(PRETTY, "日本語".encode(), b"\xff\xfe\xc3"),
    "a cut UTF-8 sequence": _replace(PRETTY, "é".encode(), "é".encode()[:1]),
    "NaN": _replace(PRETTY, b'"n": 2', b'"n": NaN'),
    "Infinity and a lone surrogate": _replace(PRETTY, b'"n": 2', b'"n": -Infinity, "s": "\\ud800"'),
    "a number msgspec cannot hold": _replace(PRETTY, b'"n": 2', b'"n": 1e400'),
    "a raw tab in a string": _replace(PRETTY, b"disk 91%", b"disk\t91%"),
    "a stray ] in an element": _replace(PRETTY, b'"severity": "ERROR"', b'"severity": "ERROR"]'),
    "a stray { in an element": _replace(PRETTY, b'"severity": "ERROR"', b'"severity": {"ERROR"'),
    "a stray ] after the array": PRETTY + b"]\n",
    "text after the array": PRETTY + b"garbage\n",
    "an unterminated string": _replace(PRETTY, b'"order placed"', b'"order placed'),
    "an element missing a }": _replace(PRETTY, b'"europe-west1-b"\n      }', b'"europe-west1-b"'),
    "duplicate keys": _replace(PRETTY, b'"insertId": "j2"', b'"insertId": "j2", "insertId": "d"'),
    "no closing ]": PRETTY.rstrip()[:-1],
    "a truncated second array": PRETTY + PRETTY[:len(PRETTY) // 2],
    "jsonl: invalid UTF-8": _replace(LINES, "日本語".encode(), b"\xff"),
    "jsonl: a missing comma": _replace(LINES, b'"j2",', b'"j2"'),
    "jsonl: an unterminated string": _replace(LINES, b'"order placed"', b'"order placed'),
    "jsonl: a missing }": _replace(LINES, b'}}\n{"insertId": "u3"', b'}\n{"insertId": "u3"'),
    "jsonl: NaN": _replace(LINES, b'"n": 2', b'"n": NaN'),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_damaged_exports(tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One bad spot costs the same elements, with the same messages, either way."""
    items = assert_batches_read_alike(write(tmp_path, BROKEN[case]), monkeypatch)
    assert len(items) >= len(FIVE) - 1  # the rest of the export was still read


# Once divergences, each the smallest input found that showed it: a batch that does not decode
# as the elements it was cut as (a non-object, a nested object starting a line at the elements'
# indentation, unpaired brackets) used to be re-read on its own, so numbers drifted, nested
# objects became entries, or `gardener analyze` crashed. Now the rest of the input is re-read.


@pytest.mark.parametrize("data", [
    pytest.param(b'[\n  {},\n  42,\n  {}\n]', id="array: 42"),
    pytest.param(b'[\n  {},\n  null,\n  {}\n]', id="array: null"),
    pytest.param(b'[\n  {},\n  "text",\n  {}\n]', id="array: string"),
    pytest.param(b'{}\n42\n{}\n', id="jsonl: 42"),
    pytest.param(b'[\n  {},\n {},\n  {}\n]', id="mixed indentation (valid JSON)"),
])
def test_origins_after_a_batch_the_careful_reader_redid(tmp_path: Path, data: bytes) -> None:
    """The third element is `#2` for both (the batches once called it `#1`)."""
    path = write(tmp_path, data)
    want = careful(path)
    assert want[-1][ORIGIN_KEY] == f"{path}#2"  # type: ignore[index]
    assert batched(path, 4096) == want


def test_a_non_object_element_is_skipped_by_both(tmp_path: Path) -> None:
    """What does hold for non-object elements: the same Skips with the same reasons."""
    data = _replace(PRETTY, SECOND, b'  42,\n  null,\n  "text",\n  [],\n' + SECOND)
    path = write(tmp_path, data)
    want = [item for item in careful(path) if isinstance(item, Skip)]
    for skip, kind in zip(want, ("int", "null", "str", "list"), strict=True):
        assert f"got {kind}" in skip.reason
    for size in SIZES:
        got = [item for item in batched(path, size) if isinstance(item, Skip)]
        assert [(s.field, s.reason) for s in got] == [(s.field, s.reason) for s in want]
        assert bare([i for i in batched(path, size) if isinstance(i, dict)]) == FIVE


def test_a_non_object_beside_a_nested_object_at_element_indent(tmp_path: Path) -> None:
    path = write(tmp_path, b'[\n  {"a": [\n  {"b": 1}\n  ]},\n  42,\n  {"c": 3}\n]')
    assert batched(path, 4096) == careful(path)


@pytest.mark.parametrize("size", [1, 4096])
def test_nested_objects_at_the_element_indentation(tmp_path: Path, size: int) -> None:
    path = write(tmp_path, b'[\n  {"a": [\n  {"b": 1}\n  ]},\n  {"c": 2}\n]')
    want = careful(path)
    assert bare(want) == [{"a": [{"b": 1}]}, {"c": 2}]
    assert batched(path, size) == want


def test_an_element_with_its_own_origin_key(tmp_path: Path) -> None:
    path = write(tmp_path, b'{"__origin__": "mine"}\n{}\n')
    assert batched(path, 4096) == careful(path)


@pytest.mark.parametrize("data", [
    pytest.param(b'[\n  {"a": [{"y": 2]}, {"z": 3}]},\n  {"b": 4}\n]', id="minimal"),
    pytest.param(b'[\n  {"a": 1},\n  {"b" 2,\n  {"c": 3}\n]', id="a broken opening"),
    pytest.param(_replace(PRETTY, b'"n": 2', b'"n": 2]'), id="a stray ] in a list of objects"),
    pytest.param(_replace(PRETTY, b'"n": 2', b'"n": {2'), id="a stray { in a list of objects"),
    pytest.param(_replace(PRETTY, b'}\n  },\n  {\n    "insertId": "u3"',
                          b'},\n  {\n    "insertId": "u3"'), id="an element missing its last }"),
])
def test_elements_after_one_with_unpaired_brackets(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    assert batched(path, 4096) == careful(path)


def test_a_jsonl_line_cut_short_in_the_middle(tmp_path: Path) -> None:
    path = write(tmp_path, b'{"a": 1, "b\n{"c": 2}\n{"d": 3}\n')
    assert batched(path, 1) == careful(path)


@pytest.mark.parametrize("data", [b'[\n  {"n": ' + b"1" * 5000 + b'},\n  {"b": 2}\n]',
                                  b'{"n": ' + b"1" * 5000 + b'}\n{"b": 2}\n'])
def test_a_number_too_long_to_convert_is_a_skip(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    items = careful(path)
    assert isinstance(items[0], Skip) and bare(items[1:]) == [{"b": 2}]
    assert "too long" in items[0].reason
    assert batched(path, 4096) == items


def test_a_raw_carriage_return_in_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, b'[\n  {"a": "\r", "c": [{}, {}]},\n  {"d": 2}\n]')
    assert batched(path, 4096) == careful(path)


def test_a_broken_element_costs_only_itself(tmp_path: Path) -> None:
    path = write(tmp_path, b'[\n  {"a": [{"y": 2]}, {"z": 3}]},\n  {"b": 4}\n]')
    items = careful(path)
    assert isinstance(items[0], Skip) and items[0].origin == f"{path}#0"
    assert items[1:] == [{"b": 4, ORIGIN_KEY: f"{path}#1"}]


def test_a_deeply_nested_element_is_a_skip(tmp_path: Path) -> None:
    path = write(tmp_path, b'[\n  {"a": ' + b"[" * 5000 + b"]" * 5000 + b'},\n  {"b": 2}\n]')
    items = careful(path)
    assert isinstance(items[0], Skip) and bare(items[1:]) == [{"b": 2}]
    assert batched(path, 4096) == items


# --- any export ---------------------------------------------------------------------------------

_KEYS = st.text(max_size=6).filter(lambda key: key != ORIGIN_KEY)
_SCALARS = (st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70)
            | st.floats(allow_nan=False) | st.text(max_size=12)
            | st.sampled_from(["\n  {", "},\n  {", "\n{", "}{", "~~~", "é", "\r\n"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(_KEYS, inner, max_size=3), max_leaves=10)
_DAMAGE = st.one_of(st.none(), st.tuples(st.just("cut"), st.integers(0, 1 << 16)),
                    st.tuples(st.just("utf-8"), st.integers(0, 50)),
                    st.tuples(st.just("colon"), st.integers(0, 50)),
                    st.tuples(st.just("both"), st.integers(0, 1 << 16)))
_FORMATS = list(formats([]))


def _damaged(data: bytes, damage: tuple[str, int] | None) -> bytes:
    """`data` cut short, or with an invalid UTF-8 byte in place of a `~` (which only occurs in
    strings), or both; or one element made invalid by dropping a colon."""
    if damage is None:
        return data
    kind, at = damage
    if kind == "colon":
        colons = [i for i in range(len(data)) if data.startswith(b'": ', i)]
        if colons:
            spot = colons[at % len(colons)]
            data = data[:spot + 1] + data[spot + 2:]
    if kind in ("utf-8", "both"):
        tildes = [i for i, byte in enumerate(data) if byte == ord("~")]
        if tildes:
            spot = tildes[at % len(tildes)]
            data = data[:spot] + b"\xff" + data[spot + 1:]
    if kind in ("cut", "both"):
        data = data[:at % (len(data) + 1)]
    return data


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_KEYS, _VALUES, max_size=5), max_size=9),
       st.sampled_from(_FORMATS), _DAMAGE, st.sampled_from(SIZES[:4]),
       st.sampled_from((16, 64, split_module.BLOCK)))
def test_any_export_any_damage(items: list[dict[str, Any]], fmt: str,
                               damage: tuple[str, int] | None, size: int, block: int) -> None:
    """Generated entries in every format, whole, cut short or with a bad byte in a string."""
    data = _damaged(formats(items)[fmt], damage)
    saved = split_module.BLOCK
    split_module.BLOCK = block
    try:
        with tempfile.TemporaryDirectory() as temp:
            path = Path(temp) / "e.json"
            path.write_bytes(data)
            want = careful(path)
            assert batched(path, size) == want
            if damage is None and items:
                assert bare(want) == items
    finally:
        split_module.BLOCK = saved
