"""Stack traces: one entry per trace, clustered by exception type and top frames only."""

from __future__ import annotations

from typing import Any

from gardener.clusters import ClusterBuilder
from gardener.entries import parse_entry
from gardener.model import LogEntry, Priority, Severity
from gardener.rules import prioritise
from gardener.traces import parse_trace


def python_trace(user: str = "u-42", line: int = 12, exc: str = "KeyError",
                 func: str = "load") -> str:
    return (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3.11/site-packages/starlette/routing.py", line 677, in app\n'
        "    await route.handle(scope, receive, send)\n"
        f'  File "/app/svc/handlers.py", line {line + 28}, in handle\n'
        "    return load(user)\n"
        f'  File "/app/svc/store.py", line {line}, in {func}\n'
        "    raise KeyError(user)\n"
        f"{exc}: 'user {user} not found'\n"
    )


CHAINED = (
    "Traceback (most recent call last):\n"
    '  File "/app/svc/db.py", line 20, in connect\n'
    "    sock.connect(addr)\n"
    "ConnectionRefusedError: [Errno 111] Connection refused\n"
    "\n"
    "During handling of the above exception, another exception occurred:\n"
    "\n"
    "Traceback (most recent call last):\n"
    '  File "/app/svc/main.py", line 8, in startup\n'
    "    db.connect()\n"
    '  File "/app/svc/db.py", line 24, in connect\n'
    "    raise DatabaseUnavailable(addr)\n"
    "svc.db.DatabaseUnavailable: 10.0.0.5:5432\n"
)


def java_trace(order: int = 17, line: int = 88, more: int = 12) -> str:
    return (
        f"org.springframework.web.util.NestedServletException: Request processing failed; "
        f"nested exception is java.lang.IllegalStateException: order {order}\n"
        "\tat org.springframework.web.servlet.FrameworkServlet.processRequest"
        "(FrameworkServlet.java:1014)\n"
        "\tat javax.servlet.http.HttpServlet.service(HttpServlet.java:681)\n"
        f"Caused by: java.lang.IllegalStateException: order {order} has no lines\n"
        f"\tat com.acme.orders.Orders.total(Orders.java:{line})\n"
        f"\tat com.acme.orders.OrderController.get(OrderController.java:{line - 50})\n"
        "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n"
        f"\t... {more} more\n"
    )


def node_trace(key: str = "id", line: int = 17) -> str:
    return (
        f"TypeError: Cannot read properties of undefined (reading '{key}')\n"
        f"    at getUser (/srv/app/src/users.js:{line}:9)\n"
        "    at async Promise.all (index 0)\n"
        "    at Layer.handle [as handle_request] "
        "(/srv/app/node_modules/express/lib/router/layer.js:95:5)\n"
    )


def go_panic(index: int = 5, line: int = 42, goroutine: int = 19) -> str:
    return (
        f"panic: runtime error: index out of range [{index}] with length 3\n"
        "\n"
        f"goroutine {goroutine} [running]:\n"
        "main.(*Server).lookup(0xc000123400, {0xc00001c0a0, 0x5})\n"
        f"\t/src/app/server.go:{line} +0x1d4\n"
        "main.(*Server).ServeHTTP(0xc000123400, {0x7f1c, 0xc0001a2000}, 0xc0001b4000)\n"
        f"\t/src/app/server.go:{line + 30} +0x8e\n"
        "net/http.serverHandler.ServeHTTP({0xc0000a8000}, {0x7f1c, 0xc0001a2000}, 0xc0001b4000)\n"
        "\t/usr/local/go/src/net/http/server.go:2938 +0x8e\n"
        "created by net/http.(*Server).Serve in goroutine 1\n"
        "\t/usr/local/go/src/net/http/server.go:3089 +0x5cb\n"
        "\n"
        "goroutine 1 [IO wait]:\n"
        "internal/poll.runtime_pollWait(0x7f1c, 0x72)\n"
        "\t/usr/local/go/src/runtime/netpoll.go:343 +0x85\n"
        "exit status 2\n"
    )


