"""Domain values shared by every stage: entries in, clusters and findings out. Pure data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import IntEnum
from operator import attrgetter
from typing import Any, NamedTuple

WILDCARD = "<*>"
"""What stands for a variable part in a masked form and in a template."""


class Severity(IntEnum):
    """Cloud Logging's LogSeverity, with its numeric values."""

    DEFAULT = 0
    DEBUG = 100
    INFO = 200
    NOTICE = 300
    WARNING = 400
    ERROR = 500
    CRITICAL = 600
    ALERT = 700
    EMERGENCY = 800

    @classmethod
    def parse(cls, text: str) -> Severity:
        """`"warning"`, `"WARN"`, `"400"` -> Severity; ValueError names the accepted values."""
        key = text.strip().upper()
        key = _SEVERITY_ALIASES.get(key, key)
        if key.isdigit():
            value = int(key)
            # Cloud Logging rounds unknown numbers down to the nearest level.
            return max((s for s in cls if s.value <= value), default=cls.DEFAULT)
        try:
            return cls[key]
        except KeyError:
            names = ", ".join(s.name for s in cls)
            raise ValueError(f"unknown severity {text!r}; use one of {names}") from None


_SEVERITY_ALIASES = {"WARN": "WARNING", "ERR": "ERROR", "FATAL": "CRITICAL", "CRIT": "CRITICAL",
                     "EMERG": "EMERGENCY", "TRACE": "DEBUG", "INFORMATION": "INFO",
                     "PANIC": "EMERGENCY", "DPANIC": "CRITICAL", "SEVERE": "ERROR"}


