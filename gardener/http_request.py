"""An entry's `httpRequest`: what request logs cluster and rank by.

Request logs cluster by method, status class and route, not by URL: the ids in a path (numbers,
hex, UUIDs, long tokens, e-mails, percent-encoded values) become `<*>`, and the rest (`api`,
`users`, an API version such as `v2beta1`) stays.
"""

from __future__ import annotations

import re

from gardener.model import EntryError, HttpSummary

_REQUEST_KEYS = frozenset(("requestMethod", "requestUrl", "status"))

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_API_VERSION = re.compile(r"^v\d+(?:(?:alpha|beta|rc)\d*)?$", re.IGNORECASE)
_ROUTE_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-fA-F-]{8,}|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,}|[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*"
    r"|[A-Za-z0-9_-]{20,}|[^/]+@[^/]+|[^/]*%[0-9A-Fa-f]{2}[^/]*)$")
_SEGMENTS: dict[str, str] = {}
"""Path segment -> itself or `<*>` (see `_path_shape`)."""
_SEGMENT_CACHE_LIMIT = 65536


def http_summary(value: object) -> HttpSummary | None:
    """Method, status, route shape and latency of an entry's `httpRequest`; None when it holds
    no request (`{}`); an `EntryError` naming the field when it is not usable."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise EntryError("httpRequest", f"httpRequest must be a JSON object, got "
                         f"{type(value).__name__}; remove it or write it as an object")
    if value.keys().isdisjoint(_REQUEST_KEYS):
        return None  # `"httpRequest": {}`, as StructuredLogHandler writes outside a request
    status = _status(value.get("status"))
    method, url = value.get("requestMethod"), value.get("requestUrl")
    if method is not None and not isinstance(method, str):
        raise EntryError("httpRequest.requestMethod", "httpRequest.requestMethod must be a "
                         f"string, got {type(method).__name__}; write it like \"GET\", or omit it")
    if url is not None and not isinstance(url, str):
        raise EntryError("httpRequest.requestUrl", "httpRequest.requestUrl must be a string, "
                         f"got {type(url).__name__}; write it like \"https://host/path\", or "
                         "omit it")
    latency = value.get("latency")
    latency_s = None
    if isinstance(latency, str) and latency.endswith("s"):
        try:
            latency_s = float(latency[:-1])
        except ValueError:
            latency_s = None
    return HttpSummary(method=(method or "GET").upper(), status=status,
                       route=route_shape(url or ""),
                       latency_s=latency_s)


def _status(value: object) -> int | None:
    """`httpRequest.status` as a number from 100 to 599; None when absent or 0 (no response);
    an `EntryError` naming the field otherwise."""
    if value is None:
        return None
    status = value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        # No `int` of a long digit string: past 4,300 digits it raises.
        status = int(value) if len(value) <= 3 else _OUT_OF_RANGE
    if type(status) is not int:  # a bool is not a status either
        raise EntryError("httpRequest.status", f"httpRequest.status must be an HTTP status code, "
                         f"got {_shown(value)}; write a number like 503, or omit it")
    if status == 0:
        return None  # no response was sent (the client went away)
    if not 100 <= status <= 599:
        raise EntryError("httpRequest.status", f"httpRequest.status {_shown(value)} is out of "
                         "range: an HTTP status code is 100-599; write one like 503, or omit it")
    return status


_OUT_OF_RANGE = -1


def _shown(value: object) -> str:
    """A short quote of a bad value: never `str` of a huge number, which raises."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 20 else f"{value[:20]!r}… ({len(value):,} characters)"
    if type(value) is int:
        return str(value) if -10**18 < value < 10**18 else "(a number of many digits)"
    return type(value).__name__


def route_shape(url: str) -> str:
    """`https://h/api/users/42/orders?x=1` -> `/api/users/<*>/orders`: the route, not the URL."""
    path = url.partition("?")[0].partition("#")[0]
    if "://" in path and _SCHEME.match(path):  # only a leading scheme: `/r/https://x` is a path
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return _path_shape(path)


def _path_shape(path: str) -> str:
    shapes = _SEGMENTS
    if len(shapes) >= _SEGMENT_CACHE_LIMIT:
        shapes.clear()
    segments = []
    for segment in path.split("/"):
        shape = shapes.get(segment)
        if shape is None:  # names repeat (`api`, `users`); ids are matched once each
            id_like = _ROUTE_SEGMENT.match(segment) and not _API_VERSION.match(segment)
            shape = shapes[segment] = "<*>" if id_like else segment
        segments.append(shape)
    return "/".join(segments) or "/"
