"""Google credentials for reading Cloud Logging, and what to tell the user when they fail.

Order: Workload Identity Federation from the GitHub Actions OIDC token (when a provider is
given), then a credentials file named by `GOOGLE_APPLICATION_CREDENTIALS` (what
google-github-actions/auth writes), then Application Default Credentials. The environment is
passed in, never read here, so tests run in-process.

Tokens are fetched inside the Logging client's requests, through `LocalOnlyRequest`. google-auth
does not retry GitHub's OIDC token endpoint, STS or generateAccessToken, so that transport turns
their 429/5xx and dropped connections into a retryable `TokenEndpointFailure`; the page reader
asks again within `--retry-deadline`.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, quote, urlsplit

import google.auth
import google.auth.credentials
import requests
from google.auth import exceptions as auth_exceptions
from google.auth import identity_pool, impersonated_credentials
from google.auth.transport.requests import AuthorizedSession
from google.auth.transport.requests import Request as _LibraryRequest

from gardener.errors import ConfigError, GardenerError
from gardener.sources.google_errors import (
    TRANSIENT_STATUS,
    TokenEndpointFailure,
    explain_auth_error,
    network_failure,
)
from gardener.sources.live_args import DEFAULT_IAM_ENDPOINT, DEFAULT_STS_ENDPOINT

__all__ = ["CLOUD_PLATFORM_SCOPE", "DEFAULT_IAM_ENDPOINT", "DEFAULT_STS_ENDPOINT", "AuthSettings",
           "Identity", "LocalOnlyRequest", "authorized_session", "check_endpoint",
           "credentials_from_env", "explain_auth_error", "parse_provider", "resolve_identity"]

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
"""The scope STS issues federated tokens for; IAM roles, not scopes, limit what is read."""
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
"""The grant type of an STS token exchange (RFC 8693), as google-auth sends it."""
ID_TOKEN_PERMISSION = "permission `id-token` set to `write` (under `permissions:`)"
"""Spelled out, not as YAML: a `token: value` pair reads as a secret to the redactor."""
_PROVIDER = re.compile(r"projects/(?P<number>[^/]+)/locations/global/workloadIdentityPools/"
                       r"(?P<pool>[^/]+)/providers/(?P<provider>[^/]+)")
_SERVICE_ACCOUNT = re.compile(r"[^@\s/:]+@[-a-z0-9.]+\.gserviceaccount\.com")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How to authenticate, from flags and the action's inputs."""

    workload_identity_provider: str = ""
    """`projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`, or ``."""
    service_account: str = ""
    """Service account to impersonate after authenticating, or ``."""
    sts_endpoint: str = DEFAULT_STS_ENDPOINT
    """Base URL of the Security Token Service (Private Service Connect, tests)."""
    iam_endpoint: str = DEFAULT_IAM_ENDPOINT
    """Base URL of the IAM Service Account Credentials API."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Credentials and who they act as, for error messages that name the principal."""

    credentials: google.auth.credentials.Credentials
    """google-auth credentials, not yet refreshed."""
    principal: str
    """IAM member to grant roles to (`serviceAccount:x@p.iam.gserviceaccount.com`,
    `principalSet://iam.googleapis.com/...`), or a placeholder such as `user:YOUR_EMAIL`."""
    method: str
    """How the credentials were found, in words (`Workload Identity Federation ...`)."""
    settings: AuthSettings
    """The settings they were built from."""
    repository: str = ""
    """`GITHUB_REPOSITORY` when running in GitHub Actions."""
    ref: str = ""
    """`GITHUB_REF` when running in GitHub Actions."""
    caller: str = ""
    """Who impersonates the service account (the principal before impersonation), or ``."""

    def explain(self, err: Exception) -> GardenerError:
        """A `GardenerError` saying what failed and how to fix it, for a google-auth error."""
        return explain_auth_error(
            err, workload_identity_provider=self.settings.workload_identity_provider,
            service_account=self.impersonated(), caller=self.caller,
            repository=self.repository, ref=self.ref, method=self.method)

    def impersonated(self) -> str:
        """The service account these credentials impersonate, or ``."""
        if self.caller and self.principal.startswith("serviceAccount:"):
            return self.principal.removeprefix("serviceAccount:")
        return self.settings.service_account


