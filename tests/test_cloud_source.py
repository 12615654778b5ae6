"""CloudLoggingSource against the fake Logging API: pages, order, the cap, faults, progress.

The real google-cloud-logging connection and google-auth talk HTTP to `tests/fakes/google.py`.
Retries use a fake clock so backoff is checked without waiting for it.
"""

from __future__ import annotations

import copy
import io
import json
import random
from datetime import timedelta
from typing import Any

import pytest

from gardener.auth import AuthSettings
from gardener.errors import ExitCode, UpstreamError
from gardener.model import Severity
from gardener.sources import ORIGIN_KEY
from gardener.sources.cloud_logging import CloudLoggingSource
from gardener.sources.live_fetch import RetryPolicy
from gardener.sources.live_query import LiveQuery
from tests.fakes.clock import FakeClock
from tests.fakes.google import (
    POOL_SET,
    PROJECT,
    PROVIDER_NAME,
    REPOSITORY,
    SERVICE,
    SERVICE_ACCOUNT,
    T0,
    FakeGoogle,
    fake_google,
    google_error,
    loopback_only,
    rfc3339,
    sample_entries,
)

__all__ = ["fake_google", "loopback_only"]  # fixtures, imported for pytest

FEDERATED = f"{POOL_SET}/attribute.repository/{REPOSITORY}"



def source(fake: FakeGoogle, *, service_account: str = "", clock: FakeClock | None = None,
           policy: RetryPolicy | None = None, env: dict[str, str] | None = None,
           progress: Any = None, **fields: Any) -> CloudLoggingSource:
    query = LiveQuery(**{"project": PROJECT, "service": SERVICE, "start": T0,
                         "end": T0 + timedelta(hours=2), **fields})
    clock = clock or FakeClock()
    return CloudLoggingSource(
        query, auth=AuthSettings(PROVIDER_NAME, service_account, fake.sts.url, fake.iam.url),
        env=fake.env() if env is None else env, endpoint=fake.logging.url, policy=policy,
        progress=progress, sleep=clock.sleep, clock=clock, rng=random.Random(5))


def read_all(src: CloudLoggingSource) -> list[dict[str, Any]]:
    return list(src.read())  # type: ignore[arg-type]


def test_entries_come_back_exactly_as_the_api_sent_them(fake_google: FakeGoogle) -> None:
    entries = sample_entries(300)
    entries[10] = {"insertId": "audit-1", "timestamp": rfc3339(T0 + timedelta(seconds=7)),
                   "severity": "NOTICE", "logName": f"projects/{PROJECT}/logs/cloudaudit."
                   "googleapis.com%2Factivity", "resource": entries[0]["resource"],
                   "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                                    "methodName": "google.cloud.run.v1.Services.ReplaceService",
                                    "status": {"code": 7, "message": "denied"}},
                   "operation": {"id": "op-1", "first": True}, "spanId": "000000000000004a",
                   "split": {"uid": "u1", "index": 0, "totalSplits": 2}}
    fake_google.set_entries(copy.deepcopy(entries))
    got = read_all(source(fake_google))
    origins = [entry.pop(ORIGIN_KEY) for entry in got]
    assert origins == [f"cloud-logging#{i}" for i in range(300)]
    by_id = {e["insertId"]: e for e in entries}
    assert sorted(got, key=lambda e: e["insertId"]) == sorted(by_id.values(),
                                                              key=lambda e: e["insertId"])
    assert any("httpRequest" in e and "textPayload" not in e and "jsonPayload" not in e
               for e in got)


def test_newest_first_across_both_passes_with_nanosecond_timestamps(
        fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(2500))
    got = read_all(source(fake_google))
    stamps = [e["timestamp"] for e in got]
    fractional = [s[:19] + "." + s[19:-1].lstrip(".").ljust(9, "0") for s in stamps]
    assert fractional == sorted(fractional, reverse=True)
    assert len(got) == 2500 and len({e["insertId"] for e in got}) == 2500


def test_pages_of_1000_newest_first_with_page_tokens(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(4321))
    src = source(fake_google, max_entries=100_000)
    got = read_all(src)
    calls = [c.body for c in fake_google.list_calls()]
    assert len(got) == 4321
    assert all(b["pageSize"] == 1000 and b["orderBy"] == "timestamp desc" for b in calls)
    assert all(b["resourceNames"] == [f"projects/{PROJECT}"] for b in calls)
    severe = [b for b in calls if b["filter"].endswith("AND severity>=WARNING")]
    rest = [b for b in calls if b["filter"].endswith("AND NOT severity>=WARNING")]
    assert len(severe) == 1 and len(rest) == 4 and len(calls) == 5
    assert "pageToken" not in rest[0] and all("pageToken" in b for b in rest[1:])
    assert src.stats.calls == 5 and src.stats.pages == 5 and src.stats.retries == 0
    info = src.info()
    assert not info.truncated and info.notes[0] == "read 4,321 entries with 5 entries.list " \
        "calls (0 retried)"


