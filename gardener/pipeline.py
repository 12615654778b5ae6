"""The whole job in one place: source → entries → mine → prioritise → compare → gate → report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from itertools import chain

from gardener.baseline import Counted, compare
from gardener.batches import parts, paused_gc
from gardener.clusters import ClusterBuilder
from gardener.config import Config
from gardener.errors import InputError
from gardener.gate import decide, parse_fail_on
from gardener.mining import Miner
from gardener.model import Cluster, Finding
from gardener.queries import join, resource_filter, time_filter
from gardener.report import EntryTally, Report
from gardener.rules import prioritise
from gardener.sources import LogSource
from gardener.state import RunState, capture
from gardener.worklog import cluster_ids


def run(source: LogSource, config: Config, fail_on: str, *, baseline: LogSource | None = None,
        previous: RunState | None = None, jobs: int = 1,
        skipped: Callable[[str], None] | None = None) -> Report:
    """Analyse `source` against `baseline` (an earlier window) or `previous` (the last run's
    state), if given, and decide the gate; `jobs` processes parse big exports; `skipped` is
    told the baseline's first skipped elements. The report carries the state for the next
    run."""
    parse_fail_on(fail_on)  # a bad --fail-on is a usage error before any work is done
    miner = previous.miner if previous else Miner()  # one miner: same template, same cluster
    field_paths = {path for rule in config.rules for path in rule.match.fields}
    tally, builder = read(source, miner, field_paths, jobs)
    before = (read_baseline(baseline, miner, field_paths, jobs, skipped)
              if baseline is not None else None)
    clusters = builder.build()
    info = source.info()
    repeated = repeated_ids(clusters)
    if repeated:
        info = replace(info, notes=(*info.notes, _repeated_note(repeated)))
    if baseline is not None and before is not None:
        info = replace(info, notes=(*info.notes, *_baseline_notes(baseline, before[0])))
    start, end = info.start or tally.first, info.end or tally.last
    seconds = _seconds(start, end)
    earlier: Sequence[Counted] | None = previous.clusters if previous else None
    earlier_seconds = previous.window_seconds if previous else 1.0
    if baseline is not None and before is not None:
        earlier, earlier_seconds = before[1].build(), _seconds(*_window(baseline, before[0]))
    changes, gone = compare(clusters, earlier, now_seconds=seconds,
                            before_seconds=earlier_seconds)
    findings = order(changes.annotate(prioritise(c, config.rules, tally.analysed,
                                                 changes.status_of(c.fingerprint)))
                     for c in clusters)
    readable = tally.analysed > 0 or not tally.reasons
    gate = decide(findings, fail_on, readable=readable, labels=cluster_ids(tuple(findings)))
    base = info.filter or join(resource_filter(_resources(clusters)),
                               time_filter(start, end) if start and end else "")
    return Report(
        service=config.service or _service(clusters), project=info.project or _project(clusters),
        source=info, window_start=start, window_end=end,
        entries=tally.stats(truncated=info.truncated, repeated_ids=repeated),
        severity_counts=dict(tally.severities),
        findings=tuple(findings), gate=gate, base_filter=base,
        baseline=_describe(baseline) if baseline is not None else
        ("the previous run" if previous else ""),
        gone=tuple(gone),
        state=capture(miner, clusters, seconds))


def read(source: LogSource, miner: Miner, field_paths: Iterable[str] = (), jobs: int = 1
         ) -> tuple[EntryTally, ClusterBuilder]:
    """Stream a source into the miner and per-key tallies, counting analysed and skipped;
    batches are parsed and masked by `jobs` processes, and merged here in input order."""
    tally = EntryTally()
    builder = ClusterBuilder(miner, field_paths)
    with paused_gc():
        for part in parts(source, field_paths, jobs):
            tally.merge(part.tally)
            builder.merge(part.groups)
    return tally, builder


def read_baseline(baseline: LogSource, miner: Miner, field_paths: Iterable[str], jobs: int,
                  skipped: Callable[[str], None] | None = None
                  ) -> tuple[EntryTally, ClusterBuilder]:
    """`read` for the baseline, whose skips are passed to `skipped`; an `InputError` when
    nothing in it could be read: comparing with nothing would call every cluster new. (An
    empty window, `[]` or no entries from Cloud Logging, is fine: the service was quiet.)"""
    tally, builder = read(baseline, miner, field_paths, jobs)
    if skipped is not None:
        for example in tally.examples:
            skipped(f"(baseline) {example}")
    if not tally.analysed and tally.reasons:
        what = _describe(baseline)
        count = sum(tally.reasons.values())
        cause = (f"{count:,} element{'s' if count > 1 else ''} skipped, e.g. "
                 f"{tally.examples[0]}" if tally.examples else "it holds no log entry")
        raise InputError(f"{what}: no entry could be read, so nothing can be compared with it",
                         cause=cause, fix="pass an export of the window before the deploy "
                         "(gcloud logging read --format=json, a JSON array or JSON Lines), "
                         "or drop --baseline")
    return tally, builder


def repeated_ids(clusters: Iterable[Cluster]) -> int:
    """Entries whose insertId an earlier entry has too: the same entry read twice, from exports
    whose windows overlap (Cloud Logging gives each entry its own insertId)."""
    ids = [cluster.insert_ids for cluster in clusters]
    return sum(map(len, ids)) - len(set(chain.from_iterable(ids)))


def _repeated_note(repeated: int) -> str:
    return (f"{repeated:,} entr{'ies' if repeated > 1 else 'y'} repeat the insertId of another: "
            "inputs whose windows overlap hold the same entries, and they are counted each time "
            "they are read; export each window once (or pass one export)")


def _baseline_notes(baseline: LogSource, tally: EntryTally) -> list[str]:
    """What the worklog must say of a baseline that was not read whole: its counts are partial,
    so a cluster it missed shows as new and rates before look lower than they were."""
    what, notes = _describe(baseline), []
    skipped = sum(tally.reasons.values())
    if skipped:
        notes.append(f"{what}: {skipped:,} of {skipped + tally.analysed:,} elements skipped, "
                     "compared without them")
    if baseline.info().truncated:
        notes.append(f"{what}: cut at --max-entries ({tally.analysed:,} entries read): its "
                     "counts are partial, so a cluster it missed is marked new; raise "
                     "--max-entries to compare with the whole window")
    return notes


def _window(source: LogSource, tally: EntryTally) -> tuple[datetime | None, datetime | None]:
    info = source.info()
    return info.start or tally.first, info.end or tally.last


def _seconds(start: datetime | None, end: datetime | None) -> float:
    """Window length for rates; at least a minute so a burst in one second is not infinite."""
    if start is None or end is None:
        return 60.0
    return max(60.0, (end - start).total_seconds())


def _describe(source: LogSource) -> str:
    info = source.info()
    if info.inputs:
        return "the baseline " + ", ".join(info.inputs)
    return "the baseline window"


def order(findings: Iterable[Finding]) -> list[Finding]:
    """Most urgent first, then largest, then by template so ties are deterministic."""
    return sorted(findings, key=lambda f: (f.priority, -f.cluster.count, f.cluster.template))


def _resources(clusters: list[Cluster]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    totals: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    for cluster in clusters:
        totals.update(cluster.resources)
    return [key for key, _ in sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def _service(clusters: list[Cluster]) -> str:
    for _, labels in _resources(clusters):
        names = dict(labels)
        for key in ("service_name", "container_name", "module_id", "function_name"):
            if names.get(key):
                return names[key]
    return ""


def _project(clusters: list[Cluster]) -> str:
    for _, labels in _resources(clusters):
        if dict(labels).get("project_id"):
            return dict(labels)["project_id"]
    return ""