def credentials_from_env(env: Mapping[str, str], *, workload_identity_provider: str = "",
                         service_account: str = "", sts_endpoint: str = DEFAULT_STS_ENDPOINT,
                         iam_endpoint: str = DEFAULT_IAM_ENDPOINT,
                         scopes: Sequence[str] = (CLOUD_PLATFORM_SCOPE,),
                         ) -> google.auth.credentials.Credentials:
    """Credentials by WIF, then `GOOGLE_APPLICATION_CREDENTIALS`, then ADC (see module doc)."""
    settings = AuthSettings(workload_identity_provider, service_account, sts_endpoint,
                            iam_endpoint)
    return resolve_identity(env, settings, scopes).credentials


def resolve_identity(env: Mapping[str, str], settings: AuthSettings,
                     scopes: Sequence[str] = (CLOUD_PLATFORM_SCOPE,)) -> Identity:
    """Like `credentials_from_env`, keeping who the credentials act as for error messages."""
    sts = check_endpoint(settings.sts_endpoint, "--sts-endpoint")
    iam = check_endpoint(settings.iam_endpoint, "--iam-endpoint")
    settings = AuthSettings(settings.workload_identity_provider.strip(),
                            settings.service_account.strip(), sts, iam)
    if settings.service_account and not _SERVICE_ACCOUNT.fullmatch(settings.service_account):
        raise ConfigError(f"--service-account {settings.service_account!r}: not a service "
                          "account email", fix="e.g. log-gardener@my-project.iam."
                          "gserviceaccount.com")
    github = {"repository": env.get("GITHUB_REPOSITORY", ""), "ref": env.get("GITHUB_REF", "")}
    if settings.workload_identity_provider:
        return _federated(env, settings, scopes, **github)
    if env.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return _from_file(env["GOOGLE_APPLICATION_CREDENTIALS"], settings, scopes, env, **github)
    return _application_default(env, settings, scopes, **github)


def parse_provider(text: str) -> re.Match[str]:
    """Check a workload identity provider's full name; ConfigError says what a good one is."""
    name = text.strip().removeprefix("//iam.googleapis.com/")
    match = _PROVIDER.fullmatch(name)
    if not match:
        raise ConfigError(f"--workload-identity-provider {text!r}: not a provider's full name",
                          fix="use projects/PROJECT_NUMBER/locations/global/"
                          "workloadIdentityPools/POOL/providers/PROVIDER (gcloud iam "
                          "workload-identity-pools providers describe PROVIDER "
                          "--workload-identity-pool=POOL --location=global --format="
                          "'value(name)')")
    if not match["number"].isdigit():
        raise ConfigError(f"--workload-identity-provider {text!r}: {match['number']!r} is a "
                          "project id, but the name needs the project NUMBER",
                          fix=f"gcloud projects describe {match['number']} "
                          "--format='value(projectNumber)'")
    return match