def test_the_cap_never_crowds_out_rare_errors(fake_google: FakeGoogle) -> None:
    chatter = [{"insertId": f"i{i}", "severity": "INFO", "textPayload": f"tick {i}",
                "timestamp": rfc3339(T0 + timedelta(minutes=30, seconds=i))} for i in range(5000)]
    errors = [{"insertId": f"e{i}", "severity": "ERROR", "textPayload": "disk full",
               "timestamp": rfc3339(T0 + timedelta(seconds=i))} for i in range(3)]
    for entry in chatter + errors:
        entry["resource"] = {"type": "cloud_run_revision", "labels": {"service_name": SERVICE}}
    fake_google.set_entries(chatter + errors)
    src = source(fake_google, max_entries=1500)
    got = read_all(src)
    assert len(got) == 1500
    # Newest-first alone would have read only INFO: every error is older than all of those.
    assert {e["insertId"] for e in got if e["severity"] == "ERROR"} == {"e0", "e1", "e2"}
    assert got[-1]["insertId"] == "e0"  # merged back into time order
    info = src.info()
    assert info.truncated
    assert "all 3 entries at WARNING and above were read, then the newest 1,497 of the rest" \
        in info.notes[1]


def test_errors_alone_filling_the_cap(fake_google: FakeGoogle) -> None:
    errors = sample_entries(400)
    for entry in errors:
        entry["severity"] = "ERROR"
    fake_google.set_entries(errors)
    exact = source(fake_google, max_entries=400)
    assert len(read_all(exact)) == 400 and not exact.info().truncated  # one probe: no INFO
    assert fake_google.list_calls()[-1].body["pageSize"] == 1
    fake_google.set_entries(errors + sample_entries(5, start=T0 + timedelta(hours=1)))
    for entry in fake_google.entries[-5:]:
        entry["severity"] = "INFO"
    fake_google.set_entries(fake_google.entries)
    capped = source(fake_google, max_entries=400)
    assert len(read_all(capped)) == 400
    assert capped.info().truncated and "entries below WARNING were not read" in \
        capped.info().notes[1]
    fewer = source(fake_google, max_entries=100)
    assert len(read_all(fewer)) == 100 and "alone reached it" in fewer.info().notes[1]


def test_min_severity_at_warning_reads_in_one_pass(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(3000))
    src = source(fake_google, min_severity=Severity.ERROR, max_entries=50)
    got = read_all(src)
    assert len(got) == 50 and all(e["severity"] == "ERROR" for e in got)
    bodies = [c.body for c in fake_google.list_calls()]
    assert len(bodies) == 1 and bodies[0]["filter"] == src.filter
    assert src.filter.endswith("severity>=ERROR") and src.info().truncated
    assert "the newest 50 matching entries were read" in src.info().notes[1]


def test_default_severity_entries_are_not_lost_between_passes(fake_google: FakeGoogle) -> None:
    entries = sample_entries(200)
    fake_google.set_entries(entries)
    got = read_all(source(fake_google))
    assert sum("severity" not in e for e in got) == sum("severity" not in e for e in entries) > 0


