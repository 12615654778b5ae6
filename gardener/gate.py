"""The gate: `--fail-on` conditions, parsed strictly, and the verdict they give on findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gardener.errors import ConfigError
from gardener.model import Finding, Gate, Priority

STATUSES = ("new", "spiking")
FAIL_ON_HELP = ("a comma-separated list of P0..P4 (a cluster at that priority or more urgent), "
                "new>=Pn, spiking>=Pn, or `never`; e.g. `P0` (default), `P1,new>=P2`")


@dataclass(frozen=True, slots=True)
class Condition:
    """Fails the gate when an unmuted finding with `status` (any if None) is at `priority` or
    more urgent."""

    priority: Priority
    """The least urgent priority that still fails."""
    status: str | None = None
    """`new` or `spiking` to look only at changed clusters; None for every cluster."""

    def __str__(self) -> str:
        return f"{self.status}>={self.priority.name}" if self.status else self.priority.name

    def holds(self, finding: Finding) -> bool:
        """Whether `finding` meets this condition."""
        return (not finding.muted and finding.priority <= self.priority
                and (self.status is None or finding.status == self.status))


def parse_fail_on(text: str) -> tuple[Condition, ...]:
    """`P1,new>=P2` -> conditions; `never` -> none. ConfigError names the bad part and the fix."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ConfigError("--fail-on is empty", fix=f"use {FAIL_ON_HELP}")
    if [p.lower() for p in parts] == ["never"]:
        return ()
    conditions = []
    for part in parts:
        prefix, _, level = part.rpartition(">=")
        status = prefix.strip().lower() or None
        if status is not None and status not in STATUSES:
            raise ConfigError(f"--fail-on: unknown condition {part!r}", fix=f"use {FAIL_ON_HELP}")
        try:
            conditions.append(Condition(Priority.parse(level), status))
        except ValueError:
            raise ConfigError(f"--fail-on: unknown condition {part!r}",
                              fix=f"use {FAIL_ON_HELP}") from None
    return tuple(conditions)


def decide(findings: Sequence[Finding], fail_on: str, *, readable: bool = True,
           labels: Sequence[str] = ()) -> Gate:
    """The verdict: failed if any condition holds for any finding, or nothing could be read.

    `labels` names each finding for the reasons (e.g. `C1`), in the same order as `findings`.
    """
    conditions = parse_fail_on(fail_on)
    if not readable:
        return Gate(fail_on, False, ("no log entry could be read, so the deploy cannot be "
                                     "judged",))
    reasons = []
    for i, finding in enumerate(findings):
        met = [str(c) for c in conditions if c.holds(finding)]
        if met:
            name = labels[i] if i < len(labels) else f"#{i + 1}"
            status = f", {finding.status}" if finding.status else ""
            count = finding.cluster.count
            reasons.append(f"{name} ({finding.priority.name}{status}, {count:,} "
                           f"entr{'y' if count == 1 else 'ies'}) meets {' and '.join(met)}: "
                           f"{finding.title}")
    return Gate(fail_on, not reasons, tuple(reasons))
