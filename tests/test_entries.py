"""`gardener.entries.parse_entry` on the LogEntry shapes real services and logging libraries write.

The fixtures in `tests/fixtures/shapes/` are whole LogEntry objects as `gcloud logging read
--format=json` prints them, with payloads as each library writes them.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gardener.entries import parse_entry
from gardener.http_request import route_shape
from gardener.model import LogEntry, Severity, Skip, SourceLocation

SHAPES = Path(__file__).resolve().parent / "fixtures" / "shapes"
TS = "2025-09-15T23:46:21.123456789Z"


def load(name: str) -> list[dict[str, Any]]:
    entries = json.loads((SHAPES / name).read_text(encoding="utf-8"))
    assert isinstance(entries, list) and entries
    return entries


def parsed(name: str) -> list[LogEntry]:
    out = []
    for i, raw in enumerate(load(name)):
        result = parse_entry(raw, f"{name}#{i}")
        assert isinstance(result, LogEntry), result
        out.append(result)
    return out


def one(**fields: Any) -> LogEntry | Skip:
    return parse_entry({"insertId": "1x2y3z", "timestamp": TS, **fields}, "export.json#7")


def good(**fields: Any) -> LogEntry:
    result = one(**fields)
    assert isinstance(result, LogEntry), result
    return result


def skip(raw: Any, origin: str = "export.json#7") -> Skip:
    result = parse_entry(raw, origin)
    assert isinstance(result, Skip), result
    return result


# --- textPayload and the platform's own lines ---------------------------------------------------

def test_cloud_run_text_payloads() -> None:
    started, failed, exit3, probe, oom, ws = parsed("cloud_run_text.json")
    # no severity on stderr: the uvicorn-style prefix says it
    assert (started.severity, failed.severity) == (Severity.INFO, Severity.ERROR)
    assert failed.message == "ERROR:    Application startup failed. Exiting."
    assert exit3.message == exit3.mining_text == "Container called exit(3)."
    assert exit3.severity is Severity.WARNING and not exit3.templated
    assert probe.severity is Severity.ERROR and probe.message.startswith("Default STARTUP TCP")
    assert oom.log_name == "projects/netra-staging/logs/run.googleapis.com%2Fvarlog%2Fsystem"
    assert ws.severity is Severity.WARNING
    assert ws.fields == {} and ws.logger == ""
    for e in (started, failed, exit3, probe, oom, ws):
        assert e.resource_type == "cloud_run_revision"
        assert e.resource_labels["service_name"] == "netra-backend-staging"
        assert e.resource_labels["revision_name"] == "netra-backend-staging-00412-xq7"
        assert e.labels["instanceId"].startswith("0069c7a9")
        assert e.timestamp.tzinfo is UTC
    # nanoseconds are cut to microseconds, not rounded into the next second
    assert started.timestamp == datetime(2025, 9, 15, 23, 46, 21, 569743, tzinfo=UTC)
    assert ws.timestamp == datetime(2025, 9, 15, 23, 52, 4, 1, tzinfo=UTC)  # 000001000 ns


def test_insert_id_is_kept_and_synthesised_when_missing() -> None:
    raw = load("cloud_run_text.json")[0]
    assert good(**{**raw, "insertId": "abc"}).insert_id == "abc"
    del raw["insertId"]
    entry = parse_entry(raw, "export.json#3")
    assert isinstance(entry, LogEntry)
    assert entry.insert_id == "export.json#3" and entry.origin == "export.json#3"


# --- jsonPayload from real libraries ------------------------------------------------------------

def test_cloud_run_structured_logging() -> None:
    lifted, unlifted, seed_error, default = parsed("cloud_run_structured.json")
    assert lifted.severity is Severity.ERROR
    assert lifted.message == "Database initialization timeout after 8.0s in staging environment"
    assert lifted.logger == "netra_backend.app.smd"  # context.name
    assert lifted.source_location == SourceLocation("/app/netra_backend/app/smd.py", 1005,
                                                    "_initialize_database")
    assert lifted.trace == "projects/netra-staging/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    # nothing lifted: severity, source location and trace are read inside jsonPayload
    assert unlifted.severity is Severity.WARNING
    assert unlifted.source_location == SourceLocation(
        "/app/netra_backend/app/websocket_core/manager.py", 45, "__init__")
    assert unlifted.trace.endswith("/traces/0af7651916cd43dd8448eb211c80319c")
    assert unlifted.logger == "netra_backend.app.websocket_core.manager"
    # the seed's {type, value} error with no message field
    assert seed_error.message.startswith("DeterministicStartupError: CRITICAL STARTUP FAILURE")
    assert seed_error.mining_text == seed_error.message
    # DEFAULT on the entry: the payload's own level decides
    assert default.severity is Severity.INFO
    assert default.timestamp == datetime(2025, 9, 16, 1, 46, 33, 250000, tzinfo=UTC)


def test_google_cloud_logging_structured_handler_as_ingested() -> None:
    traced, raw_line = parsed("google_structured.json")
    assert traced.logger == "netra_backend.app.smd"  # labels.python_logger
    assert traced.exception_type == "TimeoutError"
    assert traced.templated and traced.mining_text.startswith("TimeoutError at ")
    # the entry's own sourceLocation (the logging call) wins over the innermost frame
    assert traced.source_location == SourceLocation("/app/netra_backend/app/smd.py", 1018,
                                                    "_initialize_database")
    assert raw_line.severity is Severity.WARNING
    assert raw_line.logger == "netra_backend.app.logging_config"
    assert raw_line.source_location is not None and raw_line.source_location.line == 89
    assert raw_line.trace == ""  # written as an empty string
    assert raw_line.http is None  # `"httpRequest": {}` outside a request is no request log
    assert raw_line.mining_text == "SERVICE_ID environment variable contains trailing whitespace"


def _fail_to_start() -> None:
    raise TimeoutError("Database initialization timeout after 8.0s")


def test_google_cloud_logging_structured_handler_live(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real StructuredLogHandler's output, wrapped the way Cloud Run stores a stdout line."""
    from google.cloud import logging_v2
    from google.cloud.logging_v2.handlers import StructuredLogHandler

    monkeypatch.setattr(logging_v2, "_instrumentation_emitted", True)
    stream = io.StringIO()
    logger = logging.getLogger("netra_backend.app.smd.test_entries")
    handler = StructuredLogHandler(stream=stream, labels={"env": "staging"})
    logger.addHandler(handler)
    monkeypatch.setattr(logger, "propagate", False)
    logger.setLevel(logging.INFO)
    try:
        try:
            _fail_to_start()
        except TimeoutError:
            logger.exception("Startup phase failed: database")
        logger.warning("Sentry SDK not available - install sentry-sdk[fastapi]")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    failed, warned = (good(jsonPayload=line) for line in lines)
    assert failed.severity is Severity.ERROR and warned.severity is Severity.WARNING
    assert failed.logger == warned.logger == "netra_backend.app.smd.test_entries"
    assert failed.exception_type == "TimeoutError"
    assert failed.mining_text.startswith("TimeoutError at ")
    assert "test_entries.py in _fail_to_start" in failed.mining_text
    assert failed.message == "TimeoutError: Database initialization timeout after 8.0s"
    assert warned.source_location is not None
    assert warned.source_location.file.endswith("test_entries.py")
    assert warned.source_location.function == "test_google_cloud_logging_structured_handler_live"


