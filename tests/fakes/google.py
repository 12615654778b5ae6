"""Fake Google APIs on 127.0.0.1 that the real google-auth and google-cloud-logging talk to.

Four services, each on its own port (so each endpoint setting is exercised on its own):
- Cloud Logging v2 `POST /v2/entries:list`: a subset of the Logging query language (AND, OR,
  NOT, parentheses, `= != < <= > >= :`, `:*`), `orderBy`, `pageSize` (default 50, at most 1000),
  opaque page tokens bound to their request, Bearer tokens checked, Google's error JSON.
- STS `POST /v1/token` (token exchange for GitHub OIDC tokens: provider, audience, attribute
  condition on `repository`) and `POST /token` (OAuth refresh for ADC user credentials).
- IAM Credentials `POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken`
  (roles/iam.workloadIdentityUser checked per principal).
- GitHub Actions' OIDC token endpoint (`.../idtoken?api-version=2.0&audience=...`).

Faults are queued per service: `fake.fail(429)`, `fake.fail(503, times=50)` (entries:list),
`fake.fail(503, service="sts")`, `fake.fail(RESET, service="oidc")` (drop the connection),
`fake.stall(1.0, service="iam")`, `fake.slow_pages = 0.2`, `fake.expire_tokens_after(3)`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

PROJECT = "netra-staging"
PROJECT_NUMBER = "123456789012"
POOL = "github"
PROVIDER = "my-repo"
REPOSITORY = "acme/shop"
SERVICE_ACCOUNT = f"log-gardener@{PROJECT}.iam.gserviceaccount.com"
ISSUER = "https://token.actions.githubusercontent.com"
PROVIDER_NAME = (f"projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools/{POOL}/"
                 f"providers/{PROVIDER}")
POOL_SET = f"principalSet://iam.googleapis.com/projects/{PROJECT_NUMBER}/locations/global/" \
           f"workloadIdentityPools/{POOL}"
REQUEST_TOKEN = "ghs_actionsIdTokenRequestToken0123456789"
RESET = -1
"""A fault status: close the connection with a TCP reset instead of answering."""
SERVICES = ("logging", "sts", "iam", "oidc")

ERRORS: dict[int, dict[str, Any] | str] = {
    400: {"error": {"code": 400, "message": "Invalid argument.", "status": "INVALID_ARGUMENT"}},
    401: {"error": {"code": 401, "message": "Request had invalid authentication credentials. "
                    "Expected OAuth 2 access token, login cookie or other valid authentication "
                    "credential. See https://developers.google.com/identity/sign-in/web/"
                    "devconsole-project.", "status": "UNAUTHENTICATED",
                    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                 "reason": "ACCESS_TOKEN_EXPIRED", "domain": "googleapis.com",
                                 "metadata": {"service": "logging.googleapis.com",
                                              "method": "google.logging.v2.LoggingServiceV2."
                                              "ListLogEntries"}}]}},
    429: {"error": {"code": 429, "message": "Quota exceeded for quota metric 'Read requests' "
                    "and limit 'Read requests per minute' of service 'logging.googleapis.com' "
                    f"for consumer 'project_number:{PROJECT_NUMBER}'.",
                    "status": "RESOURCE_EXHAUSTED",
                    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                 "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                                 "metadata": {"service": "logging.googleapis.com",
                                              "quota_metric": "logging.googleapis.com/"
                                              "read_requests", "quota_limit":
                                              "ReadRequestsPerMinutePerProject",
                                              "consumer": f"projects/{PROJECT_NUMBER}"}}]}},
    500: {"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}},
    502: "<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error 502 (Server Error)!!1"
         "</title><p><b>502.</b> <ins>That’s an error.</ins><p>The server encountered a "
         "temporary error and could not complete your request.<p>Please try again in 30 "
         "seconds. <ins>That’s all we know.</ins></html>",
    503: {"error": {"code": 503, "message": "The service is currently unavailable.",
                    "status": "UNAVAILABLE"}},
    504: {"error": {"code": 504, "message": "Deadline expired before operation could complete.",
                    "status": "DEADLINE_EXCEEDED"}},
}

GITHUB_ERRORS: dict[int, dict[str, Any] | str] = {
    429: {"message": "API rate limit exceeded for the OIDC token service. Retry later."},
    500: {"$id": "1", "innerException": None, "message": "An unexpected error occurred.",
          "typeName": "System.Exception", "errorCode": 0, "eventId": 0},
    502: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
         "</h1></center></body></html>",
    503: "<html><body><h1>503 Service Unavailable</h1>No server is available to handle this "
         "request.</body></html>",
    504: "<html><body><h1>504 Gateway Time-out</h1>The server didn't respond in time.</body>"
         "</html>",
}
"""What GitHub's token service (behind its front door) answers when it fails."""


