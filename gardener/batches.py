"""Analyse entries in batches, in worker processes when the input is big enough to pay for them.

A batch (a few thousand elements) becomes a `Part`: its tally, and its entries grouped by masked
form or ready-made template, with counts, samples and a timeline per group (`KeyStats`). Decoding,
parsing and masking are pure, so any process can do them; the miner, which must see every form in
order, stays in the caller (`ClusterBuilder.merge`). Batches are cut at the same places and parts
merged in input order however many processes run, so the worklog does not depend on `jobs`.
"""

from __future__ import annotations

import gc
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import accumulate, chain, islice
from typing import TYPE_CHECKING

from gardener.clusters import KeyStats
from gardener.entries import parse_entry
from gardener.grouping import Form
from gardener.keys import entry_key
from gardener.model import Skip
from gardener.report import EntryTally
from gardener.sources import ORIGIN_KEY, LogSource, RawEntry, chunked
from gardener.sources.split import Elements, Recut, reread

if TYPE_CHECKING:
    from concurrent.futures import Future

BATCH_SIZE = 4096
"""Elements per batch. Part of the result's definition (the miner sees forms batch by batch),
so it is a constant, not a setting."""
_IN_FLIGHT = 2
"""Batches queued per worker: enough to keep it busy, few enough to bound memory."""
_KEY_CACHE_LIMIT = 200_000

_KEYS: tuple[dict[str, str | Form], dict[str, str | Form]] = ({}, {})
"""Per process: mining text -> its key (`entry_key`), for texts to mask and for ready-made
templates (messages repeat, and redacting and masking them is pure)."""


@dataclass(frozen=True, slots=True)
class Part:
    """What one batch amounts to."""

    tally: EntryTally
    """Entries analysed and skipped."""
    groups: dict[str | Form, KeyStats]
    """Per masked form (a tuple) or ready-made template (a string), in order of first sight."""
    recut: Elements | None = None
    """Set (and nothing counted) when the batch was not cut where elements start."""


def parts(source: LogSource, field_paths: Iterable[str] = (), jobs: int = 1) -> Iterator[Part]:
    """Every batch of `source` analysed, in order; by `jobs` worker processes when the source
    hands out undecoded batches (export files) and there are at least two of them."""
    work = partial(analyse, field_paths=tuple(field_paths))
    split = getattr(source, "batches", None)  # export files: undecoded batches
    batches = iter(split(BATCH_SIZE) if split else chunked(source.read(), BATCH_SIZE))
    head = list(islice(batches, 2))
    numbered = _numbered(chain(head, batches))
    big = len(head) > 1 and sum(map(len, head)) > BATCH_SIZE  # not just a batch and its tail
    done = (_in_pool(work, numbered, jobs) if jobs > 1 and split and big and _can_fork()
            else ((batch, work(batch, base)) for base, batch in numbered))
    redone = None  # the input the careful reader is re-reading: its other batches are moot
    for batch, part in done:
        if redone is not None and getattr(batch, "source", None) == redone:
            continue
        if part.recut is None:
            yield part
        else:
            redone = part.recut.source
            yield from (work(items, 0) for items in reread(part.recut, BATCH_SIZE))


def analyse(batch: Iterable[RawEntry | Skip], base: int = 0, field_paths: tuple[str, ...] = ()
            ) -> Part:
    """Parse and count one batch; `base` numbers entries that carry no origin of their own."""
    with paused_gc():
        try:
            return _analyse(batch, base, field_paths)
        except Recut as recut:
            return Part(EntryTally(), {}, recut.elements)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cycle collection inside: batches allocate (and free) thousands of containers with no
    cycles among them, and a collection would walk them all, over and over."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _analyse(batch: Iterable[RawEntry | Skip], base: int, field_paths: tuple[str, ...]) -> Part:
    tally = EntryTally()
    groups: dict[str | Form, KeyStats] = {}
    masked, templates = _KEYS
    for index, item in enumerate(batch, base):
        if isinstance(item, Skip):
            tally.skip(item)
            continue
        entry = parse_entry(item, item.pop(ORIGIN_KEY, None) or f"entry #{index}")
        if isinstance(entry, Skip):
            tally.skip(entry)
            continue
        keys = templates if entry.templated else masked
        key = keys.get(entry.mining_text)
        if key is None:
            if len(keys) >= _KEY_CACHE_LIMIT:
                keys.clear()
            key = keys[entry.mining_text] = entry_key(entry.mining_text, entry.templated)
        stats = groups.get(key)
        if stats is None:
            stats = groups[key] = KeyStats(entry)
        stats.add(entry, field_paths)
    tally.count(groups.values())
    return Part(tally, groups)