def test_pino() -> None:
    request, refused, retry, fatal = parsed("pino.json")
    assert request.severity is Severity.INFO and request.message == "request completed"
    assert refused.severity is Severity.ERROR
    # the err object is the cause; a one-frame Node stack is still a trace
    assert refused.message.startswith("database connection failed")
    assert refused.exception_type == "Error"
    assert retry.severity is Severity.WARNING
    assert fatal.severity is Severity.CRITICAL
    assert request.fields["req"]["url"] == "/api/orders/42"  # fields keep the whole payload


def test_bunyan() -> None:
    failed, listening = parsed("bunyan.json")
    assert failed.severity is Severity.ERROR
    assert failed.logger == listening.logger == "checkout"
    assert failed.exception_type == "TypeError"
    assert failed.mining_text.startswith("TypeError at dist/customers.js in getCustomer")
    assert failed.source_location == SourceLocation("dist/customers.js", 41, "getCustomer")
    assert listening.severity is Severity.INFO and listening.message == "listening on :8080"


def test_zap() -> None:
    failed, started, dpanic = parsed("zap.json")
    assert failed.severity is Severity.ERROR
    assert failed.message == "failed to load order: context deadline exceeded"
    assert failed.source_location == SourceLocation("api/orders.go", 41)
    # zap attaches a stack to every Error log: that is not a panic, the message clusters
    assert failed.exception_type == "" and not failed.templated
    assert failed.mining_text == failed.message
    assert started.severity is Severity.INFO
    assert dpanic.severity is Severity.CRITICAL
    assert failed.resource_type == "k8s_container"
    assert failed.resource_labels["namespace_name"] == "checkout"
    assert failed.log_name == "projects/shop-prod/logs/stderr"


