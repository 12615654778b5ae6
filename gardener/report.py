"""The report: what was read, what was skipped and why, the findings in order, and the verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from gardener.baseline import Gone
from gardener.model import Finding, Gate, Severity, Skip
from gardener.sources import SourceInfo
from gardener.state import RunState

if TYPE_CHECKING:
    from gardener.clusters import KeyStats

MAX_SKIP_EXAMPLES = 20
"""Skipped entries named one by one in the worklog; the rest are counted by reason."""


@dataclass(frozen=True, slots=True)
class EntryStats:
    """How many entries were read, analysed and skipped."""

    total: int
    """Elements read from the source (good and bad)."""
    analysed: int
    """Entries that made it into clusters."""
    skipped_reasons: Mapping[str, int]
    """Skips per `field: reason` (counts)."""
    skip_examples: tuple[str, ...]
    """The first skipped elements, each named by file and index/insertId with its reason."""
    truncated: bool = False
    """A `--max-entries` cap stopped the read."""
    repeated_ids: int = 0
    """Analysed entries whose insertId an earlier one has too (overlapping inputs)."""

    @property
    def skipped(self) -> int:
        """Elements that could not be used."""
        return sum(self.skipped_reasons.values())


class EntryTally:
    """Counts entries and skips as they stream past; also the window and severities."""

    def __init__(self) -> None:
        self.analysed = 0
        self.severities: Counter[Severity] = Counter()
        self.reasons: Counter[str] = Counter()
        self.examples: list[str] = []
        self.first: datetime | None = None
        self.last: datetime | None = None

    def count(self, groups: Iterable[KeyStats]) -> None:
        """Add a batch's entries, from their groups: once per group and severity, not per entry."""
        severities = self.severities
        for stats in groups:
            self.analysed += stats.count
            for signature, n in stats.signatures.items():
                severities[signature[0]] += n
            if self.first is None or stats.first.timestamp < self.first:
                self.first = stats.first.timestamp
            if self.last is None or stats.last.timestamp > self.last:
                self.last = stats.last.timestamp

    def skip(self, skip: Skip) -> None:
        self.reasons[f"{skip.field}: {_reason_kind(skip.reason)}"] += 1
        if len(self.examples) < MAX_SKIP_EXAMPLES:
            self.examples.append(f"{skip.origin}: {skip.field}: {skip.reason}")

    def merge(self, other: EntryTally) -> None:
        """Add the counts of a later batch."""
        self.analysed += other.analysed
        self.severities.update(other.severities)
        self.reasons.update(other.reasons)
        self.examples.extend(other.examples[:MAX_SKIP_EXAMPLES - len(self.examples)])
        for stamp in (other.first, other.last):
            if stamp is not None:
                if self.first is None or stamp < self.first:
                    self.first = stamp
                if self.last is None or stamp > self.last:
                    self.last = stamp

    def stats(self, truncated: bool = False, repeated_ids: int = 0) -> EntryStats:
        return EntryStats(total=self.analysed + sum(self.reasons.values()),
                          analysed=self.analysed, skipped_reasons=dict(self.reasons),
                          skip_examples=tuple(self.examples), truncated=truncated,
                          repeated_ids=repeated_ids)


def _reason_kind(reason: str) -> str:
    """Group reasons that differ only by entry index (`invalid JSON in entry 7: ...`)."""
    words = [("N" if w.rstrip(";:,").isdigit() else w) for w in reason.split()]
    return " ".join(words)[:160]


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the worklog says, before rendering."""

    service: str
    """Service the entries came from (or configured)."""
    project: str
    """Google Cloud project, when known."""
    source: SourceInfo
    """How the entries were read."""
    window_start: datetime | None
    """Start of the window (asked for, else the earliest entry)."""
    window_end: datetime | None
    """End of the window (asked for, else the latest entry)."""
    entries: EntryStats
    """Read / analysed / skipped counts."""
    severity_counts: Mapping[Severity, int]
    """Analysed entries per severity."""
    findings: tuple[Finding, ...]
    """Clusters with priorities, ordered by priority then count (most urgent first)."""
    gate: Gate
    """The verdict."""
    base_filter: str
    """Cloud Logging filter for the service and window (clusters AND their own clause to it)."""
    baseline: str = ""
    """What the findings were compared against (empty without a baseline)."""
    gone: tuple[Gone, ...] = ()
    """Baseline clusters absent now."""
    state: RunState | None = None
    """What the next run needs to compare against this one (`--state`)."""
