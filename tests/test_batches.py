"""`gardener.batches`: a batch analysed is a `Part` counting what went in; `parts` covers a source
in order; worker processes (`--jobs N`) really run and write the same worklog as one process, the
golden one; bad `--jobs` values are usage errors; errors reach the caller.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import pickle
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import gardener.batches as batches
from gardener.batches import Part, analyse, combine, parts
from gardener.cli import main
from gardener.errors import InputError
from gardener.model import Severity, Skip
from gardener.report import EntryTally
from gardener.sources import ORIGIN_KEY, RawEntry, SourceInfo
from gardener.sources.files import FileSource
from gardener.sources.split import Elements

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXPORT = EXAMPLES / "netra-backend-staging.json"


def entry(i: int, message: str = "connection refused by db-primary", severity: str = "ERROR",
          **extra: Any) -> dict[str, Any]:
    return {"insertId": f"e{i}", "timestamp": f"2025-09-15T23:{i % 60:02d}:00Z",
            "severity": severity, "textPayload": message, **extra}


def summary(part: Part) -> tuple[object, ...]:
    """What a part amounts to, comparable (`KeyStats` has no equality of its own)."""
    groups = [(key, s.count, s.insert_ids, s.first.insert_id, s.last.insert_id, s.top.insert_id,
               dict(s.signatures), dict(s.minutes)) for key, s in part.groups.items()]
    tally = part.tally
    return (tally.analysed, dict(tally.severities), dict(tally.reasons), tally.examples,
            tally.first, tally.last, groups)


def export(tmp_path: Path, n: int) -> Path:
    """A gcloud-style export of `n` entries of a few kinds."""
    kinds = ("connection refused by db-primary", "cache warmed", "request took 17 ms")
    items = [entry(i, kinds[i % 3], ("ERROR", "INFO", "WARNING")[i % 3]) for i in range(n)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    return path


class ListSource:
    """A source with no `batches`: entries one by one, like Cloud Logging."""

    def __init__(self, items: Iterable[RawEntry | Skip], error: Exception | None = None) -> None:
        self.items = list(items)
        self.error = error

    def read(self) -> Iterator[RawEntry | Skip]:
        yield from self.items
        if self.error is not None:
            raise self.error

    def info(self) -> SourceInfo:
        return SourceInfo(kind="test")


@pytest.fixture
def no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if `parts` reaches for worker processes (and never fork under pytest)."""
    def refuse(*args: object) -> Iterator[Part]:
        raise AssertionError("the worker pool was used")

    monkeypatch.setattr(batches, "_in_pool", refuse)


# --- one batch ----------------------------------------------------------------------------------

def test_a_batch_counts_what_went_in() -> None:
    """Entries analysed, by severity and by group; skips (given, and found while parsing) by
    reason, with examples naming where they came from."""
    batch: list[RawEntry | Skip] = [
        entry(1), entry(2, severity="WARNING"), entry(3, "cache warmed", "INFO"), entry(4),
        {"insertId": "no-time", "textPayload": "x", ORIGIN_KEY: "x.json#4"},
        Skip("x.json#5", "(json)", "invalid JSON in entry 5: Expecting value; fix it"),
        Skip("x.json#9", "(json)", "invalid JSON in entry 9: Expecting value; fix it"),
    ]
    part = analyse(batch)
    assert part.tally.analysed == 4
    assert part.tally.severities == {Severity.ERROR: 2, Severity.WARNING: 1, Severity.INFO: 1}
    assert part.tally.reasons["(json): invalid JSON in entry N Expecting value; fix it"] == 2
    assert sum(part.tally.reasons.values()) == 3
    [timestamp] = [key for key in part.tally.reasons if key.startswith("timestamp:")]
    assert part.tally.reasons[timestamp] == 1
    assert [e.split(":")[0] for e in part.tally.examples] == ["x.json#4 (insertId no-time)",
                                                              "x.json#5", "x.json#9"]
    assert [(s.count, s.insert_ids) for s in part.groups.values()] == [
        (3, ["e1", "e2", "e4"]), (1, ["e3"])]
    assert (part.tally.first, part.tally.last) == (datetime(2025, 9, 15, 23, 1, tzinfo=UTC),
                                                   datetime(2025, 9, 15, 23, 4, tzinfo=UTC))