def _federated(env: Mapping[str, str], settings: AuthSettings, scopes: Sequence[str], *,
               repository: str, ref: str) -> Identity:
    """External-account credentials whose subject token is the job's OIDC token, re-fetched
    from GitHub at every refresh (GitHub's tokens live five minutes)."""
    provider = parse_provider(settings.workload_identity_provider)
    name = provider.group(0)
    request_url = env.get("ACTIONS_ID_TOKEN_REQUEST_URL", "")
    request_token = env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not request_url or not request_token:
        in_actions = env.get("GITHUB_ACTIONS") == "true"
        raise ConfigError(
            "--workload-identity-provider is set, but this job cannot request a GitHub OIDC "
            "token (ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set)",
            cause=f"the workflow job lacks the {ID_TOKEN_PERMISSION}" if in_actions
            else "not running inside GitHub Actions",
            fix=f"in the workflow, give the job the {ID_TOKEN_PERMISSION}" if in_actions
            else "outside GitHub Actions, drop --workload-identity-provider and use "
            "Application Default Credentials (gcloud auth application-default login)")
    separator = "&" if "?" in request_url else "?"
    audience = "https://iam.googleapis.com/" + name  # google-github-actions/auth's default
    info: dict[str, Any] = {
        "type": "external_account",
        "audience": "//iam.googleapis.com/" + name,
        "subject_token_type": JWT_TOKEN_TYPE,
        "token_url": settings.sts_endpoint + "/v1/token",
        "credential_source": {
            "url": f"{request_url}{separator}audience={quote(audience, safe='')}",
            "headers": {"Authorization": f"Bearer {request_token}"},
            "format": {"type": "json", "subject_token_field_name": "value"},
        },
    }
    if settings.service_account:
        info["service_account_impersonation_url"] = _impersonation_url(settings)
    credentials = identity_pool.Credentials.from_info(  # type: ignore[no-untyped-call]
        info, scopes=list(scopes))
    pool = (f"principalSet://iam.googleapis.com/projects/{provider['number']}/locations/"
            f"global/workloadIdentityPools/{provider['pool']}")
    federated = f"{pool}/attribute.repository/{repository}" if repository else f"{pool}/*"
    if not settings.service_account:
        return Identity(credentials, federated, f"Workload Identity Federation through {name}",
                        settings, repository, ref)
    return Identity(credentials, f"serviceAccount:{settings.service_account}",
                    f"Workload Identity Federation through {name}, impersonating "
                    f"{settings.service_account}", settings, repository, ref, caller=federated)


def _impersonation_url(settings: AuthSettings) -> str:
    return (f"{settings.iam_endpoint}/v1/projects/-/serviceAccounts/"
            f"{settings.service_account}:generateAccessToken")


def _from_file(path: str, settings: AuthSettings, scopes: Sequence[str], env: Mapping[str, str],
               *, repository: str, ref: str) -> Identity:
    where = f"GOOGLE_APPLICATION_CREDENTIALS={path}"
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{where}: cannot read the credentials file: {err.strerror}",
                          fix="point GOOGLE_APPLICATION_CREDENTIALS at a credentials file, or "
                          "unset it to use Application Default Credentials") from None
    except ValueError:
        raise ConfigError(f"{where}: not a JSON credentials file",
                          fix="run google-github-actions/auth again, or download a new "
                          "credentials file") from None
    if not isinstance(info, dict):
        raise ConfigError(f"{where}: not a credentials file (expected a JSON object)")
    if info.get("type") == "external_account":
        info = _with_endpoints(info, settings)
    credentials = _load_info(info, where)
    principal, caller = _principals_of(info, env)
    return _maybe_impersonate(Identity(
        _scoped(credentials, scopes), principal, f"the credentials file {where}", settings,
        repository, ref, caller=caller), scopes)


def _with_endpoints(info: dict[str, Any], settings: AuthSettings) -> dict[str, Any]:
    """Point a credentials file's STS and IAM URLs at the configured endpoints, if any."""
    info = dict(info)
    if settings.sts_endpoint != DEFAULT_STS_ENDPOINT and info.get("token_url"):
        info["token_url"] = settings.sts_endpoint + urlsplit(info["token_url"]).path
    url = info.get("service_account_impersonation_url")
    if settings.iam_endpoint != DEFAULT_IAM_ENDPOINT and isinstance(url, str):
        info["service_account_impersonation_url"] = settings.iam_endpoint + urlsplit(url).path
    return info


def _load_info(info: dict[str, Any], where: str) -> google.auth.credentials.Credentials:
    try:
        with warnings.catch_warnings():
            # The generic loader warns about unvalidated files; this is the user's own ADC file.
            warnings.simplefilter("ignore", DeprecationWarning)
            # No scopes here: with scopes, external-account files look their project up on
            # the Resource Manager API. Scopes are added afterwards.
            credentials, _ = google.auth.load_credentials_from_dict(  # type: ignore[no-untyped-call]
                info)
    except auth_exceptions.DefaultCredentialsError as err:
        raise ConfigError(f"{where}: unusable credentials file: {err}",
                          fix="write it again with google-github-actions/auth or gcloud") from None
    return cast(google.auth.credentials.Credentials, credentials)


