"""`parse_entry` on the LogEntry shapes real services and logging libraries write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gardener.entries import parse_entry
from gardener.http_request import route_shape
from gardener.model import LogEntry, Severity, Skip, SourceLocation

TS = "2025-09-15T23:46:21.123456Z"
PY_TRACE = (
    "Traceback (most recent call last):\n"
    '  File "/app/svc/handlers.py", line 40, in handle\n'
    "    return load(user)\n"
    '  File "/app/svc/store.py", line 12, in load\n'
    "    raise KeyError(user)\n"
    "KeyError: 'u-42'\n"
)
JAVA_TRACE = (
    "java.lang.IllegalStateException: pool exhausted\n"
    "\tat com.acme.db.Pool.take(Pool.java:88)\n"
    "\tat com.acme.api.Orders.list(Orders.java:31)\n"
)
NODE_STACK = (
    "TypeError: Cannot read properties of undefined (reading 'id')\n"
    "    at getUser (/srv/app/users.js:17:9)\n"
    "    at processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
)
GO_STACK = (
    "main.handler\n\t/src/app/main.go:42\nnet/http.HandlerFunc.ServeHTTP\n"
    "\t/usr/local/go/src/net/http/server.go:2136\n"
)


def entry(**fields: Any) -> LogEntry:
    raw: dict[str, Any] = {"insertId": "abc123", "timestamp": TS, **fields}
    result = parse_entry(raw, "test.json#0")
    assert isinstance(result, LogEntry), result
    return result


def json_entry(payload: dict[str, Any], **fields: Any) -> LogEntry:
    return entry(jsonPayload=payload, **fields)


def test_text_payload() -> None:
    e = entry(textPayload="Connected to redis at 10.0.0.3  \n", severity="INFO")
    assert e.message == "Connected to redis at 10.0.0.3"
    assert e.mining_text == e.message
    assert e.severity is Severity.INFO
    assert e.insert_id == "abc123"
    assert not e.templated
    assert e.fields == {}


def test_pino_numeric_level() -> None:
    e = json_entry({"level": 50, "time": 1726443981123, "pid": 7, "hostname": "h",
                    "msg": "payment provider refused the charge"})
    assert e.message == "payment provider refused the charge"
    assert e.severity is Severity.ERROR
    assert json_entry({"level": 30, "msg": "ok"}).severity is Severity.INFO
    assert json_entry({"level": 60, "msg": "dead"}).severity is Severity.CRITICAL


def test_bunyan_err_object_with_stack() -> None:
    e = json_entry({"name": "orders", "hostname": "h", "pid": 1, "level": 50, "v": 0,
                    "msg": "request failed",
                    "err": {"message": "Cannot read properties of undefined (reading 'id')",
                            "name": "TypeError", "stack": NODE_STACK}})
    assert e.severity is Severity.ERROR
    assert e.exception_type == "TypeError"
    assert e.templated
    assert "users.js in getUser" in e.mining_text
    assert e.logger == "orders"
    assert e.source_location is not None and e.source_location.line == 17


def test_zap_caller_and_stacktrace() -> None:
    e = json_entry({"level": "error", "ts": 1726443981.12, "caller": "pkg/x.go:42",
                    "msg": "upstream call failed", "stacktrace": GO_STACK})
    assert e.severity is Severity.ERROR
    assert e.source_location == SourceLocation("pkg/x.go", 42)
    assert e.message.startswith("upstream call failed")
    # zap attaches a stacktrace to every Error log: that is no panic, and the message clusters.
    assert e.exception_type != "panic"
    assert e.mining_text == "upstream call failed"


def test_logrus() -> None:
    e = json_entry({"level": "warning", "msg": "cache miss storm", "time": TS})
    assert e.severity is Severity.WARNING
    assert e.message == "cache miss storm"


def test_zerolog_error_field() -> None:
    e = json_entry({"level": "error", "error": "dial tcp 10.0.0.5:5432: connect: refused",
                    "message": "db connect failed", "time": TS})
    assert e.severity is Severity.ERROR
    assert e.message == "db connect failed: dial tcp 10.0.0.5:5432: connect: refused"


def test_structlog_exception_traceback() -> None:
    e = json_entry({"event": "order lookup failed", "level": "error", "logger": "svc.orders",
                    "timestamp": TS, "exception": PY_TRACE})
    assert e.severity is Severity.ERROR
    assert e.logger == "svc.orders"
    assert e.exception_type == "KeyError"
    assert e.templated
    assert e.mining_text == "KeyError at svc/store.py in load < svc/handlers.py in handle"
    assert e.message.startswith("order lookup failed")
    assert e.source_location == SourceLocation("svc/store.py", 12, "load")


def test_spring_boot_logstash_encoder() -> None:
    e = json_entry({"@timestamp": "2025-09-15T23:46:21.123+00:00", "@version": "1",
                    "message": "Request processing failed", "logger_name": "com.acme.api.Orders",
                    "thread_name": "http-nio-8080-exec-1", "level": "ERROR", "level_value": 40000,
                    "stack_trace": JAVA_TRACE})
    assert e.severity is Severity.ERROR
    assert e.logger == "com.acme.api.Orders"
    assert e.exception_type == "java.lang.IllegalStateException"
    assert e.mining_text.startswith("java.lang.IllegalStateException at com.acme.db.Pool.take")
    assert e.source_location == SourceLocation("Pool.java", 88, "com.acme.db.Pool.take")


def test_ecs_dotted_fields() -> None:
    e = json_entry({"@timestamp": TS, "message": "charge failed", "ecs.version": "1.6.0",
                    "log": {"level": "error", "logger": "payments"},
                    "error": {"type": "java.lang.IllegalStateException",
                              "message": "pool exhausted", "stack_trace": JAVA_TRACE}})
    assert e.severity is Severity.ERROR
    assert e.logger == "payments"
    assert e.exception_type == "java.lang.IllegalStateException"
    assert "com.acme.db.Pool.take" in e.mining_text


def test_ecs_flat_dotted_keys() -> None:
    e = json_entry({"message": "slow query", "log.level": "warn", "log.logger": "db"})
    assert e.severity is Severity.WARNING
    assert e.logger == "db"


def test_google_cloud_logging_structured_python() -> None:
    e = json_entry({"message": "quota nearly exhausted", "severity": "WARNING",
                    "logging.googleapis.com/sourceLocation": {
                        "file": "/app/svc/quota.py", "line": "88", "function": "check"},
                    "logging.googleapis.com/trace": "projects/p/traces/0af7651916cd43dd"})
    assert e.severity is Severity.WARNING
    assert e.source_location == SourceLocation("/app/svc/quota.py", 88, "check")
    assert e.trace == "projects/p/traces/0af7651916cd43dd"


def test_entry_source_location_and_trace_win() -> None:
    e = json_entry({"message": "m"}, sourceLocation={"file": "a.py", "line": "3"},
                   trace="projects/p/traces/1")
    assert e.source_location == SourceLocation("a.py", 3)
    assert e.trace == "projects/p/traces/1"


def test_audit_log_proto_payload() -> None:
    e = entry(severity="ERROR", protoPayload={
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "serviceName": "run.googleapis.com",
        "methodName": "google.cloud.run.v1.Services.ReplaceService",
        "status": {"code": 7, "message": "Permission denied on resource"},
        "authenticationInfo": {"principalEmail": "deployer@p.iam.gserviceaccount.com"}})
    assert e.message == ("run.googleapis.com google.cloud.run.v1.Services.ReplaceService failed: "
                         "code 7 Permission denied on resource")
    assert e.fields["serviceName"] == "run.googleapis.com"
    ok = entry(severity="NOTICE", protoPayload={
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "serviceName": "run.googleapis.com", "methodName": "Services.CreateService"})
    assert ok.message == "run.googleapis.com Services.CreateService"


def request(url: str, status: int, **fields: Any) -> LogEntry:
    return entry(httpRequest={"requestMethod": "get", "requestUrl": url, "status": status,
                              "latency": "0.250s"}, **fields)


def test_request_logs_share_a_route() -> None:
    a = request("https://svc.run.app/api/users/42/orders?x=1", 503)
    b = request("https://svc.run.app/api/users/97/orders", 500)
    assert a.mining_text == b.mining_text == "GET /api/users/<*>/orders 5xx"
    assert a.templated
    assert a.http is not None and a.http.latency_s == 0.25 and a.http.status == 503


def test_request_log_status_class_and_version_segment() -> None:
    ok = request("/v1/items/123", 200)
    missing = request("/v1/items/124", 404)
    assert ok.mining_text == "GET /v1/items/<*> 2xx"
    assert missing.mining_text == "GET /v1/items/<*> 4xx"
    assert route_shape("/api/v2beta1/users/me") == "/api/v2beta1/users/me"


@pytest.mark.parametrize(("status", "severity"), [
    (503, Severity.ERROR), (429, Severity.WARNING), (302, Severity.INFO)])
def test_request_log_severity_from_status(status: int, severity: Severity) -> None:
    assert request("/x", status, severity="DEFAULT").severity is severity
    assert request("/x", status).severity is severity


def test_explicit_severity_beats_payload_level() -> None:
    e = json_entry({"level": "debug", "msg": "x"}, severity="ERROR")
    assert e.severity is Severity.ERROR


def test_default_severity_falls_back_to_payload_level() -> None:
    assert json_entry({"level": "warn", "msg": "x"}, severity="DEFAULT").severity \
        is Severity.WARNING


def test_default_severity_falls_back_to_text_prefix() -> None:
    assert entry(textPayload="ERROR: worker crashed").severity is Severity.ERROR
    assert entry(textPayload="[WARNING] slow", severity="DEFAULT").severity is Severity.WARNING
    assert entry(textPayload="all fine").severity is Severity.DEFAULT


def test_unknown_payload_level_does_not_cost_the_entry() -> None:
    e = json_entry({"level": "shouting", "msg": "ERROR: still here"})
    assert e.severity is Severity.ERROR


def test_resource_cloud_run_revision() -> None:
    labels = {"service_name": "api", "revision_name": "api-00042-xyz", "location": "us-central1",
              "project_id": "p", "configuration_name": "api"}
    e = entry(textPayload="hi", resource={"type": "cloud_run_revision", "labels": labels},
              labels={"instanceId": "0069c7a9"},
              logName="projects/p/logs/run.googleapis.com%2Fstderr")
    assert e.resource_type == "cloud_run_revision"
    assert e.resource_labels == labels
    assert e.labels == {"instanceId": "0069c7a9"}
    assert e.log_name == "projects/p/logs/run.googleapis.com%2Fstderr"


def test_resource_k8s_container_and_others() -> None:
    k8s = entry(textPayload="hi", resource={"type": "k8s_container", "labels": {
        "cluster_name": "prod", "namespace_name": "shop", "pod_name": "api-7d9", "container_name":
        "api"}})
    assert k8s.resource_type == "k8s_container"
    assert k8s.resource_labels["namespace_name"] == "shop"
    gce = entry(textPayload="hi", resource={"type": "gce_instance", "labels": {"zone": "z",
                                                                                "instance_id": 5}})
    assert gce.resource_type == "gce_instance"
    assert gce.resource_labels == {"zone": "z", "instance_id": "5"}
    assert entry(textPayload="hi").resource_type == "global"


def test_insert_id_missing_uses_origin() -> None:
    result = parse_entry({"timestamp": TS, "textPayload": "x"}, "f.json#7")
    assert isinstance(result, LogEntry)
    assert result.insert_id == "f.json#7"
    assert result.origin == "f.json#7"


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-09-15T23:46:21.123456789Z", datetime(2025, 9, 15, 23, 46, 21, 123456, tzinfo=UTC)),
    ("2025-09-15T23:46:21Z", datetime(2025, 9, 15, 23, 46, 21, tzinfo=UTC)),
    ("2025-09-16T01:46:21.5+02:00", datetime(2025, 9, 15, 23, 46, 21, 500000, tzinfo=UTC)),
    ("2025-09-15T18:46:21-05:00", datetime(2025, 9, 15, 23, 46, 21, tzinfo=UTC)),
])
def test_timestamps_become_utc(text: str, expected: datetime) -> None:
    result = parse_entry({"timestamp": text, "textPayload": "x"}, "f#0")
    assert isinstance(result, LogEntry), result
    assert result.timestamp == expected
    assert result.timestamp.utcoffset() is not None
    assert result.timestamp.tzinfo is UTC


def test_receive_timestamp_when_timestamp_missing() -> None:
    result = parse_entry({"receiveTimestamp": "2025-09-15T23:46:22.000000001Z",
                          "textPayload": "x"}, "f#0")
    assert isinstance(result, LogEntry), result
    assert result.timestamp == datetime(2025, 9, 15, 23, 46, 22, tzinfo=UTC)


def test_missing_timestamps_skip_with_fix() -> None:
    result = parse_entry({"insertId": "i1", "textPayload": "x"}, "f.json#3")
    assert isinstance(result, Skip)
    assert result.origin == "f.json#3 (insertId i1)"
    assert result.field == "timestamp"
    assert "--format=json" in result.reason


def test_bad_timestamp_skip_names_the_value() -> None:
    result = parse_entry({"timestamp": "yesterday", "textPayload": "x"}, "f.json#3")
    assert isinstance(result, Skip)
    assert "yesterday" in result.reason and "RFC 3339" in result.reason


def test_no_payload_is_a_skip() -> None:
    result = parse_entry({"timestamp": TS}, "f#1")
    assert isinstance(result, Skip) and result.field == "payload"
