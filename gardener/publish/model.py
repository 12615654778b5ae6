"""Values the publisher takes and returns: where to post, how to reach GitHub, what happened."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gardener.errors import ConfigError, PublishError
from gardener.model import Priority
from gardener.publish.args import DEFAULT_API_URL as DEFAULT_API_URL
from gardener.publish.args import DEFAULT_MUTE_LABEL as DEFAULT_MUTE_LABEL
from gardener.publish.identity import BOT_LOGIN_ENV, GITHUB_ACTIONS_BOT, is_bot_login

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")


@dataclass(frozen=True, slots=True)
class PullRequestTarget:
    """Post (or edit) the sticky comment on a pull request."""

    number: int
    """The pull request number."""


@dataclass(frozen=True, slots=True)
class CommitTarget:
    """Post on a commit, or on the pull request it belongs to when there is one."""

    sha: str
    """The commit SHA (7 to 40 hex digits)."""
    prefer_pull_request: bool = True
    """Look up the commit's pull requests first and comment there if one is found."""


@dataclass(frozen=True, slots=True)
class IssuesTarget:
    """One issue per cluster at or above `min_priority`, deduplicated across runs."""

    min_priority: Priority = Priority.P3
    """Least urgent priority that gets an issue (the seeds file every cluster but P4)."""
    max_new_issues: int = 10
    """Cap on issues opened in one run; more urgent clusters go first."""
    mute_labels: tuple[str, ...] = (DEFAULT_MUTE_LABEL,)
    """A closed issue carrying one of these labels is never reopened."""


PublishTarget = PullRequestTarget | CommitTarget | IssuesTarget


@dataclass(frozen=True, slots=True)
class PublishOptions:
    """How the posted text is keyed and linked."""

    key: str = ""
    """Overrides the service in the sticky comment's marker (default: the worklog's service)."""
    workflow: str = ""
    """Workflow name in the sticky marker, so two workflows keep two comments."""
    worklog_url: str = ""
    """Link to the full worklog (job summary or artifact), shown when text was trimmed."""


@dataclass(frozen=True, slots=True)
class GitHubSettings:
    """How to reach GitHub. Passed in; the publisher never reads the environment."""

    token: str = field(repr=False)
    """Token with the workflow's permissions (`GITHUB_TOKEN`); never printed."""
    repo: str
    """`OWNER/NAME`."""
    api_url: str = DEFAULT_API_URL
    """REST base URL (`GITHUB_API_URL`; `https://HOST/api/v3` on GitHub Enterprise Server)."""
    timeout: int = 15
    """Seconds per HTTP request."""
    max_retries: int = 3
    """Retries of one request after a 5xx, a connection error or a rate limit."""
    max_wait: float = 60.0
    """Longest single wait for `Retry-After` or a rate-limit reset; longer waits fail instead."""
    retry_backoff: float = 1.0
    """First pause after a 5xx, doubling on each retry (capped by `max_wait`)."""
    seconds_between_writes: float = 1.0
    """Spacing of writes; GitHub asks for at least one second between content creations."""
    seconds_between_requests: float = 0.0
    """Spacing of all requests (GitHub asks only for serial requests and spaced writes)."""
    bot_login: str = GITHUB_ACTIONS_BOT
    """The bot an installation token writes as (`GARDENER_BOT_LOGIN`): `github-actions[bot]` for
    `GITHUB_TOKEN`, `<app-slug>[bot]` for a GitHub App's token. Unused when `GET /user` names
    the token's account; see `gardener.publish.identity`."""

    def __post_init__(self) -> None:
        if not _REPO.match(self.repo):
            raise ConfigError(f"--repo {self.repo!r} is not OWNER/NAME",
                              fix="pass the repository as OWNER/NAME, e.g. --repo acme/shop")
        if not re.match(r"^https?://[^\s/]+", self.api_url):
            raise ConfigError(f"GITHUB_API_URL {self.api_url!r} is not an http(s) URL",
                              fix="unset it for github.com, or use https://HOST/api/v3 for "
                                  "GitHub Enterprise Server")
        if min(self.max_retries, self.max_wait, self.seconds_between_writes,
               self.seconds_between_requests, self.retry_backoff) < 0 or self.timeout <= 0:
            raise ConfigError("GitHub settings (retries, waits, write interval) must be "
                              "non-negative, and the timeout positive")
        if not is_bot_login(self.bot_login):
            raise ConfigError(f"{BOT_LOGIN_ENV} {self.bot_login!r} is not a GitHub App bot's "
                              "login",
                              fix=f"unset it for GITHUB_TOKEN ({GITHUB_ACTIONS_BOT}); for a GitHub "
                                  "App's token use the app's slug, e.g. my-app or my-app[bot] "
                                  "(actions/create-github-app-token: "
                                  "${{ steps.app-token.outputs.app-slug }})")


def check_sha(sha: str) -> str:
    """`sha` if it looks like a commit SHA, else ConfigError."""
    if not _SHA.match(sha):
        raise ConfigError(f"--commit {sha!r} is not a commit SHA",
                          fix="pass 7 to 40 hex digits, e.g. --commit ${{ github.sha }}")
    return sha


@dataclass(frozen=True, slots=True)
class PullInfo:
    """A pull request a commit belongs to."""

    number: int
    """Pull request number."""
    state: str
    """`open` or `closed`."""
    merged: bool
    """True when it was merged."""
    updated_at: str
    """Last update (RFC 3339), to prefer the most recent one."""


@dataclass(frozen=True, slots=True)
class IssueRef:
    """An issue the publisher created, updated or reopened."""

    number: int
    """Issue number."""
    url: str
    """Its web address (`html_url`)."""
    fingerprint: str = ""
    """The cluster fingerprint it tracks."""


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What a publish did. `errors` is empty when everything was posted."""

    comment_url: str = ""
    """The sticky comment's web address (empty if none was posted)."""
    pull_request: int | None = None
    """The pull request commented on (also set when a commit led to its PR)."""
    commit: str = ""
    """The commit commented on, when the comment went on a commit."""
    issues_created: tuple[IssueRef, ...] = ()
    """Issues opened in this run."""
    issues_updated: tuple[IssueRef, ...] = ()
    """Open issues whose counts were refreshed."""
    issues_reopened: tuple[IssueRef, ...] = ()
    """Closed issues whose cluster came back (regressed)."""
    skipped: tuple[str, ...] = ()
    """Clusters left alone and why (cap reached, muted, closed as not planned)."""
    errors: tuple[PublishError, ...] = ()
    """What failed; the gate's verdict does not depend on these."""
    read_only_fork: bool = False
    """The token could not write because the run is for a pull request from a fork."""
    dry_run: bool = False
    """Nothing was written; the text was printed instead."""

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.errors


class ReadOnlyForkError(PublishError):
    """The token cannot write because the run belongs to a pull request from a fork."""
