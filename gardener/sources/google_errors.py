"""Google's errors (google-auth, the Logging API) as `GardenerError`s that say what to fix.

Every failure names what failed, the likely cause and the fix: the IAM role to grant and to
whom, the workflow permission to add, the provider setting to change. A token endpoint that is
down or rate-limiting says so instead: that is an outage to wait out, not a setting to change.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from gardener.errors import ConfigError, GardenerError, UpstreamError
from gardener.sources.live_args import DEFAULT_LOGGING_ENDPOINT

_OIDC_FAILED = "Unable to retrieve Identity Pool subject token"
_IMPERSONATION_FAILED = "Unable to acquire impersonated credentials"
VIEWER = "roles/logging.viewer"
PRIVATE_VIEWER = "roles/logging.privateLogViewer"
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses worth asking again: a rate limit, or a server or front end failing."""
GOOGLE_AUTH_OAUTH_ATTEMPTS = 3
"""How often google-auth itself tries its OAuth token endpoint on 429/500/503/504 (2.62)."""
ENDPOINTS = {"oidc": "GitHub's OIDC token endpoint", "sts": "Google STS (token exchange)",
             "iam": "IAM Credentials API (generateAccessToken)",
             "oauth": "Google's OAuth token endpoint"}
"""Token endpoints a refresh calls, by the key `TokenEndpointFailure.endpoint` holds."""
_STATUS_PAGES = {"oidc": "https://www.githubstatus.com"}
_TAGS = re.compile(r"<[^>]*>")


class TokenEndpointFailure(auth_exceptions.TransportError):
    """A token endpoint google-auth does not retry (GitHub's OIDC endpoint, STS,
    generateAccessToken) answered 429/5xx or could not be reached: worth asking again."""

    def __init__(self, endpoint: str, url: str, *, status: int = 0, body: Any = b"",
                 network: str = "") -> None:
        parts = urlsplit(url)
        path = "" if endpoint == "oidc" else parts.path
        self.endpoint = endpoint
        """A key of `ENDPOINTS`."""
        self.where = f"{parts.scheme}://{parts.netloc}{path}" if parts.netloc else ""
        """The URL without its query (and, for GitHub's, without its per-job path)."""
        self.status = status
        """The HTTP status, or 0 when it is not known or the connection failed."""
        self.state = ("unreachable" if network else
                      "rate-limited" if status == 429 else "unavailable")
        self.label, self.detail = _outage_detail(status, body, network)
        name = " ".join(filter(None, (ENDPOINTS.get(endpoint, endpoint), self.where)))
        super().__init__(f"{name}: {self.label}", retryable=True)  # type: ignore[no-untyped-call]


class TokenServiceUnavailableError(UpstreamError):
    """A token endpoint stayed down, rate-limited or unreachable through every attempt."""

    def __init__(self, failure: TokenEndpointFailure, *, attempts: int,
                 elapsed_s: float | None = None, deadline_s: float | None = None) -> None:
        state = failure.state
        where = f" at {failure.where}" if failure.where else ""
        tries = f"{attempts} attempt{'' if attempts == 1 else 's'}"
        if elapsed_s is not None and attempts > 1:
            tries += f" over {_seconds(elapsed_s)}"
        why = {"unreachable": "the connection failed or timed out",
               "rate-limited": "the service is turning requests away for now (a rate limit)",
               "unavailable": "the service or its front end is down or overloaded"}[state]
        deadline = f" (it was {_seconds(deadline_s)})" if deadline_s is not None else ""
        wait = ("" if failure.endpoint == "oauth" else
                f"; raise --retry-deadline{deadline} to keep trying for longer")
        super().__init__(
            f"{ENDPOINTS.get(failure.endpoint, failure.endpoint)}{where} was {state}: "
            f"{failure.label} after {tries}",
            cause=why + (f"; it said: {failure.detail.rstrip('.')}" if failure.detail else "")
            + "; nothing was refused, so the credentials and settings are not at fault",
            fix=f"run again later{wait}; see "
            + _STATUS_PAGES.get(failure.endpoint, "https://status.cloud.google.com"))
        self.failure = failure
        self.attempts = attempts


def _outage_detail(status: int, body: Any, network: str) -> tuple[str, str]:
    """("HTTP 503 UNAVAILABLE", "The service is currently unavailable.") from a reply: Google's
    error JSON, OAuth's, GitHub's `{"message"}`, or a front end's HTML page."""
    if network:
        return "connection failed", network
    head = f"HTTP {status}" if status else "a temporary error"
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        data = json.loads(text)
    except ValueError:
        return head, _short(_TAGS.sub(" ", text), 200)
    if not isinstance(data, dict):
        return head, _short(text, 200)
    _, google_status, message, _ = _google_error(data)
    if google_status or message:
        return f"{head} {google_status}".strip(), _short(message, 200)
    error = data.get("error", "")
    described = ": ".join(str(v) for v in (error, data.get("error_description", "")) if v)
    return head, _short(described or data.get("message", "") or text, 200)