def google_error(code: int, message: str, status: str, *, reason: str = "", domain: str = "",
                 metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """Google's JSON error body, with an ErrorInfo detail when `reason` is given."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                             "reason": reason, "domain": domain, "metadata": metadata or {}}]
    return {"error": error}


def permission_denied(permission: str, resource: str, domain: str) -> dict[str, Any]:
    return google_error(403, f"Permission '{permission}' denied on resource (or it may not "
                        "exist).", "PERMISSION_DENIED", reason="IAM_PERMISSION_DENIED",
                        domain=domain, metadata={"permission": permission,
                                                 "resource": resource})


@dataclass
class Fault:
    """One scripted answer to entries:list instead of the real one."""

    status: int
    """HTTP status; 200 means "wait `delay`, then answer normally" (a stall), or with a `body`,
    answer 200 with it (a proxy or a wrong endpoint)."""
    times: int = 1
    """How many calls in a row get this answer."""
    body: Any = None
    """Body instead of Google's usual one for `status`."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    after: int = 0
    """Calls to let through untouched before the fault starts."""
    service: str = "logging"
    """Which fake answers with it: logging (entries:list), sts, iam or oidc."""


@dataclass
class Call:
    """One request any of the fake services received."""

    service: str
    method: str
    path: str
    headers: dict[str, str]
    """Header names in lower case."""
    body: Any


@dataclass
class Token:
    """An access token the fake issued."""

    principal: str
    expires: float
    scopes: tuple[str, ...] = ()


Reply = tuple[int, dict[str, str], bytes]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY each keep-alive response
    # waits ~40 ms on the client's delayed ACK, which no real Google front end does.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        app: Callable[[str, str, dict[str, str], bytes], Reply] = self.server.app  # type: ignore
        status, headers, body = app(self.command, self.path, dict(self.headers), raw)
        if status == RESET:
            # Linger 0: closing sends RST, as a failing load balancer does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out on a stalled answer and left

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class _Server:
    def __init__(self, app: Callable[[str, str, dict[str, str], bytes], Reply]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.app = app  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.02})
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _json(status: int, body: Any) -> Reply:
    """`body` as JSON; a string as the HTML page a proxy or front end would send."""
    if isinstance(body, str):
        return status, {"Content-Type": "text/html; charset=UTF-8"}, body.encode()
    return status, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(body).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims if isinstance(claims, dict) else {}