def test_entries_without_an_origin_are_numbered_from_the_base() -> None:
    part = analyse([entry(0), {"textPayload": "no timestamp"}], base=40)
    assert part.tally.analysed == 1
    assert part.tally.examples[0].startswith("entry #41: timestamp:")


def test_an_empty_batch() -> None:
    part = analyse([])
    assert (part.tally.analysed, sum(part.tally.reasons.values()), part.groups) == (0, 0, {})


def test_undecoded_batches_analyse_like_their_entries(tmp_path: Path) -> None:
    """An `Elements` batch (what a worker gets, pickled) amounts to what its decoded entries do."""
    path = export(tmp_path, 40)
    cut = list(FileSource([str(path)]).batches(12))
    assert sum(isinstance(b, Elements) for b in cut) == 4
    entries = iter(FileSource([str(path)]).read())
    base = 0
    for batch in cut:
        same = list(itertools.islice(entries, len(batch)))
        shipped = pickle.loads(pickle.dumps(batch))
        assert summary(analyse(shipped, base)) == summary(analyse(same, base))
        base += len(batch)
    assert next(entries, None) is None


def test_a_batch_shared_by_processes_amounts_to_the_batch(tmp_path: Path) -> None:
    """The pieces of a batch (`Elements.pieces`), analysed apart and combined, give the part of
    the batch analysed whole: the same groups in the same order, and the same first, last and
    most severe entry where timestamps and severities tie."""
    items = [entry(i, ("db down", "cache warm", "took 17 ms")[i % 3],
                   ("ERROR", "INFO", "CRITICAL", "ERROR")[i % 4],
                   timestamp=f"2025-09-15T23:0{(7 * i) % 5}:00Z") for i in range(40)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    shared = 0
    for batch in FileSource([str(path)]).batches(16):
        if not isinstance(batch, Elements):
            continue
        pieces = batch.pieces()
        assert [len(p) for p in pieces] == ([4] * 4 if len(batch) == 16 else [4, len(batch) - 4])
        assert [e for p in pieces for e in p] == list(batch)  # same elements, same origins
        got = combine(batch, [analyse(pickle.loads(pickle.dumps(p))) for p in pieces])
        assert summary(got) == summary(analyse(batch))
        shared += 1
    assert shared == 3


def test_a_part_crosses_processes_whole(tmp_path: Path) -> None:
    """What a worker sends back (pickled) is what it counted: every field of every sample entry,
    request summaries included."""
    items = [entry(i, extra=i) for i in range(6)] + [
        {"insertId": "r1", "timestamp": "2025-09-15T23:00:00Z", "severity": "ERROR",
         "httpRequest": {"requestMethod": "GET", "requestUrl": "/api/users/42", "status": 503,
                         "latency": "0.25s"}, "resource": {"type": "cloud_run_revision",
                                                           "labels": {"service_name": "api"}}}]
    part = analyse(items)
    back = pickle.loads(pickle.dumps(part))
    assert summary(back) == summary(part)
    for mine, theirs in zip(part.groups.values(), back.groups.values(), strict=True):
        for a, b in ((mine.first, theirs.first), (mine.top, theirs.top)):
            assert [getattr(a, f.name) for f in fields(a)] == [getattr(b, f.name)
                                                                 for f in fields(b)]
    request = [s.first for s in back.groups.values() if s.first.http][0]
    assert request.http == ("GET", 503, "/api/users/<*>", 0.25)


def test_a_piece_that_does_not_decode_recuts_its_whole_batch(tmp_path: Path) -> None:
    """The careful reader takes over from the batch's start, as with one process."""
    batch = next(iter(FileSource([str(export(tmp_path, 40))]).batches(16)))
    assert isinstance(batch, Elements)
    pieces = batch.pieces()
    parts_ = [analyse(p) for p in pieces[:2]] + [Part(EntryTally(), {}, pieces[2]),
                                                  analyse(pieces[3])]
    assert combine(batch, parts_).recut is batch


# --- parts of a source --------------------------------------------------------------------------

def test_parts_cover_an_export_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        no_pool: None) -> None:
    monkeypatch.setattr(batches, "BATCH_SIZE", 7)
    got = list(parts(FileSource([str(export(tmp_path, 30))]), jobs=1))
    # 29 elements are cut into batches of 7 (and 1); the last goes with `]` to the careful reader
    assert [p.tally.analysed for p in got] == [7, 7, 7, 7, 1, 1]
    ids = [sorted(i for s in p.groups.values() for i in s.insert_ids) for p in got]
    assert ids[0] == sorted(f"e{i}" for i in range(7))
    assert ids[-1] == ["e29"]