def test_logrus_and_zerolog() -> None:
    slow, refused = parsed("logrus.json")
    assert slow.severity is Severity.WARNING and slow.message == "slow query"
    assert refused.message == ("failed to connect to database: dial tcp 10.8.0.3:5432: connect: "
                               "connection refused")
    failed, storm = parsed("zerolog.json")
    assert failed.severity is Severity.ERROR
    assert failed.message.startswith("db connect failed: dial tcp")
    assert failed.source_location == SourceLocation("/app/db.go", 42)
    assert storm.severity is Severity.WARNING and storm.message == "cache miss storm"


def test_structlog() -> None:
    failed, login = parsed("structlog.json")
    assert failed.severity is Severity.ERROR
    assert failed.logger == "shop.payments"
    assert failed.message == "payment capture failed"  # `event`, not the traceback
    assert failed.exception_type == "KeyError"
    assert failed.mining_text == ("KeyError at shop/payments/store.py in load_order < "
                                  "shop/payments/views.py in capture")
    assert login.severity is Severity.INFO and login.message == "user logged in"


def test_spring_boot_logstash_encoder() -> None:
    failed, started = parsed("spring_logstash.json")
    assert failed.severity is Severity.ERROR
    assert failed.logger.startswith("org.apache.catalina.core.ContainerBase")
    assert failed.exception_type == "java.lang.NullPointerException"
    assert failed.mining_text == ("java.lang.NullPointerException at "
                                  "com.acme.orders.OrderService.place < "
                                  "com.acme.orders.OrderController.create < "
                                  "java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke")
    assert failed.source_location == SourceLocation("OrderService.java", 57,
                                                    "com.acme.orders.OrderService.place")
    assert started.severity is Severity.INFO
    assert started.logger == "com.acme.orders.OrdersApplication"


def test_ecs_java_flat_and_python_nested() -> None:
    java, python = parsed("ecs.json")
    assert java.severity is Severity.ERROR
    assert java.logger == "com.acme.orders.OrderController"
    # ecs-logging-java writes error.* as flat dotted keys
    assert java.exception_type == "java.lang.NullPointerException"
    assert java.templated and "OrderService.place" in java.mining_text
    assert python.severity is Severity.WARNING
    assert python.logger == "shop.inventory"
    assert python.message == "inventory service slow, retrying"


def test_ecs_flat_error_without_stack() -> None:
    e = good(jsonPayload={"log.level": "error", "message": "charge failed",
                          "error.type": "CardDeclined", "error.message": "insufficient funds"})
    assert e.message == "charge failed: CardDeclined: insufficient funds"


# --- protoPayload: audit logs -------------------------------------------------------------------

