"""The gate (`--fail-on` grammar and verdict) and the baseline (new/spiking/known/gone)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from gardener.baseline import SPIKE_MIN_COUNT, Saved, binomial_tail, compare
from gardener.errors import ConfigError
from gardener.gate import Condition, decide, parse_fail_on
from gardener.model import Cluster, Finding, Priority, Severity

T0 = datetime(2025, 9, 15, 23, 46, tzinfo=UTC)


def cluster(fingerprint: str = "fp1", count: int = 3) -> Cluster:
    return Cluster(fingerprint=fingerprint, template=f"template {fingerprint}", count=count,
                   first_seen=T0, last_seen=T0, severity_counts={Severity.ERROR: count},
                   resources={}, source_locations={}, loggers={}, exception_types={},
                   status_classes={}, field_values={}, minute_counts={T0: count}, samples=(),
                   insert_ids=())


def finding(priority: Priority, status: str = "", *, muted: bool = False,
            count: int = 3) -> Finding:
    return Finding(cluster=cluster(count=count), priority=priority, title="Something broke",
                   rule="default:error", reason="r", muted=muted, status=status)


@pytest.mark.parametrize(("text", "expected"), [
    ("P0", (Condition(Priority.P0),)),
    (" p2 ", (Condition(Priority.P2),)),
    ("P1,new>=P1", (Condition(Priority.P1), Condition(Priority.P1, "new"))),
    ("spiking>=P0", (Condition(Priority.P0, "spiking"),)),
    ("P0, new >= P2 ,spiking>=P3", (Condition(Priority.P0), Condition(Priority.P2, "new"),
                                    Condition(Priority.P3, "spiking"))),
    ("never", ()),
    ("NEVER", ()),
])
def test_fail_on_grammar(text: str, expected: tuple[Condition, ...]) -> None:
    assert parse_fail_on(text) == expected


@pytest.mark.parametrize("text", ["", " , ", "P5", "p", "high", "old>=P1", "new>P1", "new>=",
                                  "new>=P9", "P1>=new", "never,P0", "known>=P1", "P0;P1"])
def test_bad_fail_on_raises_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_fail_on(text)
    assert "--fail-on" in info.value.what
    assert "new>=" in info.value.fix and "never" in info.value.fix


def test_condition_text_round_trips() -> None:
    conditions = parse_fail_on("P1,new>=P2,spiking>=P0")
    assert ",".join(str(c) for c in conditions) == "P1,new>=P2,spiking>=P0"


def test_priority_condition_fails_on_that_priority_or_more_urgent() -> None:
    findings = [finding(Priority.P2), finding(Priority.P1, count=1)]
    gate = decide(findings, "P1", labels=["C1", "C2"])
    assert not gate.passed
    assert gate.reasons == ("C2 (P1, 1 entry) meets P1: Something broke",)
    assert decide(findings, "P0").passed
    assert decide([finding(Priority.P0)], "P1").passed is False


def test_status_conditions_look_only_at_changed_clusters() -> None:
    known = finding(Priority.P1, "known")
    new = finding(Priority.P1, "new")
    spiking = finding(Priority.P0, "spiking", count=1200)
    assert decide([known], "new>=P1").passed
    assert not decide([new], "new>=P1").passed
    assert decide([new], "new>=P0").passed
    assert decide([new, known], "spiking>=P0").passed
    gate = decide([spiking], "P2,spiking>=P0", labels=["C9"])
    assert gate.reasons == ("C9 (P0, spiking, 1,200 entries) meets P2 and spiking>=P0: "
                            "Something broke",)
    assert decide([finding(Priority.P0)], "new>=P0").passed  # no baseline: no status


def test_muted_findings_never_fail() -> None:
    muted = finding(Priority.P0, "new", muted=True)
    for spec in ("P0", "P4", "new>=P4", "P4,new>=P4"):
        assert decide([muted], spec).passed, spec
    assert not decide([muted, finding(Priority.P0)], "P0").passed


def test_never_passes_everything_readable() -> None:
    gate = decide([finding(Priority.P0, "new")], "never")
    assert gate.passed and gate.reasons == () and gate.fail_on == "never"


@pytest.mark.parametrize("spec", ["never", "P0", "new>=P0"])
def test_unreadable_never_passes(spec: str) -> None:
    gate = decide([], spec, readable=False)
    assert not gate.passed
    assert "no log entry could be read" in gate.reasons[0]


def test_bad_spec_raises_even_when_unreadable() -> None:
    with pytest.raises(ConfigError):
        decide([], "P7", readable=False)


def saved(fingerprint: str, count: int) -> Saved:
    return Saved(fingerprint, f"template {fingerprint}", count)


def test_no_baseline_means_no_status() -> None:
    changes, gone = compare([cluster("a", 5)], None)
    assert changes == {} and gone == []
    assert changes.status_of("a") == ""
    plain = finding(Priority.P1)
    assert changes.annotate(plain) is plain


def test_new_cluster() -> None:
    changes, gone = compare([cluster("a", 2)], [saved("b", 7)])
    change = changes["a"]
    assert (change.status, change.baseline_count, change.rate_ratio) == ("new", 0, None)
    assert gone[0].fingerprint == "b" and gone[0].baseline_count == 7
    assert gone[0].template == "template b"


def test_five_to_four_hundred_is_spiking() -> None:
    changes, _ = compare([cluster("a", 400)], [saved("a", 5)])
    change = changes["a"]
    assert change.status == "spiking"
    assert change.baseline_count == 5 and change.rate_ratio == 80.0
    assert change.p_value < 1e-100
    annotated = changes.annotate(replace(finding(Priority.P1), cluster=cluster("a", 400)))
    assert (annotated.status, annotated.baseline_count, annotated.rate_ratio) == \
        ("spiking", 5, 80.0)
    assert annotated.spike_score == change.p_value


def test_steady_noise_is_known() -> None:
    changes, _ = compare([cluster("a", 1030)], [saved("a", 1000)])
    change = changes["a"]
    assert change.status == "known" and change.rate_ratio == 1.03
    assert change.p_value > 0.2


def test_one_to_three_is_not_a_spike() -> None:
    changes, _ = compare([cluster("a", 3)], [saved("a", 1)])
    change = changes["a"]
    assert change.status == "known" and change.rate_ratio == 3.0
    assert change.p_value == pytest.approx(5 / 16)


def test_spike_needs_a_minimum_count() -> None:
    below = SPIKE_MIN_COUNT - 1
    changes, _ = compare([cluster("a", below)], [saved("a", 0 + 1)],
                         now_seconds=1.0, before_seconds=1000.0)
    assert changes["a"].p_value < 0.001 and changes["a"].status == "known"


def test_gone_clusters_sorted_by_baseline_count() -> None:
    _, gone = compare([cluster("keep", 1)],
                      [saved("keep", 1), saved("small", 2), saved("big", 90), saved("mid", 9)])
    assert [(g.fingerprint, g.baseline_count) for g in gone] == \
        [("big", 90), ("mid", 9), ("small", 2)]


def test_window_lengths_weigh_rates() -> None:
    hour, day = 3600.0, 86400.0
    # 20 per hour now against 20 in a whole day before: the rate rose 24 times.
    changes, _ = compare([cluster("a", 20)], [saved("a", 20)], now_seconds=hour,
                         before_seconds=day)
    assert changes["a"].status == "spiking" and changes["a"].rate_ratio == 24.0
    # The same counts over equal windows: no change.
    same, _ = compare([cluster("a", 20)], [saved("a", 20)])
    assert same["a"].status == "known" and same["a"].rate_ratio == 1.0
    # Ten times the entries over ten times the time: the same rate.
    longer, _ = compare([cluster("a", 400)], [saved("a", 40)], now_seconds=10 * hour,
                        before_seconds=hour)
    assert longer["a"].status == "known" and longer["a"].rate_ratio == 1.0


def exact_tail(k: int, n: int, p: Fraction) -> float:
    """P(X >= k), X ~ Binomial(n, p), summed exactly for small n; for large n by the term
    recurrence t(i+1) = t(i) (n-i)/(i+1) p/(1-p) from the mode (a path unlike the code's)."""
    if n <= 500:
        a, b = p.numerator, p.denominator - p.numerator
        return float(Fraction(sum(math.comb(n, i) * a ** i * b ** (n - i)
                                  for i in range(k, n + 1)), p.denominator ** n))
    q, mode = float(p), int(n * p)
    terms = {mode: 1.0}
    for i in range(mode, n):
        terms[i + 1] = terms[i] * (n - i) / (i + 1) * q / (1 - q)
    for i in range(mode, 0, -1):
        terms[i - 1] = terms[i] * i / (n - i + 1) * (1 - q) / q
    return sum(v for i, v in terms.items() if i >= k) / sum(terms.values())


@pytest.mark.parametrize(("k", "n", "p", "expected"), [
    (3, 4, 0.5, 5 / 16),                                    # (4 + 1) / 16
    (5, 5, 0.5, 1 / 32),                                    # p ** n
    (1, 3, 0.5, 7 / 8),                                     # 1 - (1/2) ** 3
    (2, 10, 0.1, 1 - 0.9 ** 10 - 10 * 0.1 * 0.9 ** 9),     # 0.2639010709
    (1, 1, 0.25, 0.25),
    (0, 7, 0.3, 1.0),
    (-2, 7, 0.3, 1.0),
    (8, 7, 0.3, 0.0),
])
def test_binomial_tail_exact(k: int, n: int, p: float, expected: float) -> None:
    assert binomial_tail(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_binomial_tail_exact_tiny_values_do_not_underflow_to_garbage() -> None:
    value = binomial_tail(400, 405, 0.5)
    assert 0 < value < 1e-100
    assert value == pytest.approx(exact_tail(400, 405, Fraction(1, 2)), rel=1e-9)


@pytest.mark.parametrize(("k", "n", "p", "expected"), [
    # Normal approximation with continuity correction, z = (k - 0.5 - np) / sqrt(np(1-p)):
    (5000, 10000, "1/2", 0.5039893563),   # z = -0.01   -> Phi(0.01)
    (5100, 10000, "1/2", 0.0232954678),   # z = 1.99    -> 1 - Phi(1.99)
    (2950, 6000, "1/2", 0.9038669089),    # z = -1.3039 -> Phi(1.3039); 6000 > the exact limit
    (2100, 10000, "1/5", 0.0064322),      # z = 99.5 / 40 = 2.4875 -> 1 - Phi(2.4875)
])
def test_binomial_tail_normal_approximation(k: int, n: int, p: str, expected: float) -> None:
    value = binomial_tail(k, n, float(Fraction(p)))
    assert value == pytest.approx(expected, abs=1e-6)
    assert value == pytest.approx(exact_tail(k, n, Fraction(p)), abs=2e-3)  # and a good one


def test_binomial_tail_is_monotone_in_k() -> None:
    values = [binomial_tail(k, 50, 0.3) for k in range(0, 52)]
    assert values == sorted(values, reverse=True)
    assert values[0] == 1.0 and values[-1] == 0.0