def network_failure(err: BaseException) -> str:
    """`ReadTimeout (...)`, `ConnectionError (Connection aborted ...)`: what requests said."""
    cause = err.__cause__ or (err.args[0] if err.args else err)
    text = _short(cause, 160)
    return f"{type(cause).__name__} ({text})" if text else type(cause).__name__


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def error_body(err: BaseException) -> dict[str, Any]:
    """The decoded JSON response body a google-auth or api-core error carries, or {}."""
    for arg in reversed(err.args):
        if isinstance(arg, dict):
            return arg
        if isinstance(arg, bytes | str):
            try:
                value = json.loads(arg)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return {}


def _google_error(body: dict[str, Any]) -> tuple[int, str, str, str]:
    """(code, status, message, ErrorInfo reason) of Google's `{"error": {...}}` JSON."""
    error = body.get("error")
    if not isinstance(error, dict):
        return 0, "", "", ""
    reason = next((d.get("reason", "") for d in error.get("details", ())
                   if isinstance(d, dict) and d.get("reason")), "")
    return (int(error.get("code") or 0), str(error.get("status", "")),
            str(error.get("message", "")), str(reason))


def explain_auth_error(err: Exception, *, workload_identity_provider: str, service_account: str,
                       caller: str, repository: str, ref: str, method: str) -> GardenerError:
    """Translate a google-auth failure (OAuthError is not a RefreshError: both come here).

    `caller` is who asks to impersonate `service_account` (the principal before impersonation).
    """
    if isinstance(err, TokenEndpointFailure):  # asked once here; a read asks again first
        return TokenServiceUnavailableError(err, attempts=1)
    if isinstance(err, auth_exceptions.RefreshError) and err.retryable:
        return _oauth_outage(err)
    if isinstance(err, auth_exceptions.OAuthError):
        return _sts_error(err, workload_identity_provider, repository, ref)
    if isinstance(err, auth_exceptions.DefaultCredentialsError):
        return ConfigError(f"Google credentials are unusable: {err}",
                           fix="run `gcloud auth application-default login` or check "
                           "GOOGLE_APPLICATION_CREDENTIALS")
    if isinstance(err, auth_exceptions.TransportError):
        return UpstreamError(f"could not reach Google's token service: {err}",
                             fix="check the network, and --sts-endpoint/--iam-endpoint if set")
    message = str(err.args[0]) if err.args else str(err)
    if message.startswith(_OIDC_FAILED):
        return UpstreamError(
            "GitHub did not issue an OIDC token for the token exchange",
            cause=_short(err.args[1] if len(err.args) > 1 else ""),
            fix="give the job the permission `id-token` set to `write` (under `permissions:`); "
            "the token request URL is only valid while the job runs")
    if message.startswith(_IMPERSONATION_FAILED):
        return _impersonation_error(err, service_account, caller, workload_identity_provider)
    detail = _short(message)
    if "invalid_grant" in message or "invalid_rapt" in message:
        return UpstreamError(f"Google refused to refresh the credentials ({method}): {detail}",
                             fix="run `gcloud auth application-default login` again, or write "
                             "new credentials")
    return UpstreamError(f"Google authentication failed ({method}): {detail}",
                         fix="check the credentials and, in GitHub Actions, the workload "
                         "identity provider and service account settings")


def _oauth_outage(err: auth_exceptions.RefreshError) -> TokenServiceUnavailableError:
    """google-auth gives up on its OAuth token endpoint (key files, user credentials) after
    retrying 429/5xx itself; it is not asked again on top of that."""
    body = error_body(err)
    code, _, _, _ = _google_error(body)
    failure = TokenEndpointFailure("oauth", "", status=code,
                                   body=json.dumps(body) if body else str(err))
    return TokenServiceUnavailableError(failure, attempts=GOOGLE_AUTH_OAUTH_ATTEMPTS)


def _sts_error(err: Exception, provider: str, repository: str, ref: str) -> UpstreamError:
    body = error_body(err)
    code = str(body.get("error", ""))
    description = str(body.get("error_description", "")) or _short(str(err))
    name = provider or "the workload identity provider"
    if code == "invalid_target":
        return UpstreamError(
            f"Google STS does not know the workload identity provider {name}",
            cause=description,
            fix="check --workload-identity-provider (projects/PROJECT_NUMBER/locations/global/"
            "workloadIdentityPools/POOL/providers/PROVIDER) and that the pool and provider "
            "exist and are enabled: gcloud iam workload-identity-pools providers list "
            "--workload-identity-pool=POOL --location=global")
    if code == "unauthorized_client" or "attribute condition" in description:
        who = f"repository {repository}" + (f" at {ref}" if ref else "") if repository \
            else "this workflow"
        return UpstreamError(
            f"the attribute condition of {name} rejects {who}", cause=description,
            fix="allow it in the provider's attribute condition, e.g. "
            f"--attribute-condition=\"assertion.repository=='{repository or 'OWNER/REPO'}'\" "
            "(gcloud iam workload-identity-pools providers update-oidc)")
    if code == "invalid_grant" and "audience" in description.lower():
        return UpstreamError(
            f"{name} does not accept the OIDC token's audience", cause=description,
            fix="leave the provider's allowed audiences empty (the default accepts "
            f"https://iam.googleapis.com/{provider or 'PROVIDER_NAME'}) or add that audience")
    return UpstreamError(f"Google STS refused the token exchange ({code or 'error'})",
                         cause=description, fix="check the workload identity provider "
                         "(issuer https://token.actions.githubusercontent.com, attribute "
                         "mapping google.subject=assertion.sub)")


