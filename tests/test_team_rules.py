"""`.gardener.yml` team rules (errors carry file:line:column and a fix) and default P0-P4."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gardener.clusters import ClusterBuilder
from gardener.config import load_config, parse_config
from gardener.entries import parse_entry
from gardener.errors import ConfigError
from gardener.folding import fold
from gardener.model import Cluster, LogEntry, Priority, Severity
from gardener.rules import DEFAULT_RULES, Rule, prioritise

T0 = datetime(2025, 9, 15, 23, 46, tzinfo=UTC)


def where(text: str, needle: str) -> str:
    """`line:column` (1-based) of the first `needle` in `text`."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{column}"


def config_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "team/.gardener.yml")
    assert info.value.fix, "every config error says the fix"
    return info.value


RULE = "rules:\n  - name: r\n    match: {match}\n    set: {set}\n"


def rule_text(match: str = "{template: x}", action: str = "{priority: P1}") -> str:
    return RULE.replace("{match}", match).replace("{set}", action)


@pytest.mark.parametrize(("text", "needle", "what", "fix"), [
    (rule_text().replace("match:", "mtach:"), "mtach", "unknown key 'mtach'", "match, name"),
    (rule_text("{templat: x}"), "templat", "unknown key 'templat'", "template"),
    (rule_text('{template: "(unclosed"}'), '"(unclosed', "bad regex", "fix the pattern"),
    (rule_text(action="{priority: P9}"), "P9", "unknown priority 'P9'", "README"),
    (rule_text("{severity: LOUD}"), "LOUD", "unknown severity 'LOUD'", "README"),
    (rule_text("{severity: '>=LOUD'}"), "'>=LOUD'", "unknown severity", "README"),
    (rule_text(action="{mute: 'yes'}"), "'yes'", "expected true or false", "true or false"),
    (rule_text("{template: x, min_count: many}"), "many", "expected an integer", "whole number"),
    (rule_text("{min_share: 2}"), "2}", "min_share must be a number from 0 to 1", "0.05"),
    (rule_text(action="{labels: {a: 1}}"), "{a: 1}", "expected a list", "YAML list"),
    (rule_text("{fields: {error.type: 1}}"), "1}", "expected a non-empty string", "quote"),
    (rule_text("{status: [new, old]}"), "[new, old]", "unknown status ['old']", "spiking"),
    (rule_text("{}"), "{}", "`match` is empty", "at least one condition"),
    (rule_text(action="{}"), "{}\n", "`set` is empty", "priority, title, labels, mute"),
    ("rules: {a: 1}\n", "{a: 1}", "expected a list", "YAML list"),
    ("rules: [1]\n", "1]", "expected a mapping", "db-timeouts"),
    ("version: 2\n", "2", "unsupported version", "version: 1"),
    ("samples: 99\n", "99", "expected an integer from 0 to 20", "whole number"),
    ("rules:\n  - name: r\n    set: {priority: P1}\n", "name", "has no `match`", "db-timeouts"),
])
def test_config_errors_point_at_the_offending_spot(text: str, needle: str, what: str,
                                                   fix: str) -> None:
    err = config_error(text)
    assert err.what.startswith(f"team/.gardener.yml:{where(text, needle)}: "), err.what
    assert what in err.what
    assert fix in err.fix


@pytest.mark.parametrize(("text", "line"), [
    ("rules:\n  - match: {template: [x\n", 3),
    ("rules:\n\t- name: a\n", 2),
    ("rules:\n  - name: a\n    name: b\n    match: {template: x}\n    set: {mute: true}\n", 3),
])
def test_invalid_yaml_has_a_position(text: str, line: int) -> None:
    err = config_error(text)
    assert re.match(rf"team/\.gardener\.yml:{line}:\d+: not valid YAML", err.what), err.what
    assert "indentation" in err.fix


def test_unreadable_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "missing.yml"))
    assert "cannot read" in info.value.what and "--config" in info.value.fix


GOOD = """\
version: 1
fail_on: "P1,new>=P2"
service: orders
samples: 5
rules:
  - name: db-timeouts
    match: {template: "Database initialization timeout", severity: ">=ERROR"}
    set: {priority: P0, title: "Database start-up timeout", labels: [database]}
  - name: noisy-healthz
    match:
      template: "GET /healthz"
      resource: {type: cloud_run_revision, labels: {service_name: orders}}
    set: {mute: true}
    reason: health checks are expected
  - match: {logger: "^sqlalchemy", status_class: [5xx, "429"]}
    set: {labels: [db, sql]}
"""


