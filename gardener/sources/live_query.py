"""What to read from Cloud Logging, and the exact filter that reads it. Pure: no I/O, no clock.

`LiveQuery` names the workload (a Cloud Run service, or GKE containers) and the window;
`build_filter` turns it into the Logging query language, always bounding `timestamp` on both
sides (without bounds the API silently reads only the last 24 hours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gardener.errors import ConfigError
from gardener.model import Severity
from gardener.queries import closed_comment, logs_explorer_url, quote_filter_string, time_filter
from gardener.sources.live_args import DEFAULT_MAX_ENTRIES

__all__ = ["MAX_FILTER_CHARS", "LiveQuery", "build_filter", "logs_explorer_url", "parse_duration",
           "parse_timestamp", "selector_filter", "sub_microsecond"]

MAX_FILTER_CHARS = 20_000
"""The Logging API rejects longer filters."""

_FRACTION = re.compile(r"T\d\d:\d\d:\d\d[.,](\d+)", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_DURATION = re.compile(r"(?:\d+[smhdw])+")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LABEL_KEY = re.compile(r"(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_REQUIREMENT = re.compile(
    r"\s*(?:(?P<not>!)\s*(?P<absent>[^\s=!(),]+)"
    r"|(?P<key>[^\s=!(),]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[^\s,()]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<values>[^()]*)\))?)\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveQuery:
    """Which entries to read from Cloud Logging."""

    project: str
    """Google Cloud project id whose logs are read."""
    service: str = ""
    """Cloud Run service name (`resource.type="cloud_run_revision"`)."""
    revision: str = ""
    """Cloud Run revision name, to read one revision only."""
    gke_cluster: str = ""
    """GKE cluster name (`resource.type="k8s_container"`)."""
    namespace: str = ""
    """Kubernetes namespace."""
    container: str = ""
    """Container name within the pod."""
    selector: str = ""
    """Kubernetes label selector on pod labels (`app=web,tier!=db`, `env in (a,b)`)."""
    start: datetime
    """Start of the window, timezone-aware (inclusive)."""
    end: datetime
    """End of the window, timezone-aware (inclusive)."""
    start_ns: int = 0
    """Nanoseconds past `start`'s microsecond (0-999): Cloud Logging keeps nanoseconds."""
    end_ns: int = 0
    """Nanoseconds past `end`'s microsecond (0-999), so `...21.1234567Z` ends the window there."""
    extra_filter: str = ""
    """A Logging query ANDed with everything else."""
    min_severity: Severity | None = None
    """Lowest severity read; None reads every severity."""
    max_entries: int = DEFAULT_MAX_ENTRIES
    """Most entries read; entries at WARNING and above are read first."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ConfigError("the window's start and end must carry a time zone",
                              fix="give RFC 3339 times such as 2025-09-15T23:46:21Z")
        if not (0 <= self.start_ns <= 999 and 0 <= self.end_ns <= 999):
            raise ConfigError("the window's nanoseconds past the microsecond must be 0-999")
        if (self.start, self.start_ns) >= (self.end, self.end_ns):
            raise ConfigError(f"the window is empty: start {_utc(self.start)} is not before "
                              f"end {_utc(self.end)}", fix="give --start earlier than --end")
        if self.max_entries < 1:
            raise ConfigError(f"--max-entries {self.max_entries}: must be at least 1")

    @property
    def is_gke(self) -> bool:
        """True when the query names GKE containers rather than a Cloud Run service."""
        return bool(self.gke_cluster or self.namespace or self.container or self.selector)

    @property
    def covering_end(self) -> datetime:
        """`end` rounded up to the microsecond: the window's end for links and rates."""
        return self.end + timedelta(microseconds=1) if self.end_ns else self.end


def build_filter(query: LiveQuery) -> str:
    """The exact Logging filter for `query`: resource, window (both sides), severity, extra."""
    clauses = _resource_clauses(query)
    clauses.append(time_filter(_utc(query.start), _utc(query.end), start_ns=query.start_ns,
                               end_ns=query.end_ns))
    if query.min_severity is not None and query.min_severity > Severity.DEFAULT:
        clauses.append(f"severity>={query.min_severity.name}")
    if query.extra_filter.strip():
        # NOT binds tighter than OR, and OR tighter than AND: parentheses keep the extra
        # filter's ORs from swallowing our clauses; a `-- comment` at its end ends its line.
        clauses.append(f"({closed_comment(query.extra_filter.strip())})")
    text = " AND ".join(clauses)
    if len(text) > MAX_FILTER_CHARS:
        raise ConfigError(f"the Cloud Logging filter is {len(text):,} characters; the API "
                          f"accepts at most {MAX_FILTER_CHARS:,}", fix="shorten --filter")
    return text


def _resource_clauses(query: LiveQuery) -> list[str]:
    if query.is_gke:
        clauses = ['resource.type="k8s_container"']
        for label, value in (("cluster_name", query.gke_cluster),
                             ("namespace_name", query.namespace),
                             ("container_name", query.container)):
            if value:
                clauses.append(f"resource.labels.{label}={quote_filter_string(value)}")
        if query.selector:
            clauses.append(selector_filter(query.selector))
        return clauses
    if query.service:
        clauses = ['resource.type="cloud_run_revision"',
                   f"resource.labels.service_name={quote_filter_string(query.service)}"]
        if query.revision:
            clauses.append(f"resource.labels.revision_name={quote_filter_string(query.revision)}")
        return clauses
    return []