class Priority(IntEnum):
    """How urgent a cluster is. Ordered by urgency: P0 < P1 < ... < P4."""

    P0 = 0
    P1 = 1
    P2 = 2
    P3 = 3
    P4 = 4

    @classmethod
    def parse(cls, text: str) -> Priority:
        """`"P1"` or `"p1"` -> Priority.P1; ValueError says what is accepted."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown priority {text!r}; use one of P0, P1, P2, P3, P4") from None


class SourceLocation(NamedTuple):
    """Where in the service's code an entry was written. A named tuple, not a dataclass: every
    entry is counted by its location, and a tuple hashes in C (a dataclass's hash is Python)."""

    file: str
    """Source file path as the service reported it."""
    line: int | None = None
    """Line number, when known."""
    function: str = ""
    """Function or method name, when known."""

    def __str__(self) -> str:
        text = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{text} ({self.function})" if self.function else text


class HttpSummary(NamedTuple):
    """The parts of an `httpRequest` that matter for clustering and ranking (a named tuple: made
    per request log, and pickled in samples, both cheaper than a dataclass's)."""

    method: str
    """HTTP method, upper case."""
    status: int | None
    """Response status code, when the request completed."""
    route: str
    """The URL path with variable segments masked (`/users/<*>/orders`), no query string."""
    latency_s: float | None = None
    """Latency in seconds, when reported."""


ResourceKey = tuple[str, tuple[tuple[str, str], ...]]
"""A resource's type and the labels that identify it (the service and revision, not the
instance)."""


@dataclass(slots=True, eq=False)
class LogEntry:
    """One Cloud Logging LogEntry, reduced to what the pipeline uses.

    Made once per entry, so not frozen (a frozen dataclass's `__init__` costs three times as
    much); nothing changes an entry after `gardener.entries` builds it. Compared by identity."""

    insert_id: str
    """`insertId`; synthesised from origin and index when the entry has none."""
    timestamp: datetime
    """`timestamp` (or `receiveTimestamp`), timezone-aware UTC."""
    severity: Severity
    """`severity`, or the payload's own level when the entry's is DEFAULT/missing."""
    message: str
    """Human-readable text of the entry (the payload's message, or a request-log summary)."""
    mining_text: str
    """What the miner clusters: `message`, or for stack traces the exception type and top frames,
    for request logs `METHOD route status-class`."""
    templated: bool = False
    """`mining_text` is already a template (stack traces, request logs): it bypasses the miner,
    whose masking would erase the route or the frames that identify the cluster."""
    resource_type: str = "global"
    """`resource.type`, e.g. `cloud_run_revision`, `k8s_container`."""
    resource_labels: Mapping[str, str] = field(default_factory=dict)
    """`resource.labels` (service_name, revision_name, cluster_name, namespace_name, ...)."""
    logger: str = ""
    """Logger name from the payload (`logger`, `logger_name`, `name`, `context.name`...)."""
    source_location: SourceLocation | None = None
    """`sourceLocation` or the payload's `logging.googleapis.com/sourceLocation`."""
    http: HttpSummary | None = None
    """Set for request logs (`httpRequest`)."""
    exception_type: str = ""
    """The exception class when the message carries a stack trace (`ValueError`, `java.io...`)."""
    origin: str = ""
    """Where the entry came from: `file.json#12`, `cloud-logging`."""
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The decoded LogEntry as read, kept for samples (redacted before it is shown)."""
    resource: ResourceKey | None = None
    """(type, identifying labels) of the resource, as the parser works it out once per distinct
    resource; None for entries made elsewhere (`gardener.clusters.resource_key` computes it)."""

    # Read from `raw` when asked: nothing downstream of parsing needs them for every entry.
    @property
    def labels(self) -> Mapping[str, str]:
        """The entry's user `labels`, as text."""
        value = self.raw.get("labels")
        return text_map(value) if isinstance(value, dict) else {}

    @property
    def fields(self) -> Mapping[str, Any]:
        """The structured payload (jsonPayload, else protoPayload) as decoded JSON, for rules."""
        for key in ("jsonPayload", "protoPayload"):
            value = self.raw.get(key)
            if value is not None:
                return value  # type: ignore[no-any-return]
        return {}

    @property
    def log_name(self) -> str:
        """`logName`, e.g. `projects/p/logs/run.googleapis.com%2Fstderr`."""
        return str(self.raw.get("logName") or "")

    @property
    def trace(self) -> str:
        """`trace` or the payload's `logging.googleapis.com/trace`."""
        return str(self.raw.get("trace") or self.fields.get("logging.googleapis.com/trace") or "")

    def __reduce__(self) -> tuple[type[LogEntry], tuple[Any, ...]]:
        """Pickled as its fields in order (samples cross processes in every batch's part): the
        default for a slots class builds a dict per entry, several times slower."""
        return LogEntry, _entry_fields(self)


_entry_fields = attrgetter(*(f.name for f in fields(LogEntry)))


class EntryError(ValueError):
    """One field of one entry is unusable; `field` names it for the skip report."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


@dataclass(frozen=True, slots=True)
class Skip:
    """An input element that could not be used, and why."""

    origin: str
    """`path#index` (0-based) or `path:line`, plus the insertId when known."""
    field: str
    """The offending field (`timestamp`, `payload`, `(json)`), for grouping reasons."""
    reason: str
    """What was wrong and how to fix it, in one sentence."""


@dataclass(frozen=True, slots=True)
class Cluster:
    """One template and what the entries that matched it have in common."""

    fingerprint: str
    """Stable id of the template across runs (`gardener.mining.fingerprint`)."""
    template: str
    """The template, `<*>` for variable parts (not yet redacted)."""
    count: int
    """Entries in the cluster."""
    first_seen: datetime
    """Earliest entry timestamp."""
    last_seen: datetime
    """Latest entry timestamp."""
    severity_counts: Mapping[Severity, int]
    """Entries per severity."""
    resources: Mapping[tuple[str, tuple[tuple[str, str], ...]], int]
    """Entries per (resource type, identifying labels)."""
    source_locations: Mapping[SourceLocation, int]
    """Entries per source location."""
    loggers: Mapping[str, int]
    """Entries per logger name."""
    exception_types: Mapping[str, int]
    """Entries per exception type, for stack traces."""
    status_classes: Mapping[str, int]
    """Request logs per status class (`5xx`, `4xx`, ...)."""
    field_values: Mapping[tuple[str, str], int]
    """Entries per (payload field path, value), for the fields that rules look at."""
    minute_counts: Mapping[datetime, int]
    """Entries per minute (UTC, start of minute)."""
    samples: tuple[LogEntry, ...]
    """A few entries to show: the first, the most severe, the last."""
    insert_ids: tuple[str, ...]
    """insertId of every entry, in input order."""

    @property
    def max_severity(self) -> Severity:
        """The most severe level seen in the cluster."""
        return max(self.severity_counts, default=Severity.DEFAULT)


@dataclass(frozen=True, slots=True)
class Finding:
    """A cluster with what the rules made of it."""

    cluster: Cluster
    """The cluster."""
    priority: Priority
    """Urgency, from the team's rules or the defaults."""
    title: str
    """Short human title (not yet redacted)."""
    rule: str
    """Name of the rule that set the priority (`default:crash-loop`, `team:db-timeouts`)."""
    reason: str
    """Why that rule applies, for readers of the worklog."""
    labels: tuple[str, ...] = ()
    """Labels the rules added (for issues)."""
    muted: bool = False
    """A rule muted it: listed, but never fails the gate or opens an issue."""
    status: str = ""
    """Change against a baseline: `new`, `spiking`, `known`, or `` without a baseline."""
    baseline_count: int | None = None
    """Entries of the same fingerprint in the baseline window, when there is one."""
    rate_ratio: float | None = None
    """Rate now / rate in the baseline (None when new or no baseline)."""
    spike_score: float | None = None
    """The spike test's figure (a one-sided p-value), when there is a baseline."""


@dataclass(frozen=True, slots=True)
class Gate:
    """The verdict on the deploy."""

    fail_on: str
    """The conditions that fail the gate, as given (`P0`, `P1,new>=P1`, `never`)."""
    passed: bool
    """False when any finding met a condition, or when no entry could be read."""
    reasons: tuple[str, ...]
    """One line per finding that failed the gate (or why it could not pass)."""


def text_map(mapping: Mapping[Any, Any]) -> Mapping[str, str]:
    """`mapping` with its keys and values as text: itself when they are (labels are strings in
    the API), else a copy."""
    for item in mapping.values():
        if type(item) is not str:
            return {str(k): str(v) for k, v in mapping.items()}
    return mapping
