"""Read a service's entries straight from Cloud Logging (the live counterpart of `--input`).

Entries come out exactly as the JSON API returns them (the shape `gcloud logging read
--format=json` prints), newest first, so the same entries give the same worklog as an export.
Entries at WARNING and above are read first and the rest after, up to `--max-entries`, so INFO
chatter never crowds out a rare error; the two streams are merged back into time order.
"""

from __future__ import annotations

import argparse
import heapq
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import urlsplit

import google.auth.credentials

from gardener import __version__
from gardener.auth import (
    DEFAULT_IAM_ENDPOINT,
    DEFAULT_STS_ENDPOINT,
    AuthSettings,
    Identity,
    authorized_session,
    check_endpoint,
    resolve_identity,
)
from gardener.errors import ConfigError
from gardener.model import Severity
from gardener.sources import ORIGIN_KEY, RawEntry, SourceInfo
from gardener.sources.google_errors import explain_logging_error
from gardener.sources.live_args import (
    API_VERSION,
    DEFAULT_LOGGING_ENDPOINT,
    DEFAULT_MAX_ENTRIES,
    DEFAULT_SINCE,
    ENDPOINT_ENV,
    add_live_arguments,
)
from gardener.sources.live_fetch import FetchStats, PageReader, PassResult, RetryPolicy
from gardener.sources.live_query import (
    LiveQuery,
    build_filter,
    logs_explorer_url,
    parse_duration,
    parse_timestamp,
    sub_microsecond,
)

__all__ = ["DEFAULT_LOGGING_ENDPOINT", "CloudLoggingSource", "LiveQuery", "RetryPolicy",
           "add_live_arguments", "build_filter", "live_source_from_args", "logs_explorer_url"]

SPLIT_AT = Severity.WARNING
"""Entries at this severity and above are read before the rest."""
_PROJECT = re.compile(r"(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")