def test_good_file_gives_rules_in_order(tmp_path: Path) -> None:
    path = tmp_path / ".gardener.yml"
    path.write_text(GOOD)
    config = load_config(str(path))
    assert [r.name for r in config.rules] == ["team:db-timeouts", "team:noisy-healthz",
                                              "team:rule-3"]
    first, second, third = config.rules
    assert first.priority is Priority.P0 and first.title == "Database start-up timeout"
    assert first.labels == ("database",)
    assert first.match.severities == frozenset(s for s in Severity if s >= Severity.ERROR)
    assert first.match.template is not None and first.match.template.search("DATABASE init"
                                                                            "ialization timeout")
    assert second.mute is True and second.priority is None
    assert second.reason == "health checks are expected"
    assert second.match.resource_type == "cloud_run_revision"
    assert second.match.resource_labels == {"service_name": "orders"}
    assert third.match.status_classes == frozenset({"5xx", "429"})
    assert third.labels == ("db", "sql")
    assert (config.fail_on, config.service, config.samples) == ("P1,new>=P2", "orders", 5)
    assert parse_config("").rules == ()


def sample(message: str, severity: Severity = Severity.INFO) -> LogEntry:
    return LogEntry(insert_id="i1", timestamp=T0, severity=severity, message=message,
                    mining_text=message)


def cluster(template: str, severity: Severity = Severity.INFO, *, count: int = 10,
            samples: tuple[str, ...] = (), exceptions: tuple[str, ...] = (),
            status_classes: tuple[str, ...] = (), loggers: tuple[str, ...] = (),
            fields: dict[tuple[str, str], int] | None = None,
            resource: tuple[str, dict[str, str]] = ("cloud_run_revision",
                                                    {"service_name": "orders"})) -> Cluster:
    return Cluster(
        fingerprint=f"fp-{abs(hash(template)) % 10**8}", template=template, count=count,
        first_seen=T0, last_seen=T0, severity_counts={severity: count},
        resources={(resource[0], tuple(sorted(resource[1].items()))): count},
        source_locations={}, loggers=dict.fromkeys(loggers, count),
        exception_types=dict.fromkeys(exceptions, count),
        status_classes=dict.fromkeys(status_classes, count),
        field_values=fields or {}, minute_counts={T0: count},
        samples=tuple(sample(m, severity) for m in samples or (template,)),
        insert_ids=tuple(f"i{n}" for n in range(count)))


def team(text: str) -> tuple[Rule, ...]:
    return parse_config(text).rules


def test_team_rule_overrides_a_default_priority() -> None:
    c = cluster("CRITICAL STARTUP FAILURE: Database initialization timeout after <*>",
                Severity.CRITICAL)
    assert prioritise(c, (), 100).priority is Priority.P0
    rules = team(rule_text("{template: 'initialization timeout'}",
                           "{priority: P3, title: Known slow start}"))
    finding = prioritise(c, rules, 100)
    assert finding.priority is Priority.P3
    assert finding.rule == "team:r" and finding.reason == "team rule 'r'"
    assert finding.title == "Known slow start"


def test_title_labels_and_mute() -> None:
    c = cluster("GET /healthz 2xx", Severity.INFO)
    plain = prioritise(c, (), 10)
    assert plain.title == "GET /healthz 2xx" and not plain.muted and plain.labels == ()
    finding = prioritise(c, team(rule_text("{template: healthz}",
                                           "{mute: true, labels: [probe, noise]}")), 10)
    assert finding.muted and finding.labels == ("probe", "noise")
    assert finding.priority is Priority.P4  # a rule without priority leaves it to the defaults


def test_min_count_and_min_share() -> None:
    rules = team(rule_text("{template: slow, min_count: 50}", "{priority: P1}"))
    assert prioritise(cluster("slow query", count=50), rules, 1000).priority is Priority.P1
    assert prioritise(cluster("slow query", count=49), rules, 1000).priority is Priority.P4
    share = team(rule_text("{template: slow, min_share: 0.1}", "{priority: P2}"))
    assert prioritise(cluster("slow query", count=100), share, 1000).priority is Priority.P2
    assert prioritise(cluster("slow query", count=99), share, 1000).priority is Priority.P4


def test_fields_dotted_payload_path_on_real_entries() -> None:
    rules = team(rule_text("{fields: {error.type: '^Stripe', http.method: POST}}",
                           "{priority: P1, labels: [payments]}"))
    builder = ClusterBuilder(field_paths=[p for r in rules for p in r.match.fields])

    def add(kind: str, method: str) -> None:
        raw: dict[str, Any] = {"timestamp": "2025-09-15T23:46:21Z", "severity": "INFO",
                               "jsonPayload": {"message": f"charge declined by {kind}",
                                               "error": {"type": kind},
                                               "http": {"method": method}}}
        entry = parse_entry(raw, "t#0")
        assert isinstance(entry, LogEntry)
        builder.add(entry)

    add("StripeCardError", "POST")
    add("StripeCardError", "POST")
    clusters = builder.build()
    assert len(clusters) == 1
    assert ("error.type", "StripeCardError") in clusters[0].field_values
    finding = prioritise(clusters[0], rules, 2)
    assert finding.priority is Priority.P1 and finding.labels == ("payments",)
    other = cluster("charge declined by <*>",
                    fields={("error.type", "AdyenError"): 2, ("http.method", "POST"): 2})
    assert prioritise(other, rules, 2).priority is Priority.P4