def _impersonation_error(err: Exception, service_account: str, caller: str,
                         provider: str) -> UpstreamError:
    body = error_body(err)
    code, status, message, reason = _google_error(body)
    target = service_account or "the service account"
    if reason == "SERVICE_DISABLED" or "has not been used" in message:
        return UpstreamError(f"cannot impersonate {target}: the IAM Service Account "
                             "Credentials API is disabled", cause=message,
                             fix="gcloud services enable iamcredentials.googleapis.com "
                             "--project=PROJECT_OF_THE_SERVICE_ACCOUNT")
    if code == 404:
        return UpstreamError(f"cannot impersonate {target}: it does not exist", cause=message,
                             fix="check --service-account")
    if code == 403:
        # Federated identities impersonate with workloadIdentityUser; users and service
        # accounts need Token Creator.
        role = ("roles/iam.workloadIdentityUser" if caller.startswith("principal")
                else "roles/iam.serviceAccountTokenCreator")
        member = caller or "YOUR_PRINCIPAL"
        return UpstreamError(
            f"cannot impersonate {target}: {member} lacks {role} on it", cause=message,
            fix=f"gcloud iam service-accounts add-iam-policy-binding {target} "
            f"--role={role} --member='{member}'")
    return UpstreamError(f"cannot impersonate {target} ({status or code or 'error'})",
                         cause=message or _short(str(err)), fix="check --service-account")


def explain_logging_error(err: api_exceptions.GoogleAPICallError, *, project: str, filter_: str,
                          principal: str, explorer_url: str,
                          endpoint: str = DEFAULT_LOGGING_ENDPOINT) -> UpstreamError:
    """Translate a Logging API failure that retries did not (or must not) fix; `endpoint` is
    the base URL that was asked."""
    body = _api_body(err)
    code, status, message, reason = _google_error(body)
    code = code or int(err.code or 0)
    message = message or str(err.message)
    if code == 400:
        return UpstreamError(f"Cloud Logging rejected the filter ({status or 400}): {message}",
                             cause=f"the filter was: {filter_}",
                             fix="fix --filter (the rest is generated); try the query in Logs "
                             f"Explorer: {explorer_url}")
    if code == 401:
        return UpstreamError(f"Cloud Logging did not accept the access token: {message}",
                             fix="check the credentials; a refreshed token was refused too")
    if code == 403:
        return _forbidden(message, reason, project, filter_, principal)
    if code == 404 and (status != "NOT_FOUND" or message.startswith("Method not found")):
        return _no_logging_api(endpoint, message)  # not the API's own NOT_FOUND
    if code == 404:
        return UpstreamError(f"Cloud Logging: project {project} not found: {message}",
                             fix="check --project (the project id, not its name)")
    return UpstreamError(f"Cloud Logging failed ({status or code}): {message}",
                         fix="retry later; see https://status.cloud.google.com")


def _no_logging_api(endpoint: str, message: str) -> UpstreamError:
    """A 404 that is not the Logging API's NOT_FOUND (an HTML page, other JSON, "Method not
    found."): a front end or proxy with no `/v2/entries:list`, not a missing project."""
    return UpstreamError(
        f"the Cloud Logging endpoint {endpoint} has no entries.list (HTTP 404): "
        f"{_short(message)}",
        cause="it is not the Logging API: a wrong --logging-endpoint / "
        "GARDENER_LOGGING_ENDPOINT (another service, or a path after the host), or a proxy",
        fix=f"give --logging-endpoint or GARDENER_LOGGING_ENDPOINT as scheme and host only "
        f"(default {DEFAULT_LOGGING_ENDPOINT}); the client adds /v2/entries:list")


def _forbidden(message: str, reason: str, project: str, filter_: str,
               principal: str) -> UpstreamError:
    if reason == "SERVICE_DISABLED" or "has not been used" in message:
        return UpstreamError(f"the Cloud Logging API is disabled in project {project}",
                             cause=message, fix="gcloud services enable logging.googleapis.com "
                             f"--project={project}")
    private = "privateLogEntries" in message or "data_access" in filter_
    role = PRIVATE_VIEWER if private else VIEWER
    what = "data-access audit logs" if private else "log entries"
    member = principal or "YOUR_PRINCIPAL"
    return UpstreamError(
        f"permission denied reading {what} in project {project}: {member} lacks {role}",
        cause=message,
        fix=f"gcloud projects add-iam-policy-binding {project} --member='{member}' "
        f"--role={role}" + ("" if private else f" ({PRIVATE_VIEWER} to read data-access "
                            "audit logs)"))


def _api_body(err: api_exceptions.GoogleAPICallError) -> dict[str, Any]:
    response = err.response
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _short(text: Any, limit: int = 300) -> str:
    value = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit] + "..."
