"""`GitHubPublisher`: the only module that talks to GitHub, through PyGithub.

Reads and edits are retried by urllib3 (bounded: `max_retries`, and no wait longer than
`max_wait`, in float seconds, so a 0.5 s limit and a `Retry-After: 0.2` work: a primary rate
limit, or a `Retry-After` longer than that, fails fast instead of sleeping an hour or retrying
early into a live limit). Creations (POST) are NOT retried by the library, because a POST answered
502 may have been stored: here a failed create first looks for its marker again and only posts
again if nothing was stored.

A sticky comment or an issue counts as ours only if the token's own account wrote it (the rule is
`gardener.publish.identity`): the login from `GET /user` when the token may read it (a personal
access token), else the bot an installation token writes as, `settings.bot_login`
(`github-actions[bot]` for `GITHUB_TOKEN`). What we create is checked against the same rule, so a
GitHub App token whose bot was not named fails loudly instead of posting again on every run.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubRetry
from github.GithubException import GithubException, RateLimitExceededExceedsMaxWait
from github.GithubObject import CompletableGithubObject
from urllib3 import Retry
from urllib3.connectionpool import ConnectionPool
from urllib3.response import HTTPResponse

from gardener import __version__
from gardener.errors import PublishError
from gardener.publish.faults import (
    Doing,
    is_rate_limit,
    rate_limit_wait,
    retry_after_seconds,
    translate,
)
from gardener.publish.identity import BOT_LOGIN_ENV, Identity, token_identity, written_by
from gardener.publish.issues import GARDENER_LABEL, IssuePlan, KnownIssue, LabelSpec
from gardener.publish.markers import CommentKey, comment_key, issue_key, split_issue_body
from gardener.publish.model import (
    CommitTarget,
    GitHubSettings,
    IssueRef,
    PullInfo,
    PullRequestTarget,
)

T = TypeVar("T")
C = TypeVar("C", bound=CompletableGithubObject)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
# PyGithub logs every 403 to stderr at INFO; the one GET /user gets for GITHUB_TOKEN is expected.
_RETRY_LOG = logging.getLogger("github.GithubRetry")


def _raw(obj: Any) -> dict[str, Any]:
    """The JSON PyGithub got for `obj`, without the extra GET its properties may trigger.

    Objects from list responses are incomplete; reading a field the list omitted (e.g. an issue's
    `pull_request`) would fetch each item again. Lists carry everything we need.
    """
    data = getattr(obj, "_rawData", None)
    return data if isinstance(data, dict) else {}


def _complete(obj: C) -> C:
    """Fetch a lazily created object now, so a missing one fails here with a clear message."""
    obj.complete()
    return obj


def _retry_after(response: HTTPResponse) -> float | None:
    """The seconds a `Retry-After` header asks for (seconds or an HTTP date), None if absent."""
    return retry_after_seconds(str(response.headers.get("Retry-After") or ""), time.time())


class BoundedRetry(GithubRetry):
    """`GithubRetry` that gives up at once when `Retry-After` asks for more than `max_wait`.

    urllib3 would cut such a wait to `retry_after_max` and retry anyway, hammering a live rate
    limit `total` times before failing; PyGithub bounds only waits it computes itself.
    """

    def increment(  # type: ignore[override]
            self, method: str | None = None, url: str | None = None,
            response: HTTPResponse | None = None, error: Exception | None = None,
            _pool: ConnectionPool | None = None,
            _stacktrace: TracebackType | None = None) -> Retry:
        asked = _retry_after(response) if response is not None else None
        limit = self.max_rate_limit_wait
        if response is not None and asked is not None and limit is not None and asked > limit:
            raw = GithubRetry.get_content(response, url or "")
            try:
                data: Any = json.loads(raw)
            except ValueError:
                data = raw.decode("utf-8", "replace")
            headers = {str(k): str(v) for k, v in response.headers.items()}
            if response.status in (403, 429):
                raise RateLimitExceededExceedsMaxWait(response.status, data, headers, wait=asked)
            raise GithubException(response.status, data, headers)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def parse_retry_after(self, retry_after: str) -> float:
        """Float seconds, at most `max_rate_limit_wait` (urllib3 takes whole seconds only, and
        caps with its integer `retry_after_max`). Unreadable: 0, so the backoff applies."""
        seconds = retry_after_seconds(retry_after, time.time()) or 0.0
        limit = self.max_rate_limit_wait
        return seconds if limit is None else min(seconds, limit)


def build_client(settings: GitHubSettings) -> Github:
    """A PyGithub client for `settings.api_url` with bounded, write-safe retries."""
    retry = BoundedRetry(total=settings.max_retries, backoff_factor=settings.retry_backoff,
                         backoff_max=settings.max_wait,
                         secondary_rate_wait=min(60.0, settings.max_wait),
                         max_rate_limit_wait=settings.max_wait,
                         allowed_methods=_IDEMPOTENT)
    return Github(auth=Auth.Token(settings.token), base_url=settings.api_url.rstrip("/"),
                  timeout=settings.timeout, user_agent=f"log-gardener/{__version__}",
                  per_page=100, retry=retry, lazy=True,
                  seconds_between_requests=settings.seconds_between_requests or None,
                  seconds_between_writes=settings.seconds_between_writes or None)


class GitHubPublisher:
    """Posts and edits comments and issues in one repository."""

    def __init__(self, settings: GitHubSettings) -> None:
        self.settings = settings
        self._gh = build_client(settings)
        self._repo: Any = None
        self._fork = False
        self._me: Identity | None = None  # the account the token writes as, once looked up

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, doing: Doing, fn: Callable[[], T]) -> T:
        """`fn()`, with any failure turned into a `PublishError` that says what to fix."""
        try:
            return fn()
        except (GithubException, requests.exceptions.RequestException, OSError) as err:
            raise translate(err, doing, api_url=self.settings.api_url, fork=self._fork,
                            max_wait=self.settings.max_wait) from err

    def _create(self, doing: Doing, post: Callable[[], T], find: Callable[[], T | None]) -> T:
        """POST once; after a 5xx or a lost connection, look for what was stored before retrying."""
        for attempt in range(self.settings.max_retries + 1):
            last = attempt == self.settings.max_retries
            try:
                return post()
            except GithubException as err:
                wait = rate_limit_wait(err, time.time())
                if wait is not None and not last and wait <= self.settings.max_wait:
                    time.sleep(wait)  # rejected, so nothing was stored: safe to post again
                    continue
                if err.status < 500 or last:
                    raise translate(err, doing, api_url=self.settings.api_url, fork=self._fork,
                                    max_wait=self.settings.max_wait) from err
            except requests.exceptions.RequestException as err:
                if last:
                    raise translate(err, doing, api_url=self.settings.api_url) from err
            stored = self._call(doing, find)
            if stored is not None:
                return stored
            time.sleep(min(self.settings.max_wait, self.settings.retry_backoff * 2 ** attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def repository(self) -> Any:
        """The repository (fetched once, so a wrong name or missing access fails early)."""
        if self._repo is None:
            repo = self.settings.repo
            self._repo = self._call(Doing(f"read repository {repo}", "contents: read"),
                                    lambda: _complete(self._gh.get_repo(repo)))
        return self._repo

    def _identity(self) -> Identity:
        """Who the token writes as: `GET /user`'s login, or for installation tokens, which are
        refused it, `settings.bot_login` (see `gardener.publish.identity`)."""
        if self._me is None:
            login = self._call(Doing("read which account the token belongs to (GET /user)",
                                     "contents: read"), self._user_login)
            self._me = token_identity(login, self.settings.bot_login)
        return self._me

    def _user_login(self) -> str:
        """`GET /user`'s login, or "" when the token may not call it (installation tokens)."""
        quiet, _RETRY_LOG.disabled = _RETRY_LOG.disabled, True
        try:
            _, data = self._gh.requester.requestJsonAndCheck("GET", "/user")
        except GithubException as err:
            if err.status in (403, 404) and not is_rate_limit(err):
                return ""
            raise
        finally:
            _RETRY_LOG.disabled = quiet
        return str((data or {}).get("login") or "")

    def _ours(self, data: dict[str, Any]) -> bool:
        """Whether the token's account wrote this comment or issue (its JSON)."""
        return written_by(data.get("user"), self._identity())

    def _check_ours(self, data: dict[str, Any], doing: Doing) -> None:
        """Fail if what we just created is not counted as ours: the next run would post again."""
        if self._ours(data):
            return
        author = str((data.get("user") or {}).get("login") or "an unknown account")
        where = f" ({data['html_url']})" if data.get("html_url") else ""
        raise PublishError(
            f"Posted to {doing.what}{where} as {author}, an account this run does not count as "
            f"its own (it expects {self._identity().login}), so the next run would post again "
            "instead of editing it",
            cause="the token is a GitHub App's installation token, which writes as the app's bot",
            fix=f"set {BOT_LOGIN_ENV}={author} in the step's env (with "
                "actions/create-github-app-token: ${{ steps.app-token.outputs.app-slug }}[bot])")

    # -- comments ---------------------------------------------------------------------------

    def pulls_for_commit(self, sha: str) -> list[PullInfo]:
        """Pull requests that contain commit `sha`."""
        doing = Doing(f"list the pull requests of commit {sha[:12]} in {self.settings.repo}",
                      "pull-requests: read")
        repo = self.repository()
        pulls = self._call(doing, lambda: list(repo.get_commit(sha).get_pulls()))
        return [PullInfo(int(d["number"]), str(d.get("state", "")), bool(d.get("merged_at")),
                         str(d.get("updated_at") or "")) for d in map(_raw, pulls)]

    def upsert_comment(self, where: PullRequestTarget | CommitTarget, key: CommentKey,
                       body: str) -> str:
        """Edit the comment that carries `key`'s marker, or create it; returns its address."""
        repo = self.repository()
        if isinstance(where, PullRequestTarget):
            doing = Doing(f"comment on pull request #{where.number} of {self.settings.repo}",
                          "pull-requests: write")
            pull = self._call(Doing(f"read pull request #{where.number} of {self.settings.repo}",
                                    "pull-requests: read"),
                              lambda: _complete(repo.get_pull(where.number)))
            head = (_raw(pull).get("head") or {}).get("repo") or {}
            self._fork = head.get("full_name") != _raw(repo).get("full_name")
            listing, post = pull.get_issue_comments, pull.create_issue_comment
        else:
            doing = Doing(f"comment on commit {where.sha[:12]} of {self.settings.repo}",
                          "contents: write")
            self._fork = False
            commit = self._call(doing, lambda: repo.get_commit(where.sha))
            listing, post = commit.get_comments, commit.create_comment

        def find() -> Any:
            return next((c for c in listing() if comment_key(_raw(c).get("body")) == key
                         and self._ours(_raw(c))), None)

        existing = self._call(doing, find)
        if existing is None:
            created = _raw(self._create(doing, lambda: post(body), find))
            self._check_ours(created, doing)
            return str(created.get("html_url", ""))
        if _raw(existing).get("body") != body:
            self._call(doing, lambda: existing.edit(body))
        return str(_raw(existing).get("html_url", ""))

    # -- issues -----------------------------------------------------------------------------

    def known_issues(self) -> list[KnownIssue]:
        """Every issue (open or closed) under the `gardener` label that carries our marker and
        that the token's account opened (see `gardener.publish.identity`)."""
        repo = self.repository()
        doing = Doing(f"list issues labelled {GARDENER_LABEL!r} in {self.settings.repo}",
                      "issues: read")
        listed = self._call(doing, lambda: [_raw(i) for i in
                                            repo.get_issues(state="all", labels=[GARDENER_LABEL])])
        return [_known(data) for data in listed if not data.get("pull_request")
                and issue_key(data.get("body")) and self._ours(data)]

    def ensure_labels(self, labels: Sequence[LabelSpec]) -> None:
        """Create the labels that do not exist yet (a concurrent creation is fine)."""
        repo = self.repository()
        doing = Doing(f"create labels in {self.settings.repo}", "issues: write")
        have = self._call(doing, lambda: {str(_raw(label).get("name", "")).lower()
                                          for label in repo.get_labels()})
        for spec in labels:
            if spec.name.lower() not in have:
                self._create_label(doing, repo, spec)
                have.add(spec.name.lower())

    def _create_label(self, doing: Doing, repo: Any, spec: LabelSpec) -> None:
        try:
            self._create(doing, lambda: repo.create_label(spec.name, spec.color,
                                                          spec.description),
                         lambda: _label_if_exists(repo, spec.name))
        except PublishError as err:
            cause = err.__cause__
            # 422 "already_exists": another run created it meanwhile, which is what we want.
            if not (isinstance(cause, GithubException) and cause.status == 422):
                raise

    def create_issue(self, plan: IssuePlan) -> IssueRef:
        """Open the issue for `plan`; a retried create finds the first one by its marker."""
        repo = self.repository()
        doing = Doing(f"open an issue in {self.settings.repo}", "issues: write")

        def find() -> Any:
            return next((d for d in (_raw(i) for i in repo.get_issues(
                state="all", labels=[GARDENER_LABEL]))
                if issue_key(d.get("body")) == plan.key and self._ours(d)), None)

        created = self._create(doing, lambda: _raw(repo.create_issue(
            title=plan.title, body=plan.body, labels=list(plan.labels))), find)
        self._check_ours(created, doing)
        return IssueRef(int(created["number"]), str(created.get("html_url", "")),
                        plan.key.fingerprint)

    def update_issue(self, plan: IssuePlan) -> IssueRef:
        """Rewrite the issue's text and labels; reopen it and add the note when regressed."""
        assert plan.number is not None, "update_issue needs an existing issue"
        number = plan.number
        repo = self.repository()
        doing = Doing(f"update issue #{number} in {self.settings.repo}", "issues: write")
        issue = repo.get_issue(number)
        changes: dict[str, Any] = {"title": plan.title, "body": plan.body,
                                   "labels": list(plan.labels)}
        if plan.note:
            changes.update(state="open", state_reason="reopened")
        if plan.changed:
            self._call(doing, lambda: issue.edit(**changes))
        if plan.note:
            note = plan.note
            self._create(doing, lambda: issue.create_comment(note),
                         lambda: next((c for c in issue.get_comments()
                                       if _raw(c).get("body") == note and self._ours(_raw(c))),
                                      None))
        return IssueRef(number, plan.url, plan.key.fingerprint)


def _known(data: dict[str, Any]) -> KnownIssue:
    # Planning sees the body from our marker on, and the note people wrote above it apart.
    head, body = split_issue_body(data.get("body"))
    labels: Iterable[Any] = data.get("labels") or []
    return KnownIssue(number=int(data["number"]), url=str(data.get("html_url", "")),
                      state=str(data.get("state", "")), state_reason=data.get("state_reason"),
                      labels=tuple(str(la.get("name", "")) if isinstance(la, dict) else str(la)
                                   for la in labels),
                      title=str(data.get("title") or ""), body=body, head=head)


def _label_if_exists(repo: Any, name: str) -> Any:
    try:
        return _complete(repo.get_label(name))
    except GithubException as err:
        if err.status == 404:
            return None
        raise