def test_parts_of_a_source_without_batches(monkeypatch: pytest.MonkeyPatch,
                                           no_pool: None) -> None:
    """Entries read one by one are chunked in-process, whatever `jobs` says."""
    monkeypatch.setattr(batches, "BATCH_SIZE", 10)
    source = ListSource([entry(i) for i in range(25)])
    got = list(parts(source, jobs=8))
    assert [p.tally.analysed for p in got] == [10, 10, 5]


class Pooled(Exception):
    """Raised by the stand-in for the worker pool: `parts` chose worker processes."""


@pytest.mark.parametrize(("n", "jobs", "can_fork", "pooled"), [
    (50, 4, True, True),
    (50, 1, True, False),  # one process asked for
    (50, 4, False, False),  # threads around: no fork
    (9, 4, True, False),  # one batch (and the tail): not worth a process
])
def test_when_worker_processes_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int,
                                        jobs: int, can_fork: bool, pooled: bool) -> None:
    """The pool is stood in for (no fork under pytest), but `parts` decides as it would; without
    it, every batch is analysed here."""
    def stand_in(work: object, numbered: object, jobs: int) -> object:
        raise Pooled(jobs)

    monkeypatch.setattr(batches, "BATCH_SIZE", 9)
    monkeypatch.setattr(batches, "_in_pool", stand_in)
    monkeypatch.setattr(batches, "_can_fork", lambda: can_fork)
    got = parts(FileSource([str(export(tmp_path, n))]), jobs=jobs)
    if pooled:
        with pytest.raises(Pooled, match=str(jobs)):
            list(got)
        return
    done = list(got)
    assert sum(p.tally.analysed for p in done) == n
    assert len(done) == math.ceil((n - 1) / 9) + 1


def test_a_read_error_reaches_the_caller(tmp_path: Path, no_pool: None) -> None:
    error = InputError("export.json: cannot read: Input/output error")
    source = ListSource([entry(i) for i in range(3)], error)
    for jobs in (1, 4):
        with pytest.raises(InputError) as raised:
            list(parts(source, jobs=jobs))
        assert raised.value is error
    with pytest.raises(InputError, match="no such file"):
        list(parts(FileSource([str(tmp_path / "missing.json")]), jobs=2))


# --- worker processes ---------------------------------------------------------------------------

_RUN = """
import io, json, os, sys
import gardener.batches as batches
from gardener.cli import main
from gardener.errors import InputError

out, jobs, fail_at, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
batches.BATCH_SIZE = size
main_pid, pools = os.getpid(), []
real_pool, real_analyse = batches._in_pool, batches.analyse

def counted(*args):
    pools.append(1)
    yield from real_pool(*args)

def recorded(batch, base=0, field_paths=()):
    with open(out + ".pids", "a") as pids:
        pids.write(f"{os.getpid()}\\n")
    if base == fail_at:
        raise InputError(f"batch at {base} failed in {os.getpid()}")
    return real_analyse(batch, base, field_paths)

batches._in_pool, batches.analyse = counted, recorded
stderr = io.StringIO()
code = main(["analyze", "--input", "examples/netra-backend-staging.json", "--config",
             "examples/gardener.yml", "--json", out + ".json", "--markdown", out + ".md",
             "--jobs", jobs], {}, stdout=io.StringIO(), stderr=stderr)
with open(out + ".pids") as pids:
    workers = sorted({int(p) for p in pids.read().split()} - {main_pid})
print(json.dumps({"code": code, "pools": len(pools), "workers": workers,
                  "main": main_pid, "stderr": stderr.getvalue()}))
"""