def as_entry(text: str, **fields: Any) -> LogEntry:
    raw: dict[str, Any] = {"insertId": "i", "timestamp": "2025-09-15T23:46:21Z",
                           "textPayload": text, **fields}
    result = parse_entry(raw, "t.json#0")
    assert isinstance(result, LogEntry), result
    return result


def test_python_trace_is_one_templated_entry() -> None:
    e = as_entry(python_trace(), severity="ERROR")
    assert e.exception_type == "KeyError"
    assert e.templated
    assert e.mining_text == ("KeyError at svc/store.py in load < svc/handlers.py in handle < "
                             "starlette/routing.py in app")
    assert e.message == "KeyError: 'user u-42 not found'"
    assert e.source_location is not None
    assert (e.source_location.file, e.source_location.line) == ("svc/store.py", 12)


def test_python_same_bug_different_details_same_key() -> None:
    a = as_entry(python_trace("u-42", 12))
    b = as_entry(python_trace("u-977", 15))
    assert a.mining_text == b.mining_text
    assert a.message != b.message


def test_python_different_type_or_frame_differs() -> None:
    base = as_entry(python_trace()).mining_text
    assert as_entry(python_trace(exc="LookupError")).mining_text != base
    assert as_entry(python_trace(func="load_all")).mining_text != base


def test_python_chained_exception_reports_the_last() -> None:
    trace = parse_trace(CHAINED)
    assert trace is not None
    assert trace.exception_type == "svc.db.DatabaseUnavailable"
    assert trace.message == "10.0.0.5:5432"
    assert trace.frames[0] == "svc/db.py in connect"
    assert trace.location is not None and trace.location.line == 24
    assert as_entry(CHAINED).exception_type == "svc.db.DatabaseUnavailable"


def test_java_caused_by_is_the_root_cause() -> None:
    e = as_entry(java_trace(), severity="ERROR")
    assert e.exception_type == "java.lang.IllegalStateException"
    assert e.mining_text == ("java.lang.IllegalStateException at com.acme.orders.Orders.total < "
                             "com.acme.orders.OrderController.get < "
                             "java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0")
    assert e.source_location is not None
    assert (e.source_location.file, e.source_location.line) == ("Orders.java", 88)
    assert "\n" not in e.message


def test_java_same_bug_different_details_same_key() -> None:
    assert as_entry(java_trace(17, 88, 12)).mining_text == \
        as_entry(java_trace(9041, 91, 40)).mining_text


def test_java_different_top_frame_differs() -> None:
    other = java_trace().replace("Orders.total", "Orders.subtotal")
    assert as_entry(other).mining_text != as_entry(java_trace()).mining_text


def test_node_trace() -> None:
    e = as_entry(node_trace())
    assert e.exception_type == "TypeError"
    assert e.templated
    assert e.mining_text.startswith("TypeError at src/users.js in getUser")
    assert e.mining_text.endswith("lib/router/layer.js in Layer.handle [as handle_request]")
    assert e.source_location is not None and e.source_location.line == 17
    assert as_entry(node_trace("name", 19)).mining_text == e.mining_text


def test_node_different_type_differs() -> None:
    other = node_trace().replace("TypeError", "RangeError")
    assert as_entry(other).mining_text != as_entry(node_trace()).mining_text


def test_go_panic_with_goroutines_is_one_entry() -> None:
    e = as_entry(go_panic(), severity="ERROR")
    assert e.exception_type == "panic"
    assert e.templated
    assert e.mining_text.startswith("panic at main.(*Server).lookup < main.(*Server).ServeHTTP")
    assert "runtime_pollWait" not in e.mining_text
    assert e.source_location is not None
    assert (e.source_location.file, e.source_location.line) == ("server.go", 42)
    assert e.severity is Severity.ERROR