MAX_JOBS = 8
"""More workers than this add memory (each holds its own caches), not speed: the parent merges."""
_CGROUP_CPU = "/sys/fs/cgroup/cpu.max"


def default_jobs() -> int:
    """Worker processes to use: the CPUs this process may run on, within a container's CPU
    quota (cgroup v2 `cpu.max`), at most `MAX_JOBS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    try:
        with open(_CGROUP_CPU, encoding="ascii") as limits:
            quota, period = limits.read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 limit to honour
    return min(cpus, MAX_JOBS)


def _numbered(batches: Iterable[Iterable[RawEntry | Skip]]
              ) -> Iterator[tuple[int, Iterable[RawEntry | Skip]]]:
    base = 0
    for batch in batches:
        yield base, batch
        base += len(batch)  # type: ignore[arg-type]


def _can_fork() -> bool:
    """Fork is cheap (workers share the loaded modules) but unsafe beside other threads."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _in_pool(work: partial[Part], numbered: Iterator[tuple[int, Iterable[RawEntry | Skip]]],
             jobs: int) -> Iterator[tuple[Iterable[RawEntry | Skip], Part]]:
    """`work` on each batch in `jobs` forked processes, results in input order. The last few
    batches (all of a small input) are too few to keep every process busy: each is cut into
    pieces for several processes, whose parts are combined into the batch's. If a worker dies
    (killed for memory, say), the batches not done yet are done here instead: same result."""
    import multiprocessing  # only big inputs pay for these imports
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))
    pending: deque[tuple[list[Future[Part]] | None, int, Iterable[RawEntry | Skip]]] = deque()

    def done() -> tuple[Iterable[RawEntry | Skip], Part]:
        futures, base, batch = pending.popleft()
        try:
            if futures is not None:
                results = [future.result() for future in futures]
                return batch, combine(batch, results) if isinstance(batch, Elements) else results[0]
        except BrokenProcessPool:
            pass
        return batch, work(batch, base)

    try:
        for base, batch, last in _flag_last(numbered, _IN_FLIGHT * jobs):
            units = batch.pieces() if last and isinstance(batch, Elements) else [batch]
            bases = accumulate((len(unit) for unit in units[:-1]), initial=base)  # type: ignore[arg-type]
            try:
                futures: list[Future[Part]] | None = [
                    pool.submit(work, unit, at) for unit, at in zip(units, bases, strict=True)]
            except BrokenProcessPool:
                futures = None
            pending.append((futures, base, batch))
            if len(pending) >= _IN_FLIGHT * jobs:
                yield done()
        while pending:
            yield done()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _flag_last(numbered: Iterator[tuple[int, Iterable[RawEntry | Skip]]], n: int
               ) -> Iterator[tuple[int, Iterable[RawEntry | Skip], bool]]:
    """Each batch, and whether it is one of the last `n`."""
    ahead: deque[tuple[int, Iterable[RawEntry | Skip]]] = deque()
    for item in numbered:
        ahead.append(item)
        if len(ahead) > n:
            yield *ahead.popleft(), False
    for base, batch in ahead:
        yield base, batch, True


def combine(batch: Elements, pieces: list[Part]) -> Part:
    """The part of `batch` from the parts of its pieces, in order: the same as analysing it
    whole (`KeyStats.merge` keeps first, last and most severe as `KeyStats.add` does)."""
    if len(pieces) == 1:
        return pieces[0]
    if any(piece.recut is not None for piece in pieces):  # re-read from the batch's start
        return Part(EntryTally(), {}, batch)
    tally, groups = pieces[0].tally, pieces[0].groups
    for piece in pieces[1:]:
        tally.merge(piece.tally)
        for key, stats in piece.groups.items():
            known = groups.get(key)
            if known is None:
                groups[key] = stats
            else:
                known.merge(stats)
    return Part(tally, groups)
