"""What changed with this deploy: new, spiking, known and gone clusters against a baseline window.

A spike is decided by a test for two Poisson rates (the conditional binomial test): given
`n` = now + before entries, under "no change" the entries now are
Binomial(n, t_now / (t_now + t_before)).
A cluster is spiking when that test's one-sided p-value is below `SPIKE_P_VALUE`, it has at
least `SPIKE_MIN_COUNT` entries now, and its rate rose at least `SPIKE_MIN_RATIO` times.
So 1 -> 3 is noise (p = 0.31) while 5 -> 400 is a spike (p < 1e-100).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from gardener.model import Finding

SPIKE_P_VALUE = 0.001
SPIKE_MIN_COUNT = 10
SPIKE_MIN_RATIO = 2.0
_EXACT_LIMIT = 5000  # above this many entries the normal approximation is accurate enough


@dataclass(frozen=True, slots=True)
class Change:
    """A cluster's change against the baseline."""

    status: str
    """`new`, `spiking` or `known`."""
    baseline_count: int
    """Its entries in the baseline."""
    rate_ratio: float | None
    """Rate now / rate before (None when new)."""
    p_value: float
    """One-sided p-value of "the rate did not rise"."""


@dataclass(frozen=True, slots=True)
class Gone:
    """A baseline cluster with no entry now."""

    fingerprint: str
    """Its fingerprint."""
    template: str
    """Its template."""
    baseline_count: int
    """Its entries in the baseline."""


class Changes(dict[str, Change]):
    """Change per fingerprint, able to annotate findings."""

    def status_of(self, fingerprint: str) -> str:
        """`new`, `spiking`, `known`, or '' without a baseline."""
        change = self.get(fingerprint)
        return change.status if change else ""

    def annotate(self, finding: Finding) -> Finding:
        """The finding with its status, baseline count and test figures."""
        change = self.get(finding.cluster.fingerprint)
        if change is None:
            return finding
        return replace(finding, status=change.status, baseline_count=change.baseline_count,
                       rate_ratio=change.rate_ratio, spike_score=change.p_value)


class Counted(Protocol):
    """A cluster as far as comparison cares: a live `Cluster` or one saved by a previous run."""

    @property
    def fingerprint(self) -> str: ...

    @property
    def template(self) -> str: ...

    @property
    def count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Saved:
    """A cluster of a previous run, as saved in the state file."""

    fingerprint: str
    """Its fingerprint."""
    template: str
    """Its template."""
    count: int
    """Its entries in that run."""


def compare(now: Sequence[Counted], before: Sequence[Counted] | None, *,
            now_seconds: float = 1.0, before_seconds: float = 1.0) -> tuple[Changes, list[Gone]]:
    """Statuses for `now`'s clusters and the baseline clusters that are gone.

    Window lengths weigh the rates; with equal windows they cancel out.
    """
    changes = Changes()
    if before is None:
        return changes, []
    previous = {c.fingerprint: c for c in before}
    for cluster in now:
        old = previous.get(cluster.fingerprint)
        changes[cluster.fingerprint] = _change(cluster.count, old.count if old else 0,
                                               now_seconds, before_seconds)
    current = {c.fingerprint for c in now}
    gone = [Gone(c.fingerprint, c.template, c.count) for c in before
            if c.fingerprint not in current]
    gone.sort(key=lambda g: (-g.baseline_count, g.template))
    return changes, gone


def _change(count: int, baseline: int, now_s: float, before_s: float) -> Change:
    share = now_s / (now_s + before_s)
    p_value = binomial_tail(count, count + baseline, share)
    if baseline == 0:
        return Change("new", 0, None, p_value)
    ratio = (count / now_s) / (baseline / before_s)
    spiking = p_value < SPIKE_P_VALUE and count >= SPIKE_MIN_COUNT and ratio >= SPIKE_MIN_RATIO
    return Change("spiking" if spiking else "known", baseline, round(ratio, 2), p_value)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if n > _EXACT_LIMIT:
        mean, sd = n * p, math.sqrt(n * p * (1 - p))
        return 0.5 * math.erfc((k - 0.5 - mean) / (sd * math.sqrt(2)))
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
             + i * log_p + (n - i) * log_q for i in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))