class FakeGoogle:
    """Logging, STS, IAM Credentials and the Actions OIDC endpoint, with shared token state."""

    def __init__(self, entries: list[dict[str, Any]] | None = None, *,
                 project: str = PROJECT) -> None:
        self.project = project
        self.calls: list[Call] = []
        self.faults: deque[Fault] = deque()
        self.slow_pages = 0.0
        self.tokens: dict[str, Token] = {}
        self.repositories = {REPOSITORY}
        """Repositories the provider's attribute condition accepts."""
        self.providers = {PROVIDER_NAME}
        self.service_accounts: dict[str, set[str]] = {
            SERVICE_ACCOUNT: {f"{POOL_SET}/attribute.repository/{REPOSITORY}"}}
        """Service account -> principals holding roles/iam.workloadIdentityUser on it."""
        self.viewers: set[str] | None = None
        """Principals with roles/logging.viewer; None: every authenticated principal."""
        self.private_viewers: set[str] = set()
        self.refresh_tokens: dict[str, str] = {}
        """OAuth refresh token -> user principal, for ADC user credentials."""
        self.keys: set[str] = set()
        """Service accounts whose key files the token endpoint accepts."""
        self.oidc_claims: dict[str, Any] = {}
        """Extra or replaced claims in the OIDC tokens GitHub issues."""
        self.token_lifetime = 3599
        self._expire_after: int | None = None
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._cache: dict[str, list[int]] = {}
        self.set_entries(entries or [])
        self.logging = _Server(self._logging)
        self.sts = _Server(self._sts)
        self.iam = _Server(self._iam)
        self.oidc = _Server(self._oidc)

    # --- set-up -------------------------------------------------------------------------------

    def set_entries(self, entries: list[dict[str, Any]]) -> None:
        """Serve these entries (any order; the fake sorts as the API does)."""
        self.entries = list(entries)
        self._encoded = [json.dumps(e, separators=(",", ":")).encode() for e in self.entries]
        self._cache.clear()

    def fail(self, status: int, times: int = 1, *, body: Any = None,
             delay: float = 0.0, after: int = 0, service: str = "logging") -> None:
        """Answer `times` calls to `service` (after `after` good ones) with `status` (or
        `RESET`); entries:list by default."""
        assert service in SERVICES, service
        self.faults.append(Fault(status, times, body, delay, after, service))

    def stall(self, seconds: float, times: int = 1, *, after: int = 0,
              service: str = "logging") -> None:
        """Make `times` calls to `service` (after `after` good ones) wait before answering."""
        assert service in SERVICES, service
        self.faults.append(Fault(200, times, None, seconds, after, service))

    def expire_tokens_after(self, calls: int) -> None:
        """After `calls` more successful entries:list calls, the token they used expires."""
        self._expire_after = calls

    def issue_token(self, principal: str, lifetime: float | None = None) -> str:
        digest = hashlib.sha1(principal.encode()).hexdigest()[:8]
        token = f"ya29.fake-{next(self._counter)}-{digest}"
        with self._lock:
            self.tokens[token] = Token(principal, time.time() + (lifetime or self.token_lifetime))
        return token

    def env(self, **extra: str) -> dict[str, str]:
        """A GitHub Actions job's environment with `id-token: write`, endpoints pointing here."""
        return {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_REPOSITORY": REPOSITORY,
                "GITHUB_REF": "refs/heads/main",
                "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.oidc.url}/_apis/distributedtask/hubs/"
                "Actions/plans/0b5f/jobs/7c1d/idtoken?api-version=2.0",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
                "GARDENER_LOGGING_ENDPOINT": self.logging.url,
                "GARDENER_STS_ENDPOINT": self.sts.url, "GARDENER_IAM_ENDPOINT": self.iam.url,
                **extra}

    def service_account_key(self, email: str) -> dict[str, Any]:
        """A service-account key file (a fresh RSA key) whose `token_uri` is this fake."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        self.keys.add(email)
        return {"type": "service_account", "project_id": self.project,
                "private_key_id": hashlib.sha1(pem.encode()).hexdigest(), "private_key": pem,
                "client_email": email, "client_id": "109876543210987654321",
                "token_uri": f"{self.sts.url}/token"}

    def count(self, service: str, path_part: str = "") -> int:
        return sum(c.service == service and path_part in c.path for c in self.calls)

    def list_calls(self) -> list[Call]:
        return [c for c in self.calls if c.service == "logging"]

    def close(self) -> None:
        for server in (self.logging, self.sts, self.iam, self.oidc):
            server.close()

    def __enter__(self) -> FakeGoogle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- shared ---------------------------------------------------------------------------------

    def _record(self, service: str, method: str, path: str, headers: dict[str, str],
                body: Any) -> None:
        lower = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self.calls.append(Call(service, method, path, lower, body))

    def _bearer(self, headers: dict[str, str]) -> Token | None:
        value = headers.get("Authorization") or headers.get("authorization") or ""
        token = self.tokens.get(value.removeprefix("Bearer "))
        return token if token is not None and token.expires > time.time() else None

    # --- Cloud Logging --------------------------------------------------------------------------

    def _logging(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        body = json.loads(raw or b"{}")
        self._record("logging", method, path, headers, body)
        if method != "POST" or urlsplit(path).path != "/v2/entries:list":
            return _json(404, google_error(404, "Method not found.", "NOT_FOUND"))
        token = self._bearer(headers)
        if token is None:
            return _json(401, ERRORS[401])
        faulted = self._fault("logging")
        if faulted is not None:
            return faulted
        if self.slow_pages:
            time.sleep(self.slow_pages)
        denied = self._denied(token.principal, body)
        if denied:
            return _json(403, denied)
        try:
            reply = self._page(body)
        except FilterError as err:
            return _json(400, google_error(400, f"Invalid query: Unparseable filter: {err}",
                                           "INVALID_ARGUMENT"))
        except ValueError as err:
            return _json(400, google_error(400, str(err), "INVALID_ARGUMENT"))
        self._count_success(token)
        return reply

    def _fault(self, service: str) -> Reply | None:
        """The scripted answer for this call to `service`, if one is due (after its delay)."""
        fault = self._next_fault(service)
        if fault is None:
            return None
        time.sleep(fault.delay)
        if fault.status == 200 and fault.body is None:
            return None  # a stall: answer normally, late
        if fault.status == RESET:
            return RESET, {}, b""
        if fault.body is not None:  # a 200 with a body of our own, or any scripted body
            return _json(fault.status, fault.body)
        if service == "oidc":
            return _json(fault.status, GITHUB_ERRORS.get(fault.status, GITHUB_ERRORS[500]))
        return _json(fault.status, ERRORS[fault.status])

    def _next_fault(self, service: str) -> Fault | None:
        with self._lock:
            fault = next((f for f in self.faults if f.service == service), None)
            if fault is None:
                return None
            if fault.after > 0:
                fault.after -= 1
                return None
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            return fault

    def _count_success(self, token: Token) -> None:
        with self._lock:
            if self._expire_after is None:
                return
            self._expire_after -= 1
            if self._expire_after <= 0:
                # Server-side expiry the client did not see coming (clock skew, revocation).
                self._expire_after = None
                token.expires = 0.0

    def _denied(self, principal: str, body: dict[str, Any]) -> dict[str, Any] | None:
        resource = f"projects/{self.project}"
        if body.get("resourceNames") != [resource]:
            names = body.get("resourceNames")
            return permission_denied("logging.logEntries.list", str(names), "logging.googleapis"
                                     ".com")
        if self.viewers is not None and principal not in self.viewers:
            return permission_denied("logging.logEntries.list", resource,
                                     "logging.googleapis.com")
        if "data_access" in str(body.get("filter", "")) and principal not in self.private_viewers:
            return permission_denied("logging.privateLogEntries.list", resource,
                                     "logging.googleapis.com")
        return None

    def _page(self, body: dict[str, Any]) -> Reply:
        filter_, order = str(body.get("filter", "")), str(body.get("orderBy", "timestamp asc"))
        size = int(body.get("pageSize") or 50)
        if size > 1000 or size < 0:
            raise ValueError(f"Page size {size} is out of range [0, 1000].")
        if order not in ("timestamp asc", "timestamp desc"):
            raise ValueError(f"Invalid orderBy: {order!r}.")
        key = hashlib.sha256(f"{body.get('resourceNames')}|{filter_}|{order}".encode()).hexdigest()
        offset = self._offset(str(body.get("pageToken") or ""), key)
        matches = self._matches(filter_, order, key)
        chunk = matches[offset:offset + size]
        parts = [b'{"entries":[', b",".join(self._encoded[i] for i in chunk), b"]"]
        if not chunk:
            parts = [b"{"]
        if offset + size < len(matches):
            token = _b64(json.dumps({"k": key[:16], "o": offset + size}).encode())
            parts.append((',' if chunk else '').encode() + f'"nextPageToken":"{token}"'.encode())
        parts.append(b"}")
        return 200, {"Content-Type": "application/json; charset=UTF-8"}, b"".join(parts)

    @staticmethod
    def _offset(token: str, key: str) -> int:
        if not token:
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except ValueError:
            raise ValueError("Invalid page token.") from None
        if data.get("k") != key[:16]:
            raise ValueError("The page token does not match the request's arguments.")
        return int(data["o"])

    def _matches(self, filter_: str, order: str, key: str) -> list[int]:
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        test = compile_filter(filter_)
        found = [i for i, entry in enumerate(self.entries) if test(entry)]
        found.sort(key=lambda i: (_sort_time(self.entries[i]), self.entries[i].get("insertId",
                                                                                    "")),
                   reverse=order.endswith("desc"))
        with self._lock:
            self._cache[key] = found
        return found

    # --- STS and OAuth --------------------------------------------------------------------------

    def _sts(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        self._record("sts", method, path, headers, form)
        faulted = self._fault("sts")
        if faulted is not None:
            return faulted
        if path == "/token":
            return self._refresh(form)
        if path != "/v1/token":
            return _json(404, google_error(404, "Not found.", "NOT_FOUND"))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
            return _json(400, {"error": "unsupported_grant_type",
                               "error_description": "Invalid grant_type."})
        audience = form.get("audience", "").removeprefix("//iam.googleapis.com/")
        if audience not in self.providers:
            return _json(400, {"error": "invalid_target", "error_description": "The target "
                               "service indicated by the \"audience\" parameters is invalid. "
                               "This might either be because the pool or provider is disabled "
                               "or deleted or because it doesn't exist."})
        try:
            claims = _jwt_claims(form.get("subject_token", ""))
        except (ValueError, IndexError):
            return _json(400, {"error": "invalid_grant",
                               "error_description": "Unable to parse the ID Token."})
        expected = "https://iam.googleapis.com/" + audience
        if claims.get("aud") != expected:
            return _json(400, {"error": "invalid_grant", "error_description": "The audience "
                               f"in ID Token [{claims.get('aud')}] does not match the expected "
                               "audience."})
        if claims.get("repository") not in self.repositories:
            return _json(400, {"error": "unauthorized_client", "error_description":
                               "The given credential is rejected by the attribute condition."})
        principal = f"{POOL_SET}/attribute.repository/{claims['repository']}"
        return _json(200, {"access_token": self.issue_token(principal),
                           "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                           "token_type": "Bearer", "expires_in": self.token_lifetime})

    def _refresh(self, form: dict[str, str]) -> Reply:
        """OAuth 2.0 token endpoint: refresh tokens, and service-account key JWTs."""
        principal = self.refresh_tokens.get(form.get("refresh_token", ""))
        if form.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            email = _jwt_claims(form.get("assertion", "")).get("iss", "")
            principal = f"serviceAccount:{email}" if email in self.keys else None
            if principal is None:
                return _json(400, {"error": "invalid_grant",
                                   "error_description": "Invalid grant: account not found"})
        elif form.get("grant_type") != "refresh_token" or principal is None:
            return _json(400, {"error": "invalid_grant",
                               "error_description": "Token has been expired or revoked."})
        return _json(200, {"access_token": self.issue_token(principal),
                           "expires_in": self.token_lifetime, "token_type": "Bearer",
                           "scope": "https://www.googleapis.com/auth/cloud-platform"})

    # --- IAM Credentials ------------------------------------------------------------------------

    def _iam(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        body = json.loads(raw or b"{}")
        self._record("iam", method, path, headers, body)
        faulted = self._fault("iam")
        if faulted is not None:
            return faulted
        match = re.fullmatch(r"/v1/projects/-/serviceAccounts/([^/:]+):generateAccessToken",
                             unquote(urlsplit(path).path))
        if method != "POST" or not match:
            return _json(404, google_error(404, "Not found.", "NOT_FOUND"))
        token = self._bearer(headers)
        if token is None:
            return _json(401, ERRORS[401])
        email = match[1]
        if email not in self.service_accounts:
            return _json(404, google_error(404, f"Not found; Gaia id not found for email "
                                           f"{email}", "NOT_FOUND"))
        if token.principal not in self.service_accounts[email]:
            return _json(403, permission_denied("iam.serviceAccounts.getAccessToken",
                                                f"projects/-/serviceAccounts/{email}",
                                                "iam.googleapis.com"))
        expire = datetime.fromtimestamp(time.time() + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _json(200, {"accessToken": self.issue_token(f"serviceAccount:{email}"),
                           "expireTime": expire})

    # --- GitHub Actions OIDC --------------------------------------------------------------------

    def _oidc(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        self._record("oidc", method, path, headers, None)
        faulted = self._fault("oidc")
        if faulted is not None:
            return faulted
        if {k.lower(): v for k, v in headers.items()}.get("authorization") != \
                f"Bearer {REQUEST_TOKEN}":
            return _json(401, {"$id": "1", "innerException": None, "message": "TF400813: The "
                               "user '' is not authorized to access this resource.",
                               "typeName": "Microsoft.TeamFoundation.Framework.Server."
                               "UnauthorizedRequestException", "errorCode": 0,
                               "eventId": 3000})
        query = parse_qs(urlsplit(path).query)
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": query.get("audience", [ISSUER])[0],
                  "sub": f"repo:{REPOSITORY}:ref:refs/heads/main", "repository": REPOSITORY,
                  "repository_owner": REPOSITORY.split("/")[0], "ref": "refs/heads/main",
                  "iat": now, "nbf": now, "exp": now + 300, "jti": str(next(self._counter))}
        claims.update(self.oidc_claims)
        header = {"alg": "RS256", "kid": "cc413527-173f-5a05-976e-9c52b1d7b431", "typ": "JWT"}
        jwt = ".".join((_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()),
                        _b64(hashlib.sha256(json.dumps(claims).encode()).digest())))
        return _json(200, {"count": 1, "value": jwt})


def _sort_time(entry: dict[str, Any]) -> str:
    value = str(entry.get("timestamp", ""))
    if value.endswith("Z") and len(value) > 19:
        return value[:19] + "." + value[19:-1].lstrip(".").ljust(9, "0")
    return value


SERVICE = "netra-backend-staging"
REVISION = "netra-backend-staging-00042-xuz"
T0 = datetime(2025, 9, 15, 23, 0, tzinfo=UTC)


def rfc3339(moment: datetime, nanos: int = 0) -> str:
    """`2025-09-15T23:00:01Z`, or with a nanosecond fraction as the API writes them."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{nanos:09d}Z" if nanos else f"{text}Z"


