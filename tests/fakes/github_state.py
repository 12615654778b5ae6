"""The fake GitHub's state and REST shapes: who writes, the faults it can inject, the
repository in memory, and the JSON bodies GitHub documents (repository, issue, pull request,
label, comment), with GitHub's 422 validation answers. Route handlers are in `github_routes`."""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT = {"login": "github-actions[bot]", "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=",
       "type": "Bot", "site_admin": False, "avatar_url": "https://avatars.example/u/41898282",
       "html_url": "https://github.com/apps/github-actions"}
# Other writers: a GitHub App installation token writes as `<app-slug>[bot]`, and other apps'
# bots (Dependabot, say) can write in the same repository.
APP_BOT = {"login": "log-gardener-app[bot]", "id": 9000001, "node_id": "BOT_kgDOAIlUAQ",
           "type": "Bot", "site_admin": False, "avatar_url": "https://avatars.example/u/9000001",
           "html_url": "https://github.com/apps/log-gardener-app"}
DEPENDABOT = {"login": "dependabot[bot]", "id": 49699333, "node_id": "MDM6Qm90NDk2OTkzMzM=",
              "type": "Bot", "site_admin": False, "avatar_url": "https://avatars.example/u/49699333",
              "html_url": "https://github.com/apps/dependabot"}
ALICE = {"login": "alice", "id": 5, "node_id": "MDQ6VXNlcjU=", "type": "User",
         "site_admin": False, "avatar_url": "https://avatars.example/u/5",
         "html_url": "https://github.com/alice"}
BODY_LIMIT = 65_536

FAULTS: dict[str, tuple[int, dict[str, Any] | str]] = {
    "secondary": (403, {"message": "You have exceeded a secondary rate limit and have been "
                        "temporarily blocked from content creation. Please retry your request "
                        "again later. If you reach out to GitHub Support for help, please "
                        "include the request ID 0A1B:2C3D:4E5F.",
                        "documentation_url": "https://docs.github.com/rest/overview/"
                        "rate-limits-for-the-rest-api#about-secondary-rate-limits"}),
    "primary": (403, {"message": "API rate limit exceeded for installation ID 12345678. If you "
                      "reach out to GitHub Support for help, please include the request ID "
                      "0A1B:2C3D:4E5F.",
                      "documentation_url": "https://docs.github.com/rest/overview/"
                      "rate-limits-for-the-rest-api#about-primary-rate-limits"}),
    "too_many": (429, {"message": "You have exceeded a secondary rate limit. Please wait a few "
                       "minutes before you try again.",
                       "documentation_url": "https://docs.github.com/rest"}),
    "forbidden": (403, {"message": "Resource not accessible by integration",
                        "documentation_url": "https://docs.github.com/rest", "status": "403"}),
    "not_found": (404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest",
                        "status": "404"}),
    "validation": (422, {"message": "Validation Failed",
                         "errors": [{"resource": "Issue", "code": "custom", "field": "body",
                                     "message": "body is invalid"}],
                         "documentation_url": "https://docs.github.com/rest", "status": "422"}),
    "server_error": (500, {"message": "Server Error"}),
    "bad_gateway": (502, "<html><body><h1>502 Bad Gateway</h1>Unicorn! We had trouble "
                         "processing your request.</body></html>"),
}


@dataclass
class Fault:
    """An injected failure for requests matching `method` and `path`."""

    method: str
    """HTTP method it applies to."""
    path: re.Pattern[str]
    """Searched in the path below `/repos/OWNER/NAME` (e.g. `/issues$`)."""
    kind: str
    """A key of FAULTS."""
    times: int = 1
    """How many matching requests fail."""
    after_store: bool = False
    """Carry the request out, then answer with the fault (the write is stored)."""
    retry_after: float | None = None
    """`Retry-After` seconds (default 1 for rate limits); a fraction is sent as written (`0.2`)."""


@dataclass
class Store:
    """The repository's state. Access under `lock`."""

    owner: str
    name: str
    api: str = ""
    html: str = "https://github.example"
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    commit_comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    commits: dict[str, list[int]] = field(default_factory=dict)
    author: dict[str, Any] = field(default_factory=lambda: BOT)
    """Who the token's writes are attributed to (`user` of new comments and issues)."""
    next_id: int = 1000
    clock: float = 1_758_000_000.0
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def repo_api(self) -> str:
        return f"{self.api}/repos/{self.owner}/{self.name}"

    @property
    def repo_html(self) -> str:
        return f"{self.html}/{self.owner}/{self.name}"

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def now(self) -> str:
        """A clock that ticks one second per call, so ordering is deterministic."""
        self.clock += 1
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock))

    def next_number(self) -> int:
        return max([*self.issues, 0]) + 1


