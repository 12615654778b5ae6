"""Transient failures of the token endpoints a refresh calls: GitHub's OIDC token endpoint,
Google STS and IAM Credentials' generateAccessToken. A 429/5xx or a dropped connection is retried
within `--retry-deadline` and, when it persists, reported as an outage (exit 3), not as a
permission problem; a 400/401/403/404 still fails at once with the permission advice.

Real google-auth and google-cloud-logging against `tests/fakes/google.py`; a fake clock makes
the backoff instant.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
import types
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from google.auth import exceptions as auth_exceptions

from gardener.auth import AuthSettings, LocalOnlyRequest, resolve_identity
from gardener.cli import main
from gardener.errors import ExitCode, UpstreamError
from gardener.sources.cloud_logging import CloudLoggingSource
from gardener.sources.live_fetch import RetryPolicy
from gardener.sources.live_query import LiveQuery
from tests.fakes.clock import FakeClock
from tests.fakes.google import (
    PROJECT,
    PROVIDER_NAME,
    REQUEST_TOKEN,
    RESET,
    SERVICE,
    SERVICE_ACCOUNT,
    T0,
    FakeGoogle,
    fake_google,
    loopback_only,
    sample_entries,
)

__all__ = ["fake_google", "loopback_only"]  # fixtures, imported for pytest

TRANSIENT = (429, 500, 502, 503, 504)
ENDPOINT_NAMES = {"oidc": "GitHub's OIDC token endpoint", "sts": "Google STS",
                  "iam": "IAM Credentials API"}
PERMISSION_WORDS = ("permission", "id-token", "workload identity provider", "--service-account",
                    "roles/")



def source(fake: FakeGoogle, *, service_account: str = "", provider: str = PROVIDER_NAME,
           clock: FakeClock | None = None, policy: RetryPolicy | None = None,
           env: dict[str, str] | None = None) -> CloudLoggingSource:
    query = LiveQuery(project=PROJECT, service=SERVICE, start=T0, end=T0 + timedelta(hours=2))
    clock = clock or FakeClock()
    return CloudLoggingSource(
        query, auth=AuthSettings(provider, service_account, fake.sts.url, fake.iam.url),
        env=fake.env() if env is None else env, endpoint=fake.logging.url, policy=policy,
        sleep=clock.sleep, clock=clock, rng=random.Random(7))


def read_all(src: CloudLoggingSource) -> list[dict[str, Any]]:
    return list(src.read())  # type: ignore[arg-type]


def wif_with(service: str) -> str:
    """The --service-account a read needs for `service` to be called at all."""
    return SERVICE_ACCOUNT if service == "iam" else ""


# --- one failure, then success: the read goes on ---------------------------------------------


def test_one_503_from_sts_then_success_reads_the_entries(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(40))
    fake_google.fail(503, service="sts")
    src = source(fake_google)
    assert len(read_all(src)) == 40
    assert fake_google.count("sts") == 2 and fake_google.count("oidc") == 2
    assert src.stats.retries == 1 and "(1 retried)" in src.info().notes[0]


def test_429_from_the_oidc_endpoint_then_success(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(40))
    fake_google.fail(429, service="oidc")
    clock = FakeClock()
    src = source(fake_google, clock=clock)
    assert len(read_all(src)) == 40
    assert fake_google.count("oidc") == 2 and fake_google.count("sts") == 1
    assert len(clock.sleeps) == 1 and 1.0 <= clock.sleeps[0] <= 2.0  # the Logging backoff


def test_503_from_iam_then_success_does_not_exchange_again(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(40))
    fake_google.fail(503, service="iam")
    src = source(fake_google, service_account=SERVICE_ACCOUNT)
    assert len(read_all(src)) == 40
    assert fake_google.count("iam") == 2
    assert fake_google.count("sts") == 1  # the federated token was still good


@pytest.mark.parametrize("service", ["oidc", "sts", "iam"])
@pytest.mark.parametrize("status", TRANSIENT)
def test_every_transient_status_at_every_token_endpoint_is_retried(
        fake_google: FakeGoogle, service: str, status: int) -> None:
    fake_google.set_entries(sample_entries(10))
    fake_google.fail(status, times=2, service=service)
    src = source(fake_google, service_account=wif_with(service))
    assert len(read_all(src)) == 10
    assert fake_google.count(service) == 3 and src.stats.retries == 2


@pytest.mark.parametrize("service", ["oidc", "sts", "iam"])
def test_a_dropped_connection_at_a_token_endpoint_is_retried(fake_google: FakeGoogle,
                                                             service: str) -> None:
    fake_google.set_entries(sample_entries(10))
    fake_google.fail(RESET, service=service)
    src = source(fake_google, service_account=wif_with(service))
    assert len(read_all(src)) == 10 and fake_google.count(service) == 2


def test_a_token_endpoint_slower_than_the_request_timeout_is_asked_again(
        fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(10))
    fake_google.stall(1.0, service="sts")
    src = source(fake_google, policy=RetryPolicy(request_timeout_s=0.3))
    assert len(read_all(src)) == 10 and fake_google.count("sts") == 2


def test_a_credentials_file_from_google_github_actions_auth_is_retried_too(
        fake_google: FakeGoogle, tmp_path: Path) -> None:
    env = fake_google.env()
    info = {"type": "external_account", "audience": f"//iam.googleapis.com/{PROVIDER_NAME}",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": "https://sts.googleapis.com/v1/token",
            "credential_source": {
                "url": env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=" +
                f"https://iam.googleapis.com/{PROVIDER_NAME}",
                "headers": {"Authorization": f"Bearer {REQUEST_TOKEN}"},
                "format": {"type": "json", "subject_token_field_name": "value"}}}
    path = tmp_path / "gha-creds-0123456789abcdef.json"
    path.write_text(json.dumps(info))
    fake_google.set_entries(sample_entries(10))
    fake_google.fail(503, times=2, service="oidc")
    src = source(fake_google, provider="", env={**env, "GOOGLE_APPLICATION_CREDENTIALS":
                                                str(path)})
    assert len(read_all(src)) == 10 and fake_google.count("oidc") == 3


# --- it persists: an outage, named, bounded by the deadline ----------------------------------


def test_sts_503_forever_is_an_outage_not_a_permission_problem(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(10))
    fake_google.fail(503, times=10_000, service="sts")
    clock = FakeClock()
    with pytest.raises(UpstreamError) as caught:
        read_all(source(fake_google, clock=clock, policy=RetryPolicy(deadline_s=60)))
    err = caught.value
    attempts = fake_google.count("sts")
    assert err.exit_code == ExitCode.UPSTREAM
    assert "Google STS" in err.what and f"{fake_google.sts.url}/v1/token" in err.what
    assert "HTTP 503 UNAVAILABLE" in err.what and "unavailable" in err.what
    assert f"{attempts} attempts over {clock.now:.0f} s" in err.what
    assert 4 <= attempts == len(clock.sleeps) + 1 and sum(clock.sleeps) <= 60
    assert "it said: The service is currently unavailable" in err.cause
    assert "run again later" in err.fix and "--retry-deadline" in err.fix
    assert not any(word in err.diagnostics() for word in PERMISSION_WORDS), err.diagnostics()
    assert fake_google.list_calls() == []


@pytest.mark.parametrize("service, status, said", [
    ("oidc", 429, "rate-limited"), ("iam", 502, "unavailable"), ("oidc", RESET, "unreachable"),
])
def test_each_endpoint_is_named_when_it_stays_down(fake_google: FakeGoogle, service: str,
                                                   status: int, said: str) -> None:
    fake_google.fail(status, times=10_000, service=service)
    clock = FakeClock()
    with pytest.raises(UpstreamError) as caught:
        read_all(source(fake_google, clock=clock, service_account=wif_with(service),
                        policy=RetryPolicy(deadline_s=20)))
    err = caught.value
    assert err.what.startswith(ENDPOINT_NAMES[service]) and said in err.what, err.what
    assert f"{fake_google.count(service)} attempts" in err.what
    assert "--retry-deadline" in err.fix and "\n" not in err.what and len(err.what) < 400
    assert not any(word in err.diagnostics() for word in PERMISSION_WORDS), err.diagnostics()


def run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    err = io.StringIO()
    code = main(["analyze", *argv], env, stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def test_cli_sts_outage_with_a_short_deadline_exits_3_quickly(fake_google: FakeGoogle,
                                                              tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.chdir(tmp_path)
    fake_google.set_entries(sample_entries(20))
    fake_google.fail(503, times=10_000, service="sts")
    started = time.monotonic()
    code, err = run(["--project", PROJECT, "--service", SERVICE, "--since", "1h",
                     "--workload-identity-provider", PROVIDER_NAME, "--service-account",
                     SERVICE_ACCOUNT, "--retry-deadline", "1s", "--json", "out.json"],
                    fake_google.env())
    assert code == ExitCode.UPSTREAM and time.monotonic() - started < 5
    assert "Google STS" in err and "HTTP 503" in err and "attempts over" in err
    assert "--retry-deadline" in err and "workload identity provider" not in err
    assert fake_google.count("sts") >= 3 and fake_google.count("iam") == 0
    assert not Path("out.json").exists()


# --- permanent refusals: no retry, the permission advice as before ---------------------------


def test_403_from_sts_is_not_retried(fake_google: FakeGoogle) -> None:
    fake_google.fail(403, service="sts", body={
        "error": "unauthorized_client",
        "error_description": "The given credential is rejected by the attribute condition."})
    clock = FakeClock()
    with pytest.raises(UpstreamError, match="attribute condition") as caught:
        read_all(source(fake_google, clock=clock))
    assert "assertion.repository==" in caught.value.fix
    assert fake_google.count("sts") == 1 and clock.sleeps == []


@pytest.mark.parametrize("service, said", [
    ("sts", "does not know the workload identity provider"),  # 400 invalid_target
    ("iam", "lacks roles/iam.workloadIdentityUser"),  # 403
    ("oidc", "GitHub did not issue an OIDC token"),  # 401
])
def test_refusals_fail_fast_with_the_permission_advice(fake_google: FakeGoogle, service: str,
                                                       said: str) -> None:
    env = fake_google.env()
    provider = PROVIDER_NAME
    if service == "sts":
        provider = PROVIDER_NAME.replace("my-repo", "old-repo")
    elif service == "iam":
        fake_google.service_accounts[SERVICE_ACCOUNT] = set()
    else:
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "expired-request-token"
    clock = FakeClock()
    with pytest.raises(UpstreamError, match=said):
        read_all(source(fake_google, clock=clock, provider=provider, env=env,
                        service_account=wif_with(service)))
    assert fake_google.count(service) == 1 and clock.sleeps == []


def test_a_404_from_iam_is_not_retried(fake_google: FakeGoogle) -> None:
    ghost = f"ghost@{PROJECT}.iam.gserviceaccount.com"
    with pytest.raises(UpstreamError, match="it does not exist"):
        read_all(source(fake_google, service_account=ghost))
    assert fake_google.count("iam") == 1


# --- what google-auth retries itself is not retried again ------------------------------------


def adc_key(fake: FakeGoogle, email: str) -> None:
    """A service-account key as ADC (its token endpoint is the fake's `/token`)."""
    folder = Path(os.environ["CLOUDSDK_CONFIG"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "application_default_credentials.json").write_text(
        json.dumps(fake.service_account_key(email)))


def test_the_oauth_token_endpoint_is_left_to_google_auths_own_retries(
        fake_google: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> None:
    # google-auth retries its OAuth token endpoint three times, sleeping 1 s and 2 s between
    # (real time): give it a clock of its own that does not wait.
    import google.auth._exponential_backoff as backoff
    monkeypatch.setattr(backoff, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    adc_key(fake_google, f"ci@{PROJECT}.iam.gserviceaccount.com")
    fake_google.fail(503, times=10_000, service="sts")
    clock = FakeClock()
    with pytest.raises(UpstreamError) as caught:
        read_all(source(fake_google, provider="", clock=clock, env={}))
    assert fake_google.count("sts", "/token") == 3  # google-auth's three, not three per page
    assert clock.sleeps == []
    err = caught.value
    assert "unavailable" in err.what and "3 attempts" in err.what, err.what
    assert "run again later" in err.fix


def test_adc_impersonation_retries_generate_access_token(fake_google: FakeGoogle) -> None:
    caller = f"ci@{PROJECT}.iam.gserviceaccount.com"
    adc_key(fake_google, caller)
    fake_google.service_accounts[SERVICE_ACCOUNT] = {f"serviceAccount:{caller}"}
    fake_google.set_entries(sample_entries(10))
    fake_google.fail(503, times=2, service="iam")
    src = source(fake_google, provider="", service_account=SERVICE_ACCOUNT, env={})
    assert len(read_all(src)) == 10 and fake_google.count("iam") == 3


# --- outside a read: a single refresh says the same ------------------------------------------


def test_a_single_refresh_reports_an_outage_not_a_permission_problem(
        fake_google: FakeGoogle) -> None:
    fake_google.fail(503, service="sts")
    identity = resolve_identity(fake_google.env(), AuthSettings(
        PROVIDER_NAME, "", fake_google.sts.url, fake_google.iam.url))
    with pytest.raises(auth_exceptions.GoogleAuthError) as caught:
        identity.credentials.refresh(LocalOnlyRequest())
    explained = identity.explain(caught.value)
    assert explained.exit_code == ExitCode.UPSTREAM
    assert "Google STS" in explained.what and "1 attempt" in explained.what
    assert not any(word in explained.diagnostics() for word in PERMISSION_WORDS)