def run(tmp_path: Path, jobs: str, fail_at: int = -1, size: int = 300) -> dict[str, Any]:
    """`gardener analyze` on the example with batches of `size`, in a fresh interpreter (no
    threads, so fork is allowed)."""
    out = tmp_path / f"jobs{jobs}"
    done = subprocess.run([sys.executable, "-c", _RUN, str(out), jobs, str(fail_at), str(size)],
                          capture_output=True, text=True, check=False, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_worker_processes_write_the_golden_worklog(tmp_path: Path) -> None:
    """`--jobs 2` analyses every batch in forked workers, `--jobs 1` none; both write the same
    bytes, and those are the golden worklog."""
    two, one = run(tmp_path, "2"), run(tmp_path, "1")
    assert (two["code"], one["code"]) == (1, 1)  # the example holds a P0: the gate fails
    assert (two["pools"], one["pools"]) == (1, 0)
    assert len(two["workers"]) >= 1 and one["workers"] == []
    pids = (tmp_path / "jobs2.pids").read_text().split()
    assert str(two["main"]) not in pids  # every batch went to a worker
    # 12 batches of 300 and one of 248, then the last element alone (the careful reader's); the
    # first ten go to a worker whole, the last four (too few to keep both busy) in pieces
    assert len(pids) == 10 + 4 + 4 + 4 + 1
    for ext in (".json", ".md"):
        assert (tmp_path / f"jobs2{ext}").read_bytes() == (tmp_path / f"jobs1{ext}").read_bytes()
    golden = json.loads((EXAMPLES / "netra-backend-staging.worklog.json").read_text("utf-8"))
    assert json.loads((tmp_path / "jobs2.json").read_text("utf-8")) == golden
    assert (tmp_path / "jobs2.md").read_text("utf-8") == (
        EXAMPLES / "netra-backend-staging.worklog.md").read_text("utf-8")


def test_few_batches_are_shared_by_the_workers(tmp_path: Path) -> None:
    """Two batches (and the tail) cannot keep two workers busy: each is cut in four pieces, all
    analysed in workers, and the worklog is the bytes one process writes (compared with that,
    not with the golden worklog: the miner's batches are 4,096 elements, not 2,000)."""
    two, one = run(tmp_path, "2", size=2000), run(tmp_path, "1", size=2000)
    assert (two["pools"], one["pools"]) == (1, 0)
    pids = (tmp_path / "jobs2.pids").read_text().split()
    assert str(two["main"]) not in pids
    assert len(pids) == 4 + 4 + 1  # 2000 and 1848 elements in four pieces each, the last alone
    for ext in (".json", ".md"):
        assert (tmp_path / f"jobs2{ext}").read_bytes() == (tmp_path / f"jobs1{ext}").read_bytes()


def test_an_error_in_a_worker_reaches_the_caller(tmp_path: Path) -> None:
    """An `InputError` raised while a worker analyses a batch ends the run with exit code 2 and
    its message, as it would in one process."""
    result = run(tmp_path, "2", fail_at=900)
    assert result["pools"] == 1
    assert result["code"] == 2
    assert "gardener: error: batch at 900 failed in " in result["stderr"]
    failed_in = int(result["stderr"].split("failed in ")[1].split()[0])
    assert failed_in in result["workers"] and failed_in != result["main"]
    assert not (tmp_path / "jobs2.json").exists()  # no worklog from a run that failed


# --- --jobs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "x", "-1", "1.5", "", " 2"])
def test_bad_jobs_are_usage_errors(value: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = export(tmp_path, 3)
    code = main(["analyze", "--input", str(path), "--jobs", value], {}, stdin=io.StringIO(),
                stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 2
    assert "--jobs" in capsys.readouterr().err  # argparse names the option


@pytest.mark.parametrize("value", ["1", "3"])
def test_good_jobs_run(value: str, tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    code = main(["analyze", "--input", str(export(tmp_path, 3)), "--jobs", value, "--json",
                 str(out)], {}, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    assert code in (0, 1)
    assert json.loads(out.read_text("utf-8"))["entries"]["analysed"] == 3
