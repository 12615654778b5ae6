"""Fold entries into clusters as they stream past: memory grows with templates, not with entries.

Each entry is keyed by its masked form (or its ready-made template); per key we keep counts and a
few samples (`KeyStats`). Keys are counted in batches (`gardener.batches`), possibly in other
processes, and merged here into the miner; at the end the miner's final clustering merges keys
into clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from gardener.entries import resource_identity
from gardener.grouping import Form
from gardener.keys import entry_key
from gardener.mining import Miner, fingerprint
from gardener.model import Cluster, LogEntry, ResourceKey, Severity, SourceLocation


def resource_key(entry: LogEntry) -> ResourceKey:
    """(type, identifying labels): the service and revision, not the instance."""
    return entry.resource or resource_identity(entry.resource_type, entry.resource_labels)


def field_value(fields: object, path: str) -> str | None:
    """The scalar at a dotted path of a payload (`error.type`), as text; None when absent. Keys
    may themselves contain dots (`logging.googleapis.com/sourceLocation.file`): at each level the
    longest run of the path's parts that is a key there is taken."""
    parts = path.split(".")
    value, start = fields, 0
    while start < len(parts):
        if not isinstance(value, dict):
            return None
        for end in range(len(parts), start, -1):
            key = parts[start] if end == start + 1 else ".".join(parts[start:end])
            if key in value:
                value, start = value[key], end
                break
        else:
            return None
    if isinstance(value, dict | list) or value is None:
        return None
    return str(value)


Signature = tuple[Severity, ResourceKey, SourceLocation | None, str, str, int]
"""(severity, resource, source location, logger, exception type, HTTP status) of one entry:
counting these tuples is one dict update per entry instead of six."""


class KeyStats:
    """What we keep per miner key."""

    __slots__ = ("count", "first", "last", "top", "signatures", "fields", "minutes", "insert_ids")

    def __init__(self, entry: LogEntry) -> None:
        self.count = 0
        self.first = self.last = self.top = entry
        self.signatures: dict[Signature, int] = {}
        self.fields: Counter[tuple[str, str]] = Counter()
        self.minutes: dict[int, int] = {}
        self.insert_ids: list[str] = []

    def add(self, entry: LogEntry, field_paths: tuple[str, ...]) -> None:
        self.count += 1
        timestamp = entry.timestamp
        if timestamp < self.first.timestamp:
            self.first = entry
        if timestamp >= self.last.timestamp:
            self.last = entry
        if entry.severity > self.top.severity:
            self.top = entry
        http = entry.http
        signature = (entry.severity, entry.resource or resource_key(entry), entry.source_location,
                     entry.logger, entry.exception_type, http.status or 0 if http else 0)
        self.signatures[signature] = self.signatures.get(signature, 0) + 1
        for path in field_paths:
            value = field_value(entry.fields, path)
            if value is not None:
                self.fields[(path, value)] += 1
        minute = int(timestamp.timestamp()) // 60
        self.minutes[minute] = self.minutes.get(minute, 0) + 1
        self.insert_ids.append(entry.insert_id)

    def merge(self, other: KeyStats) -> None:
        self.count += other.count
        if other.first.timestamp < self.first.timestamp:
            self.first = other.first
        if other.last.timestamp >= self.last.timestamp:
            self.last = other.last
        if other.top.severity > self.top.severity:
            self.top = other.top
        for signature, n in other.signatures.items():
            self.signatures[signature] = self.signatures.get(signature, 0) + n
        for minute, n in other.minutes.items():
            self.minutes[minute] = self.minutes.get(minute, 0) + n
        if other.fields:  # only with rules on payload fields
            self.fields.update(other.fields)
        self.insert_ids.extend(other.insert_ids)


class ClusterBuilder:
    """Feed entries with `add`; `build()` returns the clusters, largest first."""

    def __init__(self, miner: Miner | None = None, field_paths: Iterable[str] = ()) -> None:
        self.miner = miner if miner is not None else Miner()
        self.field_paths = tuple(field_paths)
        self.groups: dict[int | str, KeyStats] = {}

    def add(self, entry: LogEntry) -> None:
        """Count one entry, as a batch of one (the pipeline merges whole batches)."""
        stats = KeyStats(entry)
        stats.add(entry, self.field_paths)
        self.merge({entry_key(entry.mining_text, entry.templated): stats})

    def merge(self, groups: Mapping[str | Form, KeyStats]) -> None:
        """Count a batch's groups: forms go to the miner in the order they were first seen."""
        for key, stats in groups.items():
            mined: int | str = self.miner.add_form(key, stats.count) if isinstance(
                key, tuple) else key
            mine = self.groups.get(mined)
            if mine is None:
                self.groups[mined] = stats
            else:
                mine.merge(stats)

    def build(self) -> list[Cluster]:
        merged: dict[int | str, tuple[str, str, KeyStats]] = {}
        for key, group in self.groups.items():
            if isinstance(key, str):  # a ready-made template: its own cluster
                merged[key] = (fingerprint(key), key, group)
                continue
            mined = self.miner.resolve(key)
            if mined.id in merged:
                merged[mined.id][2].merge(group)
            else:
                merged[mined.id] = (mined.fingerprint, mined.template, group)
        clusters = [_cluster(fp, template, group) for fp, template, group in merged.values()]
        return sorted(clusters, key=lambda c: (-c.count, c.template))


def _cluster(fingerprint: str, template: str, group: KeyStats) -> Cluster:
    samples: list[LogEntry] = []
    for entry in (group.first, group.top, group.last):
        if all(entry is not s for s in samples):
            samples.append(entry)
    severities: Counter[Severity] = Counter()
    resources: Counter[ResourceKey] = Counter()
    locations: Counter[SourceLocation] = Counter()
    loggers: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for (severity, resource, location, logger, exception, status), n in group.signatures.items():
        severities[severity] += n
        resources[resource] += n
        if location:
            locations[location] += n
        if logger:
            loggers[logger] += n
        if exception:
            exceptions[exception] += n
        if status:
            statuses[f"{status // 100}xx"] += n
            if status == 429:
                statuses["429"] += n
    return Cluster(
        fingerprint=fingerprint, template=template, count=group.count,
        first_seen=group.first.timestamp, last_seen=group.last.timestamp,
        severity_counts=dict(severities), resources=dict(resources),
        source_locations=dict(locations), loggers=dict(loggers),
        exception_types=dict(exceptions), status_classes=dict(statuses),
        field_values=dict(group.fields),
        minute_counts={datetime.fromtimestamp(m * 60, UTC): n
                       for m, n in sorted(group.minutes.items())},
        samples=tuple(samples), insert_ids=tuple(group.insert_ids),
    )