def test_audit_logs() -> None:
    deploy, ready_false, denied = parsed("audit.json")
    assert deploy.severity is Severity.NOTICE
    assert deploy.message == "run.googleapis.com google.cloud.run.v1.Services.ReplaceService"
    assert deploy.fields["authorizationInfo"][0]["permission"] == "run.services.update"
    assert ready_false.severity is Severity.ERROR
    assert "failed to start and listen on the port" in ready_false.message
    assert denied.message == ("secretmanager.googleapis.com google.cloud.secretmanager.v1."
                              "SecretManagerService.AccessSecretVersion failed: code 7 "
                              "PERMISSION_DENIED")
    assert denied.log_name.endswith("cloudaudit.googleapis.com%2Fdata_access")


# --- request logs -------------------------------------------------------------------------------

def test_request_logs_cluster_by_route_shape_and_status_class() -> None:
    ok_query, ok_other, failed, posted, not_found, failed_str, balancer = parsed("requests.json")
    assert ok_query.mining_text == ok_other.mining_text == "GET /api/users/<*>/orders 2xx"
    assert ok_query.templated and ok_query.http is not None
    assert ok_query.http.route == "/api/users/<*>/orders" and ok_query.http.status == 200
    assert ok_query.http.latency_s == pytest.approx(0.012345)
    assert failed.mining_text == failed_str.mining_text == "GET /api/users/<*>/orders 5xx"
    assert failed_str.http is not None and failed_str.http.status == 503  # "503" as a string
    assert posted.mining_text == "POST /api/users/<*>/orders 2xx"
    assert not_found.mining_text == "GET /api/v1/orders/<*> 4xx"  # v1 is a route, the uuid not
    assert not_found.severity is Severity.WARNING
    assert balancer.resource_type == "http_load_balancer"
    assert balancer.mining_text == "GET /api/users/<*>/orders 5xx"
    assert failed.trace == "projects/shop-prod/traces/0af7651916cd43dd8448eb211c80319c"


@pytest.mark.parametrize(("status", "severity"), [(200, Severity.INFO), (302, Severity.INFO),
                                                  (404, Severity.WARNING), (429, Severity.WARNING),
                                                  (500, Severity.ERROR), (None, Severity.DEFAULT)])
def test_request_log_without_severity_takes_it_from_the_status(status: int | None,
                                                               severity: Severity) -> None:
    http: dict[str, Any] = {"requestMethod": "get", "requestUrl": "/healthz"}
    if status is not None:
        http["status"] = status
    e = good(httpRequest=http)
    assert e.severity is severity
    assert e.http is not None and e.http.method == "GET"
    assert e.mining_text.endswith("no-status" if status is None else f"{status // 100}xx")


def test_request_log_with_a_message_clusters_by_the_message() -> None:
    e = good(jsonPayload={"message": "user 42 not found"},
             httpRequest={"requestMethod": "GET", "requestUrl": "/api/users/42", "status": 404})
    assert e.mining_text == "user 42 not found" and not e.templated
    assert e.http is not None and e.http.route == "/api/users/<*>"


@pytest.mark.parametrize(("url", "shape"), [
    ("https://h.run.app/api/users/42/orders?x=1", "/api/users/<*>/orders"),
    ("/api/users/97/orders", "/api/users/<*>/orders"),
    ("/api/users/97/orders#top", "/api/users/<*>/orders"),
    ("https://h.run.app", "/"),
    ("", "/"),
    ("/v2/orders/3f2c9a1e-8b7d-4c55-9e21-0a1b2c3d4e5f/items", "/v2/orders/<*>/items"),
    ("/files/report%202025.pdf", "/files/<*>"),
    ("/users/jane@example.com", "/users/<*>"),
    ("/static/app.css", "/static/app.css"),
    ("/redirect/https://evil.example/x", "/redirect/https://evil.example/x"),
])
def test_route_shape(url: str, shape: str) -> None:
    assert route_shape(url) == shape