def test_status_condition() -> None:
    rules = team(rule_text("{template: cache, status: [new, spiking]}", "{priority: P1}"))
    c = cluster("cache miss")
    assert prioritise(c, rules, 10, "new").priority is Priority.P1
    assert prioritise(c, rules, 10, "spiking").priority is Priority.P1
    assert prioritise(c, rules, 10, "known").priority is Priority.P4
    assert prioritise(c, rules, 10, "").priority is Priority.P4


def test_resource_logger_exception_and_status_class_conditions() -> None:
    rules = team(rule_text("{resource: {type: k8s_container, labels: {namespace_name: shop}}, "
                           "logger: '^sqlalchemy', exception: Operational}", "{priority: P0}"))
    k8s = ("k8s_container", {"namespace_name": "shop", "cluster_name": "prod"})
    hit = cluster("db error", loggers=("sqlalchemy.engine",),
                  exceptions=("sqlalchemy.exc.OperationalError",), resource=k8s)
    assert prioritise(hit, rules, 10).priority is Priority.P0
    wrong_ns = cluster("db error", loggers=("sqlalchemy.engine",),
                       exceptions=("sqlalchemy.exc.OperationalError",),
                       resource=("k8s_container", {"namespace_name": "billing"}))
    assert prioritise(wrong_ns, rules, 10).priority is Priority.P4
    only_429 = team(rule_text("{status_class: '429'}", "{priority: P0}"))
    assert prioritise(cluster("GET /x 4xx", status_classes=("429",)), only_429, 1).priority \
        is Priority.P0
    assert prioritise(cluster("GET /x 4xx", status_classes=("404",)), only_429, 1).priority \
        is Priority.P4


def test_first_matching_rule_per_attribute_wins_and_labels_add_up() -> None:
    rules = team("""\
rules:
  - name: first
    match: {template: timeout}
    set: {labels: [db], title: First title}
  - name: second
    match: {template: timeout}
    set: {priority: P2, title: Second title, mute: false, labels: [db, slow]}
  - name: third
    match: {template: timeout}
    set: {priority: P0, mute: true, labels: [late]}
  - name: unrelated
    match: {template: nothing-like-this}
    set: {priority: P0, labels: [never]}
""")
    finding = prioritise(cluster("query timeout on orders", Severity.ERROR), rules, 10)
    assert finding.priority is Priority.P2 and finding.rule == "team:second"
    assert finding.title == "First title"
    assert finding.muted is False
    assert finding.labels == ("db", "slow", "late")


@pytest.mark.parametrize(("template", "severity", "extra", "priority", "rule"), [
    ("Container called exit(3).", Severity.ERROR, {}, Priority.P0, "default:crash-loop"),
    ("STARTUP TCP probe failed 1 time consecutively for container \"api-1\" on port 8080. "
     "The instance was not started.", Severity.ERROR, {}, Priority.P0, "default:failed-probe"),
    ("Container api in pod api-7d9 was OOMKilled", Severity.WARNING, {}, Priority.P0,
     "default:out-of-memory"),
    ("Memory limit of 512 MiB exceeded with 530 MiB used.", Severity.ERROR, {}, Priority.P0,
     "default:out-of-memory"),
    ("cache warm", Severity.CRITICAL, {}, Priority.P0, "default:critical"),
    ("CRITICAL STARTUP FAILURE: Database initialization timeout after 8.0s in staging",
     Severity.ERROR, {}, Priority.P0, "default:startup-timeout"),
    ("Database initialization timeout after 8.0s", Severity.ERROR, {}, Priority.P0,
     "default:startup-timeout"),
    ("panic at main.(*Server).lookup", Severity.ERROR, {"exceptions": ("panic",)}, Priority.P0,
     "default:go-panic"),
    ("KeyError at svc/store.py in load", Severity.ERROR, {"exceptions": ("KeyError",)},
     Priority.P1, "default:unhandled-exception"),
    ("order 17 could not be priced", Severity.ERROR, {}, Priority.P1, "default:error"),
    ("GET /api/users/<*>/orders 5xx", Severity.DEFAULT, {"status_classes": ("5xx",)},
     Priority.P1, "default:server-error"),
    ("Failed to refresh exchange rates, retrying in 5s", Severity.WARNING, {}, Priority.P2,
     "default:broken-warning"),
    ("SERVICE_ID environment variable contains trailing whitespace", Severity.WARNING, {},
     Priority.P3, "default:hygiene"),
    ("Sentry SDK not available", Severity.WARNING, {}, Priority.P3, "default:hygiene"),
    ("Sentry SDK not available", Severity.INFO, {}, Priority.P3, "default:hygiene"),
    ("GET /api/users/<*> 4xx", Severity.WARNING, {"status_classes": ("4xx",)}, Priority.P3,
     "default:warning"),
    ("Request completed in <*> ms", Severity.INFO, {}, Priority.P4, "default:normal"),
    ("Started server process [<*>]", Severity.NOTICE, {}, Priority.P4, "default:normal"),
])
def test_default_rules(template: str, severity: Severity, extra: dict[str, Any],
                       priority: Priority, rule: str) -> None:
    finding = prioritise(cluster(template, severity, **extra), (), 100)
    assert (finding.priority, finding.rule) == (priority, rule)
    assert finding.reason


