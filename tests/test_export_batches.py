"""Batches cut from an export without decoding it (`gardener.sources.split`) hold exactly what the
careful reader gives, bad input included, and analysing them in worker processes changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gardener.batches import analyse
from gardener.model import Skip
from gardener.sources import split as split_module
from gardener.sources.files import FileSource
from gardener.sources.split import Elements

ROOT = Path(__file__).resolve().parent.parent


def entries(n: int) -> list[dict[str, Any]]:
    """Entries whose text looks like the markers the cutter looks for (escaped, so harmless)."""
    return [{"insertId": f"i{i}", "timestamp": "2025-01-01T00:00:00Z",
             "jsonPayload": {"message": f"m {i} \n  {{ x }}", "a": [{"b": i}, {}]}, "x": "é"}
            for i in range(n)]


def formats(items: list[dict[str, Any]]) -> dict[str, bytes]:
    return {
        "gcloud": json.dumps(items, indent=2).encode(),
        "indent4": json.dumps(items, indent=4).encode(),
        "tabs": json.dumps(items, indent="\t").encode(),
        "one per line": ("[\n" + ",\n".join(json.dumps(e) for e in items) + "\n]").encode(),
        "one line": json.dumps(items).encode(),
        "jsonl": "".join(json.dumps(e) + "\n" for e in items).encode(),
        "jsonl crlf": "".join(json.dumps(e) + "\r\n" for e in items).encode(),
        "bom": b"\xef\xbb\xbf" + json.dumps(items, indent=2).encode(),
        "two arrays": json.dumps(items[:3], indent=2).encode() + b"\n"
        + json.dumps(items[3:], indent=2).encode(),
    }


def read(path: Path) -> list[object]:
    return [_plain(item) for item in FileSource([str(path)]).read()]


def batched(path: Path, size: int) -> list[object]:
    batches = FileSource([str(path)]).batches(size)
    return [_plain(item) for item in split_module.entries(batches, size)]


def _plain(item: object) -> object:
    return (item.origin, item.field, item.reason) if isinstance(item, Skip) else item


def damaged(data: bytes) -> list[bytes]:
    """Cut short at many places; one element missing a comma; invalid UTF-8 in a string."""
    cuts = [data[:k] for k in range(1, len(data), max(1, len(data) // 40))]
    return [*cuts, data.replace(b'"i3"', b'"i3" "x"'), data.replace("é".encode(), b"\xff", 1),
            data.replace(b'"i2"', b"NaN", 1), data + b"\n]"]


@pytest.mark.parametrize("n", [0, 1, 5, 12])
@pytest.mark.parametrize("fmt", list(formats(entries(1))))
def test_batches_hold_what_the_careful_reader_reads(tmp_path: Path, n: int, fmt: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "export.json"
    for data in [formats(entries(n))[fmt], *damaged(formats(entries(n))[fmt])]:
        path.write_bytes(data)
        want = read(path)
        for block in (16, 1000, 1 << 22):  # blocks that end inside elements, and one that doesn't
            monkeypatch.setattr(split_module, "BLOCK", block)
            for size in (1, 3, 4096):
                assert batched(path, size) == want, (fmt, n, block, size, data[:80])


def test_a_line_structured_export_is_cut_without_decoding(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(formats(entries(12))["gcloud"])
    batches = list(FileSource([str(path)]).batches(5))
    assert [type(b).__name__ for b in batches] == ["Elements"] * 3 + ["Decoded"]
    assert [len(b) for b in batches] == [5, 5, 1, 1]  # the last element and `]`: careful reader
    first = batches[0]
    assert isinstance(first, Elements) and first.path == str(path) and not first.data


_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                       lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=6), _VALUES, max_size=4), max_size=8),
       st.sampled_from(["gcloud", "indent4", "one per line", "jsonl", "two arrays"]),
       st.integers(1, 4), st.one_of(st.none(), st.integers(0, 10_000)))
def test_any_export_any_cut(items: list[dict[str, Any]], fmt: str, size: int, cut: int | None
                            ) -> None:
    import tempfile

    data = formats(items)[fmt] if items else b"[]"
    if cut is not None:
        data = data[:cut % (len(data) + 1)]
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "e.json"
        path.write_bytes(data)
        assert batched(path, size) == read(path)


def test_a_batch_counts_what_went_in() -> None:
    good = {"insertId": "a", "timestamp": "2025-01-01T00:00:00Z", "textPayload": "disk 91% full"}
    part = analyse([good, dict(good, insertId="b"), {"insertId": "c"},
                    Skip("x.json#3", "(json)", "invalid JSON in entry 3: oops")])
    assert part.tally.analysed == 2
    assert sum(part.tally.reasons.values()) == 2
    [stats] = part.groups.values()
    assert stats.count == 2 and stats.insert_ids == ["a", "b"]


_RUN = """
import sys
import gardener.batches as batches
from gardener.cli import main

