"""Page through Cloud Logging's `entries.list`, retrying each page on its own.

google-cloud-logging does not retry 429/500/503 over HTTP, and a failure in the middle of its
pager loses the place. Here each request carries the page token it needs, so a page that fails
is asked for again (backoff with jitter, within a deadline) and the read goes on from there.

Tokens are refreshed inside these requests, so a token endpoint that is down or rate-limiting
(`TokenEndpointFailure`: GitHub's OIDC endpoint, STS, generateAccessToken) is retried here too,
within the same deadline; what google-auth already retried itself is not asked again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from gardener.errors import GardenerError, UpstreamError
from gardener.sources import RawEntry
from gardener.sources.google_errors import (
    TRANSIENT_STATUS,
    TokenEndpointFailure,
    TokenServiceUnavailableError,
)
from gardener.sources.live_args import DEFAULT_RETRY_DEADLINE_S

PAGE_SIZE = 1000
"""The API's maximum `pageSize`: fewer calls against a quota of about 60 a minute."""
ORDER_BY = "timestamp desc"
"""Newest first, as `gcloud logging read` prints: an export and a live read agree."""

ApiRequest = Callable[..., Any]
"""`google.cloud._http.JSONConnection.api_request` (or anything with its signature)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep asking for a page that fails with 429/5xx or a network error."""

    initial_s: float = 2.0
    """First delay; each next one is `multiplier` times longer, up to `maximum_s`."""
    maximum_s: float = 32.0
    """Longest delay between two attempts."""
    multiplier: float = 2.0
    """Growth of the delay per attempt."""
    deadline_s: float = DEFAULT_RETRY_DEADLINE_S
    """Give a page up this long after its first failure (a 429 quota lasts a minute)."""
    request_timeout_s: float = 60.0
    """Timeout of one HTTP request."""


@dataclass(slots=True)
class FetchStats:
    """What a read cost: the figures that matter against the entries.list quota."""

    calls: int = 0
    """HTTP calls to entries.list, retries included."""
    pages: int = 0
    """Pages received."""
    retries: int = 0
    """Calls that repeated a failed one."""
    entries: int = 0
    """Entries received (and kept)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed attempt at a page."""

    text: str
    """What failed, for the message if the page is given up."""
    token: TokenEndpointFailure | None = None
    """The token endpoint that failed during the call's refresh, if that was it."""


@dataclass(slots=True)
class PassResult:
    """How one filter's read ended."""

    complete: bool = False
    """True when the API said there was nothing more (no next page token)."""
    entries: int = 0
    """Entries read in this pass."""