def sample_entries(count: int, *, start: datetime = T0, step_ms: int = 700,
                   project: str = PROJECT, service: str = SERVICE) -> list[dict[str, Any]]:
    """Cloud Run entries in the shapes a real service writes (oldest first): INFO chatter in
    jsonPayload and textPayload, request logs with only httpRequest, rare WARNING/ERROR with
    sourceLocation and stack traces, DEFAULT-severity lines, nanosecond timestamps."""
    resource = {"type": "cloud_run_revision",
                "labels": {"project_id": project, "service_name": service,
                           "revision_name": REVISION, "configuration_name": service,
                           "location": "us-central1"}}
    out = []
    for i in range(count):
        moment = start + timedelta(milliseconds=i * step_ms)
        nanos = (i * 7919 % 1000) * 1_000_000 + i % 1000 if i % 3 == 1 else 0
        entry: dict[str, Any] = {
            "insertId": f"{i:06x}{(i * 2654435761) % 16**8:08x}",
            "timestamp": rfc3339(moment, nanos),
            "receiveTimestamp": rfc3339(moment + timedelta(milliseconds=40), 123_456_789),
            "resource": resource,
            "labels": {"instanceId": f"00f4b7c1{i % 4:02d}"},
            "logName": f"projects/{project}/logs/run.googleapis.com%2Fstdout",
            "trace": f"projects/{project}/traces/{i * 104729 % 16**12:032x}",
        }
        entry.update(_payload(i, project))
        out.append(entry)
    return out