def test_429_then_success_resumes_the_same_page(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(3500))
    fake_google.fail(429, times=2, after=2)
    clock = FakeClock()
    src = source(fake_google, clock=clock)
    got = read_all(src)
    assert len(got) == 3500
    bodies = [c.body for c in fake_google.list_calls()]
    assert bodies[2] == bodies[3] == bodies[4] and "pageToken" in bodies[2]
    assert src.stats.retries == 2 and src.stats.calls == len(bodies) == src.stats.pages + 2
    assert 1.0 <= clock.sleeps[0] <= 2.0 and 2.0 <= clock.sleeps[1] <= 4.0  # backoff + jitter
    assert "(2 retried)" in src.info().notes[0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(fake_google: FakeGoogle, status: int) -> None:
    fake_google.set_entries(sample_entries(50))
    fake_google.fail(status)
    src = source(fake_google)
    assert len(read_all(src)) == 50 and src.stats.retries == 1


def test_503_storm_past_the_deadline_fails_with_exit_code_3(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(2500))
    fake_google.fail(503, times=10_000, after=1)
    clock = FakeClock()
    src = source(fake_google, clock=clock, policy=RetryPolicy(deadline_s=60))
    with pytest.raises(UpstreamError) as caught:
        read_all(src)
    err = caught.value
    assert err.exit_code == ExitCode.UPSTREAM
    assert "503 UNAVAILABLE" in err.what and "The service is currently unavailable" in err.what
    assert sum(clock.sleeps) <= 60 and len(clock.sleeps) >= 4
    attempts = len(fake_google.list_calls()) - 1
    assert f"({attempts} attempts at one page" in err.what
    ceilings = [min(32.0, 2.0 * 2 ** n) for n in range(len(clock.sleeps))]
    assert all(c / 2 <= s <= c for s, c in zip(clock.sleeps, ceilings, strict=True))


def test_quota_exhaustion_says_so(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(10))
    fake_google.fail(429, times=1000)
    with pytest.raises(UpstreamError) as caught:
        read_all(source(fake_google, policy=RetryPolicy(deadline_s=100)))
    assert "RESOURCE_EXHAUSTED" in caught.value.what and "quota" in caught.value.cause
    assert "--max-entries" in caught.value.fix


def test_403_names_the_role_and_the_federated_principal(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(10))
    fake_google.viewers = set()
    with pytest.raises(UpstreamError) as caught:
        read_all(source(fake_google))
    err = caught.value
    assert "roles/logging.viewer" in err.what and FEDERATED in err.what
    assert f"gcloud projects add-iam-policy-binding {PROJECT} --member='{FEDERATED}' " \
        "--role=roles/logging.viewer" in err.fix
    assert "logging.logEntries.list" in err.cause
    assert len(fake_google.list_calls()) == 1  # a 403 is not retried


def test_403_on_data_access_logs_names_the_private_role_and_service_account(
        fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(10))
    src = source(fake_google, service_account=SERVICE_ACCOUNT,
                 extra_filter='logName:"cloudaudit.googleapis.com%2Fdata_access"')
    with pytest.raises(UpstreamError) as caught:
        read_all(src)
    assert "roles/logging.privateLogViewer" in caught.value.what
    assert f"serviceAccount:{SERVICE_ACCOUNT}" in caught.value.what


def test_400_on_a_bad_filter_names_the_filter(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(10))
    src = source(fake_google, extra_filter='jsonPayload.message="unclosed')
    with pytest.raises(UpstreamError) as caught:
        read_all(src)
    err = caught.value
    assert "rejected the filter" in err.what and "Unparseable filter" in err.what
    assert 'jsonPayload.message="unclosed' in err.cause and src.filter in err.cause
    assert "--filter" in err.fix and "console.cloud.google.com/logs/query" in err.fix
    assert len(fake_google.list_calls()) == 1


def test_slow_page_times_out_and_is_asked_again(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(1500))
    fake_google.stall(1.0, after=1)
    src = source(fake_google, policy=RetryPolicy(request_timeout_s=0.3))
    assert len(read_all(src)) == 1500 and src.stats.retries == 1


def test_pages_that_are_always_too_slow_give_up_at_the_deadline(
        fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(10))
    fake_google.stall(0.5, times=100)
    clock = FakeClock()
    with pytest.raises(UpstreamError, match="ReadTimeout"):
        read_all(source(fake_google, clock=clock,
                        policy=RetryPolicy(request_timeout_s=0.1, deadline_s=10)))
    assert len(clock.sleeps) >= 2


def test_many_slow_pages(fake_google: FakeGoogle) -> None:
    entries = sample_entries(12_000, step_ms=500)
    fake_google.set_entries(entries)
    fake_google.slow_pages = 0.02
    src = source(fake_google, max_entries=12_000)
    got = read_all(src)
    assert len(got) == 12_000 and len({e["insertId"] for e in got}) == 12_000
    severe = sum(e.get("severity") in ("WARNING", "ERROR") for e in entries)
    assert src.stats.calls == -(-severe // 1000) + -(-(12_000 - severe) // 1000)
    assert not src.info().truncated


@pytest.mark.parametrize("service_account, exchanges, impersonations", [
    ("", 2, 0),  # a new OIDC token from GitHub, exchanged again
    (SERVICE_ACCOUNT, 1, 2),  # the federated token is still good: only IAM is asked again
])
def test_expired_token_mid_run_is_refreshed(fake_google: FakeGoogle, service_account: str,
                                            exchanges: int, impersonations: int) -> None:
    fake_google.set_entries(sample_entries(3500))
    fake_google.expire_tokens_after(2)
    src = source(fake_google, service_account=service_account)
    assert len(read_all(src)) == 3500
    assert fake_google.count("oidc") == exchanges and fake_google.count("sts") == exchanges
    assert fake_google.count("iam") == impersonations
    # The 401 is answered inside google-auth's session: refresh, then the same call again.
    assert len(fake_google.list_calls()) == src.stats.calls + 1


def test_progress_on_a_terminal_only(fake_google: FakeGoogle) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake_google.set_entries(sample_entries(2500))
    env = {k: v for k, v in fake_google.env().items() if k not in ("CI", "GITHUB_ACTIONS")}
    shown = Terminal()
    read_all(source(fake_google, env=env, progress=shown))
    text = shown.getvalue()
    assert "\rgardener: Cloud Logging: 2,500 entries, 4 pages" in text and text.endswith("\n")
    quiet_ci, not_a_tty = Terminal(), io.StringIO()
    read_all(source(fake_google, progress=quiet_ci))  # CI=true in the job's environment
    read_all(source(fake_google, env=env, progress=not_a_tty))
    assert quiet_ci.getvalue() == "" and not_a_tty.getvalue() == ""


def test_gke_selector_reads_only_selected_pods(fake_google: FakeGoogle) -> None:
    entries = []
    for i, (app, ns) in enumerate([("web", "shop"), ("web", "other"), ("worker", "shop")] * 5):
        entries.append({"insertId": f"g{i}", "timestamp": rfc3339(T0 + timedelta(seconds=i)),
                        "severity": "ERROR", "jsonPayload": {"message": "boom"},
                        "resource": {"type": "k8s_container", "labels": {
                            "project_id": PROJECT, "cluster_name": "prod-1",
                            "namespace_name": ns, "container_name": "app",
                            "pod_name": f"{app}-7d9f-{i}", "location": "us-central1"}},
                        "labels": {"k8s-pod/app": app, "compute.googleapis.com/resource_name":
                                   "gke-node-1"}})
    fake_google.set_entries(entries)
    got = read_all(source(fake_google, service="", gke_cluster="prod-1", namespace="shop",
                          selector="app=web"))
    assert sorted(e["insertId"] for e in got) == ["g0", "g12", "g3", "g6", "g9"]


def test_no_entries_is_not_an_error_but_is_noted(fake_google: FakeGoogle) -> None:
    src = source(fake_google)
    assert read_all(src) == []
    info = src.info()
    assert not info.truncated and "no entry matched the filter" in info.notes[-1]
    assert json.dumps(info.notes)  # plain strings for the worklog


def test_logging_api_disabled(fake_google: FakeGoogle) -> None:
    fake_google.fail(403, body=google_error(
        403, "Cloud Logging API has not been used in project 123456789012 before or it is "
        "disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
        "logging.googleapis.com/overview?project=123456789012 then retry.", "PERMISSION_DENIED",
        reason="SERVICE_DISABLED", domain="googleapis.com",
        metadata={"service": "logging.googleapis.com", "consumer": "projects/123456789012"}))
    with pytest.raises(UpstreamError) as caught:
        read_all(source(fake_google))
    assert "Cloud Logging API is disabled" in caught.value.what
    assert caught.value.fix == f"gcloud services enable logging.googleapis.com --project={PROJECT}"


def test_auth_failures_surface_from_read_with_their_fix(fake_google: FakeGoogle) -> None:
    fake_google.repositories = set()
    with pytest.raises(UpstreamError, match="attribute condition") as caught:
        read_all(source(fake_google))
    assert caught.value.exit_code == ExitCode.UPSTREAM
    assert fake_google.list_calls() == []  # no token, no Logging call


def test_unknown_project(fake_google: FakeGoogle) -> None:
    fake_google.fail(404, body=google_error(404, "Project 'nope-123' not found.", "NOT_FOUND"))
    with pytest.raises(UpstreamError, match="not found") as caught:
        read_all(source(fake_google))
    assert "--project" in caught.value.fix


def test_html_502_storm_gives_a_short_message(fake_google: FakeGoogle) -> None:
    fake_google.fail(502, times=1000)
    with pytest.raises(UpstreamError) as caught:
        read_all(source(fake_google, policy=RetryPolicy(deadline_s=30)))
    assert "HTTP 502" in caught.value.what and "That’s an error." in caught.value.what
    assert "\n" not in caught.value.what and len(caught.value.what) < 600


def test_reading_twice_reports_the_second_read(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(20))
    src = source(fake_google)
    assert len(read_all(src)) == len(read_all(src)) == 20
    assert len(src.info().notes) == 2 and src.info().notes[0].startswith("read 20 entries")


@pytest.mark.parametrize(("body", "said"), [
    ([], "JSON a list"), ("<html>Sign in to the Wi-Fi</html>", "not JSON"),
    ({"entries": {"a": 1}}, "not a list of LogEntry"), ({"entries": [None]}, "not a list"),
])
def test_a_200_that_is_not_an_entries_page_is_exit_3(fake_google: FakeGoogle, body: Any,
                                                     said: str) -> None:
    """A proxy or a wrong endpoint answering 200: `[]` read as "no entries" and the gate passed
    (exit 0) with no log read; HTML or odd entries were an internal error (exit 4)."""
    fake_google.set_entries(sample_entries(5))
    fake_google.fail(200, body=body)
    with pytest.raises(UpstreamError) as caught:
        read_all(source(fake_google))
    assert caught.value.exit_code == ExitCode.UPSTREAM
    assert said in caught.value.what and "endpoint" in caught.value.fix