def test_go_same_panic_different_details_same_key() -> None:
    assert as_entry(go_panic(5, 42, 19)).mining_text == \
        as_entry(go_panic(9, 45, 2201)).mining_text


def test_go_different_top_frame_differs() -> None:
    other = go_panic().replace("lookup", "lookupAll")
    assert as_entry(other).mining_text != as_entry(go_panic()).mining_text


def test_trace_in_json_message_field() -> None:
    raw = {"timestamp": "2025-09-15T23:46:21Z", "severity": "ERROR",
           "jsonPayload": {"message": python_trace()}}
    e = parse_entry(raw, "t#1")
    assert isinstance(e, LogEntry)
    assert e.exception_type == "KeyError"
    assert e.templated


def test_plain_multiline_text_is_not_a_trace() -> None:
    assert parse_trace("line one\nline two") is None
    assert parse_trace("KeyError: 'x'") is None
    e = as_entry("config:\n  a: 1\n  b: 2")
    assert e.exception_type == ""
    assert not e.templated


def test_trace_without_severity_is_an_error() -> None:
    # Cloud Run gives plain stderr text no severity: a panic must not rank as normal output.
    assert as_entry(go_panic()).severity is Severity.ERROR
    assert as_entry(python_trace(), severity="DEFAULT").severity is Severity.ERROR
    assert as_entry(java_trace(), severity="INFO").severity is Severity.INFO
    assert as_entry("config:\n  a: 1").severity is Severity.DEFAULT


def test_go_panic_without_severity_ranks_p0() -> None:
    builder = ClusterBuilder()
    for n in range(3):
        builder.add(as_entry(go_panic(n, 40 + n, 100 + n)))
    (cluster,) = builder.build()
    assert cluster.count == 3
    finding = prioritise(cluster, (), 3)
    assert (finding.priority, finding.rule) == (Priority.P0, "default:go-panic")


def test_node_async_and_constructor_frames() -> None:
    def trace(message: str) -> str:
        return (f"TypeError: {message}\n"
                "    at async getUser (/srv/app/src/users.js:17:9)\n"
                "    at async Promise.all (index 0)\n"
                "    at new Handler (/srv/app/src/api.js:5:3)\n")
    a, b = as_entry(trace("x is not a function")), as_entry(trace("y is not a function"))
    assert a.templated
    assert a.mining_text == "TypeError at src/users.js in getUser < src/api.js in Handler"
    assert a.mining_text == b.mining_text


GO_RECOVERED = (
    "2025/09/15 23:46:21 http: panic serving 10.0.0.1:{port}: runtime error: invalid memory "
    "address or nil pointer dereference\n"
    "goroutine {goroutine} [running]:\n"
    "net/http.(*conn).serve.func1()\n"
    "\t/usr/local/go/src/net/http/server.go:1868 +0xb9\n"
    "panic({{0x6d0fe0?, 0x9a1e30?}})\n"
    "\t/usr/local/go/src/runtime/panic.go:920 +0x270\n"
    "main.{handler}(0x0?, 0xc0001a2000?)\n"
    "\t/src/app/main.go:17 +0x1d\n"
    "main.Map[...](...)\n"
    "\t/src/app/generic.go:9 +0x1d\n"
)


def test_go_recovered_http_panic_keys_on_the_handler() -> None:
    e = as_entry(GO_RECOVERED.format(port=5555, goroutine=33, handler="getOrder"))
    assert e.exception_type == "panic"
    assert e.mining_text == "panic at main.getOrder < main.Map[...]"
    assert e.source_location is not None and e.source_location.function == "main.getOrder"
    same = as_entry(GO_RECOVERED.format(port=6001, goroutine=907, handler="getOrder"))
    other = as_entry(GO_RECOVERED.format(port=5555, goroutine=33, handler="listOrders"))
    assert same.mining_text == e.mining_text != other.mining_text