def test_route_shape_is_idempotent_with_a_scheme_inside_the_path() -> None:
    # `://` after the start is part of the path; treating it as a host dropped the route twice
    once = route_shape("x://h/p://q/r")
    assert once == "/p://q/r"
    assert route_shape(once) == once


# --- severity -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("entry_severity", "payload", "expected"), [
    (None, {"msg": "m", "level": 40}, Severity.WARNING),        # pino
    ("DEFAULT", {"msg": "m", "level": "warn"}, Severity.WARNING),
    ("DEFAULT", {"message": "m", "levelname": "CRITICAL"}, Severity.CRITICAL),
    (None, {"message": "m", "log.level": "debug"}, Severity.DEBUG),  # ECS
    (None, {"message": "m", "log": {"level": "error"}}, Severity.ERROR),
    (None, {"message": "m", "level": "dpanic"}, Severity.CRITICAL),  # zap
    (None, {"message": "m", "level": "fatal"}, Severity.CRITICAL),
    ("NOTICE", {"message": "m", "level": "error"}, Severity.NOTICE),  # the entry's own wins
    (500, {"message": "m"}, Severity.ERROR),
    ("error", {"message": "m"}, Severity.ERROR),
    (None, {"message": "m"}, Severity.DEFAULT),
    (None, {"message": "m", "level": "verbose"}, Severity.DEFAULT),  # odd level: kept, DEFAULT
])
def test_severity(entry_severity: Any, payload: dict[str, Any], expected: Severity) -> None:
    fields: dict[str, Any] = {"jsonPayload": payload}
    if entry_severity is not None:
        fields["severity"] = entry_severity
    assert good(**fields).severity is expected


def test_negative_levels_do_not_raise() -> None:
    assert skip({"timestamp": TS, "textPayload": "x", "severity": -1}).field == "severity"
    # in the payload an odd level is ignored, not fatal
    assert good(jsonPayload={"msg": "x", "level": -1}).severity is Severity.DEFAULT


# --- resources, labels, timestamps --------------------------------------------------------------

def test_resources_and_labels() -> None:
    info, oom, batch = parsed("k8s.json")
    assert info.resource_type == "k8s_container"
    assert info.resource_labels["cluster_name"] == "prod-1"
    assert info.resource_labels["pod_name"] == "checkout-7d9f8b6c4-x2x9z"
    assert info.labels["k8s-pod/app"] == "checkout"
    assert oom.resource_type == "gce_instance" and oom.resource_labels["zone"] == "europe-west1-b"
    assert batch.resource_type == "global" and batch.message == "nightly export finished"
    no_resource = good(textPayload="x")
    assert no_resource.resource_type == "global" and no_resource.resource_labels == {}
    odd = good(textPayload="x", labels={"attempt": 3, "ok": True})
    assert odd.labels == {"attempt": "3", "ok": "True"}


