"""The live query: filters (Cloud Run, GKE, selectors, severity, window), flags and their errors."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gardener.errors import ConfigError
from gardener.model import Severity
from gardener.sources.cloud_logging import (
    DEFAULT_LOGGING_ENDPOINT,
    add_live_arguments,
    live_source_from_args,
)
from gardener.sources.live_query import (
    LiveQuery,
    build_filter,
    logs_explorer_url,
    parse_duration,
    parse_timestamp,
    selector_filter,
)
from tests.fakes.google import compile_filter

START = datetime(2025, 9, 15, 23, 46, 21, tzinfo=UTC)
END = START + timedelta(hours=1)
NOW = datetime(2025, 9, 16, 1, 0, 0, 654321, tzinfo=UTC)


def query(**fields: Any) -> LiveQuery:
    return LiveQuery(**{"project": "netra-staging", "start": START, "end": END, **fields})


def gke_entry(labels: dict[str, str], container: str = "web") -> dict[str, Any]:
    return {"timestamp": "2025-09-15T23:50:00Z", "severity": "ERROR",
            "resource": {"type": "k8s_container",
                         "labels": {"cluster_name": "prod-1", "namespace_name": "shop",
                                    "container_name": container}},
            "labels": {f"k8s-pod/{k}": v for k, v in labels.items()}}


def test_cloud_run_filter_is_exact_and_bounds_time_on_both_sides() -> None:
    text = build_filter(query(service="netra-backend-staging", revision="r-00042",
                              min_severity=Severity.INFO, extra_filter='textPayload:"db" OR x=1'))
    assert text == ('resource.type="cloud_run_revision" AND '
                    'resource.labels.service_name="netra-backend-staging" AND '
                    'resource.labels.revision_name="r-00042" AND '
                    'timestamp>="2025-09-15T23:46:21Z" AND timestamp<="2025-09-16T00:46:21Z" AND '
                    'severity>=INFO AND (textPayload:"db" OR x=1)')


def test_default_severity_adds_no_clause_and_offsets_become_utc() -> None:
    plus_two = datetime(2025, 9, 16, 1, 46, 21, tzinfo=datetime.fromisoformat(
        "2025-01-01T00:00:00+02:00").tzinfo)
    text = build_filter(query(service="api", start=plus_two, end=plus_two + timedelta(minutes=5),
                              min_severity=Severity.DEFAULT))
    assert "severity" not in text
    assert 'timestamp>="2025-09-15T23:46:21Z" AND timestamp<="2025-09-15T23:51:21Z"' in text


def test_extra_or_filter_cannot_widen_the_resource_clause() -> None:
    text = build_filter(query(service="api", extra_filter='severity=ERROR OR textPayload:"x"'))
    test = compile_filter(text)
    other_service = {"timestamp": "2025-09-15T23:50:00Z", "severity": "ERROR",
                     "resource": {"type": "cloud_run_revision",
                                  "labels": {"service_name": "other"}}}
    same_service = {**other_service, "resource": {"type": "cloud_run_revision",
                                                  "labels": {"service_name": "api"}}}
    assert test(same_service) and not test(other_service)


def test_gke_filter_with_selector_matches_only_the_selected_pods() -> None:
    text = build_filter(query(gke_cluster="prod-1", namespace="shop",
                              selector="app=web,tier!=db,app.kubernetes.io/part-of in (shop,cart)"
                              ",!canary"))
    assert 'resource.type="k8s_container"' in text
    assert 'labels."k8s-pod/app_kubernetes_io/part-of"="shop"' in text
    test = compile_filter(text)
    base = {"app": "web", "app_kubernetes_io/part-of": "cart"}
    assert test(gke_entry(base))
    assert test(gke_entry({**base, "tier": "api"}))
    assert not test(gke_entry({**base, "tier": "db"}))
    assert not test(gke_entry({**base, "canary": "true"}))
    assert not test(gke_entry({"app": "web", "app_kubernetes_io/part-of": "billing"}))
    assert not test(gke_entry({"app": "worker", "app_kubernetes_io/part-of": "shop"}))


@pytest.mark.parametrize("selector, clause", [
    ("app", 'labels."k8s-pod/app":*'),
    ("!app", 'NOT labels."k8s-pod/app":*'),
    ("app==web", 'labels."k8s-pod/app"="web"'),
    ("env notin (a, b)", 'NOT (labels."k8s-pod/env"="a" OR labels."k8s-pod/env"="b")'),
])
def test_selector_forms(selector: str, clause: str) -> None:
    assert selector_filter(selector) == clause


@pytest.mark.parametrize("selector", ["", "app=", "=web", "app in ()", "app=a b", "app=(x)",
                                      "bad key=1", "app=" + "x" * 64])
def test_bad_selectors_name_the_flag(selector: str) -> None:
    if selector == "app=":  # an empty value is legal in Kubernetes
        assert selector_filter(selector) == 'labels."k8s-pod/app"=""'
        return
    with pytest.raises(ConfigError, match="--selector"):
        selector_filter(selector)


@given(st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), min_size=1, max_size=40))
def test_any_service_name_is_quoted_so_it_matches_itself_only(name: str) -> None:
    test = compile_filter(build_filter(query(service=name)))
    entry = {"timestamp": "2025-09-15T23:50:00Z",
             "resource": {"type": "cloud_run_revision", "labels": {"service_name": name}}}
    assert test(entry)
    entry["resource"]["labels"]["service_name"] = name + "x"  # type: ignore[index]
    assert not test(entry)


def test_window_validation() -> None:
    with pytest.raises(ConfigError, match="window is empty"):
        query(start=END, end=START)
    with pytest.raises(ConfigError, match="time zone"):
        query(start=START.replace(tzinfo=None))
    with pytest.raises(ConfigError, match="--max-entries"):
        query(max_entries=0)


def test_filter_length_limit() -> None:
    with pytest.raises(ConfigError, match="20,000"):
        build_filter(query(service="a", extra_filter="x" * 20_000))


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("1h", 3600), ("2h30m", 9000),
                                           ("1d", 86400), ("90s", 90), (" 1W ", 604800)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["1 hour", "1.5h", "h", "-1h", "0m", "", "60"])
def test_bad_durations_name_the_flag_and_fix(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_duration(text)
    assert "--since" in caught.value.what and "1h" in caught.value.fix


def test_timestamps() -> None:
    assert parse_timestamp("2025-09-15T23:46:21Z", "--start") == START
    assert parse_timestamp("2025-09-16T01:46:21+02:00", "--start") == START
    assert parse_timestamp("2025-09-15T23:46:21.123456789Z", "--start") == START.replace(
        microsecond=123456)
    for bad in ("2025-09-15T23:46:21", "2025-09-15", "yesterday", "23:46:21Z"):
        with pytest.raises(ConfigError, match="--end"):
            parse_timestamp(bad, "--end")


def test_logs_explorer_url_opens_the_same_query_and_window() -> None:
    url = logs_explorer_url("netra-staging", 'severity>=ERROR AND textPayload:"a;b"', START, END)
    assert url.startswith("https://console.cloud.google.com/logs/query;query=severity%3E%3DERROR")
    assert "%3B" in url and ";startTime=2025-09-15T23:46:21Z;endTime=2025-09-16T00:46:21Z" in url
    assert url.endswith("?project=netra-staging")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_live_arguments(parser.add_argument_group("live"))
    return parser.parse_args(argv)


def test_no_project_means_no_live_source() -> None:
    assert live_source_from_args(parse("--service", "api"), {}) is None
    assert live_source_from_args(argparse.Namespace(), {}) is None


def test_flags_build_the_source_and_flags_beat_env_endpoints() -> None:
    env = {"GARDENER_LOGGING_ENDPOINT": "http://127.0.0.1:9001/",
           "GARDENER_STS_ENDPOINT": "http://127.0.0.1:9002",
           "GARDENER_IAM_ENDPOINT": "http://127.0.0.1:9003"}
    source = live_source_from_args(parse(
        "--project", "netra-staging", "--service", "api", "--since", "2h", "--min-severity",
        "warn", "--max-entries", "20_000", "--iam-endpoint", "https://iam.example.com"),
        env, now=NOW)
    assert source is not None
    assert source.endpoint == "http://127.0.0.1:9001"
    assert source.auth.sts_endpoint == "http://127.0.0.1:9002"
    assert source.auth.iam_endpoint == "https://iam.example.com"
    assert source.query.start == datetime(2025, 9, 15, 23, 0, tzinfo=UTC)
    assert source.query.end == datetime(2025, 9, 16, 1, 0, tzinfo=UTC)
    assert source.query.min_severity is Severity.WARNING and source.query.max_entries == 20_000
    assert source.policy.deadline_s == 120
    info = source.info()
    assert info.kind == "cloud-logging" and info.filter == source.filter
    assert "severity>=WARNING" in info.filter and not info.truncated


def test_retry_deadline_flag() -> None:
    source = live_source_from_args(parse("--project", "p-12345", "--service", "a",
                                         "--retry-deadline", "5m"), {}, now=NOW)
    assert source is not None and source.policy.deadline_s == 300


def test_defaults() -> None:
    source = live_source_from_args(parse("--project", "p-12345", "--gke-cluster", "c"), {},
                                   now=NOW)
    assert source is not None and source.endpoint == DEFAULT_LOGGING_ENDPOINT
    assert source.query.end - source.query.start == timedelta(hours=1)
    assert source.query.max_entries == 5_000 and source.query.min_severity is None


@pytest.mark.parametrize("argv, flag", [
    (["--since", "an hour"], "--since"),
    (["--since", "1h", "--start", "2025-09-15T23:46:21Z"], "--since"),
    (["--end", "2025-09-15T23:46:21Z"], "--end"),
    (["--start", "2025-09-15 23:46"], "--start"),
    (["--start", "2025-09-16T01:00:00Z", "--end", "2025-09-15T23:00:00Z"], "window is empty"),
    (["--min-severity", "LOUD"], "--min-severity"),
    (["--max-entries", "ten"], "--max-entries"),
    (["--max-entries", "0"], "--max-entries"),
    (["--logging-endpoint", "http://logging.example.com"], "--logging-endpoint"),
    (["--sts-endpoint", "ftp://127.0.0.1"], "--sts-endpoint"),
    (["--revision", "r1", "--service", ""], "--revision"),
    (["--gke-cluster", "c1"], "--service"),
    (["--retry-deadline", "soon"], "--retry-deadline"),
    (["--deployed-at", "2025-09-16T00:00:00Z", "--end", "2025-09-15T23:00:00Z"], "--end"),
    (["--deployed-at", "2025-09-16T02:00:00Z"], "--deployed-at"),
    (["--deployed-at", "2025-09-16T00:00:00Z", "--since", "1h"], "--deployed-at"),
    (["--logging-endpoint", "https://logging.example.com/v2/entries"], "--logging-endpoint"),
    (["--iam-endpoint", "https://iam.example.com/v2"], "--iam-endpoint"),
])
def test_bad_flags_are_config_errors_naming_the_flag(argv: list[str], flag: str) -> None:
    args = parse("--project", "netra-staging", "--service", "api", *argv)
    with pytest.raises(ConfigError) as caught:
        live_source_from_args(args, {}, now=NOW)
    assert flag in caught.value.what
    assert caught.value.exit_code == 2


def test_nothing_to_read_and_bad_project() -> None:
    with pytest.raises(ConfigError, match="not what to read"):
        live_source_from_args(parse("--project", "netra-staging"), {}, now=NOW)
    with pytest.raises(ConfigError, match="not a project id"):
        live_source_from_args(parse("--project", "My Project", "--service", "a"), {}, now=NOW)
    only_filter = live_source_from_args(parse("--project", "netra-staging", "--filter",
                                              'logName:"syslog"'), {}, now=NOW)
    assert only_filter is not None and only_filter.filter.endswith('(logName:"syslog")')


def test_deployed_at_starts_the_window_and_end_ends_it() -> None:
    source = live_source_from_args(parse(
        "--project", "netra-staging", "--service", "api", "--deployed-at",
        "2025-09-16T00:00:00.1234567Z", "--end", "2025-09-16T00:30:00Z"), {}, now=NOW)
    assert source is not None
    assert (source.query.start, source.query.start_ns) == (
        datetime(2025, 9, 16, 0, 0, 0, 123456, tzinfo=UTC), 700)
    assert source.query.end == datetime(2025, 9, 16, 0, 30, tzinfo=UTC)
    assert 'timestamp>="2025-09-16T00:00:00.123456700Z" AND timestamp<="2025-09-16T00:30:00Z"' \
        in source.filter
    without_end = live_source_from_args(parse(
        "--project", "netra-staging", "--service", "api", "--deployed-at",
        "2025-09-16T00:00:00Z"), {}, now=NOW)
    assert without_end is not None and without_end.query.end == NOW.replace(microsecond=0)


def test_a_copied_api_version_is_dropped_from_endpoints() -> None:
    env = {"GARDENER_LOGGING_ENDPOINT": "https://logging.example.com/v2/",
           "GARDENER_STS_ENDPOINT": "https://sts.example.com/v1"}
    source = live_source_from_args(parse("--project", "netra-staging", "--service", "api",
                                         "--iam-endpoint", "https://iam.example.com/V1"),
                                   env, now=NOW)
    assert source is not None and source.endpoint == "https://logging.example.com"
    assert source.auth.sts_endpoint == "https://sts.example.com"
    assert source.auth.iam_endpoint == "https://iam.example.com"
    with pytest.raises(ConfigError) as caught:
        live_source_from_args(parse("--project", "netra-staging", "--service", "api"),
                              {"GARDENER_LOGGING_ENDPOINT": "https://proxy.example.com/logs"})
    assert "GARDENER_LOGGING_ENDPOINT" in caught.value.what
    assert "GARDENER_LOGGING_ENDPOINT=https://proxy.example.com" in caught.value.fix