def test_startup_timeout_needs_at_least_a_warning() -> None:
    c = cluster("Database initialization timeout after <*>", Severity.INFO)
    assert prioritise(c, (), 10).rule != "default:startup-timeout"


def test_template_regex_also_sees_the_sample_messages() -> None:
    masked = cluster("Container called <*>", Severity.ERROR,
                     samples=("Container called exit(3).",))
    assert prioritise(masked, (), 10).priority is Priority.P0
    without = cluster("Container called <*>", Severity.INFO, samples=("Container called home.",))
    assert prioritise(without, (), 10).priority is Priority.P4
    rules = team(rule_text("{template: 'feature flag beta_checkout is False'}", "{priority: P1}"))
    flag = cluster("feature flag <*> is <*>", samples=("feature flag beta_checkout is False",))
    assert prioritise(flag, rules, 10).priority is Priority.P1


def test_default_rules_are_named_and_ordered_by_urgency() -> None:
    priorities = [r.priority for r in DEFAULT_RULES]
    assert all(p is not None for p in priorities)
    assert priorities == sorted(priorities, key=lambda p: p if p is not None else 9)
    assert all(r.name.startswith("default:") for r in DEFAULT_RULES)


FOLDED = [r for r in DEFAULT_RULES if r.match.template is not None]
_LOOKALIKES = {"s": "ſS", "i": "ıİI", "k": "\u212aK"}
"""Letters an IGNORECASE regex takes for s, i and k: long s, dotless i, dotted capital I, the
Kelvin sign."""


def test_default_template_rules_search_folded_text_with_lower_case_regexes() -> None:
    """`Match.folded` is sound only for a lower-case regex without IGNORECASE (an upper-case
    escape such as `\\S` would change meaning if it were lowered)."""
    assert FOLDED
    for rule in FOLDED:
        regex = rule.match.template
        assert regex is not None and rule.match.folded, rule.name
        assert not regex.flags & re.IGNORECASE and regex.pattern == regex.pattern.lower()


@st.composite
def rule_texts(draw: st.DrawFn) -> str:
    """Words the default rules look for, in any case, with look-alike letters and other text
    around them."""
    words = ["container called exit(", "exited with code 3", "crashloopbackoff", "out of memory",
             "startup probe failed", "health check failed", "initialization", "timeout",
             "deadline exceeded", "deprecated", "not configured", "no redis configured",
             "falling back", "unhandled", "uncaught", "retrying", "couldn't", "self-signed",
             "worker 7 was killed", "memory limit of 512 mib exceeded", "warm up timed out"]
    parts = draw(st.lists(st.one_of(st.sampled_from(words), st.text(max_size=12)),
                          min_size=1, max_size=5))
    text = " ".join(parts)
    out = []
    for ch in text:
        choice = draw(st.integers(0, 3))
        if ch in _LOOKALIKES and choice == 3:
            out.append(draw(st.sampled_from(_LOOKALIKES[ch])))
        else:
            out.append(ch.upper() if choice == 1 else ch)
    return "".join(out)


@given(rule_texts())
def test_folded_search_finds_what_a_case_insensitive_regex_finds(text: str) -> None:
    for rule in FOLDED:
        regex = rule.match.template
        assert regex is not None
        blind = re.compile(regex.pattern, re.IGNORECASE)
        found = regex.search(fold(text))
        expected = blind.search(text)
        assert (found is None) == (expected is None), (rule.name, text)
        if found and expected:  # offsets line up: the folded text is as long as the text
            assert found.span() == expected.span(), (rule.name, text)


def test_folding_keeps_every_character_one_character() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert len(fold(every)) == len(every)
    assert fold("Baſic ıNITİAL \u212aill") == "basic initial kill"