def test_a_resource_is_keyed_by_its_service_not_its_instance() -> None:
    """Entries of one resource share its labels and key (worked out once); instance labels are
    not part of the key; odd label values are text, and labels that are not an object a skip."""
    labels = {"service_name": "api", "revision_name": "api-7", "instanceId": "a1"}
    one = good(textPayload="x", resource={"type": "cloud_run_revision", "labels": labels})
    two = good(textPayload="y", resource={"type": "cloud_run_revision",
                                          "labels": {**labels, "instanceId": "b2"}})
    assert one.resource == two.resource == ("cloud_run_revision", (("revision_name", "api-7"),
                                                                   ("service_name", "api")))
    again = good(textPayload="z", resource={"type": "cloud_run_revision", "labels": dict(labels)})
    assert again.resource_labels is one.resource_labels
    odd = good(textPayload="x", resource={"type": "k8s_container",
                                          "labels": {"pods": ["a", "b"], "n": 3}})
    assert odd.resource_labels == {"pods": "['a', 'b']", "n": "3"}
    assert odd.resource == ("k8s_container", (("n", "3"), ("pods", "['a', 'b']")))
    assert skip({"timestamp": TS, "textPayload": "x",
                 "resource": {"type": "global", "labels": "x"}}).field == "resource.labels"


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-09-15T23:46:21Z", datetime(2025, 9, 15, 23, 46, 21, tzinfo=UTC)),
    ("2025-09-15T23:46:21.123456789Z", datetime(2025, 9, 15, 23, 46, 21, 123456, tzinfo=UTC)),
    ("2025-09-15T23:46:21.5+02:00", datetime(2025, 9, 15, 21, 46, 21, 500000, tzinfo=UTC)),
    ("2025-09-15T23:46:21-07:30", datetime(2025, 9, 16, 7, 16, 21, tzinfo=UTC)),
    ("2025-09-15t23:46:21.1z", datetime(2025, 9, 15, 23, 46, 21, 100000, tzinfo=UTC)),
    ("2025-09-15T23:46:21", datetime(2025, 9, 15, 23, 46, 21, tzinfo=UTC)),  # naive: UTC
])
def test_timestamps(text: str, expected: datetime) -> None:
    e = good(textPayload="x", timestamp=text)
    assert e.timestamp == expected and e.timestamp.utcoffset() is not None


def test_receive_timestamp_stands_in() -> None:
    e = parse_entry({"receiveTimestamp": "2025-09-15T23:46:22.9Z", "textPayload": "x"}, "f#0")
    assert isinstance(e, LogEntry)
    assert e.timestamp == datetime(2025, 9, 15, 23, 46, 22, 900000, tzinfo=UTC)


# --- bad entries: a Skip naming the entry, the field and the fix --------------------------------

@pytest.mark.parametrize(("fields", "field", "fix"), [
    ({"timestamp": 1757979981, "textPayload": "x"}, "timestamp", "2025-09-15T23:46:21"),
    ({"timestamp": "yesterday", "textPayload": "x"}, "timestamp", "2025-09-15T23:46:21"),
    ({"timestamp": "9999-12-31T23:59:59-01:00", "textPayload": "x"}, "timestamp", "write it"),
    ({"timestamp": "0001-01-01T00:00:00+01:00", "textPayload": "x"}, "timestamp", "write it"),
    ({"textPayload": "x"}, "timestamp", "--format=json"),
    ({"timestamp": TS}, "payload", "--format=json"),
    ({"timestamp": TS, "jsonPayload": "connection refused"}, "jsonPayload", "textPayload"),
    ({"timestamp": TS, "protoPayload": [1]}, "protoPayload", "textPayload"),
    ({"timestamp": TS, "textPayload": {"a": 1}}, "textPayload", "jsonPayload"),
    ({"timestamp": TS, "textPayload": "x", "severity": ["ERROR"]}, "severity", '"ERROR"'),
    ({"timestamp": TS, "textPayload": "x", "severity": True}, "severity", '"ERROR"'),
    ({"timestamp": TS, "textPayload": "x", "severity": "LOUD"}, "severity", "WARNING"),
    ({"timestamp": TS, "httpRequest": {"status": "five hundred"}}, "httpRequest.status", "503"),
    ({"timestamp": TS, "httpRequest": {"status": "²"}}, "httpRequest.status", "503"),
    ({"timestamp": TS, "httpRequest": {"status": True}}, "httpRequest.status", "503"),
    ({"timestamp": TS, "httpRequest": "GET /"}, "httpRequest", "object"),
    ({"timestamp": TS, "textPayload": "x", "resource": "cloud_run"}, "resource", "object"),
])
def test_bad_fields_are_skips_that_say_the_fix(fields: dict[str, Any], field: str,
                                               fix: str) -> None:
    s = skip({"insertId": "k3j2h1", **fields})
    assert s.origin == "export.json#7 (insertId k3j2h1)"
    assert s.field == field
    assert fix in s.reason, s.reason


def test_skip_without_insert_id_names_the_index() -> None:
    assert skip({"timestamp": TS}, "logs.jsonl#41").origin == "logs.jsonl#41"