def _principals_of(info: Mapping[str, Any], env: Mapping[str, str]) -> tuple[str, str]:
    """(principal, caller) a credentials file acts as: caller impersonates principal, if any."""
    kind = info.get("type")
    if kind == "service_account":
        return f"serviceAccount:{info.get('client_email', 'UNKNOWN')}", ""
    federated = "user:YOUR_EMAIL"
    match = _PROVIDER.search(str(info.get("audience", "")))
    if kind == "external_account" and match:
        pool = (f"principalSet://iam.googleapis.com/projects/{match['number']}/locations/global"
                f"/workloadIdentityPools/{match['pool']}")
        repository = env.get("GITHUB_REPOSITORY", "")
        federated = f"{pool}/attribute.repository/{repository}" if repository else f"{pool}/*"
    url = info.get("service_account_impersonation_url") or ""
    if isinstance(url, str) and ":generateAccessToken" in url:
        email = url.rsplit("/", 1)[-1].split(":generateAccessToken")[0]
        return f"serviceAccount:{email}", federated
    return federated, ""


def _application_default(env: Mapping[str, str], settings: AuthSettings, scopes: Sequence[str],
                         *, repository: str, ref: str) -> Identity:
    try:
        # No scopes and our own transport: see _load_info; nothing here may leave for
        # the Resource Manager API or the allowed-locations look-up.
        credentials, _ = google.auth.default(request=LocalOnlyRequest())
    except auth_exceptions.DefaultCredentialsError as err:
        in_actions = env.get("GITHUB_ACTIONS") == "true"
        raise ConfigError(
            "no Google credentials found", cause=str(err).splitlines()[0],
            fix="in GitHub Actions, pass --workload-identity-provider (the job needs the "
            f"{ID_TOKEN_PERMISSION}) or run google-github-actions/auth first" if in_actions
            else "run `gcloud auth application-default login`, set "
            "GOOGLE_APPLICATION_CREDENTIALS, or pass --workload-identity-provider") from None
    email = getattr(credentials, "service_account_email", None)
    principal = (f"serviceAccount:{email}" if isinstance(email, str) and "@" in email
                 else "user:YOUR_EMAIL")
    return _maybe_impersonate(Identity(
        _scoped(credentials, scopes), principal,
        "Application Default Credentials", settings, repository, ref), scopes)


def _scoped(credentials: google.auth.credentials.Credentials,
            scopes: Sequence[str]) -> google.auth.credentials.Credentials:
    scoped = google.auth.credentials.with_scopes_if_required(  # type: ignore[no-untyped-call]
        credentials, list(scopes))
    return cast(google.auth.credentials.Credentials, scoped)


def _maybe_impersonate(identity: Identity, scopes: Sequence[str]) -> Identity:
    """Impersonate `--service-account` with file or ADC credentials (needs Token Creator)."""
    settings = identity.settings
    already = getattr(identity.credentials, "service_account_email", None)
    if not settings.service_account or already == settings.service_account:
        return identity
    credentials = impersonated_credentials.Credentials(  # type: ignore[no-untyped-call]
        source_credentials=identity.credentials, target_principal=settings.service_account,
        target_scopes=list(scopes), iam_endpoint_override=_impersonation_url(settings))
    return Identity(credentials, f"serviceAccount:{settings.service_account}",
                    f"{identity.method}, impersonating {settings.service_account}", settings,
                    identity.repository, identity.ref, caller=identity.principal)