def _payload(i: int, project: str) -> dict[str, Any]:
    if i % 97 == 5:
        return {"severity": "ERROR", "jsonPayload": {
            "message": f"CRITICAL STARTUP FAILURE: Database initialization timeout after "
                       f"{20 + i % 9}.0s in staging environment",
            "logger": "netra_backend.app.smd"},
            "sourceLocation": {"file": "netra_backend/app/smd.py", "line": "1005",
                               "function": "_initialize_database"}}
    if i % 61 == 7:
        return {"severity": "ERROR", "textPayload": "Traceback (most recent call last):\n"
                '  File "/app/netra_backend/app/db.py", line 88, in connect\n'
                "    raise ConnectionRefusedError(111, 'Connect call failed')\n"
                f"ConnectionRefusedError: [Errno 111] Connect call failed ('10.0.0.{i % 250}', "
                "5432)"}
    if i % 13 == 3:
        return {"severity": "WARNING",
                "textPayload": f"Redis connection pool exhausted (size={i % 50}), retrying"}
    if i % 7 == 0:
        status = 503 if i % 49 == 0 else 200
        return {"severity": "ERROR" if status >= 500 else "INFO",
                "logName": f"projects/{project}/logs/run.googleapis.com%2Frequests",
                "httpRequest": {"requestMethod": "GET", "status": status,
                                "requestUrl": f"https://api.netra.example/users/{i}/orders",
                                "latency": f"0.{i % 900:03d}s", "responseSize": "2048",
                                "userAgent": "Mozilla/5.0", "remoteIp": "203.0.113.9",
                                "protocol": "HTTP/1.1"}}
    if i % 31 == 2:
        return {"textPayload": f"Listening on port 8080 (worker {i % 4})"}
    if i % 2:
        return {"severity": "INFO", "jsonPayload": {"message": f"Processed order {i} in "
                                                    f"{i % 90} ms", "logger": "orders"}}
    return {"severity": "INFO", "textPayload": f"GET /health 200 in {i % 17} ms"}


LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse (and fail the test on) any name look-up that is not loopback, in any thread.

    pytest-socket blocks connections, but a DNS query for googleapis.com would already have
    left the machine by then.
    """
    attempts: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK:
            attempts.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: blocked by the test")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield attempts
    assert attempts == [], f"the test tried to reach {attempts}"


@pytest.fixture
def fake_google(loopback_only: list[str]) -> Iterator[FakeGoogle]:
    """A running `FakeGoogle` with no entries; stopped after the test. No DNS beyond loopback."""
    with FakeGoogle() as fake:
        yield fake


__all__ = ["ERRORS", "GITHUB_ERRORS", "PROJECT", "PROVIDER_NAME", "REPOSITORY", "RESET",
           "SERVICE_ACCOUNT", "Fault",
           "FakeGoogle", "FilterError", "compile_filter", "fake_google", "google_error",
           "loopback_only",
           "permission_denied", "rfc3339", "sample_entries"]


# --- The Logging query language (the subset our filters and tests use) --------------------------

SEVERITIES = {"DEFAULT": 0, "DEBUG": 100, "INFO": 200, "NOTICE": 300, "WARNING": 400,
              "ERROR": 500, "CRITICAL": 600, "ALERT": 700, "EMERGENCY": 800}
_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<op>>=|<=|!=|=|<|>|:)
    | (?P<paren>[()])
    | (?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*"))*)
    | (?P<word>[^\s()"=<>!:]+)
    )""", re.VERBOSE)
