"""A fake GitHub REST API on 127.0.0.1 that the real PyGithub can talk to.

One repository in memory: issues (pull requests are issues too, as on GitHub), issue comments,
commit comments, labels, pull requests and the commits that belong to them. Bodies follow GitHub's
documented shapes closely enough for PyGithub (absolute `url`s under the base path, `Link`
pagination, `X-RateLimit-*` headers), and GitHub's validation rules that matter to us (65,536-char
bodies, 256-char titles, duplicate labels, unknown SHAs) answer 422 as GitHub does.

Faults are injected per route: `fake.inject("POST", r"/issues$", "bad_gateway", after_store=True)`
stores the issue and then answers 502, like a proxy timing out after the write.

This module is the HTTP server and the test-facing handle (`FakeGitHub`, `fast_settings`, the
`fake_github` fixture); the state and JSON shapes are in `github_state`, the REST routes in
`github_routes`, the worklogs tests publish in `worklogs`. Their names are re-exported here, so
`from tests.fakes.github import FakeGitHub, seed_worklog, comment_json` keeps working.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import tests.fakes.github_routes  # noqa: F401  (importing it registers the REST routes)
from tests.fakes.github_state import (
    ALICE,
    APP_BOT,
    BODY_LIMIT,
    BOT,
    DEPENDABOT,
    FAULTS,
    ROUTES,
    Fault,
    Reply,
    Store,
    comment_json,
    issue_json,
    label_json,
    new_pull,
)
from tests.fakes.worklogs import HOSTILE, cluster, seed_worklog, worklog

__all__ = ["ALICE", "APP_BOT", "BODY_LIMIT", "BOT", "DEPENDABOT", "FAULTS", "HOSTILE",
           "FakeGitHub", "Fault", "Reply", "Store", "cluster", "comment_json", "fake_github",
           "fast_settings", "issue_json", "label_json", "seed_worklog", "worklog"]



class FakeGitHub:
    """The server. Use as a context manager; `url` is the API base to give PyGithub."""

    def __init__(self, owner: str = "acme", name: str = "shop", *, token: str = "ghs_fake",
                 read_only_tokens: tuple[str, ...] = (), base_path: str = "/api/v3",
                 max_per_page: int = 100, user: dict[str, Any] | None = None,
                 bot: dict[str, Any] = BOT) -> None:
        # `user`: the account a personal access token belongs to (GET /user answers it, and it
        # writes); None is an installation token: GET /user is refused with 403 and writes are by
        # `bot` (github-actions[bot] for GITHUB_TOKEN, `<app-slug>[bot]` for a GitHub App's).
        self.store = Store(owner, name, author=user or bot)
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
               after_store: bool = False, retry_after: float | None = None) -> None:
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

    def add_issue(self, title: str, body: str, user: dict[str, Any],
                  labels: tuple[str, ...] = ("gardener",)) -> int:
        """An issue opened by `user` (a person, or another app), as they would; its number."""
        with self.store.lock:
            number = self.store.next_number()
            found = [self.store.labels.setdefault(n.lower(), label_json(self.store, n, "ededed",
                                                                          "")) for n in labels]
            self.store.issues[number] = issue_json(self.store, number, title, body, found)
            self.store.issues[number]["user"] = user
        return number

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
            after = 1 if fault.retry_after is None else fault.retry_after
            headers["Retry-After"] = f"{after:g}"  # `0`, `1`, `0.2`: as GitHub writes them
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
