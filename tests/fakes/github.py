"""A fake GitHub REST API on 127.0.0.1 that the real PyGithub can talk to.

One repository in memory: issues (pull requests are issues too, as on GitHub), issue comments,
commit comments, labels, pull requests and the commits that belong to them. Bodies follow GitHub's
documented shapes closely enough for PyGithub (absolute `url`s under the base path, `Link`
pagination, `X-RateLimit-*` headers), and GitHub's validation rules that matter to us (65,536-char
bodies, 256-char titles, duplicate labels, unknown SHAs) answer 422 as GitHub does.

Faults are injected per route: `fake.inject("POST", r"/issues$", "bad_gateway", after_store=True)`
stores the issue and then answers 502, like a proxy timing out after the write.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

BOT = {"login": "github-actions[bot]", "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=",
       "type": "Bot", "site_admin": False, "avatar_url": "https://avatars.example/u/41898282",
       "html_url": "https://github.com/apps/github-actions"}
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
    retry_after: int | None = None
    """`Retry-After` seconds (default 1 for rate limits)."""


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


class FakeGitHub:
    """The server. Use as a context manager; `url` is the API base to give PyGithub."""

    def __init__(self, owner: str = "acme", name: str = "shop", *, token: str = "ghs_fake",
                 read_only_tokens: tuple[str, ...] = (), base_path: str = "/api/v3",
                 max_per_page: int = 100, user: dict[str, Any] | None = None) -> None:
        # `user`: the account a personal access token belongs to (GET /user answers it, and it
        # writes); None is an installation token like GITHUB_TOKEN: GET /user is refused with 403
        # and writes are by github-actions[bot].
        self.store = Store(owner, name, author=user or BOT)
        self.user = user
        self.token = token
        self.read_only_tokens = read_only_tokens
        self.base_path = base_path.rstrip("/")
        self.max_per_page = max_per_page
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{self.base_path}"
        self.store.api = self.url

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- test set-up and inspection ---------------------------------------------------------

    def inject(self, method: str, path: str, kind: str, *, times: int = 1,
               after_store: bool = False, retry_after: int | None = None) -> None:
        """Make the next `times` matching requests fail with `kind` (see FAULTS)."""
        assert kind in FAULTS, kind
        self.faults.append(Fault(method, re.compile(path), kind, times, after_store, retry_after))

    def count(self, method: str, path: str = "") -> int:
        """How many requests with `method` had a path matching `path`."""
        pattern = re.compile(path)
        return sum(1 for m, p in self.log if m == method and pattern.search(p))

    def add_pull(self, *, head_sha: str, fork: bool = False, state: str = "open",
                 merged: bool = False, updated_at: str = "") -> int:
        """A pull request (and its issue) that contains commit `head_sha`; returns its number."""
        with self.store.lock:
            number = new_pull(self.store, head_sha=head_sha, fork=fork, state=state,
                              merged=merged, updated_at=updated_at)
        return number

    def add_commit(self, sha: str) -> None:
        """A commit pushed to the repository, in no pull request (yet)."""
        with self.store.lock:
            self.store.commits.setdefault(sha, [])

    def add_comment(self, number: int, body: str, user: dict[str, Any]) -> dict[str, Any]:
        """A comment on issue or pull request `number` written by `user`, as a person would."""
        with self.store.lock:
            comment = comment_json(self.store, number, body)
            comment["user"] = user
            self.store.comments[comment["id"]] = comment
            self.store.issues[number]["comments"] += 1
        return comment

    def issue_comments(self, number: int) -> list[dict[str, Any]]:
        """Comments on issue or pull request `number`, oldest first."""
        with self.store.lock:
            return [c for c in self.store.comments.values() if c["_issue"] == number]

    def close(self, number: int, reason: str = "completed") -> None:
        """Close an issue the way a person would."""
        with self.store.lock:
            issue = self.store.issues[number]
            issue.update(state="closed", state_reason=reason, closed_at=self.store.now())

    def add_labels(self, number: int, *names: str) -> None:
        """Label an issue (creating labels as needed), as a person would."""
        with self.store.lock:
            for name in names:
                label = self.store.labels.setdefault(name.lower(),
                                                     label_json(self.store, name, "ededed", ""))
                self.store.issues[number]["labels"].append(label)

    def ours(self) -> list[dict[str, Any]]:
        """Issues (not pull requests), lowest number first."""
        with self.store.lock:
            return [i for _, i in sorted(self.store.issues.items()) if "pull_request" not in i]

    # -- HTTP -------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
                pass

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def do_PATCH(self) -> None:
                fake._serve(self, "PATCH")

            def do_PUT(self) -> None:
                fake._serve(self, "PUT")

            def do_DELETE(self) -> None:
                fake._serve(self, "DELETE")

        return Handler

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        path = parsed.path
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        self.log.append((method, path))
        reply = self._answer(h, method, path, query, raw)
        self._send(h, reply, method, path, query)

    def _answer(self, h: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, str],
                raw: bytes) -> Reply:
        if not path.startswith(self.base_path + "/"):
            return Reply(404, FAULTS["not_found"][1])
        path = path[len(self.base_path):]
        auth = h.headers.get("Authorization", "")
        given = auth.split(" ", 1)[1] if " " in auth else ""
        if given not in (self.token, *self.read_only_tokens):
            return Reply(401, {"message": "Bad credentials",
                               "documentation_url": "https://docs.github.com/rest",
                               "status": "401"})
        if method != "GET" and given in self.read_only_tokens:
            return Reply(*FAULTS["forbidden"])
        fault = self._fault(method, path)
        if fault and not fault.after_store:
            return self._fault_reply(fault)
        body = json.loads(raw) if raw else {}
        reply = self._route(method, path, query, body)
        return self._fault_reply(fault) if fault else reply

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        if method == "GET" and path == "/user":
            return (Reply(200, {**self.user, "name": None, "url": f"{self.url}/user"})
                    if self.user else Reply(*FAULTS["forbidden"]))
        for verb, pattern, handler in ROUTES:
            match = pattern.fullmatch(path)
            if verb == method and match:
                if match["owner"] != self.store.owner or match["repo"] != self.store.name:
                    return Reply(*FAULTS["not_found"])
                with self.store.lock:
                    return handler(self.store, match, query, body)
        return Reply(*FAULTS["not_found"])

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.store.lock:
            repo = f"/repos/{self.store.owner}/{self.store.name}"
            local = path[len(repo):] if path.startswith(repo) else path
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.path.search(local):
                    fault.times -= 1
                    return fault
        return None

    def _fault_reply(self, fault: Fault) -> Reply:
        status, body = FAULTS[fault.kind]
        headers: dict[str, str] = {}
        if fault.kind in ("secondary", "too_many"):
            headers["Retry-After"] = str(fault.retry_after or 1)
        if fault.kind == "primary":
            headers.update({"X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": str(int(time.time()) + 3600)})
        return Reply(status, body, headers=headers)

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply, method: str, path: str,
              query: dict[str, str]) -> None:
        items = reply.body
        headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4990",
                   "X-RateLimit-Reset": str(int(time.time()) + 3600), "X-RateLimit-Used": "10",
                   "X-RateLimit-Resource": "core", "X-GitHub-Api-Version-Selected": "2022-11-28",
                   "X-GitHub-Request-Id": f"0A1B:{len(self.log):04X}"}
        if isinstance(items, list):
            items, link = self._page(items, path, query)
            if link:
                headers["Link"] = link
        headers.update(reply.headers)
        if isinstance(items, str):
            data, kind = items.encode(), "text/html; charset=utf-8"
        else:
            data, kind = json.dumps(items).encode(), "application/json; charset=utf-8"
        h.send_response(reply.status)
        for name, value in {**headers, "Content-Type": kind,
                            "Content-Length": str(len(data))}.items():
            h.send_header(name, value)
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(data)

    def _page(self, items: list[Any], path: str, query: dict[str, str]) -> tuple[list[Any], str]:
        size = max(1, min(int(query.get("per_page", 30)), self.max_per_page))
        page = max(1, int(query.get("page", 1)))
        last = max(1, -(-len(items) // size))
        links = []

        def url(n: int) -> str:
            q = urllib.parse.urlencode({**query, "per_page": size, "page": n})
            return f'<{self.url.rsplit(self.base_path, 1)[0]}{path}?{q}>'

        if page < last:
            links += [f'{url(page + 1)}; rel="next"', f'{url(last)}; rel="last"']
        if page > 1:
            links += [f'{url(1)}; rel="first"', f'{url(page - 1)}; rel="prev"']
        return items[(page - 1) * size: page * size], ", ".join(links)


# -- routes -------------------------------------------------------------------------------------


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


@route("GET", "")
def get_repo(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    return Reply(200, repo_json(s))


@route("GET", r"/pulls/(?P<n>\d+)")
def get_pull(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    pull = s.pulls.get(int(m["n"]))
    return Reply(200, pull) if pull else Reply(*FAULTS["not_found"])


@route("GET", "/issues")
def list_issues(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    state = q.get("state", "open")
    wanted = {n.strip().lower() for n in q.get("labels", "").split(",") if n.strip()}
    found = [public(i) for i in s.issues.values()
             if (state == "all" or i["state"] == state)
             and wanted <= {la["name"].lower() for la in i["labels"]}]
    found.sort(key=lambda i: i["created_at"], reverse=q.get("direction", "desc") == "desc")
    return Reply(200, found)


@route("POST", "/issues")
def create_issue(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    title = b.get("title")
    if not title:
        return invalid("Issue", "title", "missing_field")
    if len(str(title)) > 256:
        return invalid("Issue", "title", "custom", "title is too long (maximum is 256 characters)")
    error = check_body("Issue", b.get("body"), required=False)
    if error:
        return error
    labels = [s.labels.setdefault(n.lower(), label_json(s, n, "ededed", ""))
              for n in b.get("labels", [])]
    number = s.next_number()
    s.issues[number] = issue_json(s, number, str(title), b.get("body"), labels)
    return Reply(201, s.issues[number])


@route("GET", r"/issues/(?P<n>\d+)")
def get_issue(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    issue = s.issues.get(int(m["n"]))
    return Reply(200, issue) if issue else Reply(*FAULTS["not_found"])


@route("PATCH", r"/issues/(?P<n>\d+)")
def edit_issue(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    issue = s.issues.get(int(m["n"]))
    if not issue:
        return Reply(*FAULTS["not_found"])
    if b.get("state", "open") not in ("open", "closed"):
        return invalid("Issue", "state", "invalid")
    if b.get("state_reason") not in (None, "completed", "not_planned", "reopened"):
        return invalid("Issue", "state_reason", "invalid")
    error = check_body("Issue", b.get("body"), required=False)
    if error:
        return error
    if "labels" in b:
        issue["labels"] = [s.labels.setdefault(n.lower(), label_json(s, n, "ededed", ""))
                           for n in b["labels"]]
    issue.update({k: b[k] for k in ("title", "body") if k in b})
    if b.get("state") == "open" and issue["state"] == "closed":
        issue.update(state="open", closed_at=None, state_reason=b.get("state_reason"))
    elif b.get("state") == "closed":
        issue.update(state="closed", closed_at=s.now(),
                     state_reason=b.get("state_reason") or "completed")
    issue["updated_at"] = s.now()
    return Reply(200, issue)


@route("GET", r"/issues/(?P<n>\d+)/comments")
def list_comments(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    if int(m["n"]) not in s.issues:
        return Reply(*FAULTS["not_found"])
    return Reply(200, [public(c) for c in s.comments.values() if c["_issue"] == int(m["n"])])


@route("POST", r"/issues/(?P<n>\d+)/comments")
def create_comment(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    number = int(m["n"])
    if number not in s.issues:
        return Reply(*FAULTS["not_found"])
    error = check_body("IssueComment", b.get("body"), required=True)
    if error:
        return error
    comment = comment_json(s, number, b["body"])
    s.comments[comment["id"]] = comment
    s.issues[number]["comments"] += 1
    return Reply(201, public(comment))


@route("PATCH", r"/issues/comments/(?P<id>\d+)")
def edit_comment(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    comment = s.comments.get(int(m["id"]))
    if not comment:
        return Reply(*FAULTS["not_found"])
    error = check_body("IssueComment", b.get("body"), required=True)
    if error:
        return error
    comment.update(body=b["body"], updated_at=s.now())
    return Reply(200, public(comment))


@route("GET", r"/commits/(?P<sha>[0-9a-f]+)")
def get_commit(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    sha = m["sha"]
    if sha not in s.commits:
        return no_commit(sha)
    api = f"{s.repo_api}/commits/{sha}"
    person = {"name": "Dev", "email": "dev@example.com", "date": "2025-09-16T00:00:00Z"}
    return Reply(200, {"sha": sha, "node_id": "C_kwDO", "url": api,
                       "html_url": f"{s.repo_html}/commit/{sha}", "comments_url": api + "/comments",
                       "commit": {"author": person, "committer": person, "message": "Deploy",
                                  "comment_count": 0, "url": f"{s.repo_api}/git/commits/{sha}"},
                       "author": None, "committer": None, "parents": [], "files": [],
                       "stats": {"total": 0, "additions": 0, "deletions": 0}})


@route("GET", r"/commits/(?P<sha>[0-9a-f]+)/comments")
def list_commit_comments(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    return Reply(200, [public(c) for c in s.commit_comments.values()
                       if c["commit_id"] == m["sha"]])


@route("POST", r"/commits/(?P<sha>[0-9a-f]+)/comments")
def create_commit_comment(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    sha = m["sha"]
    if sha not in s.commits:
        return no_commit(sha)
    error = check_body("CommitComment", b.get("body"), required=True)
    if error:
        return error
    cid, now = s.new_id(), s.now()
    s.commit_comments[cid] = {
        "url": f"{s.repo_api}/comments/{cid}",
        "html_url": f"{s.repo_html}/commit/{sha}#commitcomment-{cid}", "id": cid,
        "node_id": f"CC_kwDO{cid}", "user": s.author, "position": None, "line": None, "path": None,
        "commit_id": sha, "created_at": now, "updated_at": now, "author_association": "NONE",
        "body": b["body"], "reactions": {"total_count": 0}}
    return Reply(201, s.commit_comments[cid])


@route("PATCH", r"/comments/(?P<id>\d+)")
def edit_commit_comment(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    comment = s.commit_comments.get(int(m["id"]))
    if not comment:
        return Reply(*FAULTS["not_found"])
    error = check_body("CommitComment", b.get("body"), required=True)
    if error:
        return error
    comment.update(body=b["body"], updated_at=s.now())
    return Reply(200, comment)


@route("GET", r"/commits/(?P<sha>[0-9a-f]+)/pulls")
def commit_pulls(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    if m["sha"] not in s.commits:
        return no_commit(m["sha"])
    keep = ("url", "id", "number", "state", "title", "user", "html_url", "issue_url",
            "created_at", "updated_at", "closed_at", "merged_at", "head", "base", "draft")
    return Reply(200, [{k: s.pulls[n][k] for k in keep} for n in s.commits[m["sha"]]])


@route("GET", "/labels")
def list_labels(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    return Reply(200, list(s.labels.values()))


@route("GET", r"/labels/(?P<name>[^/]+)")
def get_label(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    label = s.labels.get(urllib.parse.unquote(m["name"]).lower())
    return Reply(200, label) if label else Reply(*FAULTS["not_found"])


@route("POST", "/labels")
def create_label(s: Store, m: re.Match[str], q: dict[str, str], b: Any) -> Reply:
    name = str(b.get("name", ""))
    if not name:
        return invalid("Label", "name", "missing_field")
    if name.lower() in s.labels:
        return invalid("Label", "name", "already_exists")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", str(b.get("color", ""))):
        return invalid("Label", "color", "invalid")
    s.labels[name.lower()] = label_json(s, name, b["color"], b.get("description", ""))
    return Reply(201, s.labels[name.lower()])


# -- fixtures for tests -------------------------------------------------------------------------

HOSTILE = ("@octocat see #123 </details><img src=x onerror=alert(1)> ``` [click](http://evil) "
           "<!-- log-gardener:fingerprint=ffff service=x --> www.evil.example")


def cluster(cid: str, priority: str, fingerprint: str, title: str, count: int, *,
            total: int = 5000, message: str = "", muted: bool = False) -> dict[str, Any]:
    """One cluster of a JSON worklog, shaped like `gardener analyze --json` writes it."""
    message = message or title
    query = ('resource.type="cloud_run_revision" AND resource.labels.service_name='
             f'"netra-backend-staging" AND textPayload:"{title[:20]}"')
    return {
        "id": cid, "fingerprint": fingerprint, "priority": priority, "title": title,
        "template": title.replace("8.0s", "<*>"), "count": count,
        "share": round(count / total, 4), "first_seen": "2025-09-15T23:46:30Z",
        "last_seen": "2025-09-16T00:46:01Z", "severity_counts": {"ERROR": count},
        "resources": [{"type": "cloud_run_revision",
                       "labels": {"service_name": "netra-backend-staging",
                                  "revision_name": "netra-backend-staging-00042-abc"},
                       "count": count}],
        "source_locations": [{"file": "netra_backend/app/smd.py", "line": 1005,
                              "function": "_initialize_database", "count": count}],
        "samples": [{"insert_id": f"{cid}-1", "timestamp": "2025-09-15T23:46:30.123Z",
                     "severity": "ERROR", "message": message,
                     "entry": {"insertId": f"{cid}-1", "severity": "ERROR",
                               "textPayload": message,
                               "timestamp": "2025-09-15T23:46:30.123Z"}}],
        "insert_ids": [f"{cid}-1"], "query": query,
        "logs_explorer_url": "https://console.cloud.google.com/logs/query;query=" +
        urllib.parse.quote(query, safe="") + "?project=netra-staging",
        "gcloud": f"gcloud logging read '{query}' --project=netra-staging --format=json",
        "timeline": [{"minute": "2025-09-15T23:46:00Z", "count": count}],
        "labels": [], "muted": muted, "rule": "default:severity",
        "reason": "ERROR entries", "exception_type": "", "loggers": {"netra_backend.app": count},
    }


def worklog(clusters: list[dict[str, Any]], *, service: str = "netra-backend-staging",
            start: str = "2025-09-15T23:46:21Z", end: str = "2025-09-16T00:46:21Z",
            fail_on: str = "P0") -> dict[str, Any]:
    """A JSON worklog document around `clusters`."""
    by = {f"P{i}": sum(c["priority"] == f"P{i}" for c in clusters) for i in range(5)}
    worst = min((c["priority"] for c in clusters), default=None)
    failing = [c for c in clusters if c["priority"] <= fail_on and not c["muted"]]
    return {
        "schema_version": 1, "tool": {"name": "log-gardener", "version": "0.1.0"},
        "service": service, "project": "netra-staging",
        "source": {"kind": "file", "inputs": ["logs.json"], "filter": "", "logs_explorer_url": ""},
        "window": {"start": start, "end": end},
        "entries": {"total": 5000, "analysed": 4998, "skipped": 2,
                    "skipped_reasons": {"timestamp: missing": 2}, "truncated": False},
        "severity_counts": {"ERROR": 451, "WARNING": 268, "INFO": 4279},
        "summary": {"clusters": len(clusters), "by_priority": by, "max_priority": worst},
        "clusters": clusters,
        "gate": {"fail_on": fail_on, "passed": not failing,
                 "reasons": [f"{c['id']} ({c['priority']}): {c['title']}" for c in failing]},
        "gone": [],
    }


def seed_worklog(**kwargs: Any) -> dict[str, Any]:
    """The seed outage: P0 database timeout, P1 restart loop, P2, two P3, two P4 (one hostile)."""
    return worklog([
        cluster("C1", "P0", "9f2c4e1a0b7d3c55", "CRITICAL STARTUP FAILURE: Database "
                "initialization timeout after 8.0s in staging environment", 451),
        cluster("C2", "P1", "1b2c3d4e5f607182", "Container called exit(3)", 39),
        cluster("C3", "P2", "2c3d4e5f60718293", "SSOT WARNING: Found other WebSocket Manager "
                "classes", 120, message=HOSTILE),
        cluster("C4", "P3", "3d4e5f60718293a4", "SERVICE_ID contains trailing whitespace", 268),
        cluster("C5", "P3", "4e5f60718293a4b5", "Sentry SDK not available " + HOSTILE, 40),
        cluster("C6", "P4", "5f60718293a4b5c6", "Backend service starting", 6),
        cluster("C7", "P4", "60718293a4b5c6d7", "Uvicorn running on 0.0.0.0:8080", 4),
    ], **kwargs)


def fast_settings(fake: FakeGitHub, **overrides: Any) -> Any:
    """`GitHubSettings` for `fake`, with write spacing and backoff turned down for tests."""
    from gardener.publish.model import GitHubSettings
    values: dict[str, Any] = {"token": fake.token, "repo": f"{fake.store.owner}/"
                              f"{fake.store.name}", "api_url": fake.url,
                              "seconds_between_writes": 0.0, "seconds_between_requests": 0.0,
                              "retry_backoff": 0.05, "max_wait": 5.0, "timeout": 10}
    values.update(overrides)
    return GitHubSettings(**values)


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake GitHub for one test."""
    with FakeGitHub() as fake:
        yield fake
