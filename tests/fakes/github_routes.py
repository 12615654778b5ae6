"""The fake GitHub's REST routes: repository, pull requests, issues, issue and commit comments,
labels. Each handler runs under the store's lock and returns a `Reply`; importing this module
registers them in `ROUTES`."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from tests.fakes.github_state import (
    FAULTS,
    Reply,
    Store,
    check_body,
    comment_json,
    invalid,
    issue_json,
    label_json,
    no_commit,
    public,
    repo_json,
    route,
)


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
