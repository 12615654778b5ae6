"""Multi-line stack traces are one entry and cluster by exception type and top frames.

Each `tests/fixtures/shapes/traces_*.json` holds: entries 0 and 1, the same bug with other
messages, ids and line numbers; entry 2, the same frames with another exception type; entry 3,
the same exception type raised from another top frame.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gardener.entries import parse_entry
from gardener.model import LogEntry, Severity, SourceLocation
from gardener.sources.files import FileSource
from gardener.traces import TOP_FRAMES, parse_trace

SHAPES = Path(__file__).resolve().parent / "fixtures" / "shapes"
LANGUAGES = ["python", "java", "node", "go"]


def entries(language: str) -> list[LogEntry]:
    out = []
    for raw in FileSource([str(SHAPES / f"traces_{language}.json")]).read():
        assert isinstance(raw, dict), raw
        result = parse_entry(raw, raw.pop("__origin__"))
        assert isinstance(result, LogEntry), result
        out.append(result)
    return out


def text_entry(text: str, **fields: Any) -> LogEntry:
    result = parse_entry({"insertId": "t", "timestamp": "2025-09-15T23:46:21Z",
                          "textPayload": text, **fields}, "t.json#0")
    assert isinstance(result, LogEntry), result
    return result


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_trace_is_one_entry(language: str) -> None:
    raw = json.loads((SHAPES / f"traces_{language}.json").read_text(encoding="utf-8"))
    parsed = entries(language)
    assert len(parsed) == len(raw)  # one entry per LogEntry, however many lines it holds
    for entry in parsed[:4]:
        assert entry.templated and entry.exception_type
        assert entry.severity >= Severity.ERROR
        assert "\n" not in entry.mining_text and "\n" not in entry.message
        assert entry.mining_text.count(" < ") <= TOP_FRAMES - 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_bug_other_details_same_mining_text(language: str) -> None:
    first, second, *_ = entries(language)
    assert first.message != second.message or first.raw != second.raw
    assert first.mining_text == second.mining_text
    assert first.exception_type == second.exception_type


@pytest.mark.parametrize("language", LANGUAGES)
def test_other_exception_type_differs(language: str) -> None:
    first, _, other_type, _ = entries(language)[:4]
    assert other_type.mining_text != first.mining_text


@pytest.mark.parametrize("language", LANGUAGES)
def test_other_top_frame_differs(language: str) -> None:
    first, _, _, other_frame = entries(language)[:4]
    assert other_frame.exception_type == first.exception_type
    assert other_frame.mining_text != first.mining_text


def test_python_details() -> None:
    first, *_, chained, chained_again, psycopg = entries("python")
    assert first.exception_type == "psycopg2.OperationalError"
    assert first.mining_text == ("psycopg2.OperationalError at shop/payments/store.py in load_order"
                                 " < shop/payments/views.py in capture")
    assert first.message == "payment capture failed"  # structlog's event, not the trace
    assert first.source_location == SourceLocation("shop/payments/store.py", 12, "load_order")
    # chained: the exception that escaped, and only its own traceback's frames
    assert chained.exception_type == "netra_backend.app.smd.DeterministicStartupError"
    assert "asyncio" not in chained.mining_text and "asyncpg" not in chained.mining_text
    assert chained.mining_text.endswith("in _initialize_database")
    assert chained.mining_text == chained_again.mining_text
    assert chained.message.startswith("netra_backend.app.smd.DeterministicStartupError: CRITICAL")
    assert chained.severity is Severity.ERROR  # plain text on stderr, no severity: a trace is one
    assert chained.source_location is not None and chained.source_location.line == 1018
    # lines after the exception line belong to its message (psycopg's LINE/HINT)
    assert psycopg.exception_type == "psycopg2.errors.UndefinedColumn"


def test_java_details() -> None:
    first = entries("java")[0]
    # the root cause (the last `Caused by:`) and its own frames, `... 40 more` ignored
    assert first.exception_type == "java.sql.SQLTransientConnectionException"
    assert first.mining_text == ("java.sql.SQLTransientConnectionException at "
                                 "com.zaxxer.hikari.pool.HikariPool.createTimeoutException < "
                                 "com.zaxxer.hikari.pool.HikariPool.getConnection < "
                                 "com.zaxxer.hikari.pool.HikariPool.getConnection")
    assert first.source_location == SourceLocation(
        "HikariPool.java", 696, "com.zaxxer.hikari.pool.HikariPool.createTimeoutException")
    assert first.logger == "com.acme.orders.OrderController"


def test_node_details() -> None:
    first = entries("node")[0]
    assert first.exception_type == "TypeError"
    # `async Promise.all (index 0)` is no frame; node_modules and the image's root are cut
    assert first.mining_text == ("TypeError at dist/customers.js in getCustomer < "
                                 "dist/routes/checkout.js in checkout < "
                                 "lib/router/layer.js in <anonymous>")
    assert first.source_location == SourceLocation("dist/customers.js", 41, "getCustomer")


def test_go_details() -> None:
    first, _, out_of_range, _ = entries("go")
    assert first.exception_type == out_of_range.exception_type == "panic"
    assert first.mining_text.startswith("panic at github.com/acme/orders/internal/store."
                                        "(*Store).Get < github.com/acme/orders/internal/api."
                                        "(*Handler).Order < net/http.HandlerFunc.ServeHTTP")
    # which runtime error it was, without its values, plays the exception type's role
    assert first.mining_text.endswith(": runtime error: invalid memory address or nil pointer "
                                      "dereference")
    assert out_of_range.mining_text.endswith(": runtime error: index out of range")
    assert "runtime_pollWait" not in first.mining_text  # another goroutine's stack
    assert "created by" not in first.mining_text
    assert first.source_location == SourceLocation(
        "internal/store/store.go", 88, "github.com/acme/orders/internal/store.(*Store).Get")


def test_go_custom_panics_differ_only_by_frames() -> None:
    stack = ("panic: {msg}\n\ngoroutine {g} [running]:\nmain.(*Cart).Add(...)\n"
             "\t/app/cart.go:{line} +0x1d\nmain.main()\n\t/app/main.go:9 +0x25\nexit status 2")
    a = text_entry(stack.format(msg="order ord_1 has no items", g=1, line=12))
    b = text_entry(stack.format(msg="order ord_9 has no items", g=7, line=14))
    assert a.mining_text == b.mining_text == "panic at main.(*Cart).Add < main.main"


def test_go_fatal_error_is_a_trace() -> None:
    fatal = text_entry("fatal error: concurrent map writes\n\ngoroutine 12 [running]:\n"
                       "main.(*Cache).Put(0xc0000a6000, {0x4b1f20, 0x3})\n"
                       "\t/app/cache.go:31 +0x65\ncreated by main.main in goroutine 1\n"
                       "\t/app/main.go:20 +0x3f\n")
    assert fatal.exception_type == "panic"
    assert fatal.mining_text == "panic at main.(*Cache).Put: fatal error: concurrent map writes"


def test_recovered_http_panic_keys_on_the_handler() -> None:
    text = ("http: panic serving 10.0.0.7:51234: runtime error: index out of range [3] with "
            "length 3\ngoroutine 33 [running]:\nnet/http.(*conn).serve.func1()\n"
            "\t/usr/local/go/src/net/http/server.go:1868 +0xb0\n"
            "panic({0x6c5e40?, 0xc000018318?})\n\t/usr/local/go/src/runtime/panic.go:920 +0x270\n"
            "main.orders(...)\n\t/app/orders.go:27 +0x1a\n"
            "net/http.HandlerFunc.ServeHTTP(0x0?, {0x7f8c2c?, 0xc0001c4000?}, 0x0?)\n"
            "\t/usr/local/go/src/net/http/server.go:2136 +0x29\n")
    trace = parse_trace(text)
    assert trace is not None and trace.frames == ("main.orders", "net/http.HandlerFunc.ServeHTTP")


@pytest.mark.parametrize("text", [
    "Shutting down\nbye",
    "SELECT *\n  FROM orders\n  WHERE id = 1",
    "main.handler\n\t/src/app/main.go:42\nnet/http.HandlerFunc.ServeHTTP\n\t/x/server.go:2136",
    "one line only: Traceback (most recent call last):",
])
def test_other_multiline_text_is_no_trace(text: str) -> None:
    assert parse_trace(text) is None
    entry = text_entry(text)
    assert not entry.templated and entry.exception_type == ""


def test_trace_keeps_the_entry_severity_when_given() -> None:
    trace = ("Traceback (most recent call last):\n  File \"/app/x.py\", line 3, in f\n"
             "    g()\nValueError: bad")
    assert text_entry(trace, severity="WARNING").severity is Severity.WARNING
    assert text_entry(trace).severity is Severity.ERROR


def test_python_trace_without_frames_or_exception_line_still_parses() -> None:
    trace = parse_trace("boom\nTraceback (most recent call last):\n")
    assert trace is not None
    assert (trace.exception_type, trace.frames) == ("Exception", ())
    assert trace.cluster_key() == "Exception: "


def test_java_odd_line_number_is_no_crash() -> None:
    trace = parse_trace("java.lang.IllegalStateException: x\n\tat a.b.C.d(C.java:²)")
    assert trace is not None and trace.location == SourceLocation("C.java", None, "a.b.C.d")


def test_deployment_root_is_cut_once() -> None:
    """/app/svc_a/app/db.py and /app/svc_b/app/db.py are different code; `_short_path` cuts at
    the last `/app/`, so both become `db.py` and two bugs share a cluster."""
    def trace(package: str) -> str:
        return ("Traceback (most recent call last):\n"
                f'  File "/app/{package}/app/db.py", line 3, in connect\n    x()\nOSError: x')
    a, b = parse_trace(trace("svc_a")), parse_trace(trace("svc_b"))
    assert a is not None and b is not None
    assert a.cluster_key() != b.cluster_key()
