"""Redaction: every promised kind of secret goes, ordinary Cloud Run log text stays, idempotently.

Fake secrets are assembled here from pieces, so no whole secret-shaped literal is committed (secret
scanners would rightly flag one).
"""

from __future__ import annotations

import base64
import importlib
import importlib.metadata
import importlib.util
import json
import re
import string
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gardener import redact_rules, secret_patterns
from gardener.redact import Redactor, marker, redact, redact_json, secret_key_kind

ALNUM = string.ascii_letters + string.digits


def body(n: int, alphabet: str = ALNUM, shift: int = 7) -> str:
    """`n` characters cycling through `alphabet` (deterministic, mixed, not a real secret)."""
    return "".join(alphabet[(i * shift + 3) % len(alphabet)] for i in range(n))


def b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


JWT = ".".join([b64url({"alg": "RS256", "typ": "JWT"}),
                b64url({"sub": "1234", "email": "dev@example.com"}), body(43, ALNUM + "-_")])
PEM_BODY = body(64, ALNUM + "+/")
BEGIN, END = "-----BEGIN ", "-----END "
PEM = f"{BEGIN}PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY[:20]}=\n{END}PRIVATE KEY-----"
GH = {prefix: prefix + body(36) for prefix in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")}
BASIC = base64.b64encode(b"deploy:" + body(12).encode()).decode()
AWS_ID = "AKIA" + body(16, string.ascii_uppercase + string.digits)
AWS_SECRET = body(40, ALNUM + "/+")

# (id, text, expected)
POSITIVES: list[tuple[str, str, str]] = [
    ("dsn-postgres", "postgresql://user:s3cret@host:5432/db",
     "postgresql://user:[REDACTED:password]@host:5432/db"),
    ("dsn-sub-delims-and-at", "mongodb+srv://app:p@ss!w0rd$@cluster0.example.net/?retryWrites=true",
     "mongodb+srv://app:[REDACTED:password]@cluster0.example.net/?retryWrites=true"),
    ("dsn-no-user", "redis://:hunter22@10.0.0.3:6379/0",
     "redis://:[REDACTED:password]@10.0.0.3:6379/0"),
    ("dsn-cloudsql-socket", "postgres://netra:Zq9-x_1@/netra?host=/cloudsql/p:us-central1:db",
     "postgres://netra:[REDACTED:password]@/netra?host=/cloudsql/p:us-central1:db"),
    ("bearer-header", "Authorization: Bearer abc.def",
     "Authorization: Bearer [REDACTED:bearer]"),
    ("bearer-dict-repr", "headers={'authorization': 'Bearer tok_51Hx'}",
     "headers={'authorization': 'Bearer [REDACTED:bearer]'}"),
    ("bearer-free", "retrying with Bearer Zk8s.Qa-19_x~ after 401",
     "retrying with Bearer [REDACTED:bearer] after 401"),
    ("basic-header", f"Authorization: Basic {BASIC}", "Authorization: Basic [REDACTED:basic]"),
    ("basic-free", f"curl -H 'Basic {BASIC}' https://x", "curl -H 'Basic [REDACTED:basic]' https://x"),
    ("authorization-token", "Authorization: Token 9f8e7d6c5b4a", "Authorization: Token "
     "[REDACTED:authorization]"),
    ("password-kv", "login password=hunter2 user=bob",
     "login password=[REDACTED:password] user=bob"),
    ("password-env", "POSTGRES_PASSWORD='p@ss w0rd!' next",
     "POSTGRES_PASSWORD='[REDACTED:password]' next"),
    ("password-json", '{"user": "bob", "password": "hunter2"}',
     '{"user": "bob", "password": "[REDACTED:password]"}'),
    ("password-escaped-json", r'payload="{\"passwd\": \"hunter2\", \"n\": 1}"',
     r'payload="{\"passwd\": \"[REDACTED:password]\", \"n\": 1}"'),
    ("pwd-dotnet", "Server=db;User Id=sa;Pwd=Hunter2!;Database=x",
     "Server=db;User Id=sa;Pwd=[REDACTED:password];Database=x"),
    ("secret-yaml", "secret: mysecretvalue", "secret: [REDACTED:secret]"),
    ("client-secret-camel", 'clientSecret: "abcDEF123"', 'clientSecret: "[REDACTED:secret]"'),
    ("token-query", "GET /cb?code=1&access_token=abc123def&x=1",
     "GET /cb?code=1&access_token=[REDACTED:token]&x=1"),
    ("token-prose", "Invalid token: abc123XYZ", "Invalid token: [REDACTED:token]"),
    ("api-key-json", '{"api_key": "abcdef123456", "x": 1}',
     '{"api_key": "[REDACTED:api-key]", "x": 1}'),
    ("api-key-header", "X-Api-Key: k3y-V4lue-99", "X-Api-Key: [REDACTED:api-key]"),
    ("azure-connection-string",
     f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={body(86, ALNUM + '+/')}==;"
     "EndpointSuffix=core.windows.net",
     "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED:key];"
     "EndpointSuffix=core.windows.net"),
    ("azure-sas", "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sig=Zm9v%2Bbar%3D"
     "&se=2025-09-16", "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sr=b"
     "&sig=[REDACTED:signature]&se=2025-09-16"),
    ("cookie", "Cookie: session=abcdef123; theme=dark", "Cookie: [REDACTED:cookie]"),
    ("set-cookie", "Set-Cookie: sid=Zx81k; Path=/; HttpOnly", "Set-Cookie: [REDACTED:cookie]"),
    *[(f"github-{p[:3]}", f"token {t} used", "token [REDACTED:github-token] used")
      for p, t in GH.items()],
    ("github-fine-grained", "pat=github_pat_" + body(22) + "_" + body(59),
     "pat=[REDACTED:github-token]"),
    ("github-in-url", f"git clone https://x-access-token:{GH['ghs_']}@github.com/o/r.git",
     "git clone https://x-access-token:[REDACTED:github-token]@github.com/o/r.git"),
    ("aws-key-id", f"using key {AWS_ID} in us-east-1", "using key [REDACTED:aws-key] in us-east-1"),
    ("aws-secret", f'aws_secret_access_key = "{AWS_SECRET}"',
     'aws_secret_access_key = "[REDACTED:aws-secret-key]"'),
    ("gcp-api-key", f"maps key=AIza{body(35, ALNUM + '-_')} ok",
     "maps key=[REDACTED:gcp-api-key] ok"),
    ("gcp-api-key-bare", f"GET /v1/geocode?address=x AIza{body(35)}",
     "GET /v1/geocode?address=x [REDACTED:gcp-api-key]"),
    ("google-oauth", f"got ya29.{body(60, ALNUM + '-_')} from metadata",
     "got [REDACTED:google-oauth-token] from metadata"),
    ("google-refresh", f"refresh 1//0{body(40)} stored",
     "refresh [REDACTED:google-oauth-token] stored"),
    ("google-client-secret", f"oauth GOCSPX-{body(28)}", "oauth [REDACTED:google-client-secret]"),
    ("jwt", f"decoded {JWT}.", "decoded [REDACTED:jwt]."),
    ("jwt-under-token-key", f"id_token={JWT}", "id_token=[REDACTED:jwt]"),
    ("pem-block", f"key:\n{PEM}\nloaded", "key:\n[REDACTED:private-key]\nloaded"),
    ("pem-rsa", f"{BEGIN}RSA PRIVATE KEY-----\n{PEM_BODY}\n{END}RSA PRIVATE KEY-----",
     "[REDACTED:private-key]"),
    ("pem-json-escaped",
     '{"type": "service_account", "private_key": "' + PEM.replace("\n", "\\n") + '\\n", '
     '"client_email": "sa@p.iam.gserviceaccount.com"}',
     '{"type": "service_account", "private_key": "[REDACTED:private-key]", '
     '"client_email": "sa@p.iam.gserviceaccount.com"}'),
    ("pem-truncated", f"{BEGIN}OPENSSH PRIVATE KEY-----\n{PEM_BODY}", "[REDACTED:private-key]"),
    ("slack-bot", f"xoxb-1234567890-1234567890123-{body(24, string.ascii_lowercase)}",
     "[REDACTED:slack-token]"),
    ("slack-webhook", f"POST https://hooks.slack.com/services/T{body(8)}/B{body(8)}/{body(24)} 200",
     "POST [REDACTED:slack-token] 200"),
    ("stripe-live", f"charge with sk_live_{body(99)}", "charge with [REDACTED:stripe-key]"),
    ("stripe-restricted", f"rk_live_{body(24)}", "[REDACTED:stripe-key]"),
    ("stripe-test", f"sk_test_{body(24)}", "[REDACTED:stripe-key]"),
    ("sendgrid", f"SG.{body(22)}.{body(43)}", "[REDACTED:sendgrid-key]"),
    ("twilio", f"sid SK{body(32, string.hexdigits.lower()[:16])}",
     "sid [REDACTED:twilio-key]"),
    ("gitlab", f"glpat-{body(20)}", "[REDACTED:gitlab-token]"),
    ("pypi", f"pypi-AgEIcHlwaS5vcmc{body(70)}", "[REDACTED:pypi-token]"),
    ("openai-project", f"sk-proj-{body(40)}", "[REDACTED:openai-key]"),
    ("anthropic", f"sk-ant-api03-{body(40)}", "[REDACTED:anthropic-key]"),
    ("npm", f"npm_{body(36)}", "[REDACTED:npm-token]"),
    ("huggingface", f"hf_{body(34, string.ascii_letters)}", "[REDACTED:huggingface-token]"),
    ("square", f"sq0csp-{body(43)}", "[REDACTED:square-secret]"),
    ("telegram", f"bot 123456789:{body(35)} up", "bot [REDACTED:telegram-token] up"),
]


@pytest.mark.parametrize(("text", "expected"), [p[1:] for p in POSITIVES],
                         ids=[p[0] for p in POSITIVES])
def test_redacts_each_kind(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected


NEGATIVES = [
    "POST /api/v1/threads 200 OK latency=0.0123s "
    "trace=projects/netra-staging/traces/4bf92f3577b34da6a3ce929d0e0e4736 spanId=00f067aa0ba902b7",
    'insertId: "66c8f3a20004e1b2c7d8a9f0" revision_name=netra-backend-staging-00042-xkq',
    "Deploying commit 3f5e7a9c1b2d4e6f8a0b1c3d5e7f9a1b2c3d4e5f to netra-backend-staging-00042-xkq",
    "request_id=3f2a9c1e-8b7d-4e2f-9a1b-0c3d5e7f9a2b user_id=8c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
    "CRITICAL STARTUP FAILURE: Database initialization timeout after 8.0s in staging environment. "
    "Check POSTGRES_HOST configuration and Cloud SQL instance accessibility.",
    "Connecting to postgresql://netra@/netra_staging?host=/cloudsql/netra-staging:us-central1:pg",
    "GET https://api.example.com:8443/v1/items?page=2 HTTP/1.1 200",
    "Token refresh scheduled in 3600s for netra-backend@netra-staging.iam.gserviceaccount.com",
    "JWT validation failed: token expired at 2025-09-16T00:46:01Z",
    "token: expired",
    "SECRET_KEY not set; using default secret manager lookup",
    "Loaded 12 secrets from Secret Manager (projects/netra-staging/secrets/jwt-secret/versions/3)",
    "Fetching secret: projects/netra-staging/secrets/db-password/versions/latest",
    "password reset email sent to user@example.com",
    "WebSocket connection accepted: ws_conn_id=ws_7f3a9c_1726444801 thread_id=thread_abc123",
    "Container called exit(3). Revision netra-backend-staging-00042-xkq failed health check",
    "logging.googleapis.com/trace: projects/netra-staging/traces/0123456789abcdef0123456789abcdef",
    "Max tokens: 4096, prompt_tokens=1234 completion_tokens=567 total_tokens=1801",
    "Authentication failed: invalid credentials for user admin",
    "Authorization: denied for principal serviceAccount:ci@p.iam.gserviceaccount.com",
    "Using Bearer authentication for upstream calls",
    "Basic health check passed",
    'File "/usr/local/lib/python3.11/site-packages/sqlalchemy/pool/base.py", line 1264',
    "image=us-docker.pkg.dev/netra-staging/backend/api@sha256:"
    "4f6c2a8e9b1d3f5a7c9e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a",
    "k8s pod netra-worker-7d9f8b6c5d-x2x4z restarted (OOMKilled)",
    '{"message": "token bucket refill", "tokens": 20, "key": "user:42"}',
    'etag=W/"5e8f-1a2b3c" cache-key=v1:users:42',
    "Pub/Sub data=eyJldmVudCI6ICJkZXBsb3kiLCAicmV2aXNpb24iOiAiMDAwNDIifQ== acked",
    "connected to 10.8.0.3:5432 as netra (pid 4242) in 12ms",
    "Connecting with password=<*> to <*>",
    "password=*** token=None secret=[FILTERED] api_key=${API_KEY} pwd=%s",
    "httpRequest.status=503 userAgent=Mozilla/5.0 remoteIp=203.0.113.7 latency=2.1s",
    "Starting gunicorn 21.2.0 with 4 workers, keyfile=None certfile=None",
]


@pytest.mark.parametrize("line", NEGATIVES)
def test_ordinary_log_text_is_untouched(line: str) -> None:
    assert redact(line) == line


CLOUD_RUN_ENTRY = {
    "insertId": "68c8b359c156e501b30e96e8",
    "labels": {"instanceId": "0069c7a988e3e706c2094cac629f6fbed82c07cd"},
    "logName": "projects/netra-staging/logs/run.googleapis.com%2Frequests",
    "receiveTimestamp": "2025-09-16T00:46:17.204203421Z",
    "resource": {"type": "cloud_run_revision", "labels": {
        "configuration_name": "netra-backend-staging", "location": "us-central1",
        "project_id": "netra-staging", "revision_name": "netra-backend-staging-00042-abc",
        "service_name": "netra-backend-staging"}},
    "timestamp": "2025-09-16T00:46:17.048400Z", "severity": "ERROR",
    "httpRequest": {"latency": "8.145540s", "protocol": "HTTP/1.1", "remoteIp": "203.0.113.24",
                    "requestMethod": "GET", "status": 503, "responseSize": "46317",
                    "requestUrl": "https://netra-backend-staging-xyz-uc.a.run.app/api/threads"
                                  "?limit=20&offset=0&thread_id=3f2a9c1e-8b7d-4e2f-9a1b-0c3d5e7f9a2b",
                    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0.0.0 Safari/537.36"},
    "trace": "projects/netra-staging/traces/d6321d31c8acffcfa04d4d14197dbae1",
    "spanId": "00f067aa0ba902b7", "traceSampled": True,
    "sourceLocation": {"file": "netra_backend/app/smd.py", "line": "1005",
                       "function": "_initialize_database"},
    "jsonPayload": {"message": "CRITICAL STARTUP FAILURE: Database initialization timeout after "
                               "8.0s in staging environment", "commit": "3f5e7a9c1b2d4e6f8a0b1c3d5e"
                               "7f9a1b2c3d4e5f", "image": "us-docker.pkg.dev/netra-staging/backend/"
                               "api@sha256:" + "4f6c2a8e9b1d3f5a" * 4, "max_tokens": 4096,
                    "token_type": "Bearer", "has_password": False, "api_key": ""},
}


def test_realistic_cloud_run_entry_is_untouched() -> None:
    assert redact_json(CLOUD_RUN_ENTRY) == CLOUD_RUN_ENTRY


def test_multiline_text_keeps_its_shape() -> None:
    text = f"Traceback (most recent call last):\n  token={GH['ghp_']}\nValueError: boom\n"
    assert redact(text) == "Traceback (most recent call last):\n  token=[REDACTED:github-token]\n" \
                           "ValueError: boom\n"


def test_known_secrets_are_scrubbed_wherever_they_appear() -> None:
    oidc = body(30, string.ascii_lowercase)
    redactor = Redactor(extra_secrets=[oidc, "abc", "  "])
    assert redactor.redact(f"req={oidc}&x=1 {oidc}") == "req=[REDACTED:known-secret]&x=1 " \
                                                      "[REDACTED:known-secret]"
    assert redactor.redact("abc stays: too short to replace everywhere") == \
        "abc stays: too short to replace everywhere"


def test_from_env_takes_workflow_tokens_and_secret_named_variables() -> None:
    env = {"GITHUB_TOKEN": body(40), "ACTIONS_ID_TOKEN_REQUEST_TOKEN": body(50, shift=11),
           "DB_PASSWORD": "correct-horse", "HOME": "/home/runner", "GITHUB_REPOSITORY": "o/r"}
    out = Redactor.from_env(env).redact(" ".join(env.values()))
    assert out == "[REDACTED:known-secret] [REDACTED:known-secret] [REDACTED:known-secret] " \
                  "/home/runner o/r"


@pytest.mark.parametrize(("key", "kind"), [
    ("password", "password"), ("DB_PASSWORD", "password"), ("clientSecret", "secret"),
    ("client_secret", "secret"), ("x-api-key", "api-key"), ("X-Goog-Api-Key", "api-key"),
    ("apikey", "api-key"), ("Authorization", "authorization"), ("set-cookie", "cookie"),
    ("private_key", "private-key"), ("accessToken", "token"), ("refresh_token", "token"),
    ("credentials", "credentials"), ("private_key_id", None), ("token_type", None),
    ("max_tokens", None), ("keyword", None), ("monkey", None), ("key", None),
])
def test_secret_key_kind(key: str, kind: str | None) -> None:
    assert secret_key_kind(key) == kind


def test_redact_json_service_account_and_headers() -> None:
    doc = {
        "jsonPayload": {"message": f"login ok token={GH['gho_']}", "attempt": 2, "ok": True},
        "httpRequest": {"requestUrl": "https://u:pw12345@api.example.com/x", "status": 200},
        "headers": {"Authorization": "Bearer x", "Cookie": "", "X-Api-Key": None},
        "credentials": {"type": "service_account", "private_key_id": "abc123",
                        "private_key": PEM, "client_email": "sa@p.iam.gserviceaccount.com"},
        "sa": {"type": "service_account", "private_key": PEM, "client_secret": 12345,
               "secret": False, "password": []},
        "labels": ["a", f"{AWS_ID}"],
    }
    out = redact_json(doc)
    assert out == {
        "jsonPayload": {"message": "login ok token=[REDACTED:github-token]", "attempt": 2,
                        "ok": True},
        "httpRequest": {"requestUrl": "https://u:[REDACTED:password]@api.example.com/x",
                        "status": 200},
        "headers": {"Authorization": "[REDACTED:authorization]", "Cookie": "", "X-Api-Key": None},
        "credentials": "[REDACTED:credentials]",
        "sa": {"type": "service_account", "private_key": "[REDACTED:private-key]",
               "client_secret": "[REDACTED:secret]", "secret": False, "password": []},
        "labels": ["a", "[REDACTED:aws-key]"],
    }
    assert doc["sa"]["private_key"] == PEM, "the input is not modified"
    assert redact_json(out) == out


# --- properties ---------------------------------------------------------------------------------

FRAGMENTS = ["password=", "token: ", '"api_key": "', "://u:", "@", "Bearer ", "Basic ",
             "Authorization: ", "Cookie: a=", "'", '"', "\\", "\\n", "[REDACTED:token]", "=", ":",
             " ", "\n", ".", "-", "_", "eyJ", BEGIN + "PRIVATE KEY-----", END + "PRIVATE KEY-----",
             "ghp_", "AKIA", "xoxb-1-", "sk_live_", "AIza", "ya29.", "secret", "KEY", "pwd", "[",
             "]"]
SECRETS = st.one_of(
    st.sampled_from([p[1] for p in POSITIVES]),
    st.builds(lambda b: "ghp_" + b, st.text(ALNUM, min_size=36, max_size=40)),
    st.builds(lambda b: "AIza" + b, st.text(ALNUM + "-_", min_size=35, max_size=35)),
    st.builds(lambda b: "sk_live_" + b, st.text(ALNUM, min_size=24, max_size=99)),
)
MIXED = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(FRAGMENTS), SECRETS),
                 max_size=12).map("".join)


@settings(max_examples=400)
@given(st.one_of(st.text(), MIXED))
def test_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


TOKENS = st.one_of(
    st.builds(lambda p, b: p + b, st.sampled_from(list(GH)), st.text(ALNUM, min_size=36,
                                                                    max_size=40)),
    st.builds(lambda b: "github_pat_" + b, st.text(ALNUM + "_", min_size=40, max_size=82)),
    st.builds(lambda b: "AIza" + b, st.text(ALNUM + "-_", min_size=35, max_size=35)),
    st.builds(lambda b: "ya29." + b, st.text(ALNUM + "-_", min_size=30, max_size=80)),
    st.builds(lambda b: "sk_live_" + b, st.text(ALNUM, min_size=24, max_size=99)),
    st.builds(lambda b: "AKIA" + b, st.text(string.ascii_uppercase + string.digits, min_size=16,
                                            max_size=16)),
    st.builds(lambda b: "xoxb-12345-67890-" + b, st.text(string.ascii_lowercase + string.digits,
                                                          min_size=12, max_size=30)),
    st.just(JWT), st.just(PEM), st.just(PEM.replace("\n", "\\n")),
)
SEPARATORS = st.sampled_from([" ", "\n", "\t", ", ", " (", ") ", ' "', '" ', " '"])


@settings(max_examples=400)
@given(st.text(), SEPARATORS, TOKENS, SEPARATORS, st.text())
def test_embedded_secret_is_gone(before: str, left: str, secret: str, right: str,
                                 after: str) -> None:
    tail = secret[-12:]
    assume(tail not in before + after)
    out = redact(before + left + secret + right + after)
    assert secret not in out
    assert tail not in out


@settings(max_examples=400)
@given(st.text(), st.sampled_from(["password", "DB_PASSWORD", "secret", "api_key", "token",
                                   "clientSecret", "X-Api-Key"]),
       st.sampled_from(["={}", ": {}", '="{}"', ": '{}'", '": "{}"']),
       st.text(ALNUM + "!$%^*+/~.-_", min_size=8, max_size=40))
def test_assigned_secret_is_gone(before: str, key: str, form: str, value: str) -> None:
    # A digit keeps the value from being a status word ("UNDEFINED") that is rightly kept.
    assume(value not in before and any(c.isdigit() for c in value))
    text = f"{before} {key}{form.format(value)} done"
    assert value not in redact(text)


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.text(max_size=30), SECRETS)
PLAIN_KEYS = st.text(max_size=15).filter(lambda k: secret_key_kind(k) is None)
JSON = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(PLAIN_KEYS, inner, max_size=5)), max_leaves=25)


