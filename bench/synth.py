"""Synthetic Cloud Run log exports shaped like seed 000: a backend stuck in a start-up restart loop.

`generate(n, seed=..., start=..., end=...)` yields `n` LogEntry dicts, newest first, as
`gcloud logging read --format=json` lists them; `write_json` prints them the way gcloud does.
Shared by `examples/make_example.py` (the bundled example) and `bench/pipeline.py` (the benchmark).

The story: instances of revision 00042 start, log their start-up phases and architecture/config
warnings, then time out connecting to Cloud SQL and call exit(3); a few starts get through, and
the warm instances serve ordinary traffic (with 5xx when no instance is available).
"""

from __future__ import annotations

import base64
import heapq
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

PROJECT = "netra-staging"
SERVICE = "netra-backend-staging"
REVISION = f"{SERVICE}-00042-abc"
START = datetime(2025, 9, 15, 23, 46, 21, tzinfo=UTC)
END = START + timedelta(hours=1)
ENTRIES_PER_RESTART = 100
"""One failed container start per 100 entries: seed 000's 39 exits in an hour of ~4,000-5,000."""
MAX_SPAN = 60.0
"""No episode (an instance start, a request) lasts longer; lets us emit newest-first in order."""

Entry = dict[str, Any]
_App = Callable[..., Callable[[float], Entry]]
"""`app(severity, site, message, error=None)` -> a maker of that structured line at a time."""
RESOURCE = {"type": "cloud_run_revision",
            "labels": {"configuration_name": SERVICE, "location": "us-central1",
                       "project_id": PROJECT, "revision_name": REVISION, "service_name": SERVICE}}
_HOST = f"https://{SERVICE}-xyz-uc.a.run.app"
_LOG = f"projects/{PROJECT}/logs/"
_STDOUT, _STDERR = "run.googleapis.com%2Fstdout", "run.googleapis.com%2Fstderr"
_REQUESTS, _SYSTEM = "run.googleapis.com%2Frequests", "run.googleapis.com%2Fvarlog%2Fsystem"
_TIMEOUT_TEXT = ("Database initialization timeout after 8.0s in staging environment. This may "
                 "indicate Cloud SQL connection issues. Check POSTGRES_HOST configuration and "
                 "Cloud SQL instance accessibility.")

# Where each kind of line is written: logger/module, file, line, function.
_SITES = {
    "main": ("netra_backend.app.main", 234, "startup_sequence"),
    "config": ("netra_backend.app.core.configuration.base", 212, "_validate_service_id"),
    "sanitize": ("netra_backend.app.core.configuration.base", 228, "_sanitize_env_value"),
    "sentry": ("netra_backend.app.core.sentry_integration", 41, "init_sentry"),
    "phase": ("netra_backend.app.smd", 1880, "_run_startup_phase"),
    "db_timeout": ("netra_backend.app.smd", 1005, "_initialize_database"),
    "db_failed": ("netra_backend.app.smd", 1018, "_initialize_database"),
    "startup_failed": ("netra_backend.app.smd", 1882, "_run_startup_phase"),
    "db_pool": ("netra_backend.app.db.postgres_core", 118, "initialize"),
    "db_retry": ("netra_backend.app.db.postgres_core", 164, "_connect_with_retry"),
    "ssot": ("netra_backend.app.websocket_core.websocket_manager", 77, "_check_ssot_compliance"),
    "ssot_violation": ("netra_backend.app.websocket_core.manager", 45, "__init__"),
    "auth_client": ("netra_backend.app.clients.auth_client_core", 392, "validate_service_token"),
    "threads": ("netra_backend.app.routes.threads", 142, "get_thread_messages"),
    "messages": ("netra_backend.app.services.message_service", 88, "create_message"),
    "agents": ("netra_backend.app.agents.supervisor.execution_engine", 207, "execute_agent"),
    "ws": ("netra_backend.app.websocket_core.unified_manager", 311, "connect_user"),
    "auth": ("netra_backend.app.auth_integration.auth", 64, "validate_token"),
    "request": ("netra_backend.app.middleware.request_logging", 51, "dispatch"),
    "errors": ("netra_backend.app.middleware.error_handler", 73, "handle_exception"),
    "health": ("netra_backend.app.routes.health", 97, "health_check"),
    "sessions": ("netra_backend.app.services.session_service", 233, "cleanup_expired"),
    "redis": ("netra_backend.app.redis_manager", 120, "get_client"),
}
_WS_CLASSES = [f"netra_backend.app.{c}" for c in (
    "websocket_core.websocket_manager.UnifiedWebSocketManager",
    "websocket_core.websocket_manager.WebSocketManagerFactory",
    "websocket_core.unified_manager.UnifiedWebSocketManager",
    "websocket_core.manager.WebSocketManager",
    "websocket_core.websocket_manager_factory.IsolatedWebSocketManager",
    "websocket_core.protocols.WebSocketManagerProtocol",
    "websocket_core.migration_adapter.WebSocketManagerAdapter",
    "websocket_core.unified_manager._UnifiedWebSocketManagerImplementation",
    "websocket_core.connection_manager.ConnectionManager",
    "services.websocket_bridge_factory.WebSocketBridgeManager",
    "websocket_core.types.WebSocketManagerMode")]
