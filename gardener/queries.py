"""Cloud Logging filters, `gcloud` commands and Logs Explorer links that reproduce a worklog."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import quote

from gardener.redact_rules import MARKER

_CONSTANT_RUN = re.compile(r"[^<>*\"\\]+")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_RESOURCE_LABELS = ("service_name", "revision_name", "cluster_name", "namespace_name",
                    "container_name", "location")


def rfc3339(moment: datetime, nanos: int = 0) -> str:
    """`2025-09-15T23:46:21Z` (UTC, second precision unless sub-second matters); `nanos`
    (0-999) are the nanoseconds past `moment`'s microsecond, which `datetime` cannot hold."""
    if not nanos:
        return moment.isoformat().replace("+00:00", "Z")
    text = moment.isoformat(timespec="microseconds")
    return (text[:26] + f"{nanos:03d}" + text[26:]).replace("+00:00", "Z")


def quote_filter_string(text: str) -> str:
    """A double-quoted Logging query string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def resource_filter(resources: Iterable[tuple[str, tuple[tuple[str, str], ...]]]) -> str:
    """`resource.type="cloud_run_revision" AND resource.labels.service_name="x"` for the most
    common resource (type plus the labels that name the workload)."""
    for rtype, labels in resources:
        parts = [f"resource.type={quote_filter_string(rtype)}"]
        parts += [f"resource.labels.{k}={quote_filter_string(v)}" for k, v in labels
                  if k in _RESOURCE_LABELS and k != "revision_name" and k != "location"]
        return " AND ".join(parts)
    return ""


def time_filter(start: datetime, end: datetime, *, start_ns: int = 0, end_ns: int = 0) -> str:
    """Both bounds, always: without them Cloud Logging silently reads only the last 24 hours.
    `start_ns`/`end_ns`: nanoseconds past each bound's microsecond (Cloud Logging keeps them)."""
    return (f'timestamp>="{rfc3339(start, start_ns)}" AND '
            f'timestamp<="{rfc3339(end, end_ns)}"')


def closed_comment(clause: str) -> str:
    """`clause`, with a line break after it if its last line ends in a `-- comment`: the
    comment runs to the end of the line and would swallow a `)` or `AND ...` written after it."""
    last_line = _STRING.sub('""', clause).rsplit("\n", 1)[-1]
    return clause + "\n" if "--" in last_line else clause


def template_filter(template: str, *, http_method: str = "", status_class: str = "",
                    texts: Sequence[Sequence[str]] = ()) -> str:
    """A filter clause that finds a template's entries: its longest constant fragment as a
    phrase, or for request logs the method, status range and route prefix. With `texts` (the
    string values of some entries, whitespace runs as one space), the longest fragment, or
    piece of one, that each of them holds: a message we composed (`message: error`) is not
    text any entry holds."""
    if http_method:
        clauses = [f"httpRequest.requestMethod={quote_filter_string(http_method)}"]
        if status_class[:1].isdigit() and status_class.endswith("xx"):
            low = int(status_class[0]) * 100
            clauses.append(f"httpRequest.status>={low} AND httpRequest.status<{low + 100}")
        route = template.split(" ")[1] if " " in template else ""
        prefix = route.split("<*>")[0]
        if len(prefix) > 1:
            clauses.append(f"httpRequest.requestUrl:{quote_filter_string(prefix)}")
        return " AND ".join(clauses)
    fragments = sorted((f.strip() for f in _CONSTANT_RUN.findall(MARKER.sub("<*>", template))),
                       key=len, reverse=True)
    pieces = {p.strip() for f in fragments for p in re.split(r": | ", f)}  # `message: error`
    candidates = sorted({*fragments, *pieces} - {""}, key=lambda p: (-len(p), p))
    held = [c for c in candidates if all(any(c in value for value in values)
                                         for values in texts)]
    best = (held or fragments or [""])[0][:200]
    return quote_filter_string(best) if best else ""


def trace_filter(exception_type: str, function: str = "") -> str:
    """A filter clause that finds a stack-trace cluster's entries: its exception type and its
    innermost function as phrases (the cluster's template is our summary, not log text)."""
    return " AND ".join(quote_filter_string(p) for p in (exception_type, function)
                        if p and not MARKER.search(p))  # no entry holds a marker


def join(*clauses: str) -> str:
    """AND the non-empty clauses together (a clause ending in a comment ends its line)."""
    return " AND ".join(f"({closed_comment(c)})" if " OR " in c else closed_comment(c)
                        for c in clauses if c)


def gcloud_command(filter_: str, project: str) -> str:
    """The `gcloud logging read` command for a filter, shell-quoted."""
    project_flag = f" --project={shlex.quote(project)}" if project else ""
    return f"gcloud logging read {shlex.quote(filter_)}{project_flag} --format=json"


def logs_explorer_url(project: str, filter_: str, start: datetime | None = None,
                      end: datetime | None = None) -> str:
    """A Logs Explorer link that opens the same query over the same window."""
    url = "https://console.cloud.google.com/logs/query;query=" + quote(filter_, safe="")
    if start and end:
        url += f";startTime={rfc3339(start)};endTime={rfc3339(end)}"
    return url + (f"?project={quote(project, safe='')}" if project else "")