@pytest.mark.parametrize("raw", [None, 3, "text", [], [{"timestamp": TS}], True])
def test_non_objects_are_skips(raw: Any) -> None:
    s = skip(raw)
    assert s.field == "(entry)" and "LogEntry JSON object" in s.reason


@pytest.mark.parametrize("line", ["²", "-3", "12a", ""])
def test_odd_line_numbers_are_dropped_not_fatal(line: str) -> None:
    e = good(textPayload="x", sourceLocation={"file": "a.py", "line": line})
    assert e.source_location == SourceLocation("a.py", None)
    z = good(jsonPayload={"msg": "x", "caller": f"pkg/a.go:{line}"})
    assert z.source_location == SourceLocation("pkg/a.go", None)


# --- properties ---------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10)
TRICKY = st.sampled_from([
    "2025-09-15T23:46:21Z", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "²", "-1",
    "DEFAULT", "ERROR", "warn", -1, 50, 10**30, 0.5, "Traceback (most recent call last):\nX",
    "a\n\tat b.C(D.java:²)", "panic: x\n\ngoroutine 1 [running]:\nmain.f()\n\t/a.go:1 +0x1",
    "Error: x\n    at f (/a.js:1:1)", "https://h/a://b/c?d", "pkg/a.go:²", {}, []])
VALUE = TRICKY | JSON
FIELD = st.sampled_from(["message", "msg", "event", "level", "severity", "err", "error",
                         "exception", "stack_trace", "stack", "caller", "logger", "log.level",
                         "error.type", "error.message", "error.stack_trace", "context", "@type",
                         "methodName", "status", "logging.googleapis.com/sourceLocation",
                         "logging.googleapis.com/labels", "requestUrl", "line", "file"])
NESTED = st.dictionaries(FIELD | st.text(max_size=4),
                         VALUE | st.dictionaries(FIELD, VALUE, max_size=4), max_size=6)
ENTRY = st.dictionaries(
    st.sampled_from(["insertId", "timestamp", "receiveTimestamp", "severity", "textPayload",
                     "jsonPayload", "protoPayload", "httpRequest", "resource", "labels",
                     "logName", "trace", "sourceLocation"]) | st.text(max_size=4),
    VALUE | NESTED, max_size=8)


# Mostly-valid entries: one odd field deep inside an otherwise good entry is what finds bugs.
PLAUSIBLE = st.fixed_dictionaries(
    {"timestamp": st.just(TS) | VALUE},
    optional={"insertId": VALUE, "severity": VALUE, "textPayload": VALUE,
              "jsonPayload": NESTED | VALUE, "protoPayload": NESTED,
              "httpRequest": st.dictionaries(st.sampled_from(["requestMethod", "requestUrl",
                                                              "status", "latency"]), VALUE),
              "sourceLocation": st.dictionaries(st.sampled_from(["file", "line", "function"]),
                                                VALUE),
              "resource": st.fixed_dictionaries({"type": VALUE, "labels": VALUE}),
              "labels": VALUE | st.dictionaries(st.text(max_size=4), VALUE)})


@settings(max_examples=500, deadline=None)
@given(raw=ENTRY | JSON | PLAUSIBLE)
def test_parse_entry_never_raises(raw: Any) -> None:
    result = parse_entry(raw, "p.json#0")
    assert isinstance(result, LogEntry | Skip)
    if isinstance(result, Skip):
        assert result.origin.startswith("p.json#0") and result.field and result.reason
    else:
        assert result.timestamp.utcoffset() is not None
        assert isinstance(result.message, str) and isinstance(result.mining_text, str)


@settings(max_examples=300, deadline=None)
@given(url=st.text(alphabet="abc:/?#%@.-_0123456789XYZ") | st.text())
def test_route_shape_is_idempotent(url: str) -> None:
    once = route_shape(url)
    assert route_shape(once) == once
    assert "?" not in once and "#" not in once
