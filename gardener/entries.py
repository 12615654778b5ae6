"""Turn one raw Cloud Logging LogEntry (decoded JSON) into a `LogEntry`, or say why not.

Knows the shapes real services write: textPayload; jsonPayload from Cloud Run's structured
logging, pino/bunyan, zap, logrus, zerolog, structlog, Spring Boot/logstash and ECS; protoPayload
audit logs; request logs carrying only httpRequest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gardener.http_request import http_summary
from gardener.model import (
    EntryError,
    HttpSummary,
    LogEntry,
    ResourceKey,
    Severity,
    Skip,
    SourceLocation,
    text_map,
)
from gardener.traces import line_number, parse_trace

SOURCE_LOCATION_KEY = "logging.googleapis.com/sourceLocation"
TRACE_KEY = "logging.googleapis.com/trace"
LABELS_KEY = "logging.googleapis.com/labels"
_MESSAGE_KEYS = ("message", "msg", "event", "log", "textPayload", "text")
_ERROR_KEYS = ("error", "err", "exception", "exc_info")
_ECS_ERROR_KEYS = ("error.type", "error.message")  # ecs-logging-java/-nodejs write them flat
_STACK_KEYS = ("stack_trace", "stacktrace", "stack", "exception", "exc_info", "traceback",
               "error.stack_trace")
_SPECIAL_KEYS = frozenset((*_ERROR_KEYS, *_STACK_KEYS, *_ECS_ERROR_KEYS))
_LEVEL_KEYS = ("severity", "level", "levelname", "log.level", "lvl", "loglevel")
_LOGGER_KEYS = ("logger", "logger_name", "loggerName", "log.logger", "name")
_LOGGER_FIELDS = frozenset((*_LOGGER_KEYS, *(k.partition(".")[0] for k in _LOGGER_KEYS)))
"""Top-level payload keys a logger name can be under (ECS: flat `log.logger`, or in `log`)."""
_LOCATIONS: dict[tuple[str, object, object], SourceLocation] = {}
_LOCATION_CACHE_LIMIT = 65536
_VOLATILE_LABELS = frozenset({"pod_name", "instance_id", "instanceId", "pod_id", "container_id",
                              "zone"})
"""Resource labels that change with every instance: grouping by them would split a cluster's
resources into noise."""
_RESOURCES: dict[tuple[object, ...], tuple[str, Mapping[str, str], ResourceKey]] = {}
_RESOURCE_CACHE_LIMIT = 4096
_GLOBAL: tuple[str, Mapping[str, str], ResourceKey] = ("global", {}, ("global", ()))
_PLAIN_LINE = (str, int, type(None))
_PLAIN_NAME = (str, type(None))
"""Exact types of source-location fields that may key the cache (`1 == 1.0 == True`)."""
# pino/bunyan numeric levels (10 trace ... 60 fatal).
_NUMERIC_LEVELS = {10: Severity.DEBUG, 20: Severity.DEBUG, 30: Severity.INFO, 40: Severity.WARNING,
                   50: Severity.ERROR, 60: Severity.CRITICAL}
_SEVERITY_NAMES = {s.name: s for s in Severity}
_MAX_LEVEL = Severity.EMERGENCY.value
_LEAP_SECOND = re.compile(r"^(\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:)60(?:\.\d+)?([Zz]|[+-]\d\d:\d\d)$",
                          re.ASCII)
_LEVEL_PREFIX = re.compile(r"^\[?(DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL)\]?[:\s]")


def parse_entry(raw: object, origin: str) -> LogEntry | Skip:
    """A `LogEntry` from decoded LogEntry JSON, or a `Skip` naming the entry, field and fix."""
    if not isinstance(raw, dict):
        kind = type(raw).__name__ if raw is not None else "null"
        return Skip(origin, "(entry)", f"expected a LogEntry JSON object, got {kind}")
    insert_id = raw.get("insertId")
    named = type(insert_id) is str
    try:
        return _parse(raw, origin, insert_id if named else origin)  # type: ignore[arg-type]
    except EntryError as err:
        return Skip(f"{origin} (insertId {insert_id})" if named else origin, err.field, str(err))


def _parse(raw: dict[str, Any], origin: str, insert_id: str) -> LogEntry:
    # The hot path: runs once per entry, so lookups are made once and kept in locals.
    timestamp = _timestamp(raw)
    payload = _payload(raw)
    request = raw.get("httpRequest")
    http = http_summary(request) if request is not None else None
    message, stack = _message(raw, payload, http)
    trace = parse_trace(stack) if stack else None
    location = _source_location(raw, payload) or (trace.location if trace else None)
    request_log = http is not None and not payload.get("message")
    traced = trace is not None and bool(trace.frames)
    if trace:
        mining_text = trace.cluster_key()
        if "\n" in message:
            message = f"{trace.exception_type}: {trace.message}" if trace.message else message
    elif request_log:
        status = f"{http.status // 100}xx" if http.status else "no-status"  # type: ignore[union-attr]
        mining_text = f"{http.method} {http.route} {status}"  # type: ignore[union-attr]
    else:
        mining_text = message
    resource_type, resource_labels, resource = _resource(raw.get("resource"))
    labels = raw.get("labels")
    if labels is not None and type(labels) is not dict:
        _mapping(labels, "labels")  # an EntryError naming the field
    value = raw.get("severity")
    severity = _SEVERITY_NAMES.get(value) if type(value) is str else None  # the usual case
    if severity is None or severity is Severity.DEFAULT:
        severity = _severity(raw, payload, http, message, traced)
    # Positional, in field order: keywords cost half the time of building an entry.
    return LogEntry(insert_id, timestamp, severity, message, mining_text, traced or request_log,
                    resource_type, resource_labels, _logger(payload, labels), location, http,
                    trace.exception_type if trace else "", origin, raw, resource)


def _resource(value: object) -> tuple[str, Mapping[str, str], ResourceKey]:
    """(type, labels as text, identifying key) of `resource`: a run has a few resources, so each
    is worked out once and the same objects are shared by all its entries."""
    if value is None:
        return _GLOBAL
    if type(value) is not dict:
        raise EntryError("resource", f"resource must be a JSON object, got "
                         f"{type(value).__name__}")
    kind, labels = value.get("type"), value.get("labels")
    # keys then values, in one tuple: its length tells where the keys end
    seen = (kind, *labels, *labels.values()) if type(labels) is dict else (kind, labels)
    try:
        known, cacheable = _RESOURCES.get(seen), True
    except TypeError:  # a label value that is a list or an object: not cached
        known, cacheable = None, False
    if known is None:
        text = _str_map(labels, "resource.labels")
        name = str(kind or "global")
        known = (name, text, resource_identity(name, text))
        if cacheable:
            if len(_RESOURCES) >= _RESOURCE_CACHE_LIMIT:
                _RESOURCES.clear()
            _RESOURCES[seen] = known
    return known


def resource_identity(resource_type: str, labels: Mapping[str, str]) -> ResourceKey:
    """(type, identifying labels): the service and revision, not the instance."""
    return resource_type, tuple(sorted((str(k), str(v)) for k, v in labels.items()
                                       if k not in _VOLATILE_LABELS))


def _timestamp(raw: Mapping[str, Any]) -> datetime:
    value = raw.get("timestamp")
    field = "timestamp"
    if value is None:
        value, field = raw.get("receiveTimestamp"), "receiveTimestamp"
    if value is None:
        raise EntryError("timestamp", "no timestamp or receiveTimestamp; export with "
                         "--format=json so every entry carries its timestamp")
    if not isinstance(value, str):
        raise EntryError(field, f"{field} must be an RFC 3339 string, got "
                         f"{type(value).__name__}; write it like \"2025-09-15T23:46:21.123Z\"")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is UTC:
        return parsed  # the usual case: Cloud Logging writes UTC with a `Z`
    try:
        # RFC 3339 allows a lower-case `t` and `z`; fromisoformat does not.
        parsed = datetime.fromisoformat(value.upper())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 9999 + an offset leaves the range
        leap = _leap_second(value)
        if leap is not None:
            return leap
        raise EntryError(field, f"{field} {value[:40]!r} is not an RFC 3339 time in range; "
                         "write it like 2025-09-15T23:46:21.123Z") from None


def _leap_second(value: str) -> datetime | None:
    """A leap second (`23:59:60Z`, which RFC 3339 allows and `fromisoformat` refuses) as the
    last microsecond of its minute, so it sorts after the minute's other entries."""
    match = _LEAP_SECOND.match(value)
    if match is None:
        return None
    try:
        parsed = datetime.fromisoformat(f"{match[1]}59.999999{match[2]}".upper())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _payload(raw: Mapping[str, Any]) -> dict[str, Any]:
    for key in ("jsonPayload", "protoPayload"):
        value = raw.get(key)
        if value is not None:
            if not isinstance(value, dict):
                raise EntryError(key, f"{key} must be a JSON object, got {type(value).__name__}; "
                                 "put plain text in textPayload instead")
            return value
    text = raw.get("textPayload")
    if text is not None and not isinstance(text, str):
        raise EntryError("textPayload", f"textPayload must be a string, got "
                         f"{type(text).__name__}; structured payloads go in jsonPayload")
    if text is None and raw.get("httpRequest") is None:
        raise EntryError("payload", "no textPayload, jsonPayload, protoPayload or httpRequest; "
                         "export whole entries (gcloud logging read --format=json)")
    return {}