Test = Callable[[dict[str, Any]], bool]


class FilterError(ValueError):
    """A filter the fake cannot parse; the message mimics the API's."""


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while text[pos:].strip():
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            column = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise FilterError(f"syntax error at line 1, column {column}, token "
                              f"'{text[column - 1:column]}'")
        kind = match.lastgroup or ""
        tokens.append((kind, match[kind], match.start(kind) + 1))
        pos = match.end()
    return tokens


def compile_filter(text: str) -> Test:
    """A predicate over entries for a filter (NOT binds tightest, then OR, then AND)."""
    parser = _Parser(_tokens(text))
    if not parser.tokens:
        return lambda entry: True
    test = parser.conjunction()
    if parser.pos < len(parser.tokens):
        _, value, column = parser.tokens[parser.pos]
        raise FilterError(f"syntax error at line 1, column {column}, token '{value}'")
    return test


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "", 0)

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token[0] == "end":
            raise FilterError("syntax error: unexpected end of filter")
        self.pos += 1
        return token

    def conjunction(self) -> Test:
        parts = [self.disjunction()]
        while self.peek()[0] != "end" and self.peek()[1] != ")":
            if self.peek()[1] == "AND":
                self.take()
            parts.append(self.disjunction())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def disjunction(self) -> Test:
        parts = [self.unary()]
        while self.peek()[1] == "OR":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def unary(self) -> Test:
        if self.peek()[1] in ("NOT", "-"):
            self.take()
            inner = self.unary()
            return lambda e: not inner(e)
        return self.atom()

    def atom(self) -> Test:
        kind, value, column = self.take()
        if value == "(":
            inner = self.conjunction()
            if self.take()[1] != ")":
                raise FilterError(f"syntax error at line 1, column {column}, token '('")
            return inner
        if kind == "string":
            needle = json.loads(value).casefold()
            return lambda e: needle in json.dumps(e).casefold()
        if kind not in ("path", "word") or self.peek()[0] != "op":
            raise FilterError(f"syntax error at line 1, column {column}, token '{value}'")
        op = self.take()[1]
        v_kind, raw, v_column = self.take()
        if v_kind not in ("string", "word", "path"):
            raise FilterError(f"syntax error at line 1, column {v_column}, token '{raw}'")
        return _comparison(_path(value), op, json.loads(raw) if v_kind == "string" else raw)