batches.BATCH_SIZE = 300
pools = []
real = batches._in_pool
def counted(*args):
    pools.append(1)
    yield from real(*args)
batches._in_pool = counted
code = main(["analyze", "--input", sys.argv[1], "--json", sys.argv[2], "--markdown",
             sys.argv[3], "--jobs", sys.argv[4]])
print(code, len(pools))
"""


def test_worker_processes_write_the_same_worklog(tmp_path: Path) -> None:
    """In a fresh interpreter (no threads, so fork is allowed), with small batches."""
    example = ROOT / "examples" / "netra-backend-staging.json"
    outputs = {}
    for jobs in ("1", "2"):
        json_out, md_out = tmp_path / f"w{jobs}.json", tmp_path / f"w{jobs}.md"
        done = subprocess.run([sys.executable, "-c", _RUN, str(example), str(json_out),
                               str(md_out), jobs], capture_output=True, text=True, check=False,
                              cwd=ROOT)
        code, pools = done.stdout.split()
        assert code == "1", done.stderr  # the example holds a P0: the gate fails
        assert int(pools) == (1 if jobs == "2" else 0)
        outputs[jobs] = (json_out.read_text(), md_out.read_text())
    assert outputs["1"] == outputs["2"]
    doc = json.loads(outputs["2"][0])
    assert doc["entries"]["analysed"] == 3850 and len(doc["clusters"]) > 10


_KILLED = """
import os, signal, sys
import gardener.batches as batches
from gardener.cli import main

batches.BATCH_SIZE = 300
main_pid = os.getpid()
real = batches.analyse
def dying(batch, base=0, field_paths=()):
    if base == 900 and os.getpid() != main_pid:
        open(sys.argv[3] + ".killed", "w").close()
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
    return real(batch, base, field_paths)
batches.analyse = dying
print(main(["analyze", "--input", sys.argv[1], "--json", sys.argv[2], "--markdown",
            sys.argv[3], "--jobs", "2"]))
"""


def test_a_killed_worker_costs_nothing_but_time(tmp_path: Path) -> None:
    example = ROOT / "examples" / "netra-backend-staging.json"
    json_out, md_out = tmp_path / "w.json", tmp_path / "w.md"
    done = subprocess.run([sys.executable, "-c", _KILLED, str(example), str(json_out),
                           str(md_out)], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.stdout.split() == ["1"], done.stderr
    assert (tmp_path / "w.md.killed").exists()  # a worker did die
    one = subprocess.run([sys.executable, "-c", _RUN, str(example), str(tmp_path / "1.json"),
                          str(tmp_path / "1.md"), "1"], capture_output=True, text=True,
                         check=False, cwd=ROOT)
    assert one.stdout.split() == ["1", "0"], one.stderr
    assert json_out.read_text() == (tmp_path / "1.json").read_text()
    assert md_out.read_text() == (tmp_path / "1.md").read_text()


@pytest.mark.parametrize(("limit", "cpus", "expected"), [
    ("max 100000\n", 4, 4), ("150000 100000\n", 4, 2), ("50000 100000\n", 4, 1),
    ("garbage", 4, 4), (None, 4, 4), ("max 100000\n", 64, 8)])
def test_default_jobs_honour_the_container_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 limit: str | None, cpus: int, expected: int
                                                 ) -> None:
    import os

    import gardener.batches as batches

    path = tmp_path / "cpu.max"
    if limit is not None:
        path.write_text(limit)
    monkeypatch.setattr(batches, "_CGROUP_CPU", str(path))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    assert batches.default_jobs() == expected