class CloudLoggingSource:
    """A `LogSource` over Cloud Logging's entries.list (HTTP/JSON, via google-cloud-logging)."""

    def __init__(self, query: LiveQuery, *, auth: AuthSettings | None = None,
                 env: Mapping[str, str] | None = None,
                 endpoint: str = DEFAULT_LOGGING_ENDPOINT, policy: RetryPolicy | None = None,
                 progress: TextIO | None = None,
                 credentials: google.auth.credentials.Credentials | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.query = query
        self.filter = build_filter(query)  # a bad selector or filter length fails here, early
        self.auth = auth or AuthSettings()
        self.env = dict(env or {})
        self.endpoint = base_url(endpoint, "--logging-endpoint", API_VERSION["logging"])
        self.policy = policy or RetryPolicy()
        self.progress = progress
        self.credentials = credentials
        self.timing = (sleep, clock, rng)
        self.stats = FetchStats()
        self._truncated = False
        self._notes: list[str] = []

    def read(self) -> Iterator[RawEntry]:
        self._truncated, self._notes = False, []
        identity = self._identity()
        reader = self._reader(identity)
        self.stats = reader.stats
        index = 0
        for entry in self._entries(reader):
            entry[ORIGIN_KEY] = f"cloud-logging#{index}"
            index += 1
            yield entry
        self._finish_progress()
        self._notes.insert(0, f"read {self.stats.entries:,} entries with {self.stats.calls:,} "
                           f"entries.list calls ({self.stats.retries:,} retried)")
        if not self.stats.entries:
            self._notes.append("no entry matched the filter: check --project, the service or "
                               "GKE names, and the window")

    def info(self) -> SourceInfo:
        return SourceInfo(kind="cloud-logging", project=self.query.project, filter=self.filter,
                          start=self.query.start, end=self.query.covering_end,
                          truncated=self._truncated,
                          notes=tuple(self._notes))

    def _identity(self) -> Identity:
        if self.credentials is not None:
            return Identity(self.credentials, "", "the given credentials", self.auth)
        return resolve_identity(self.env, self.auth)

    def _reader(self, identity: Identity) -> PageReader:
        # Imported here: the gapic/gRPC modules it pulls in cost a second at start-up.
        from google.api_core.client_info import ClientInfo
        from google.cloud.logging_v2.client import Client

        client = Client(  # type: ignore[no-untyped-call]
            project=self.query.project, credentials=identity.credentials,
                        _http=authorized_session(identity.credentials), _use_grpc=False,
                        client_options={"api_endpoint": self.endpoint},
                        client_info=ClientInfo(  # type: ignore[no-untyped-call]
                            user_agent=f"log-gardener/{__version__}"))
        project, principal = self.query.project, identity.principal
        sleep, clock, rng = self.timing
        return PageReader(
            client._connection.api_request, project=project, policy=self.policy,
            explain_api=lambda err, filter_: explain_logging_error(
                err, project=project, filter_=filter_, principal=principal,
                endpoint=self.endpoint,
                explorer_url=logs_explorer_url(project, filter_, self.query.start,
                                               self.query.covering_end)),
            explain_auth=identity.explain, on_page=self._show_progress, sleep=sleep,
            clock=clock, rng=rng)

    def _entries(self, reader: PageReader) -> Iterator[RawEntry]:
        cap = self.query.max_entries
        floor = self.query.min_severity or Severity.DEFAULT
        if floor >= SPLIT_AT:
            result = PassResult()
            yield from reader.entries(self.filter, cap, result)
            self._truncated = not result.complete
            if self._truncated:
                self._notes.append(f"stopped at --max-entries {cap:,}: the newest {cap:,} "
                                   "matching entries were read; raise --max-entries or narrow "
                                   "the window to read them all")
            return
        severe, rest = PassResult(), PassResult()
        high = list(reader.entries(f"{self.filter} AND severity>={SPLIT_AT.name}", cap, severe))
        low_filter = f"{self.filter} AND NOT severity>={SPLIT_AT.name}"
        if severe.entries < cap:
            low: Iterable[RawEntry] = reader.entries(low_filter, cap - severe.entries, rest)
        else:
            low, rest.complete = (), not reader.any(low_filter) if severe.complete else False
        yield from heapq.merge(high, low, key=_timestamp_key, reverse=True)
        self._truncated = not (severe.complete and rest.complete)
        self._notes.append(self._split_note(severe, rest))

    def _split_note(self, severe: PassResult, rest: PassResult) -> str:
        cap, name = self.query.max_entries, SPLIT_AT.name
        if not severe.complete:
            return (f"stopped at --max-entries {cap:,}: entries at {name} and above alone "
                    f"reached it (the newest {cap:,} were read) and entries below {name} were "
                    "not read; raise --max-entries or narrow the window")
        if not rest.complete and not rest.entries:
            return (f"stopped at --max-entries {cap:,}: the {severe.entries:,} entries at {name} "
                    f"and above filled it and entries below {name} were not read; raise "
                    "--max-entries or narrow the window")
        if not rest.complete:
            return (f"stopped at --max-entries {cap:,}: all {severe.entries:,} entries at {name} "
                    f"and above were read, then the newest {rest.entries:,} of the rest; raise "
                    "--max-entries or narrow the window to read them all")
        return (f"entries at {name} and above ({severe.entries:,}) were read before the rest "
                f"({rest.entries:,}), so a --max-entries cap never drops an error")

    def _show_progress(self, stats: FetchStats) -> None:
        if self._progress_on():
            assert self.progress is not None
            self.progress.write(f"\rgardener: Cloud Logging: {stats.entries:,} entries, "
                                f"{stats.pages:,} pages")
            self.progress.flush()

    def _finish_progress(self) -> None:
        if self._progress_on() and self.stats.pages:
            assert self.progress is not None
            self.progress.write("\n")

    def _progress_on(self) -> bool:
        """Only on a terminal, and never in CI (where logs keep every carriage return)."""
        if self.progress is None or self.env.get("CI") or self.env.get("GITHUB_ACTIONS"):
            return False
        isatty = getattr(self.progress, "isatty", None)
        return bool(isatty and isatty())


def _timestamp_key(entry: RawEntry) -> str:
    """A sortable form of an RFC 3339 `timestamp` (`...21Z` and `...21.5Z` compare right)."""
    value = entry.get("timestamp")
    if not isinstance(value, str) or len(value) < 20:
        return ""
    if value.endswith("Z") and value[10:11] == "T":
        fraction = value[19:-1].lstrip(".")
        return value[:19] + "." + fraction.ljust(9, "0")
    try:
        moment = datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000"


def live_source_from_args(args: argparse.Namespace, env: Mapping[str, str], *,
                          now: datetime | None = None, progress: TextIO | None = None
                          ) -> CloudLoggingSource | None:
    """The Cloud Logging source the flags describe, or None without `--project`."""
    project = (_arg(args, "project") or "").strip()
    if not project:
        return None
    if not _PROJECT.fullmatch(project) and not (project.isascii() and project.isdigit()):
        raise ConfigError(f"--project {project!r}: not a project id",
                          fix="use the project id (gcloud projects list), e.g. my-project-123")
    (start, start_ns), (end, end_ns) = _window(args, now or datetime.now(UTC))
    query = LiveQuery(
        project=project, service=_text(args, "service"), revision=_text(args, "revision"),
        gke_cluster=_text(args, "gke_cluster"), namespace=_text(args, "namespace"),
        container=_text(args, "container"), selector=_text(args, "selector"), start=start,
        start_ns=start_ns, end=end, end_ns=end_ns, extra_filter=_text(args, "extra_filter"),
        min_severity=_severity(_arg(args, "min_severity")),
        max_entries=_max_entries(_arg(args, "max_entries")))
    _check_workload(query)
    auth = AuthSettings(
        workload_identity_provider=_text(args, "workload_identity_provider"),
        service_account=_text(args, "service_account"),
        sts_endpoint=_endpoint(args, env, "sts", DEFAULT_STS_ENDPOINT),
        iam_endpoint=_endpoint(args, env, "iam", DEFAULT_IAM_ENDPOINT))
    deadline = _text(args, "retry_deadline")
    policy = RetryPolicy(deadline_s=parse_duration(deadline, "--retry-deadline").total_seconds()
                         ) if deadline else None
    return CloudLoggingSource(query, auth=auth, env=env, progress=progress, policy=policy,
                              endpoint=_endpoint(args, env, "logging", DEFAULT_LOGGING_ENDPOINT))


def _arg(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, name, None)


def _text(args: argparse.Namespace, name: str) -> str:
    value = _arg(args, name)
    return value.strip() if isinstance(value, str) else ""


_Bound = tuple[datetime, int]
"""A window bound: the time to the microsecond, and the nanoseconds past it (0-999)."""


def _window(args: argparse.Namespace, now: datetime) -> tuple[_Bound, _Bound]:
    """`--since`, `--start [--end]` or `--deployed-at [--end]`: the window's start and end."""
    now = now.astimezone(UTC).replace(microsecond=0)
    since, start, end = _text(args, "since"), _text(args, "start"), _text(args, "end")
    deployed = _text(args, "deployed_at")
    if deployed and (since or start):
        raise ConfigError("--deployed-at sets the window's start; it cannot be combined with "
                          "--since/--start", fix="drop --since/--start; --end (default now) "
                          "still ends the window")
    if since and (start or end):
        raise ConfigError("--since cannot be combined with --start/--end",
                          fix="give --since 1h, or --start T [--end T]")
    if end and not (start or deployed):
        raise ConfigError("--end needs --start or --deployed-at",
                          fix="give --start T --end T, --deployed-at T --end T, or --since 1h")
    if start or deployed:
        flag = "--start" if start else "--deployed-at"
        return _window_from(start or deployed, flag, end, now)
    since_text = since or DEFAULT_SINCE
    try:
        return (now - parse_duration(since_text, "--since"), 0), (now, 0)
    except OverflowError:  # a window reaching back before the year 1
        raise ConfigError(f"--since {since_text!r}: reaches back before the year 1",
                          fix="give a window of days or weeks, e.g. --since 1d") from None


def _window_from(first: str, flag: str, end: str, now: datetime) -> tuple[_Bound, _Bound]:
    """The window from `first` (given as `flag`) to `end`, or to now without one."""
    begin = parse_timestamp(first, flag), sub_microsecond(first)
    stop = (parse_timestamp(end, "--end"), sub_microsecond(end)) if end else (now, 0)
    if stop > begin:
        return begin, stop
    if end:
        raise ConfigError(f"the window is empty: --end {end} is not after {flag} {first}",
                          fix=f"give an --end later than {flag}, or leave --end out to end "
                          "the window now")
    raise ConfigError(f"{flag} {first} is not in the past (without --end the window ends now, "
                      f"{now.isoformat().replace('+00:00', 'Z')})",
                      fix=f"give {flag} an earlier time, in RFC 3339")


def _severity(text: str | None) -> Severity | None:
    if text is None or not text.strip():
        return None
    try:
        return Severity.parse(text)
    except ValueError as err:
        raise ConfigError(f"--min-severity {text!r}: {err}",
                          fix="e.g. --min-severity WARNING") from None


def _max_entries(text: str | int | None) -> int:
    if text is None or text == "":
        return DEFAULT_MAX_ENTRIES
    value = str(text).strip().replace("_", "")
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ConfigError(f"--max-entries {text!r}: not a positive whole number",
                          fix=f"e.g. --max-entries {DEFAULT_MAX_ENTRIES}")
    return int(value)


def _check_workload(query: LiveQuery) -> None:
    if query.service and query.is_gke:
        raise ConfigError("--service names a Cloud Run service; it cannot be combined with "
                          "--gke-cluster/--namespace/--container/--selector",
                          fix="for GKE, name the container with --container")
    if query.revision and not query.service:
        raise ConfigError("--revision needs --service", fix="give the Cloud Run --service too")
    if not (query.service or query.is_gke or query.extra_filter):
        raise ConfigError("--project is given but not what to read",
                          fix="add --service NAME (Cloud Run), or --gke-cluster/--namespace/"
                          "--container/--selector (GKE), or a --filter")


def _endpoint(args: argparse.Namespace, env: Mapping[str, str], name: str, default: str) -> str:
    """`--NAME-endpoint`, else its environment variable, else `default`."""
    flag, variable = f"--{name}-endpoint", ENDPOINT_ENV[name]
    given = _text(args, f"{name}_endpoint")
    value, where = (given, flag) if given else (env.get(variable, "").strip(), variable)
    return base_url(value, where, API_VERSION[name]) if value else default


def base_url(url: str, where: str, version: str) -> str:
    """`https://host[:port]`, as the clients want it: they append `version` and the method
    (`/v2/entries:list`), so a copied `/v2` is dropped and any other path is refused (every call
    would 404)."""
    text = check_endpoint(url, where)
    parts = urlsplit(text)
    if parts.path.lower() == version:
        return text[:-len(version)]
    if parts.path:
        example = f"{where}{' ' if where.startswith('--') else '='}{parts.scheme}://{parts.netloc}"
        raise ConfigError(f"{where} {url!r}: a base URL without a path is expected, not "
                          f"{parts.path!r}", fix=f"give the scheme and host only, e.g. {example} "
                          f"(the client adds {version}/...)")
    return text