@dataclass
class Reply:
    """A response before serialisation; a list body is paginated."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Store, "re.Match[str]", dict[str, str], Any], Reply]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        full = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)" + pattern)
        ROUTES.append((method, full, fn))
        return fn
    return register


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` without the store's private `_` keys."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def invalid(resource: str, field_name: str, code: str, message: str = "") -> Reply:
    error = {"resource": resource, "code": code, "field": field_name}
    if message:
        error["message"] = message
    return Reply(422, {"message": "Validation Failed", "errors": [error],
                       "documentation_url": "https://docs.github.com/rest", "status": "422"})


def no_commit(sha: str) -> Reply:
    return Reply(422, {"message": f"No commit found for SHA: {sha}",
                       "documentation_url": "https://docs.github.com/rest/commits/commits",
                       "status": "422"})


def check_body(resource: str, body: Any, required: bool) -> Reply | None:
    if not isinstance(body, str) or (required and not body):
        return invalid(resource, "body", "missing_field") if required else None
    if len(body) > BODY_LIMIT:
        return invalid(resource, "body", "custom",
                       f"body is too long (maximum is {BODY_LIMIT} characters)")
    return None


def repo_json(s: Store, owner: str = "") -> dict[str, Any]:
    owner = owner or s.owner
    api = f"{s.api}/repos/{owner}/{s.name}"
    return {"id": 1296269 if owner == s.owner else 1296270, "node_id": "MDEwOlJlcG9zaXRvcnkx",
            "name": s.name, "full_name": f"{owner}/{s.name}", "private": True,
            "owner": {"login": owner, "id": 9919, "type": "Organization"},
            "html_url": f"{s.html}/{owner}/{s.name}", "description": "A shop",
            "fork": owner != s.owner, "url": api, "issues_url": api + "/issues{/number}",
            "pulls_url": api + "/pulls{/number}", "labels_url": api + "/labels{/name}",
            "default_branch": "main", "has_issues": True, "open_issues_count": 0,
            "visibility": "private", "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2025-09-01T00:00:00Z", "pushed_at": "2025-09-16T00:00:00Z",
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True,
                            "pull": True}}


def label_json(s: Store, name: str, color: str, description: str) -> dict[str, Any]:
    return {"id": s.new_id(), "node_id": "LA_kwDOAAAB", "name": name, "color": color,
            "default": False, "description": description or None,
            "url": f"{s.repo_api}/labels/{urllib.parse.quote(name, safe='')}"}


def issue_json(s: Store, number: int, title: str, body: str | None,
               labels: list[dict[str, Any]]) -> dict[str, Any]:
    api, now = f"{s.repo_api}/issues/{number}", s.now()
    return {"url": api, "repository_url": s.repo_api, "labels_url": api + "/labels{/name}",
            "comments_url": api + "/comments", "events_url": api + "/events",
            "html_url": f"{s.repo_html}/issues/{number}", "id": s.new_id(),
            "node_id": f"I_kwDO{number:06d}", "number": number, "title": title, "user": s.author,
            "labels": labels, "state": "open", "locked": False, "assignee": None,
            "assignees": [], "milestone": None, "comments": 0, "created_at": now,
            "updated_at": now, "closed_at": None, "author_association": "NONE",
            "active_lock_reason": None, "body": body, "state_reason": None,
            "timeline_url": api + "/timeline", "performed_via_github_app": None,
            "reactions": {"url": api + "/reactions", "total_count": 0}}


def new_pull(s: Store, *, head_sha: str, fork: bool, state: str, merged: bool,
             updated_at: str) -> int:
    number = s.next_number()
    issue = issue_json(s, number, f"Change {number}", "A change", [])
    api = f"{s.repo_api}/pulls/{number}"
    merged_at = s.now() if merged else None
    issue.update(html_url=f"{s.repo_html}/pull/{number}", state=state,
                 pull_request={"url": api, "html_url": f"{s.repo_html}/pull/{number}",
                               "diff_url": f"{s.repo_html}/pull/{number}.diff",
                               "patch_url": f"{s.repo_html}/pull/{number}.patch",
                               "merged_at": merged_at})
    s.issues[number] = issue
    head_owner = "outsider" if fork else s.owner
    s.pulls[number] = {
        "url": api, "id": s.new_id(), "node_id": f"PR_kwDO{number:06d}",
        "html_url": f"{s.repo_html}/pull/{number}", "issue_url": issue["url"],
        "comments_url": issue["comments_url"], "commits_url": api + "/commits",
        "review_comments_url": api + "/comments", "statuses_url": f"{s.repo_api}/statuses/"
        + head_sha, "number": number, "state": state, "locked": False, "title": issue["title"],
        "user": {"login": head_owner, "id": 7, "type": "User"}, "body": "A change",
        "labels": [], "milestone": None, "created_at": issue["created_at"],
        "updated_at": updated_at or issue["updated_at"], "closed_at": None,
        "merged_at": merged_at, "merge_commit_sha": None, "draft": False,
        "head": {"label": f"{head_owner}:feature", "ref": "feature", "sha": head_sha,
                 "repo": repo_json(s, head_owner)},
        "base": {"label": f"{s.owner}:main", "ref": "main", "sha": "0" * 40,
                 "repo": repo_json(s)},
        "author_association": "CONTRIBUTOR" if fork else "MEMBER", "auto_merge": None}
    s.commits.setdefault(head_sha, []).append(number)
    return number


def comment_json(s: Store, number: int, body: str) -> dict[str, Any]:
    cid, now = s.new_id(), s.now()
    kind = "pull" if "pull_request" in s.issues[number] else "issues"
    return {"url": f"{s.repo_api}/issues/comments/{cid}",
            "html_url": f"{s.repo_html}/{kind}/{number}#issuecomment-{cid}",
            "issue_url": f"{s.repo_api}/issues/{number}", "id": cid,
            "node_id": f"IC_kwDO{cid}", "user": s.author, "created_at": now, "updated_at": now,
            "author_association": "NONE", "body": body, "performed_via_github_app": None,
            "reactions": {"total_count": 0}, "_issue": number}
