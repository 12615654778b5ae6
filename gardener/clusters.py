"""Fold entries into clusters as they stream past: memory grows with templates, not with entries.

Each entry is keyed by the miner; per key we keep counts and a few samples. At the end the
miner's final clustering merges keys into clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from gardener.mining import Miner, fingerprint
from gardener.model import Cluster, LogEntry, Severity, SourceLocation

_VOLATILE_LABELS = frozenset({"pod_name", "instance_id", "instanceId", "pod_id", "container_id",
                              "zone"})
"""Resource labels that change with every instance: grouping by them would split a cluster's
resources into noise."""


def resource_key(entry: LogEntry) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(type, identifying labels): the service and revision, not the instance."""
    labels = tuple(sorted((k, v) for k, v in entry.resource_labels.items()
                          if k not in _VOLATILE_LABELS))
    return entry.resource_type, labels


def field_value(fields: object, path: str) -> str | None:
    """The scalar at a dotted path of a payload (`error.type`), as text; None when absent."""
    value = fields
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            # keys may themselves contain dots (`logging.googleapis.com/trace`)
            if isinstance(fields, dict) and path in fields:
                value = fields[path]
                break
            return None
        value = value[part]
    if isinstance(value, dict | list) or value is None:
        return None
    return str(value)


class _Group:
    """What we keep per miner key."""

    __slots__ = ("count", "first", "last", "severities", "resources", "locations", "loggers",
                 "exceptions", "statuses", "fields", "minutes", "samples", "top", "insert_ids")

    def __init__(self, entry: LogEntry) -> None:
        self.count = 0
        self.first = self.last = entry
        self.top = entry
        self.severities: Counter[Severity] = Counter()
        self.resources: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.locations: Counter[SourceLocation] = Counter()
        self.loggers: Counter[str] = Counter()
        self.exceptions: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.fields: Counter[tuple[str, str]] = Counter()
        self.minutes: Counter[int] = Counter()
        self.insert_ids: list[str] = []

    def add(self, entry: LogEntry, field_paths: tuple[str, ...]) -> None:
        self.count += 1
        if entry.timestamp < self.first.timestamp:
            self.first = entry
        if entry.timestamp >= self.last.timestamp:
            self.last = entry
        if entry.severity > self.top.severity:
            self.top = entry
        self.severities[entry.severity] += 1
        self.resources[resource_key(entry)] += 1
        if entry.source_location:
            self.locations[entry.source_location] += 1
        if entry.logger:
            self.loggers[entry.logger] += 1
        if entry.exception_type:
            self.exceptions[entry.exception_type] += 1
        if entry.http and entry.http.status:
            self.statuses[f"{entry.http.status // 100}xx"] += 1
            if entry.http.status == 429:
                self.statuses["429"] += 1
        for path in field_paths:
            value = field_value(entry.fields, path)
            if value is not None:
                self.fields[(path, value)] += 1
        self.minutes[int(entry.timestamp.timestamp()) // 60] += 1
        self.insert_ids.append(entry.insert_id)

    def merge(self, other: _Group) -> None:
        self.count += other.count
        if other.first.timestamp < self.first.timestamp:
            self.first = other.first
        if other.last.timestamp >= self.last.timestamp:
            self.last = other.last
        if other.top.severity > self.top.severity:
            self.top = other.top
        self.severities.update(other.severities)
        self.resources.update(other.resources)
        self.locations.update(other.locations)
        self.loggers.update(other.loggers)
        self.exceptions.update(other.exceptions)
        self.statuses.update(other.statuses)
        self.fields.update(other.fields)
        self.minutes.update(other.minutes)
        self.insert_ids.extend(other.insert_ids)


class ClusterBuilder:
    """Feed entries with `add`; `build()` returns the clusters, largest first."""

    def __init__(self, miner: Miner | None = None, field_paths: Iterable[str] = ()) -> None:
        self.miner = miner if miner is not None else Miner()
        self.field_paths = tuple(field_paths)
        self.groups: dict[int | str, _Group] = {}

    def add(self, entry: LogEntry) -> None:
        key: int | str = entry.mining_text if entry.templated else self.miner.add(
            entry.mining_text)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(entry)
        group.add(entry, self.field_paths)

    def build(self) -> list[Cluster]:
        merged: dict[int | str, tuple[str, str, _Group]] = {}
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


def _cluster(fingerprint: str, template: str, group: _Group) -> Cluster:
    samples: list[LogEntry] = []
    for entry in (group.first, group.top, group.last):
        if all(entry is not s for s in samples):
            samples.append(entry)
    return Cluster(
        fingerprint=fingerprint, template=template, count=group.count,
        first_seen=group.first.timestamp, last_seen=group.last.timestamp,
        severity_counts=dict(group.severities), resources=dict(group.resources),
        source_locations=dict(group.locations), loggers=dict(group.loggers),
        exception_types=dict(group.exceptions), status_classes=dict(group.statuses),
        field_values=dict(group.fields),
        minute_counts={datetime.fromtimestamp(m * 60, UTC): n
                       for m, n in sorted(group.minutes.items())},
        samples=tuple(samples), insert_ids=tuple(group.insert_ids),
    )