def _message(raw: Mapping[str, Any], payload: Mapping[str, Any],
             http: HttpSummary | None) -> tuple[str, str]:
    """(message, text that may hold a stack trace)."""
    text = raw.get("textPayload")
    if isinstance(text, str):
        return text.rstrip(), text
    if "@type" in payload and "methodName" in payload:
        return _audit_message(payload), ""
    if not payload:
        return (f"{http.method} {http.route} {http.status if http.status is not None else '-'}"
                if http else "(empty payload)"), ""
    plain = payload.get("message")
    if isinstance(plain, str) and plain.strip() and "\n" not in plain \
            and payload.keys().isdisjoint(_SPECIAL_KEYS):
        return plain.rstrip(), ""  # the common case, without scanning every known key
    message = ""
    for key in _MESSAGE_KEYS:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            message = value.rstrip()
            break
    error_text = _error_text(payload)
    stack = next((v for k in _STACK_KEYS if isinstance(v := _nested(payload, k), str)
                  and "\n" in v), "")
    if not stack and "\n" in message:
        stack = message
    if not message:
        message = error_text
    elif error_text and error_text not in message:
        message = f"{message}: {error_text}"
    if not message and http:
        status = http.status if http.status is not None else "-"
        message = f"{http.method} {http.route} {status}"
    if not message:
        message = _flatten(payload)
    return message, stack


