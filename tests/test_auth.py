"""Credentials: WIF from the Actions OIDC token (with and without impersonation), a credentials
file, ADC, and the messages each failure gives. Real google-auth against the fake services."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google.auth.credentials
import pytest
from google.auth import exceptions as auth_exceptions

from gardener.auth import (
    AuthSettings,
    Identity,
    LocalOnlyRequest,
    authorized_session,
    check_endpoint,
    credentials_from_env,
    parse_provider,
    resolve_identity,
)
from gardener.errors import ConfigError, ExitCode, GardenerError, UpstreamError
from gardener.sources.google_errors import TokenEndpointFailure
from tests.fakes.google import (
    POOL_SET,
    PROJECT,
    PROVIDER_NAME,
    REPOSITORY,
    REQUEST_TOKEN,
    RESET,
    SERVICE_ACCOUNT,
    FakeGoogle,
    fake_google,
    loopback_only,
)

__all__ = ["fake_google", "loopback_only"]  # fixtures, imported for pytest

FEDERATED = f"{POOL_SET}/attribute.repository/{REPOSITORY}"


def settings(fake: FakeGoogle, provider: str = PROVIDER_NAME,
             service_account: str = "") -> AuthSettings:
    return AuthSettings(provider, service_account, fake.sts.url, fake.iam.url)


def refresh(identity: Identity) -> str:
    """Get a token the way a read does, translating failures the way a read does."""
    try:
        identity.credentials.refresh(LocalOnlyRequest())
    except auth_exceptions.GoogleAuthError as err:
        raise identity.explain(err) from err
    return str(identity.credentials.token)


def test_wif_exchanges_the_oidc_token_for_a_federated_token(fake_google: FakeGoogle) -> None:
    identity = resolve_identity(fake_google.env(), settings(fake_google))
    token = refresh(identity)
    assert fake_google.tokens[token].principal == FEDERATED == identity.principal
    oidc = next(c for c in fake_google.calls if c.service == "oidc")
    query = parse_qs(urlsplit(oidc.path).query)
    assert query == {"api-version": ["2.0"],
                     "audience": [f"https://iam.googleapis.com/{PROVIDER_NAME}"]}
    assert oidc.headers["authorization"] == f"Bearer {REQUEST_TOKEN}"
    sts = next(c for c in fake_google.calls if c.service == "sts")
    assert sts.path == "/v1/token" and sts.body["audience"] == f"//iam.googleapis.com/" \
        f"{PROVIDER_NAME}"
    assert sts.body["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert sts.body["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt"
    assert sts.body["scope"] == "https://www.googleapis.com/auth/cloud-platform"


def test_wif_refetches_the_short_lived_oidc_token_at_every_refresh(
        fake_google: FakeGoogle) -> None:
    identity = resolve_identity(fake_google.env(), settings(fake_google))
    first, second = refresh(identity), refresh(identity)
    assert first != second and fake_google.count("oidc") == 2


def test_wif_then_impersonation(fake_google: FakeGoogle) -> None:
    identity = resolve_identity(fake_google.env(), settings(fake_google,
                                                            service_account=SERVICE_ACCOUNT))
    token = refresh(identity)
    assert fake_google.tokens[token].principal == f"serviceAccount:{SERVICE_ACCOUNT}"
    assert identity.principal == f"serviceAccount:{SERVICE_ACCOUNT}"
    assert identity.caller == FEDERATED
    iam = next(c for c in fake_google.calls if c.service == "iam")
    assert iam.path == f"/v1/projects/-/serviceAccounts/{SERVICE_ACCOUNT}:generateAccessToken"
    assert iam.body["scope"] == ["https://www.googleapis.com/auth/cloud-platform"]
    bearer = iam.headers["authorization"].removeprefix("Bearer ")
    assert fake_google.tokens[bearer].principal == FEDERATED


def test_credentials_from_env_returns_google_auth_credentials(fake_google: FakeGoogle) -> None:
    credentials = credentials_from_env(
        fake_google.env(), workload_identity_provider=PROVIDER_NAME,
        sts_endpoint=fake_google.sts.url, iam_endpoint=fake_google.iam.url,
        scopes=["https://www.googleapis.com/auth/logging.read"])
    assert isinstance(credentials, google.auth.credentials.Credentials)
    credentials.refresh(LocalOnlyRequest())
    sts = next(c for c in fake_google.calls if c.service == "sts")
    assert sts.body["scope"] == "https://www.googleapis.com/auth/logging.read"


@pytest.mark.parametrize("in_actions, cause", [
    ("true", "the workflow job lacks the permission `id-token` set to `write` (under "
             "`permissions:`)"),
    ("", "not running inside GitHub Actions"),
])
def test_no_oidc_token_says_which_permission_is_missing(fake_google: FakeGoogle,
                                                        in_actions: str, cause: str) -> None:
    env = {k: v for k, v in fake_google.env(GITHUB_ACTIONS=in_actions).items()
           if not k.startswith("ACTIONS_ID_TOKEN")}
    with pytest.raises(ConfigError) as caught:
        resolve_identity(env, settings(fake_google))
    assert caught.value.cause == cause and "OIDC token" in caught.value.what
    assert fake_google.calls == []


@pytest.mark.parametrize("text, message", [
    ("my-provider", "not a provider's full name"),
    (f"projects/{PROJECT}/locations/global/workloadIdentityPools/github/providers/p",
     "project NUMBER"),
    ("projects/1/locations/us/workloadIdentityPools/github/providers/p", "full name"),
])
def test_bad_provider_names(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_provider(text)


def test_provider_may_carry_the_iam_prefix() -> None:
    assert parse_provider(f"//iam.googleapis.com/{PROVIDER_NAME}")["pool"] == "github"


def test_unknown_provider(fake_google: FakeGoogle) -> None:
    unknown = PROVIDER_NAME.replace("my-repo", "old-repo")
    with pytest.raises(UpstreamError) as caught:
        refresh(resolve_identity(fake_google.env(), settings(fake_google, unknown)))
    assert f"does not know the workload identity provider {unknown}" in caught.value.what
    assert "pool or provider is disabled or deleted" in caught.value.cause
    assert "--workload-identity-provider" in caught.value.fix


def test_attribute_condition_rejecting_this_repository(fake_google: FakeGoogle) -> None:
    fake_google.repositories = {"acme/other"}
    with pytest.raises(UpstreamError) as caught:
        refresh(resolve_identity(fake_google.env(), settings(fake_google)))
    err = caught.value
    assert f"rejects repository {REPOSITORY} at refs/heads/main" in err.what
    assert f"assertion.repository=='{REPOSITORY}'" in err.fix
    assert err.exit_code == ExitCode.UPSTREAM


def test_audience_mismatch(fake_google: FakeGoogle) -> None:
    fake_google.oidc_claims = {"aud": "https://github.com/acme"}
    with pytest.raises(UpstreamError, match="does not accept the OIDC token's audience"):
        refresh(resolve_identity(fake_google.env(), settings(fake_google)))


def test_github_refusing_the_oidc_request(fake_google: FakeGoogle) -> None:
    env = fake_google.env(ACTIONS_ID_TOKEN_REQUEST_TOKEN="expired-request-token")
    with pytest.raises(UpstreamError) as caught:
        refresh(resolve_identity(env, settings(fake_google)))
    assert "GitHub did not issue an OIDC token" in caught.value.what
    assert "TF400813" in caught.value.cause and "`id-token` set to `write`" in caught.value.fix


def test_impersonation_without_workload_identity_user(fake_google: FakeGoogle) -> None:
    fake_google.service_accounts[SERVICE_ACCOUNT] = set()
    identity = resolve_identity(fake_google.env(), settings(fake_google,
                                                            service_account=SERVICE_ACCOUNT))
    with pytest.raises(UpstreamError) as caught:
        refresh(identity)
    err = caught.value
    assert err.what == (f"cannot impersonate {SERVICE_ACCOUNT}: {FEDERATED} lacks "
                        "roles/iam.workloadIdentityUser on it")
    assert err.fix == (f"gcloud iam service-accounts add-iam-policy-binding {SERVICE_ACCOUNT} "
                       f"--role=roles/iam.workloadIdentityUser --member='{FEDERATED}'")
    assert "iam.serviceAccounts.getAccessToken" in err.cause


def test_impersonating_a_service_account_that_does_not_exist(fake_google: FakeGoogle) -> None:
    ghost = f"ghost@{PROJECT}.iam.gserviceaccount.com"
    with pytest.raises(UpstreamError, match="it does not exist"):
        refresh(resolve_identity(fake_google.env(), settings(fake_google, service_account=ghost)))


def test_bad_service_account_email(fake_google: FakeGoogle) -> None:
    with pytest.raises(ConfigError, match="not a service account email"):
        resolve_identity(fake_google.env(), settings(fake_google, service_account="log-gardener"))


def gha_credentials_file(tmp_path: Path, fake: FakeGoogle) -> Path:
    """The file google-github-actions/auth writes (public endpoints; ours override them)."""
    env = fake.env()
    info = {
        "type": "external_account",
        "audience": f"//iam.googleapis.com/{PROVIDER_NAME}",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": "https://sts.googleapis.com/v1/token",
        "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/"
        f"-/serviceAccounts/{SERVICE_ACCOUNT}:generateAccessToken",
        "credential_source": {
            "url": env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=" +
            f"https://iam.googleapis.com/{PROVIDER_NAME}",
            "headers": {"Authorization": f"Bearer {REQUEST_TOKEN}"},
            "format": {"type": "json", "subject_token_field_name": "value"}},
    }
    path = tmp_path / "gha-creds-0123456789abcdef.json"
    path.write_text(json.dumps(info))
    return path


def test_credentials_file_from_google_github_actions_auth(fake_google: FakeGoogle,
                                                          tmp_path: Path) -> None:
    path = gha_credentials_file(tmp_path, fake_google)
    env = fake_google.env(GOOGLE_APPLICATION_CREDENTIALS=str(path))
    identity = resolve_identity(env, settings(fake_google, provider=""))
    token = refresh(identity)
    assert fake_google.tokens[token].principal == f"serviceAccount:{SERVICE_ACCOUNT}"
    assert identity.principal == f"serviceAccount:{SERVICE_ACCOUNT}"
    assert str(path) in identity.method
    assert [c.service for c in fake_google.calls] == ["oidc", "sts", "iam"]


def test_credentials_file_whose_pool_may_not_impersonate(fake_google: FakeGoogle,
                                                         tmp_path: Path) -> None:
    fake_google.service_accounts[SERVICE_ACCOUNT] = set()
    env = fake_google.env(GOOGLE_APPLICATION_CREDENTIALS=str(gha_credentials_file(
        tmp_path, fake_google)))
    with pytest.raises(UpstreamError) as caught:
        refresh(resolve_identity(env, settings(fake_google, provider="")))
    assert caught.value.what == (f"cannot impersonate {SERVICE_ACCOUNT}: {FEDERATED} lacks "
                                 "roles/iam.workloadIdentityUser on it")


def test_wif_flags_win_over_a_credentials_file(fake_google: FakeGoogle, tmp_path: Path) -> None:
    env = fake_google.env(GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "missing.json"))
    identity = resolve_identity(env, settings(fake_google))
    assert identity.method.startswith("Workload Identity Federation")


@pytest.mark.parametrize("content, message", [(None, "cannot read"), ("{not json", "not a JSON"),
                                              ("[1]", "expected a JSON object"),
                                              ('{"type": "martian"}', "unusable")])
def test_broken_credentials_files(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "creds.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        resolve_identity({"GOOGLE_APPLICATION_CREDENTIALS": str(path)}, AuthSettings())
    assert message in caught.value.what and "GOOGLE_APPLICATION_CREDENTIALS" in caught.value.what


ADC_ACCOUNT = f"ci-runner@{PROJECT}.iam.gserviceaccount.com"


def adc_file(fake: FakeGoogle, *, known: bool = True) -> None:
    """A service-account key as ADC, under $CLOUDSDK_CONFIG (set per test by conftest).

    Not a `gcloud auth application-default login` user file: google-auth always sends those
    to oauth2.googleapis.com, ignoring their token_uri, so no local test can refresh one.
    """
    key = fake.service_account_key(ADC_ACCOUNT)
    if not known:
        fake.keys.discard(ADC_ACCOUNT)
    folder = Path(os.environ["CLOUDSDK_CONFIG"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "application_default_credentials.json").write_text(json.dumps(key))


def test_application_default_credentials(fake_google: FakeGoogle) -> None:
    adc_file(fake_google)
    identity = resolve_identity({}, settings(fake_google, provider=""))
    assert fake_google.tokens[refresh(identity)].principal == f"serviceAccount:{ADC_ACCOUNT}"
    assert identity.method == "Application Default Credentials"
    assert identity.principal == f"serviceAccount:{ADC_ACCOUNT}"
    token = next(c for c in fake_google.calls if c.service == "sts")
    assert token.path == "/token"
    assert token.body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"


def test_adc_impersonating_needs_token_creator(fake_google: FakeGoogle) -> None:
    adc_file(fake_google)
    fake_google.service_accounts[SERVICE_ACCOUNT] = {f"serviceAccount:{ADC_ACCOUNT}"}
    identity = resolve_identity({}, settings(fake_google, "", SERVICE_ACCOUNT))
    assert fake_google.tokens[refresh(identity)].principal == f"serviceAccount:{SERVICE_ACCOUNT}"
    fake_google.service_accounts[SERVICE_ACCOUNT] = set()
    denied = resolve_identity({}, settings(fake_google, "", SERVICE_ACCOUNT))
    with pytest.raises(UpstreamError) as caught:
        refresh(denied)
    assert caught.value.what == (f"cannot impersonate {SERVICE_ACCOUNT}: serviceAccount:"
                                 f"{ADC_ACCOUNT} lacks roles/iam.serviceAccountTokenCreator on it")


def test_refused_adc_says_to_write_new_credentials(fake_google: FakeGoogle) -> None:
    adc_file(fake_google, known=False)
    with pytest.raises(UpstreamError) as caught:
        refresh(resolve_identity({}, settings(fake_google, provider="")))
    assert "Google refused to refresh the credentials" in caught.value.what
    assert "account not found" in caught.value.what
    assert "gcloud auth application-default login" in caught.value.fix


@pytest.mark.parametrize("in_actions, fix", [("true", "--workload-identity-provider"),
                                             ("", "gcloud auth application-default login")])
def test_no_credentials_at_all(in_actions: str, fix: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        resolve_identity({"GITHUB_ACTIONS": in_actions}, AuthSettings())
    assert caught.value.what == "no Google credentials found" and fix in caught.value.fix
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("url, ok", [
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"), ("http://localhost:1", None),
    ("https://logging-psc.p.googleapis.com", None), ("http://[::1]:99", None),
    ("http://logging.example.com", ""), ("logging.googleapis.com", ""),
    ("https://x.example.com/?a=b", ""), ("file:///etc/passwd", ""),
])
def test_endpoints(url: str, ok: str | None) -> None:
    if ok == "":
        with pytest.raises(ConfigError, match="--logging-endpoint"):
            check_endpoint(url, "--logging-endpoint")
    else:
        assert check_endpoint(url, "--logging-endpoint") == (ok or url)


def test_the_allowed_locations_look_up_never_leaves(fake_google: FakeGoogle,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gardener.auth")
    identity = resolve_identity(fake_google.env(), settings(fake_google))
    session = authorized_session(identity.credentials)
    body: dict[str, Any] = {"resourceNames": [f"projects/{PROJECT}"], "filter": ""}
    response = session.post(f"{fake_google.logging.url}/v2/entries:list", json=body, timeout=5)
    assert response.status_code == 200
    deadline = time.monotonic() + 5
    while "allowedLocations" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.02)  # google-auth looks it up in a background thread
    assert "refused google-auth's allowed-locations look-up: https://iamcredentials." \
        "googleapis.com/v1/projects/" in caplog.text
    assert all(c.service in ("oidc", "sts", "logging") for c in fake_google.calls)
    again = session.post(f"{fake_google.logging.url}/v2/entries:list", json=body, timeout=5)
    assert again.status_code == 200 and caplog.text.count("refused") == 1  # then it backs off


def test_every_translated_error_is_a_gardener_error(fake_google: FakeGoogle) -> None:
    identity = resolve_identity(fake_google.env(), settings(fake_google))
    for err in (auth_exceptions.TransportError("connection refused"),
                auth_exceptions.RefreshError("something odd"),
                auth_exceptions.RefreshError("temporarily_unavailable: None",
                                             {"error": "temporarily_unavailable"},
                                             retryable=True),
                auth_exceptions.OAuthError("Error code server_error", '{"error":"server_error"}'),
                auth_exceptions.DefaultCredentialsError("no"),
                TokenEndpointFailure("sts", "https://sts.googleapis.com/v1/token", status=502,
                                     body=b"<html>Bad Gateway</html>"),
                TokenEndpointFailure("oidc", "https://x.actions.githubusercontent.com/a?b=c",
                                     network="ReadTimeout (read timeout=60)")):
        explained = identity.explain(err)
        assert isinstance(explained, GardenerError) and explained.what and explained.fix
        config = isinstance(err, auth_exceptions.DefaultCredentialsError)
        assert explained.exit_code == (ExitCode.USAGE if config else ExitCode.UPSTREAM)


def test_the_transport_marks_only_what_google_auth_does_not_retry(
        fake_google: FakeGoogle) -> None:
    """STS exchanges, generateAccessToken and the subject-token URL raise a retryable
    TokenEndpointFailure on 429/5xx; the OAuth token endpoint's 503 goes back to google-auth,
    which retries it itself."""
    oidc_url = fake_google.env()["ACTIONS_ID_TOKEN_REQUEST_URL"]
    transport = LocalOnlyRequest(subject_token_url=oidc_url)
    exchange = b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
    iam = f"{fake_google.iam.url}/v1/projects/-/serviceAccounts/{SERVICE_ACCOUNT}:" \
        "generateAccessToken"
    calls = [("sts", "POST", f"{fake_google.sts.url}/v1/token", exchange),
             ("iam", "POST", iam, b"{}"), ("oidc", "GET", oidc_url, None)]
    for service, method, url, body in calls:
        fake_google.fail(503, service=service)
        with pytest.raises(TokenEndpointFailure) as caught:
            transport(url, method=method, body=body)
        assert caught.value.retryable and caught.value.endpoint == service
        assert caught.value.status == 503
    fake_google.fail(503, service="sts")
    oauth = transport(f"{fake_google.sts.url}/token", method="POST",
                      body=b"grant_type=refresh_token&refresh_token=x")
    assert oauth.status == 503
    fake_google.fail(503, service="oidc")
    assert LocalOnlyRequest()(oidc_url).status == 503  # an unknown URL: not ours to judge


def test_a_token_endpoint_that_drops_the_connection(fake_google: FakeGoogle) -> None:
    fake_google.fail(RESET, service="sts")
    exchange = b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
    with pytest.raises(TokenEndpointFailure) as caught:
        LocalOnlyRequest()(f"{fake_google.sts.url}/v1/token", method="POST", body=exchange)
    assert caught.value.state == "unreachable" and "ConnectionError" in caught.value.detail