def selector_filter(selector: str) -> str:
    """A Kubernetes label selector as a filter on the entries' `k8s-pod/` labels.

    GKE copies pod labels into `labels."k8s-pod/KEY"`, with dots in KEY turned into
    underscores (`app.kubernetes.io/name` becomes `k8s-pod/app_kubernetes_io/name`).
    """
    clauses = [_requirement(part, selector) for part in _split_selector(selector)]
    if not clauses:
        raise _selector_error(selector, "it is empty")
    return " AND ".join(clauses)


def _split_selector(selector: str) -> list[str]:
    """Split on commas outside parentheses (`env in (a,b),tier=web`)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


def _requirement(text: str, selector: str) -> str:
    match = _REQUIREMENT.fullmatch(text)
    if not match:
        raise _selector_error(selector, f"cannot read {text!r}")
    key = match["absent"] or match["key"]
    field = _pod_label(key, selector)
    if match["absent"]:
        return f"NOT {field}:*"
    if match["setop"]:
        values = [v.strip() for v in match["values"].split(",") if v.strip()]
        if not values:
            raise _selector_error(selector, f"{text!r} lists no values")
        either = " OR ".join(f"{field}={_label_value(v, selector)}" for v in values)
        either = f"({either})" if len(values) > 1 else either
        return f"NOT {either}" if match["setop"] == "notin" else either
    if match["op"] is None:
        return f"{field}:*"
    equal = f"{field}={_label_value(match['value'], selector)}"
    # `k!=v` in Kubernetes also matches pods without the label; NOT keeps that meaning.
    return f"NOT {equal}" if match["op"] == "!=" else equal


def _pod_label(key: str, selector: str) -> str:
    if not _LABEL_KEY.fullmatch(key):
        raise _selector_error(selector, f"{key!r} is not a Kubernetes label key")
    return "labels." + quote_filter_string("k8s-pod/" + key.replace(".", "_"))


def _label_value(value: str, selector: str) -> str:
    if not _LABEL_VALUE.fullmatch(value) or len(value) > 63:
        raise _selector_error(selector, f"{value!r} is not a Kubernetes label value")
    return quote_filter_string(value)


def _selector_error(selector: str, why: str) -> ConfigError:
    return ConfigError(f"--selector {selector!r}: {why}",
                       fix="use Kubernetes label selector syntax: app=web,tier!=db, "
                       "env in (staging,prod), release, !canary")


_MAX_DURATION_S = 3650 * 86_400
"""Cloud Logging keeps logs at most 3,650 days: no window is longer."""


def parse_duration(text: str, flag: str = "--since") -> timedelta:
    """`30m`, `1h`, `2h30m`, `1d`, `1w` -> timedelta; ConfigError names the flag and the fix."""
    compact = text.strip().lower()
    if not _DURATION.fullmatch(compact):
        raise ConfigError(f"{flag} {text!r}: not a duration",
                          fix=f"use a number and a unit (s, m, h, d, w), e.g. {flag} 1h or "
                          f"{flag} 2h30m")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(compact))
    if seconds > _MAX_DURATION_S:  # `timedelta` overflows near 2.7 million years
        raise ConfigError(f"{flag} {text!r}: too long (at most 3,650 days, as long as Cloud "
                          "Logging keeps logs)",
                          fix=f"e.g. {flag} 1d")
    if seconds <= 0:
        raise ConfigError(f"{flag} {text!r}: the duration must be positive",
                          fix=f"e.g. {flag} 1h")
    return timedelta(seconds=seconds)


def parse_timestamp(text: str, flag: str) -> datetime:
    """An RFC 3339 time with a zone (`2025-09-15T23:46:21Z`, `...+02:00`) -> aware UTC."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "zZ" and value
                                        else value)
    except ValueError:
        raise ConfigError(f"{flag} {text!r}: not an RFC 3339 time",
                          fix=f"e.g. {flag} 2025-09-15T23:46:21Z") from None
    if moment.tzinfo is None or "T" not in value.upper():
        raise ConfigError(f"{flag} {text!r}: give a date, a time and a time zone",
                          fix=f"e.g. {flag} 2025-09-15T23:46:21Z (UTC) or "
                          f"{flag} 2025-09-16T01:46:21+02:00")
    try:
        return _utc(moment)
    except OverflowError:  # `0001-01-01T00:30:00+01:00` is before the year 1 in UTC
        raise ConfigError(f"{flag} {text!r}: out of range in UTC",
                          fix=f"e.g. {flag} 2025-09-15T23:46:21Z") from None


def sub_microsecond(text: str) -> int:
    """The nanoseconds past the microsecond in an RFC 3339 time's fraction, which `datetime`
    drops (`...21.1234567Z` -> 700); digits past the ninth are below Cloud Logging's precision."""
    match = _FRACTION.search(text)
    digits = match[1][6:9] if match else ""
    return int(digits.ljust(3, "0")) if digits else 0


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