class PageReader:
    """Reads the pages of one or more filters through the library's connection."""

    def __init__(self, api_request: ApiRequest, *, project: str, policy: RetryPolicy,
                 explain_api: Callable[[api_exceptions.GoogleAPICallError, str], GardenerError],
                 explain_auth: Callable[[Exception], GardenerError],
                 on_page: Callable[[FetchStats], None] = lambda stats: None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.api_request = api_request
        self.project = project
        self.policy = policy
        self.explain_api = explain_api
        self.explain_auth = explain_auth
        self.on_page = on_page
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.stats = FetchStats()

    def entries(self, filter_: str, limit: int, result: PassResult) -> Iterator[RawEntry]:
        """Up to `limit` entries matching `filter_`, newest first; `result` says how it ended."""
        token = ""
        while result.entries < limit:
            body: dict[str, Any] = {"resourceNames": [f"projects/{self.project}"],
                                    "filter": filter_, "orderBy": ORDER_BY,
                                    "pageSize": min(PAGE_SIZE, limit - result.entries)}
            if token:
                body["pageToken"] = token
            response = self.call(body)
            page = _page(response)
            kept = page[:limit - result.entries]
            result.entries += len(kept)
            self.stats.pages += 1
            self.stats.entries += len(kept)
            self.on_page(self.stats)
            yield from kept
            token = response.get("nextPageToken") or ""
            if not token and len(kept) == len(page):
                result.complete = True
                return

    def any(self, filter_: str) -> bool:
        """Whether some entry matches (one call); a page token with no entry counts as yes."""
        response = self.call({"resourceNames": [f"projects/{self.project}"], "filter": filter_,
                              "orderBy": ORDER_BY, "pageSize": 1})
        return bool(response.get("entries") or response.get("nextPageToken"))

    def call(self, body: dict[str, Any]) -> dict[str, Any]:
        """One entries.list call, retried on 429/5xx and network errors (at Logging, or at a
        token endpoint the call's refresh asked) within the deadline."""
        failures: list[Failure] = []
        first_failure = 0.0
        while True:
            self.stats.calls += 1
            outcome = self.attempt(body)
            if not isinstance(outcome, Failure):
                return outcome
            now = self.clock()
            first_failure = first_failure if failures else now
            failures.append(outcome)
            delay = self.delay(len(failures) - 1)
            if now - first_failure + delay > self.policy.deadline_s:
                raise self.give_up(failures, now - first_failure) from None
            self.sleep(delay)
            self.stats.retries += 1

    def attempt(self, body: dict[str, Any]) -> dict[str, Any] | Failure:
        """One entries.list request: the reply, a `Failure` worth retrying, or an error."""
        try:
            response = self.api_request(method="POST", path="/entries:list", data=body,
                                        timeout=self.policy.request_timeout_s)
        except ValueError as err:  # a 200 whose body is not JSON: HTML from a proxy, say
            raise _not_the_api(f"a reply that is not JSON ({type(err).__name__})") from None
        except api_exceptions.GoogleAPICallError as err:
            if err.code not in TRANSIENT_STATUS:
                raise self.explain_api(err, body["filter"]) from err
            return Failure(_describe(err))
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as err:
            return Failure(f"network error: {type(err).__name__}")
        except TokenEndpointFailure as err:
            return Failure(f"token service: {err}", err)
        except auth_exceptions.TransportError as err:
            return Failure(f"token service: {err}")
        except auth_exceptions.GoogleAuthError as err:
            # OAuthError is not a RefreshError: catch the base. A `retryable` RefreshError was
            # retried by google-auth already, so it is explained, not asked for again.
            raise self.explain_auth(err) from err
        if not isinstance(response, dict):
            kind = {list: "a list", type(None): "null", str: "a string"}.get(
                type(response), "a number")
            raise _not_the_api(f"JSON {kind}, not an object")
        return response

    def give_up(self, failures: list[Failure], elapsed: float) -> UpstreamError:
        """The error for a page that kept failing: the token endpoint's outage, if the last
        failure was one, else Logging's."""
        last = failures[-1].token
        if last is None:
            return _gave_up(failures[-1].text, elapsed, len(failures), self.stats)
        attempts = sum(f.token is not None and f.token.endpoint == last.endpoint
                       for f in failures)
        return TokenServiceUnavailableError(last, attempts=attempts, elapsed_s=elapsed,
                                            deadline_s=self.policy.deadline_s)

    def delay(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, so a fleet of
        retrying jobs spreads out but none retries at once."""
        policy = self.policy
        # A short deadline still gets a few attempts: start at most an eighth of it.
        initial = min(policy.initial_s, policy.deadline_s / 8)
        ceiling = min(policy.maximum_s, initial * policy.multiplier ** attempt)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


def _page(response: dict[str, Any]) -> list[RawEntry]:
    """The entries of one entries.list reply; an `UpstreamError` when they are not LogEntry
    objects (never from Google: from a misrouted endpoint or a proxy)."""
    page = response.get("entries") or []
    if not isinstance(page, list) or not all(isinstance(entry, dict) for entry in page):
        raise _not_the_api("`entries` that are not a list of LogEntry objects")
    return page


def _not_the_api(what: str) -> UpstreamError:
    """The endpoint answered 200 with something the Logging API never sends: the logs were not
    read, so the gate cannot pass (an empty reply must not read as "no entries")."""
    return UpstreamError(f"the Cloud Logging endpoint answered entries.list with {what}",
                         cause="the endpoint is not the Logging API: a proxy, a captive portal, "
                         "or a wrong --logging-endpoint / GARDENER_LOGGING_ENDPOINT",
                         fix="check the endpoint setting (its default is "
                         "https://logging.googleapis.com) and the network path to it")


def _describe(err: api_exceptions.GoogleAPICallError) -> str:
    status = ""
    response = err.response
    try:
        body = response.json() if response is not None else {}
        status = body.get("error", {}).get("status", "") if isinstance(body, dict) else ""
    except ValueError:
        pass
    message = " ".join(str(err.message).split())  # a 502 from a front end is a page of HTML
    message = message if len(message) <= 300 else message[:300] + "..."
    return f"HTTP {err.code} {status}".strip() + f": {message}"


def _gave_up(failure: str, elapsed: float, attempts: int, stats: FetchStats) -> UpstreamError:
    quota = "429" in failure.split(":")[0]
    return UpstreamError(
        f"Cloud Logging kept failing for {elapsed:.0f} s ({attempts} attempts at one page; "
        f"{stats.entries:,} entries read before): {failure}",
        cause="the project's entries.list read quota (about 60 calls a minute) is spent"
        if quota else "Cloud Logging or the network is failing",
        fix="run again later; lower --max-entries or narrow the window to make fewer calls"
        if quota else "run again later; see https://status.cloud.google.com")