_AGENTS = ("triage", "data_helper", "optimizations_core", "reporting", "supervisor")
_AGENT_STRINGS = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/140.0.0.0 Safari/537.36",
                  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:142.0) Gecko/20100101 "
                  "Firefox/142.0",
                  "python-httpx/0.27.2", "netra-frontend-staging/1.8.3 (+node-fetch)")
_UPTIME_AGENT = "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)"


def generate(n: int, *, seed: int = 42, start: datetime = START, end: datetime = END,
             restarts: int | None = None) -> Iterator[Entry]:
    """`n` LogEntry dicts between `start` and `end`, newest first (treat them as read-only).

    `restarts` is how many failed container starts the window holds (default: one per 100
    entries).
    """
    if n < 1:
        return
    rng = random.Random(seed)
    t0, t1 = start.timestamp(), end.timestamp()
    failing = restarts if restarts is not None else max(1, round(n / ENTRIES_PER_RESTART))
    starts = [t0 + 9.0] + [_outage_time(rng, t0, t1) for _ in range(failing - 1)]
    episodes = [(s, _instance_start(rng, i, failing=True)) for i, s in enumerate(starts)]
    episodes += [(rng.uniform(t0, t1 - MAX_SPAN), _instance_start(rng, i, failing=False))
                 for i in range(max(1, failing // 8))]
    episodes.append((t0 + 1.5 + rng.random(), _Planned(1, lambda t, _n: [(t, _audit(rng, t))])))
    room = n - sum(plan.size for _, plan in episodes)
    while room < 0:  # a tiny n: drop instance starts until the rest fits
        room += episodes.pop()[1].size
    episodes += _traffic(rng, room, t0, t1)
    episodes.sort(key=lambda ep: ep[0], reverse=True)
    yield from _newest_first(episodes)


def _newest_first(episodes: list[tuple[float, _Planned]]) -> Iterator[Entry]:
    """Merge the episodes' entries into one newest-first stream, holding at most MAX_SPAN."""
    heap: list[tuple[float, int, Entry]] = []
    seq = 0
    for begin, make in episodes:
        while heap and -heap[0][0] > begin + MAX_SPAN:
            yield heapq.heappop(heap)[2]
        for t, entry in make(begin):
            seq += 1
            heapq.heappush(heap, (-t, seq, entry))
    while heap:
        yield heapq.heappop(heap)[2]


def _outage_time(rng: random.Random, t0: float, t1: float) -> float:
    """Restarts all through the hour, thickest around the middle (the seed's 00:15 peak)."""
    middle = t0 + (t1 - t0) * 0.48
    t = rng.gauss(middle, (t1 - t0) / 6) if rng.random() < 0.35 else rng.uniform(t0, t1)
    return min(max(t, t0 + 30.0 + rng.random()), t1 - MAX_SPAN - rng.random())


class _Planned:
    """An episode whose entries are built when the merge reaches it; knows its size up front."""

    def __init__(self, size: int, build: Callable[[float, int], list[tuple[float, Entry]]]):
        self.size = size
        self.build = build

    def __call__(self, t: float) -> list[tuple[float, Entry]]:
        return self.build(t, self.size)


def _instance_start(rng: random.Random, index: int, *, failing: bool) -> _Planned:
    """One container start: phases and warnings, then the database timeout and exit(3)."""
    plan = _start_plan(rng, index, failing)
    return _Planned(len(plan), lambda t, _size: [(t + dt, make(t + dt)) for dt, make in plan])


def _start_plan(rng: random.Random, index: int,
                failing: bool) -> list[tuple[float, Callable[[float], Entry]]]:
    inst = _instance_id(rng)
    app = _app_writer(rng, inst, trace="")
    deps = round(rng.uniform(24.0, 34.0), 3)
    db = round(rng.uniform(5.0, 8.2), 3)
    notice = "NOTICE" if failing and index % 39 == 0 else "INFO"
    plan: list[tuple[float, Callable[[float], Entry]]] = [
        (0.0, _system(rng, inst, "INFO", "Starting new instance. Reason: AUTOSCALING - Instance "
                      "started due to configured scaling factors (e.g. CPU utilization, request "
                      "throughput, etc.) or no existing capacity for current traffic.")),
        (1.0, app(notice, "main", "Backend service starting in staging environment with "
                  "configuration validation enabled.")),
        (1.05, app("WARNING", "config", "SERVICE_ID environment variable contains trailing "
                   "whitespace")),
        (1.06, app("INFO", "sanitize", "Automatic sanitization applied: "
                   f"{'netra-backend' + chr(10)!r} → 'netra-backend'")),
        (1.2, app("INFO", "sentry", "Sentry SDK not available - install sentry-sdk[fastapi] to "
                  "enable error tracking")),
        (1.3, app("INFO", "phase", f"Startup phase 'init' completed in "
                  f"{rng.uniform(.04, .09):.3f}s")),
        (2.0 + deps, app("INFO", "phase", f"Startup phase 'dependencies' completed in {deps}s")),
        (2.1 + deps, app("INFO", "main", "Environment detected: staging (source: ENVIRONMENT)")),
        (2.2 + deps, _pool_line(rng, app, index)),
    ]
    plan += [(rng.uniform(2.5, deps), _ssot_warning(rng, app)) for _ in range(rng.randint(1, 2))]
    plan.append((rng.uniform(2.5, deps), app("WARNING", "ssot_violation", "SSOT Violation: Found "
                                             "11 different WebSocket Manager classes. Expected "
                                             "single source of truth.")))
    if rng.random() < 0.08:  # uvicorn's own prints reach stderr with no severity
        plan.append((0.9, _plain(rng, inst, "INFO:     Started server process [1]")))
    if index % 20 == 11:
        plan.append((2.3 + deps, _bearer_line(rng, app)))
    end = 2.2 + deps + db
    if not failing:
        return plan + [(end, app("INFO", "phase", f"Startup phase 'database' completed in {db}s")),
                       (end + .1, app("INFO", "main", f"Application startup complete in "
                                      f"{end + .1:.1f}s (7 phases)"))]
    return plan + _failure_plan(rng, inst, app, index, end, db)


def _failure_plan(rng: random.Random, inst: str, app: _App, index: int, end: float,
                  db: float) -> list[tuple[float, Callable[[float], Entry]]]:
    attempts = 1 if rng.random() < 0.7 else 2
    plan = [(end - db + (a + 1) * db / (attempts + 1),
             app("ERROR", "db_retry", f"Database connection attempt {a + 1}/{attempts} failed: "
                 f"TimeoutError after {db / (attempts + 1):.2f}s")) for a in range(attempts)]
    error = {"type": "DeterministicStartupError",
             "value": f"CRITICAL STARTUP FAILURE: {_TIMEOUT_TEXT}"}
    plan += [
        (end, app("ERROR", "db_timeout", _TIMEOUT_TEXT)),
        (end + .01, _stderr(rng, inst, rng.choice(_TRACEBACKS))),
        (end + .02, app("ERROR", "db_failed", f"Startup phase 'database' failed after {db}s: "
                        "TimeoutError")),
        (end + .03, app("ERROR", "startup_failed", "Deterministic startup failed in phase "
                        "'database'; shutting down", error=error)),
        (end + 1.2, _system(rng, inst, rng.choice(("WARNING", "WARNING", "ERROR")),
                            "Container called exit(3).")),
        (end + 1.3, _system(rng, inst, "ERROR", 'Default STARTUP TCP probe failed 1 time '
                            'consecutively for container "netra-backend-staging-1" on port 8080. '
                            'The instance was not started.')),
    ]
    if rng.random() < 0.25:
        plan.append((end + .04, _stderr(rng, inst, _TRACEBACKS[0])))
    if rng.random() < 0.06:
        plan.append((end + .05, _plain(rng, inst, "ERROR:    Application startup failed. "
                                       "Exiting.")))
    if index % 10 == 4:
        plan.append((end + 1.4, _system(rng, inst, "ERROR", f"Ready condition status changed to "
                                        f"False for Revision {REVISION} with message: The "
                                        "user-provided container failed to start and listen on "
                                        "the port defined provided by the PORT=8080 environment "
                                        "variable within the allocated timeout.")))
    return plan


def _pool_line(rng: random.Random, app: _App,
               index: int) -> Callable[[float], Entry]:
    if index % 20 != 3:
        return app("INFO", "db_pool", "Initializing database connection pool (pool_size=10, "
                   "max_overflow=20, timeout=8.0s)")
    # A DSN with its password, as careless code logs it; assembled here so no literal sits in git.
    password = "".join(rng.choices("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=20))
    dsn = "postgresql" + "://" + "netra:" + password + "@10.1.2.3:5432/netra"
    return app("INFO", "db_pool", f"Connecting to {dsn} (pool_size=10, timeout=8.0s)")


def _bearer_line(rng: random.Random,
                 app: _App) -> Callable[[float], Entry]:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    token = ".".join((part({"alg": "HS256", "typ": "JWT"}),
                      part({"sub": "netra-backend", "iat": 1757979981 + rng.randint(0, 3600)}),
                      base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")))
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    return app("WARNING", "auth_client", "Auth service token validation failed (401): POST "
               f"https://netra-auth-service-xyz-uc.a.run.app/auth/validate headers={headers}")


def _ssot_warning(rng: random.Random,
                  app: _App) -> Callable[[float], Entry]:
    others = sorted(rng.sample(_WS_CLASSES, rng.randint(2, 6)), key=_WS_CLASSES.index)
    return app("WARNING", "ssot", f"SSOT WARNING: Found other WebSocket Manager classes: {others}")


_PY = "/usr/local/lib/python3.10/"
_WAIT_FOR = (_PY + "asyncio/tasks.py", 458, "wait_for", "raise exceptions.TimeoutError() from exc")
_ASYNCPG = (_PY + "site-packages/asyncpg/connection.py", 2421, "connect",
            "return await connect_utils._connect(")


def _traceback(frames: Iterable[tuple[str, int, str, str]], last: str) -> str:
    """A Python traceback as the interpreter prints it to stderr."""
    body = "".join(f'  File "{f}", line {n}, in {fn}\n    {code}\n' for f, n, fn, code in frames)
    return f"Traceback (most recent call last):\n{body}{last}"


_TRACEBACKS = (
    _traceback([(_PY + "asyncio/tasks.py", 456, "wait_for", "return fut.result()")],
               "asyncio.exceptions.CancelledError") + "\n\nThe above exception was the direct "
    "cause of the following exception:\n\n" + _traceback([
        ("/app/netra_backend/app/db/postgres_core.py", 164, "_connect_with_retry",
         "conn = await asyncpg.connect(dsn, timeout=timeout)"), _ASYNCPG,
        (_PY + "site-packages/asyncpg/connect_utils.py", 1049, "_connect",
         "conn = await _connect_addr("), _WAIT_FOR], "asyncio.exceptions.TimeoutError"),
    _traceback([
        (_PY + "site-packages/sqlalchemy/ext/asyncio/engine.py", 273, "start",
         "await greenlet_spawn(self.sync_engine.connect)"),
        (_PY + "site-packages/sqlalchemy/util/_concurrency_py3k.py", 190, "greenlet_spawn",
         "result = context.throw(*sys.exc_info())"),
        (_PY + "site-packages/sqlalchemy/dialects/postgresql/asyncpg.py", 934, "connect",
         "await_only(creator_fn(*arg, **kw)),"), _ASYNCPG, _WAIT_FOR],
        "asyncio.exceptions.TimeoutError"),
    _traceback([("/app/netra_backend/app/smd.py", 1882, "_run_startup_phase", "await phase.run()"),
                ("/app/netra_backend/app/smd.py", 1018, "_initialize_database",
                 "raise DeterministicStartupError(")],
               f"netra_backend.app.smd.DeterministicStartupError: CRITICAL STARTUP FAILURE: "
               f"{_TIMEOUT_TEXT}"),
)


# --- ordinary traffic: a request log plus the lines the handler wrote, sharing its trace ---------

def _traffic(rng: random.Random, room: int, t0: float, t1: float) -> list[tuple[float, _Planned]]:
    """Request groups of 1-3 entries filling `room` entries, spread over the window."""
    shared = {k: _Planned(k, lambda t, size: _request_group(rng, t, size, t0, t1))
              for k in (1, 2, 3)}
    groups: list[tuple[float, _Planned]] = []
    while room > 0:
        size = min(room, rng.choices((1, 2, 3), (52, 33, 15))[0])
        groups.append((rng.uniform(t0, t1), shared[size]))
        room -= size
    return groups


def _request_group(rng: random.Random, t: float, size: int,
                   t0: float, t1: float) -> list[tuple[float, Entry]]:
    inst = rng.choice(_WARM_INSTANCES)
    trace = f"projects/{PROJECT}/traces/{rng.getrandbits(128):032x}"
    app = _app_writer(rng, inst, trace)
    if size == 1 and rng.random() < 0.3:
        return [(t, _background_line(rng, app)(t))]
    method, path, route = _route(rng)
    status = _status(rng, route, t, t0, t1)
    latency = rng.uniform(5.0, 55.0) if route == "ws" else rng.lognormvariate(-2.3, 1.0)
    if status >= 500:
        latency = rng.uniform(0.5, 12.0)
    latency = min(latency, (t1 - t) * 0.95)  # requests still running at the end are not logged yet
    ctx = {"method": method, "path": path, "status": status, "ms": latency * 1000,
           "req": _uuid(rng), "user": _user(rng), "thread": _thread(rng)}
    lines = _handler_lines(rng, app, route, ctx)
    entries = [(t, _request_log(rng, inst, trace, t, method, path, status, latency))]
    for i, make in enumerate(lines[:size - 1]):
        at = t + latency * (i + 1) / (len(lines) + 1)
        entries.append((at, make(at)))
    return entries


def _route(rng: random.Random) -> tuple[str, str, str]:
    route = rng.choices(("messages", "post", "threads", "ws", "health", "agents", "profile",
                         "refresh", "thread"), (30, 15, 12, 8, 15, 5, 8, 5, 6))[0]
    tid, uid = _thread(rng), _user(rng)
    path = {"messages": f"/api/threads/{tid}/messages?cursor={rng.getrandbits(48):012x}&limit=50",
            "post": f"/api/threads/{tid}/messages", "threads": f"/api/threads?limit=20&offset="
            f"{rng.randrange(0, 200, 20)}", "ws": "/ws", "health": "/health",
            "agents": f"/api/agents/{rng.choice(_AGENTS)}/runs",
            "profile": f"/api/users/{uid}/profile",
            "refresh": "/auth/refresh", "thread": f"/api/threads/{tid}"}[route]
    method = "POST" if route in ("post", "agents", "refresh") else "GET"
    return method, path, route


def _status(rng: random.Random, route: str, t: float, t0: float, t1: float) -> int:
    """Mostly 200; 5xx thicker mid-outage; 401s on refresh, 404s on deleted threads."""
    peak = 0.02 + 0.03 * max(0.0, 1 - abs((t - t0) / (t1 - t0) - 0.48) * 4)
    roll = rng.random()
    if roll < peak:
        return rng.choice((503, 503, 503, 500))
    if route == "refresh" and roll < peak + 0.1:
        return 401
    if route == "thread" and roll < peak + 0.15:
        return 404
    return 101 if route == "ws" else 201 if route in ("post", "agents") else 200


def _handler_lines(rng: random.Random, app: _App, route: str,
                   c: dict[str, Any]) -> list[Callable[[float], Entry]]:
    done = app("INFO", "request", f"Request {c['req']} completed: {c['method']} "
               f"{c['path'].split('?')[0]} -> {c['status']} in {c['ms']:.0f}ms")
    if c["status"] >= 500:
        return [app("ERROR", "errors", f"Unhandled error for request {c['req']}: sqlalchemy.exc."
                    "TimeoutError: QueuePool limit of size 10 overflow 20 reached, connection "
                    f"timed out, timeout {rng.choice((8, 30))}.00"), done]
    if c["status"] == 401:
        return [app("WARNING", "auth", f"Token validation failed for request {c['req']}: token "
                    f"expired {rng.randint(1, 86400)}s ago"), done]
    if c["status"] == 404:
        return [app("INFO", "threads", f"Thread {c['thread']} not found for user {c['user']}"),
                done]
    if c["ms"] > 2000 and route != "ws":
        done = app("WARNING", "request", f"Slow request: {c['method']} {c['path'].split('?')[0]}"
                   f" took {c['ms'] / 1000:.2f}s (threshold 2.0s)")
    run = f"run_{rng.getrandbits(40):010x}"
    first = {
        "messages": app("INFO", "threads", f"Loaded {rng.randint(0, 50)} messages for thread "
                        f"{c['thread']} (user {c['user']}) in {c['ms'] * 0.6:.1f}ms"),
        "post": app("INFO", "messages", f"Message msg_{rng.getrandbits(64):016x} persisted to "
                    f"thread {c['thread']} for user {c['user']}"),
        "agents": app("INFO", "agents", f"Agent '{rng.choice(_AGENTS)}' run {run} completed in "
                      f"{c['ms'] / 1000:.2f}s ({rng.randint(200, 9000)} tokens)"),
        "ws": app("INFO", "ws", f"WebSocket connected: user={c['user']} connection_id=ws_"
                  f"{rng.getrandbits(48):012x}"),
        "health": app("INFO", "health", "Health check: status=healthy database=ok redis=ok "
                      f"uptime={rng.randint(30, 3600)}s"),
    }.get(route, app("INFO", "auth", f"Token validated for user {c['user']} (expires in "
                     f"{rng.randint(60, 3600)}s)"))
    return [first, done]


def _background_line(rng: random.Random,
                     app: _App) -> Callable[[float], Entry]:
    """Lines no request caused: housekeeping, heartbeats, pool statistics."""
    used = rng.randint(1, 30)
    return rng.choices((
        app("INFO", "sessions", f"Cleaned up {rng.randint(0, 40)} expired sessions in "
            f"{rng.uniform(2, 90):.1f}ms"),
        app("INFO", "ws", f"WebSocket heartbeat: {rng.randint(0, 120)} active connections, "
            f"{rng.randint(0, 4)} stale removed"),
        app("INFO", "redis", f"Redis connection pool: {used}/30 connections in use"),
        app("WARNING", "redis", f"Redis connection pool at {used * 100 // 30}% capacity "
            f"({used}/30)"),
    ), (40, 35, 20, 2))[0]


# --- entry builders -------------------------------------------------------------------------------

def _instance_id(rng: random.Random) -> str:
    return f"0069c7a988{rng.getrandbits(120):030x}"


_WARM_INSTANCES = tuple(_instance_id(random.Random(i)) for i in range(4))


def _envelope(rng: random.Random, inst: str, t: float, log: str, severity: str) -> Entry:
    entry = {"insertId": f"{int(t):08x}{rng.getrandbits(64):016x}",
             "labels": {"instanceId": inst}, "logName": _LOG + log,
             "receiveTimestamp": _ts(t + rng.uniform(0.02, 0.6), nanos=True), "resource": RESOURCE,
             "timestamp": _ts(t)}
    if severity != "DEFAULT":  # gcloud omits the enum's zero value
        entry["severity"] = severity
    return entry


def _app_writer(rng: random.Random, inst: str,
                trace: str) -> _App:
    """Python structured logging on Cloud Run: one JSON object per line on stdout."""
    def app(severity: str, site: str, message: str,
            error: dict[str, str] | None = None) -> Callable[[float], Entry]:
        module, line, function = _SITES[site]
        file = module.replace(".", "/") + ".py"

        def make(t: float) -> Entry:
            payload: dict[str, Any] = {
                "context": {"name": module, "service": "netra-service"},
                "labels": {"function": function, "line": str(line), "module": module},
                "logging.googleapis.com/sourceLocation": {"file": file, "function": function,
                                                          "line": str(line)},
                "message": message, "severity": severity, "timestamp": _ts(t, zone="+00:00")}
            if trace:
                payload["logging.googleapis.com/trace"] = trace
            if error:
                payload["error"] = error
            entry = _envelope(rng, inst, t, _STDOUT, severity)
            entry["jsonPayload"] = payload
            return entry
        return make
    return app


def _text(rng: random.Random, inst: str, log: str, severity: str,
          text: str) -> Callable[[float], Entry]:
    def make(t: float) -> Entry:
        entry = _envelope(rng, inst, t, log, severity)
        entry["textPayload"] = text
        return entry
    return make


def _system(rng: random.Random, inst: str, severity: str, text: str) -> Callable[[float], Entry]:
    return _text(rng, inst, _SYSTEM, severity, text)


def _stderr(rng: random.Random, inst: str, text: str) -> Callable[[float], Entry]:
    return _text(rng, inst, _STDERR, "ERROR", text)


def _plain(rng: random.Random, inst: str, text: str) -> Callable[[float], Entry]:
    return _text(rng, inst, _STDERR, "DEFAULT", text)


def _request_log(rng: random.Random, inst: str, trace: str, t: float, method: str, path: str,
                 status: int, latency: float) -> Entry:
    entry = _envelope(rng, inst, t, _REQUESTS,
                      "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO")
    uptime = path == "/health"
    entry["httpRequest"] = {
        "latency": f"{latency:.6f}s", "protocol": "HTTP/1.1", "remoteIp": _client_ip(rng),
        "requestMethod": method,
        "requestUrl": _HOST + path, "responseSize": str(rng.randint(200, 48000)),
        "status": status, "userAgent": _UPTIME_AGENT if uptime else rng.choice(_AGENT_STRINGS)}
    entry["trace"] = trace
    if status >= 500 and rng.random() < 0.3:  # Cloud Run's own word on requests it dropped
        entry["textPayload"] = ("The request was aborted because there was no available instance."
                                if status == 500 else "The request failed because either the HTTP "
                                "response was malformed or connection to the instance had an "
                                "error.")
    return entry


def _audit(rng: random.Random, t: float) -> Entry:
    """The deploy itself, as Cloud Audit Logs records it."""
    entry = _envelope(rng, "", t, "cloudaudit.googleapis.com%2Factivity", "NOTICE")
    del entry["labels"]
    entry["protoPayload"] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {
            "principalEmail": f"github-deployer@{PROJECT}.iam.gserviceaccount.com"},
        "methodName": "google.cloud.run.v1.Services.ReplaceService",
        "requestMetadata": {"callerIp": "203.0.113.7", "callerSuppliedUserAgent":
                            "google-cloud-sdk gcloud/488.0.0 command/gcloud.run.deploy"},
        "resourceLocation": {"currentLocations": ["us-central1"]},
        "resourceName": f"namespaces/{PROJECT}/services/{SERVICE}",
        "serviceName": "run.googleapis.com", "status": {}}
    return entry


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


def _user(rng: random.Random) -> str:
    return f"usr_{rng.getrandbits(48):012x}"


def _thread(rng: random.Random) -> str:
    return f"thread_{rng.getrandbits(64):016x}"


def _client_ip(rng: random.Random) -> str:
    return f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}"


def _ts(t: float, nanos: bool = False, zone: str = "Z") -> str:
    """RFC 3339 with microseconds (or nanoseconds, as receiveTimestamp carries them)."""
    whole, micros = divmod(round(t * 1_000_000), 1_000_000)
    tail = f"{micros * 7 % 1000:03d}" if nanos else ""
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole))}.{micros:06d}{tail}{zone}"


# --- writers -------------------------------------------------------------------------------------

def write_json(entries: Iterable[Entry], out: TextIO) -> int:
    """Print entries as `gcloud logging read --format=json` does; returns how many."""
    count = 0
    for entry in entries:
        body = json.dumps(entry, indent=2, sort_keys=True, ensure_ascii=False)
        out.write(("[\n  " if count == 0 else ",\n  ") + body.replace("\n", "\n  "))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


def write_jsonl(entries: Iterable[Entry], out: TextIO) -> int:
    """One compact LogEntry per line (what a sink or `--format=json | jq -c .[]` gives)."""
    count = 0
    for entry in entries:
        out.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
        count += 1
    return count