def _path(text: str) -> list[str]:
    parts = re.findall(r'"(?:[^"\\]|\\.)*"|[^.]+', text)
    return [json.loads(p) if p.startswith('"') else p for p in parts]


def _lookup(entry: dict[str, Any], path: list[str]) -> Any:
    value: Any = entry
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _comparison(path: list[str], op: str, literal: str) -> Test:
    if path == ["severity"]:
        if literal.upper() not in SEVERITIES and not literal.isdigit():
            raise FilterError(f"invalid severity '{literal}'")
        want = SEVERITIES.get(literal.upper(), int(literal) if literal.isdigit() else 0)
        return lambda e: _compare(SEVERITIES.get(str(e.get("severity") or "DEFAULT"), 0), op,
                                  want)
    if path[0] in ("timestamp", "receiveTimestamp"):
        moment = _moment(literal)
        return lambda e: (e.get(path[0]) is not None
                          and _compare(_moment(str(e[path[0]])), op, moment))
    if op == ":" and literal == "*":
        return lambda e: _lookup(e, path) is not None

    def test(entry: dict[str, Any]) -> bool:
        value = _lookup(entry, path)
        if value is None:
            return op == "!="
        if op == ":":
            return literal.casefold() in str(value).casefold()
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return _compare(float(value), op, float(literal))
            except ValueError:
                return False
        return _compare(str(value), op, literal)
    return test


def _moment(text: str) -> datetime:
    """An RFC 3339 time; nanosecond fractions are cut to the microseconds Python keeps."""
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(itertools.takewhile(str.isdigit, rest))
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    raise FilterError(f"unsupported operator {op}")