def same_shape(a: Any, b: Any) -> bool:
    """Same keys and containers, same non-string values; strings may differ."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(
            same_shape(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same_shape, a, b))
    if isinstance(a, str):
        return isinstance(b, str)
    return type(a) is type(b) and a == b


@settings(max_examples=200)
@given(JSON)
def test_redact_json_preserves_structure(value: Any) -> None:
    out = redact_json(value)
    assert same_shape(value, out)
    assert redact_json(out) == out


@given(st.sampled_from(["password", "Token", "client_secret", "apiKey", "Set-Cookie"]),
       st.one_of(st.text(min_size=1), st.integers(), st.lists(st.integers(), min_size=1),
                 st.dictionaries(st.text(), st.integers(), min_size=1)))
def test_secret_named_values_are_replaced_whole(key: str, value: Any) -> None:
    kind = secret_key_kind(key)
    assert kind is not None
    assert redact_json({key: value, "n": 1}) == {key: marker(kind), "n": 1}


# --- detect-secrets' patterns, copied into gardener/secret_patterns.py ---------------------------

ROOT = Path(__file__).resolve().parents[1]


def sync_script() -> ModuleType:
    """`scripts/sync_secret_patterns.py`, imported (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location(
        "sync_secret_patterns", ROOT / "scripts" / "sync_secret_patterns.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_secret_patterns_are_those_of_the_installed_detect_secrets() -> None:
    """The drift guard: after a detect-secrets upgrade, run the script and review the diff."""
    sync = sync_script()
    installed = importlib.metadata.version("detect-secrets")
    copied = secret_patterns.DETECT_SECRETS_VERSION
    current = (ROOT / "gardener" / "secret_patterns.py").read_text(encoding="utf-8")
    assert current == sync.render(), (
        f"gardener/secret_patterns.py (from detect-secrets {copied}) is not what the installed "
        f"detect-secrets {installed} gives: run `{sync.COMMAND}` and review the diff")


def rule_dump(rules: Iterable[redact_rules.Rule]) -> list[tuple[Any, ...]]:
    """Rules as comparable values; a regex by its source and its flags as compiled."""
    return [(r.kind, r.pattern.pattern, re.compile(r.pattern.pattern, r.pattern.flags).flags,
             r.needles, r.groups,
             getattr(r.accept, "__code__", r.accept), r.left) for r in rules]


def test_rules_are_the_ones_the_detectors_own_regexes_give(monkeypatch: pytest.MonkeyPatch) -> None:
    """Built from the copies, the rules equal those built from detect-secrets' plugins directly
    (as `redact_rules` did before the copies existed)."""
    from detect_secrets.plugins import keyword, private_key

    detectors = {name: getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)
                 for module, name in sync_script().DETECTORS}
    live = {name: tuple((p.pattern, p.flags) for p in d.denylist) for name, d in detectors.items()}
    headers = tuple(p.pattern.removeprefix("BEGIN ")
                    for p in private_key.PrivateKeyDetector.denylist
                    if p.pattern.startswith("BEGIN "))
    monkeypatch.setattr(redact_rules, "DETECTOR_PATTERNS", live)
    monkeypatch.setattr(redact_rules, "PRIVATE_KEY_HEADERS", headers)
    monkeypatch.setattr(redact_rules, "SECRET_KEYWORDS", tuple(keyword.DENYLIST))
    from_library = rule_dump(redact_rules.default_rules.__wrapped__())
    vocabulary = redact_rules._vocabulary.__wrapped__()
    monkeypatch.undo()
    assert from_library == rule_dump(redact_rules.default_rules())
    assert vocabulary == redact_rules._vocabulary()


def literal_starts(items: Any) -> tuple[set[str], bool]:
    """What a match of parsed regex `items` starts with, one text per alternative, and whether
    that is the whole match: leading literals, through groups and alternations."""
    found = {""}
    for op, arg in items:
        if op is re._constants.LITERAL:
            found = {f + chr(arg) for f in found}
            continue
        if op is re._constants.SUBPATTERN:
            assert not arg[1], "no inline flags"
            alternatives, whole = literal_starts(arg[3])
        elif op is re._constants.BRANCH:
            branches = [literal_starts(branch) for branch in arg[1]]
            alternatives = {text for texts, _ in branches for text in texts}
            whole = all(w for _, w in branches)
        else:
            return found, False
        found = {f + a for f in found for a in alternatives}
        if not whole:
            return found, False
    return found, True


def test_every_gitlab_regex_starts_with_one_of_its_needles() -> None:
    """The GitLab rules run only on text holding one of these prefixes (lowercased), which is
    sound only if every match of a case-sensitive GitLab regex starts with one."""
    for pattern, flags in secret_patterns.DETECTOR_PATTERNS["GitLabTokenDetector"]:
        assert flags == 0, pattern
        starts, _ = literal_starts(re._parser.parse(pattern))
        assert starts and all(s.lower().startswith(redact_rules._GITLAB_PREFIXES)
                              for s in starts), (pattern, starts)
    assert {r.needles for r in redact_rules.default_rules() if r.kind == "gitlab-token"} == {
        redact_rules._GITLAB_PREFIXES}


def test_redacting_does_not_import_detect_secrets_or_requests() -> None:
    """Start-up cost: detect-secrets (and the `requests` its plugins import) stay out."""
    code = ("import sys; from gardener.redact import redact; "
            "print(redact(sys.argv[1])); print('detect_secrets' in sys.modules, "
            "'requests' in sys.modules)")
    text = f"token {GH['ghp_']} password=hunter22 {BEGIN}RSA PRIVATE KEY-----"
    out = subprocess.run([sys.executable, "-c", code, text], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.splitlines() == [
        "token [REDACTED:github-token] password=[REDACTED:password] [REDACTED:private-key]",
        "False False"]


@pytest.mark.parametrize("text", [
    'curl -H "baſic dXNlcjpwYXNzd29yZA=="',            # long s: a case-blind regex's s
    "AUTHORİZATION: abcDEF123456ghiJKL789",             # dotted capital I
    "authorızation: abcDEF123456ghiJKL789",             # dotless i
])
def test_letters_a_case_blind_regex_folds_do_not_hide_a_secret(text: str) -> None:
    """A rule's needles are looked for in folded text, so they are there whenever its regex
    (case-insensitive, which takes `ſ` for `s`) matches."""
    out = redact(text)
    assert "dXNlcjpwYXNzd29yZA" not in out and "abcDEF123456" not in out, out
    assert "[REDACTED:" in out


@pytest.mark.parametrize(("text", "gone"), [
    ("paſſword=hunter22xyz", "hunter22xyz"),                 # long s in the key
    ("DB_PAſſWORD: hunter22xyz", "hunter22xyz"),
    ("clıent_ſecret=abcDEF123456ghi", "abcDEF123456ghi"),     # dotless i, long s
    ("apıKey: abcDEF123456ghi", "abcDEF123456ghi"),           # camelCase still splits
])
def test_look_alike_letters_do_not_hide_a_secret_key_name(text: str, gone: str) -> None:
    """Key names are read with the letters the rules' case-blind regexes fold (ſ, ı, İ) made
    plain, so `paſſword=` names a password as `password=` does."""
    out = redact(text)
    assert gone not in out and "[REDACTED:" in out, out
    doc = redact_json({text.split("=")[0].split(":")[0]: gone})
    assert gone not in str(doc), doc