def check_endpoint(url: str, flag: str) -> str:
    """A base URL (`https://host[:port]`, or `http://` on loopback), without a trailing `/`."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or parts.query or parts.fragment:
        raise ConfigError(f"{flag} {url!r}: not a base URL",
                          fix=f"e.g. {flag} https://logging-myendpoint.p.googleapis.com")
    if parts.scheme == "http" and host not in _LOOPBACK:
        # Bearer tokens must not cross a network in clear text.
        raise ConfigError(f"{flag} {url!r}: plain http is only allowed on loopback",
                          fix="use https:// (Private Service Connect endpoints speak https)")
    return text


class LocalOnlyRequest(_LibraryRequest):
    """google-auth's requests transport, minus the background allowed-locations look-up, and
    with the token endpoints google-auth does not retry made retryable.

    After a token is first used, google-auth may look the credential's allowed locations up on
    iamcredentials.googleapis.com (ignoring --iam-endpoint). We refuse that one call: the
    library then backs off for a while, and the read is never delayed by it.

    A 429/5xx or a dropped connection at GitHub's OIDC token endpoint (`subject_token_url`),
    an STS token exchange or generateAccessToken raises a retryable `TokenEndpointFailure`
    instead of reaching google-auth, which would report it as a refusal. Other endpoints (the
    OAuth token endpoint, the metadata server) are left to google-auth's own retries.
    """

    def __init__(self, session: requests.Session | None = None, *,
                 subject_token_url: str = "") -> None:
        # No urllib3 retries: the page reader retries with backoff, within its deadline.
        super().__init__(session or requests.Session())
        self.subject_token_url = subject_token_url

    def __call__(self, url: Any, method: Any = "GET", body: Any = None, headers: Any = None,
                 timeout: Any = None, **kwargs: Any) -> Any:
        if urlsplit(url).path.endswith("/allowedLocations"):
            _LOG.info("refused google-auth's allowed-locations look-up: %s", url)
            raise auth_exceptions.TransportError(  # type: ignore[no-untyped-call]
                "allowed-locations look-up disabled")
        if timeout is not None:  # else the library's default timeout applies
            kwargs["timeout"] = timeout
        endpoint = self.token_endpoint(url, method, body)
        try:
            response = super().__call__(  # type: ignore[no-untyped-call]
                url, method=method, body=body, headers=headers, **kwargs)
        except auth_exceptions.TransportError as err:
            if not endpoint:
                raise
            raise TokenEndpointFailure(endpoint, url, network=network_failure(err)) from err
        if endpoint and response.status in TRANSIENT_STATUS:
            raise TokenEndpointFailure(endpoint, url, status=response.status, body=response.data)
        return response

    def token_endpoint(self, url: str, method: str, body: Any) -> str:
        """`oidc`, `sts` or `iam` for a call to a token endpoint google-auth does not retry."""
        if method == "GET" and self.subject_token_url and url == self.subject_token_url:
            return "oidc"
        if method != "POST":
            return ""
        if urlsplit(url).path.endswith(":generateAccessToken"):
            return "iam"
        form = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        return "sts" if parse_qs(form).get("grant_type") == [TOKEN_EXCHANGE_GRANT] else ""

    def __deepcopy__(self, memo: dict[int, Any]) -> LocalOnlyRequest:
        # The look-up runs in a thread on a deep copy; give it its own session.
        return type(self)(subject_token_url=self.subject_token_url)


def subject_token_url(credentials: google.auth.credentials.Credentials) -> str:
    """The URL an identity-pool credential fetches its subject token from (GitHub's OIDC
    endpoint, for ours and google-github-actions/auth's), or `` for other credentials."""
    info = getattr(credentials, "info", None)  # external-account credentials' own config
    source = info.get("credential_source") if isinstance(info, dict) else None
    url = source.get("url") if isinstance(source, dict) else None
    return url if isinstance(url, str) else ""


def authorized_session(credentials: google.auth.credentials.Credentials) -> AuthorizedSession:
    """A requests session that adds (and on 401 refreshes) the token, via `LocalOnlyRequest`."""
    transport = LocalOnlyRequest(subject_token_url=subject_token_url(credentials))
    return AuthorizedSession(  # type: ignore[no-untyped-call]
        credentials, auth_request=transport, refresh_timeout=60)
