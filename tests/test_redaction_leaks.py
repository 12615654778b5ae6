"""No secret in a log reaches anything gardener writes: the worklog (Markdown and JSON, every
field, not just samples), the cluster's query, gcloud command and Logs Explorer link, the saved
state, and standard error.

Each case was a leak found by probing the CLI from outside. Secrets are assembled from pieces so
no whole secret-shaped literal is committed.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from gardener.cli import main
from gardener.entries import parse_entry
from gardener.model import LogEntry
from gardener.redact import redact, redact_json

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" + "K1l2M3n4O5p6Q7r8"
WORDY = "correct-horse" + "-battery"  # a password with no digits: masking keeps it as a word
WORDY2 = "Staple-Horse" + "-Battery-9"
PW = "Tr0ub4dor" + "-33"


def entry(i: int, **fields: Any) -> dict[str, Any]:
    return {"insertId": f"id{i}", "timestamp": f"2025-09-16T00:0{i % 10}:00Z", "severity": "ERROR",
            "resource": {"type": "cloud_run_revision",
                         "labels": {"service_name": "svc", "project_id": "proj"}}, **fields}


def analyse(tmp_path: Path, entries: list[dict[str, Any]]) -> str:
    """Every byte gardener writes for `entries`: both worklogs, the state, stderr; URL-decoded
    too, so a secret inside a Logs Explorer link counts."""
    export = tmp_path / "in.json"
    export.write_text(json.dumps(entries), "utf-8")
    stderr = io.StringIO()
    code = main(["analyze", "--input", str(export), "--json", str(tmp_path / "w.json"),
                 "--markdown", str(tmp_path / "w.md"), "--state", str(tmp_path / "state.json"),
                 "--jobs", "1"], {}, stdin=io.StringIO(), stdout=io.StringIO(), stderr=stderr)
    assert code in (0, 1), stderr.getvalue()
    written = "\n".join((tmp_path / name).read_text("utf-8")
                        for name in ("w.json", "w.md", "state.json")) + stderr.getvalue()
    return written + "\n" + unquote(written)


# Mostly repeated, so the secret is a constant in the template of its cluster.
CASES = {
    "masking erased the key": [entry(i, textPayload=f"connecting with replica_2_password={WORDY} "
                                                    "to standby") for i in range(3)],
    "query phrases": [  # one entry each: the query's phrase came from the whole message
        entry(1, textPayload=f'login rejected {{"user":"bob","password":"{WORDY}"}}'),
        entry(2, jsonPayload={"message": "db connect failed",
                              "error": f"invalid password: {WORDY2}"})],
    "exception line, source location and resource label": [
        entry(i, textPayload=f"Login failed token={TOKEN} for svc\n\tat com.acme.Auth.login("
                             "Auth.java:42)",
              resource={"type": "k8s_container",
                        "labels": {"project_id": "proj", "namespace_name": "prod",
                                   "container_name": f"db postgres://app:{PW}@db"}},
              sourceLocation={"file": "handler.py", "function": f"cb_{TOKEN}"})
        for i in range(3)],
    "a skip reason": [entry(1, textPayload="ok"), entry(2, textPayload="x", severity=TOKEN)],
    "a JSON key": [entry(i, jsonPayload={"message": "health", "checks": {
        f"redis://:{PW}@cache:6379/0": "down"}}) for i in range(3)],
    "an env var in an audit log": [entry(i, protoPayload={
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "serviceName": "run.googleapis.com", "methodName": "ReplaceService",
        "request": {"env": [{"name": "DB_PASSWORD", "value": PW}]}}) for i in range(3)],
    "a token after a percent-encoded =": [entry(i, httpRequest={
        "requestMethod": "GET", "status": 302,
        "requestUrl": f"https://app.example.com/cb?next=%2Fdash%3Ftoken%3D{TOKEN}"})
        for i in range(3)],
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_secret_reaches_any_output(case: str, tmp_path: Path) -> None:
    written = analyse(tmp_path, CASES[case])
    for secret in (TOKEN, WORDY, WORDY2, PW):
        assert secret not in written, f"{case}: {secret} leaked"
    assert "[REDACTED:" in written  # the secret was seen and marked, not just lost


def test_the_template_keeps_the_shape_where_a_secret_was(tmp_path: Path) -> None:
    """A secret is a value like any other in the template (`<*>`), so a DSN stays one value."""
    analyse(tmp_path, [entry(i, textPayload=f"Connecting to postgresql://netra:{PW}@10.0.0.{i}"
                                            f":5432/netra (pool_size={i})") for i in range(3)])
    doc = json.loads((tmp_path / "w.json").read_text("utf-8"))
    [cluster] = doc["clusters"]
    assert cluster["template"] == "Connecting to <*> (pool_size=<*>)"
    assert cluster["count"] == 3


def test_a_long_flattened_payload_is_not_cut_inside_a_secret() -> None:
    """A payload without a message is flattened to 1,000 characters; the word at the cut goes
    whole, so no first half of a token survives that redaction could not recognise."""
    raw = entry(1, jsonPayload={"aaa": "a" * 959, "zz_github": TOKEN})
    parsed = parse_entry(raw, "x#1")
    assert isinstance(parsed, LogEntry)
    assert TOKEN[:8] not in parsed.message
    assert parsed.message.endswith(" …")


@pytest.mark.parametrize(("text", "gone"), [
    (f"cb?password%3D{PW}&x=1", PW),  # a percent-encoded assignment
    (f"u=postgres%3A%2F%2Fapp%3A{PW}%40db%2Fx", PW),  # a percent-encoded DSN
    (f"psycopg.connect(host='db', password=b'{PW}') failed", PW),  # a bytes literal
    (f"line\\n{TOKEN}", TOKEN),  # after a JSON-escaped newline
    (f"k\\u003d{TOKEN}", TOKEN),  # after a JSON-escaped `=`
])
def test_encoded_secrets_are_found(text: str, gone: str) -> None:
    assert gone not in redact(text)


def test_name_value_pairs_and_header_lists_are_redacted() -> None:
    redacted = redact_json({"env": [{"name": "DB_PASSWORD", "value": PW},
                                    {"name": "PORT", "value": "8080"}],
                            "headers": [["x-api-key", PW], ["accept", "json"]],
                            f"redis://:{PW}@cache": "down"})
    assert PW not in json.dumps(redacted)
    assert redacted["env"][1] == {"name": "PORT", "value": "8080"}  # not a secret: kept
    assert redacted["headers"][1] == ["accept", "json"]
