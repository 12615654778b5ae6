"""Turn PyGithub and HTTP failures into `PublishError`s that name the permission or fix needed.

Also decides how long a rate-limited write should wait (`Retry-After`, the primary limit's reset,
GitHub's one-minute advice for secondary limits), bounded by the caller's `max_wait`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from github.GithubException import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededExceedsMaxWait,
)

from gardener.errors import PublishError
from gardener.publish.model import ReadOnlyForkError

SECONDARY_WAIT = 60.0  # GitHub: "wait at least one minute" when a secondary limit has no header
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class Doing:
    """What the publisher was trying to do, for the error message."""

    what: str
    """E.g. `comment on pull request #12 of acme/shop`."""
    permission: str
    """The workflow permission it needs, e.g. `pull-requests: write`."""


def header(err: GithubException, name: str) -> str:
    """A response header of `err`, looked up case-insensitively ("" when absent)."""
    headers: Mapping[str, Any] = err.headers or {}
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def message(err: GithubException) -> str:
    """GitHub's `message`, or the status code alone."""
    data = err.data
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return err.message or str(err.status)


def is_rate_limit(err: GithubException) -> bool:
    """A 403/429 that GitHub sent because of a primary or secondary rate limit."""
    if err.status not in (403, 429):
        return False
    text = message(err).lower()
    return (bool(header(err, "retry-after")) or "rate limit" in text
            or header(err, "x-ratelimit-remaining") == "0")


def retry_after_seconds(value: str, now: float) -> float | None:
    """The wait a `Retry-After` value asks for, as float seconds; None if absent or unreadable.

    Delay-seconds may carry a fraction (`0.5`: GitHub sends whole seconds, proxies and test
    servers need not), or the value is an HTTP date (a date in the past means no wait).
    """
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now) if value else None
    except (TypeError, ValueError):
        return None


def rate_limit_wait(err: GithubException, now: float) -> float | None:
    """Seconds GitHub asks us to wait before trying again (`Retry-After: 0`: none), or None
    when `err` is not a rate limit."""
    if not is_rate_limit(err):
        return None
    after = retry_after_seconds(header(err, "retry-after"), now)
    if after is not None:
        return after
    reset = header(err, "x-ratelimit-reset")
    if header(err, "x-ratelimit-remaining") == "0" and reset.isdigit():
        return max(0.0, int(reset) - now + 1)
    return SECONDARY_WAIT


def translate(err: BaseException, doing: Doing, *, api_url: str, fork: bool = False,
              max_wait: float = 0.0) -> PublishError:
    """The `PublishError` that explains `err`; call as `raise translate(...) from err`."""
    if isinstance(err, PublishError):
        return err
    if isinstance(err, GithubException):
        return _from_status(err, doing, fork=fork, max_wait=max_wait)
    if isinstance(err, requests.exceptions.RetryError):
        return PublishError(f"GitHub kept failing while trying to {doing.what}; gave up after "
                            "the configured retries",
                            cause=str(err)[:300],
                            fix="run the job again later; see https://www.githubstatus.com")
    if isinstance(err, requests.exceptions.RequestException | OSError):
        return PublishError(f"Cannot reach GitHub at {api_url} to {doing.what}",
                            cause=f"{type(err).__name__}: {str(err)[:300]}",
                            fix="check GITHUB_API_URL (GitHub Enterprise Server: "
                                "https://HOST/api/v3) and the runner's network")
    return PublishError(f"Unexpected failure while trying to {doing.what}",
                        cause=f"{type(err).__name__}: {str(err)[:300]}")


def _from_status(err: GithubException, doing: Doing, *, fork: bool,
                 max_wait: float) -> PublishError:
    status, text = err.status, message(err)
    if isinstance(err, BadCredentialsException) or status == 401:
        return PublishError(f"GitHub rejected the token while trying to {doing.what} (401)",
                            cause="GITHUB_TOKEN is missing, expired or revoked",
                            fix="pass the job's token: env: GITHUB_TOKEN: ${{ github.token }}")
    if isinstance(err, RateLimitExceededExceedsMaxWait) or is_rate_limit(err):
        return PublishError(f"GitHub rate-limited the request to {doing.what} ({status}: {text})",
                            cause=f"waiting for the limit to lift would take longer than the "
                                  f"{max_wait:g} s allowed",
                            fix="run the job again later, or write less per run "
                                "(--max-new-issues)")
    if status == 403:
        return _forbidden(text, doing, fork)
    if status == 404:
        return PublishError(f"Not found while trying to {doing.what} (404)",
                            cause="the repository, pull request or commit does not exist, or "
                                  "the token cannot see it (GitHub answers 404, not 403, when a "
                                  "token lacks access)",
                            fix=f"check --repo and the number or SHA; give the job "
                                f"`permissions: {doing.permission}` (and `contents: read`); on "
                                "GitHub Enterprise Server set GITHUB_API_URL=https://HOST/api/v3")
    if status == 422:
        return PublishError(f"GitHub rejected the request to {doing.what} "
                            f"(422 {text}: {_validation(err)})",
                            cause="the request failed GitHub's validation",
                            fix="check --commit/--pr refer to this repository; otherwise this is "
                                "a Log Gardener bug, please report it with this message")
    return PublishError(f"GitHub failed while trying to {doing.what} ({status}: {text[:200]})",
                        cause="a GitHub server error that outlasted the retries",
                        fix="run the job again later; see https://www.githubstatus.com")


def _forbidden(text: str, doing: Doing, fork: bool) -> PublishError:
    if fork:
        return ReadOnlyForkError(
            f"Cannot {doing.what}: this pull request comes from a fork, and GitHub gives "
            "fork pull requests a read-only token (403)",
            cause=text,
            fix="nothing to fix for the gate: the verdict still decides the check and the "
                "worklog is in the job summary. To comment on fork PRs, publish from a separate "
                "`workflow_run` workflow with write permission that never runs the fork's code")
    return PublishError(f"GitHub refused to {doing.what} (403: {text})",
                        cause=f"the workflow token lacks the `{doing.permission}` permission",
                        fix=f"add to the job:  permissions: {{ {doing.permission} }}")


def _validation(err: GithubException) -> str:
    data = err.data if isinstance(err.data, dict) else {}
    parts = []
    for item in data.get("errors") or []:
        if isinstance(item, dict):
            parts.append(str(item.get("message") or
                             f"{item.get('resource', '')}.{item.get('field', '')} "
                             f"{item.get('code', '')}").strip())
        else:
            parts.append(str(item))
    return "; ".join(parts)[:300] or "no details"