def _error_text(payload: Mapping[str, Any]) -> str:
    """`error`/`err` as loggers write it: a string, or {type, value|message} (bunyan, Sentry)."""
    for key in _ERROR_KEYS:
        value = payload.get(key)
        if value is None and key == "error" and not payload.keys().isdisjoint(_ECS_ERROR_KEYS):
            value = {"type": payload.get("error.type"), "message": payload.get("error.message")}
        if isinstance(value, str) and value.strip() and "\n" not in value:
            return value.strip()
        if isinstance(value, dict):
            kind = value.get("type") or value.get("name") or value.get("kind") or ""
            detail = value.get("value") or value.get("message") or value.get("msg") or ""
            if kind or detail:
                return f"{kind}: {detail}".strip(": ") if kind else str(detail)
    return ""


def _nested(payload: Mapping[str, Any], key: str) -> Any:
    value = payload.get(key)
    if value is None and key == "stack":
        for parent in ("err", "error"):
            inner = payload.get(parent)
            if isinstance(inner, dict):
                value = inner.get("stack") or inner.get("stack_trace")
                if value:
                    break
    return value


def _flatten(payload: Mapping[str, Any]) -> str:
    """A deterministic one-line rendering of a payload with no message field."""
    parts = [f"{k}={v}" for k, v in sorted(payload.items())
             if isinstance(v, str | int | float | bool) and not k.startswith("logging.googleapis")]
    return _cut(" ".join(parts), 1000) or "(empty payload)"


def _cut(text: str, limit: int) -> str:
    """`text` up to `limit` characters, without a word cut short: a secret's first half would no
    longer look like a secret to redaction (`token=ghp_A1b2C3` of a 40-character token)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if not text[limit].isspace():  # the last word is cut: drop it (a lone `key=value`: its value)
        head = head[:head.rfind(" ")] if " " in head else head.partition("=")[0] + "="
    return head.rstrip() + " …"


def _audit_message(payload: Mapping[str, Any]) -> str:
    service = payload.get("serviceName", "")
    method = payload.get("methodName", "")
    status = payload.get("status")
    if isinstance(status, dict) and status.get("code"):
        return f"{service} {method} failed: code {status.get('code')} {status.get('message', '')}"
    return f"{service} {method}".strip()


def _severity(raw: Mapping[str, Any], payload: Mapping[str, Any], http: HttpSummary | None,
              message: str, traced: bool = False) -> Severity:
    value = raw.get("severity")
    severity = _to_severity(value, "severity") if value is not None else Severity.DEFAULT
    if severity is not Severity.DEFAULT:
        return severity
    for key in _LEVEL_KEYS:
        level = _lookup(payload, key)
        if level is not None:
            try:
                return _to_severity(level, f"jsonPayload.{key}")
            except EntryError:
                continue  # a payload's own odd level must not cost us the entry
    prefix = _LEVEL_PREFIX.match(message)
    if prefix:  # uvicorn/gunicorn/print-style "ERROR: ..." on stderr with no severity
        return Severity.parse(prefix.group(1))
    if traced:  # a stack trace printed to stderr (Cloud Run gives plain text no severity)
        return Severity.ERROR
    if http and http.status:
        return (Severity.ERROR if http.status >= 500 else
                Severity.WARNING if http.status >= 400 else Severity.INFO)
    return Severity.DEFAULT


def _to_severity(value: object, field: str) -> Severity:
    if isinstance(value, bool):
        raise EntryError(field, f"{field} must be a LogSeverity name or number, got a boolean; "
                         "write e.g. \"ERROR\" or 500")
    if isinstance(value, int):
        return _numeric_severity(value, field)
    if isinstance(value, str):
        known = _SEVERITY_NAMES.get(value)
        if known is not None:
            return known
        digits = value.strip()
        if digits.isascii() and digits.isdigit():  # no `int` of thousands of digits: it raises
            if len(digits) > 4:
                raise _level_range(field, f"(a number of {len(digits):,} digits)")
            return _numeric_severity(int(digits), field)
        try:
            return Severity.parse(value)
        except ValueError as err:
            raise EntryError(field, f"{field}: {err}") from None
    raise EntryError(field, f"{field} must be a LogSeverity name or number, "
                     f"got {type(value).__name__}; write e.g. \"ERROR\" or 500")


def _numeric_severity(value: int, field: str) -> Severity:
    """pino's levels, else Cloud Logging's scale from 0 (DEFAULT) to 800 (EMERGENCY), rounded
    down to a level; a number outside it is an `EntryError`, not an emergency."""
    if not 0 <= value <= _MAX_LEVEL:
        raise _level_range(field, str(value) if abs(value) < 10**12 else "(a number of many "
                           "digits)")  # `str` of a huge number raises
    return _NUMERIC_LEVELS.get(value) or Severity.parse(str(value))


def _level_range(field: str, shown: str) -> EntryError:
    return EntryError(field, f"{field} {shown} is out of range; use a LogSeverity name or a "
                      "number from 0 (DEFAULT) to 800 (EMERGENCY)")


def _source_location(raw: Mapping[str, Any], payload: Mapping[str, Any]) -> SourceLocation | None:
    value = raw.get("sourceLocation") or payload.get(SOURCE_LOCATION_KEY)
    if isinstance(value, dict) and value.get("file"):
        file, line, function = value["file"], value.get("line"), value.get("function")
        plain = type(file) is str and type(line) in _PLAIN_LINE and type(function) in _PLAIN_NAME
        key = (file, line, function)
        known = _LOCATIONS.get(key) if plain else None  # a few call sites, seen over and over
        if known is not None:
            return known
        location = SourceLocation(str(file), line_number(line), str(function or ""))
        if plain:
            if len(_LOCATIONS) >= _LOCATION_CACHE_LIMIT:
                _LOCATIONS.clear()
            _LOCATIONS[key] = location
        return location
    caller = payload.get("caller")  # zap / zerolog: "pkg/file.go:42"
    if isinstance(caller, str) and ":" in caller:
        file, _, line = caller.rpartition(":")
        return SourceLocation(file, line_number(line))
    return None


def _logger(payload: Mapping[str, Any], labels: object) -> str:
    if not payload.keys().isdisjoint(_LOGGER_FIELDS):
        for key in _LOGGER_KEYS:
            value = _lookup(payload, key)
            if isinstance(value, str) and value:
                return value
    context = payload.get("context")
    if isinstance(context, dict) and isinstance(context.get("name"), str):
        return str(context["name"])
    # google-cloud-logging's StructuredLogHandler and CloudLoggingHandler: the agent moves
    # `logging.googleapis.com/labels` into the entry's labels.
    for source in (labels, payload.get(LABELS_KEY)):
        if isinstance(source, dict) and isinstance(source.get("python_logger"), str):
            return str(source["python_logger"])
    return ""


def _lookup(payload: Mapping[str, Any], key: str) -> Any:
    """`payload[key]`, or for a dotted key (ECS `log.level`) the nested value."""
    value = payload.get(key)
    if value is None and "." in key:
        outer, inner = key.split(".", 1)
        nested = payload.get(outer)
        value = nested.get(inner) if isinstance(nested, dict) else None
    return value


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EntryError(field, f"{field} must be a JSON object, got {type(value).__name__}")
    return value


def _str_map(value: object, field: str) -> Mapping[str, str]:
    return text_map(value if type(value) is dict else _mapping(value, field))
