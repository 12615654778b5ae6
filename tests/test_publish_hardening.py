"""Hardening of the GitHub publisher: whose comments count, notes above an issue's marker, marker
keys of names we had to squash, and `Retry-After` longer than we may wait. Real PyGithub against
the fake GitHub on 127.0.0.1."""

from __future__ import annotations

import time
from typing import Any

from gardener.model import Priority
from gardener.publish import (
    IssuesTarget,
    PublishResult,
    PullRequestTarget,
)
from gardener.publish.issue_body import read_runs
from gardener.publish.markers import CommentKey, IssueKey, issue_key
from tests.fakes.github import (
    ALICE,
    BOT,
    FakeGitHub,
    fake_github,
)
from tests.fakes.publishing import LATER, MARKER, publish
from tests.fakes.worklogs import seed_worklog

__all__ = ["fake_github"]  # the fixture, imported for pytest
SHA = "7c1d9e3a" * 5
DEPLOYER = {"login": "Deploy-Bot-Account", "id": 77, "node_id": "MDQ6VXNlcjc3", "type": "User",
            "site_admin": False}


def marked(fake: FakeGitHub, pr: int) -> list[dict[str, Any]]:
    return [c for c in fake.issue_comments(pr) if c["body"].startswith("<!-- log-gardener")]


# -- 1. only comments the token's identity wrote count ---------------------------------------

def test_a_persons_comment_that_starts_with_our_marker_is_left_alone(
        fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    theirs = f"{MARKER}\nalice: I copied the bot's comment to ask why C1 is P0"
    fake_github.add_comment(pr, theirs, ALICE)
    first = publish(fake_github, PullRequestTarget(pr))
    later = seed_worklog(**LATER)
    later["clusters"][0]["count"] = 999
    second = publish(fake_github, PullRequestTarget(pr), later)
    assert first.ok and second.ok
    by_login = {c["user"]["login"]: c for c in marked(fake_github, pr)}
    assert set(by_login) == {"alice", "github-actions[bot]"}  # ours is found again: no duplicate
    assert by_login["alice"]["body"] == theirs
    assert "**999 entries" in by_login["github-actions[bot]"]["body"]
    assert second.comment_url == first.comment_url == by_login["github-actions[bot]"]["html_url"]
    assert fake_github.count("POST", r"/comments$") == 1
    assert fake_github.count("PATCH", r"/issues/comments/\d+$") == 1


def test_with_a_personal_token_only_that_accounts_comments_count() -> None:
    with FakeGitHub(user=DEPLOYER) as fake:
        pr = fake.add_pull(head_sha=SHA)
        fake.add_comment(pr, f"{MARKER}\nby a person", ALICE)
        fake.add_comment(pr, f"{MARKER}\nby some other app", BOT)
        for count in (451, 999):
            doc = seed_worklog()
            doc["clusters"][0]["count"] = count
            assert publish(fake, PullRequestTarget(pr), doc).ok
        ours = [c for c in marked(fake, pr) if c["user"]["login"] == DEPLOYER["login"]]
        others = [c["body"] for c in marked(fake, pr) if c not in ours]
        assert len(ours) == 1 and "**999 entries" in ours[0]["body"]
        assert others == [f"{MARKER}\nby a person", f"{MARKER}\nby some other app"]
        assert fake.count("GET", r"/user$") == 2  # one look-up per run


# -- 2. a note above an issue's marker ----------------------------------------------------------

def run_issues(fake: FakeGitHub, **window: str) -> PublishResult:
    return publish(fake, IssuesTarget(min_priority=Priority.P0), seed_worklog(**window))


def test_a_note_above_the_marker_keeps_the_issue_and_its_history(
        fake_github: FakeGitHub) -> None:
    first = run_issues(fake_github)
    number = first.issues_created[0].number
    note = "**Owner: @alice, root cause in PR 41**"
    with fake_github.store.lock:  # typed at the top in GitHub's editor, which sends CRLF
        issue = fake_github.store.issues[number]
        issue["body"] = (note + "\n\n" + issue["body"]).replace("\n", "\r\n")
    second = run_issues(fake_github, **LATER)
    assert second.ok and not second.issues_created
    assert [i.number for i in second.issues_updated] == [number]
    assert [i["number"] for i in fake_github.ours()] == [number]
    body = fake_github.ours()[0]["body"]
    assert body.startswith(note + "\n\n<!-- log-gardener:fingerprint=")
    assert body.count(note) == 1 and "Last 2 runs" in body
    assert [r.end for r in read_runs(body[body.index("<!--"):])] == [
        "2025-09-16T00:46:21Z", LATER["end"]]
    third = run_issues(fake_github, **LATER)  # the same window again: nothing to write
    assert third.ok and not third.issues_created and fake_github.count("PATCH") == 1


def test_a_quoted_marker_below_the_top_still_does_not_count() -> None:
    quoted = "<!-- log-gardener:fingerprint=ffff service=x -->"
    assert issue_key(f"A person's issue\n\n```\n{quoted}\n```\n") is None
    assert issue_key(f"note\n{quoted}\nnot our state line\n") is None
    state = '<!-- log-gardener:state {"v":1,"runs":[]} -->'
    assert issue_key(f"note\r\n\r\n{quoted}\r\n{state}\r\n") == IssueKey("ffff", "x")


def test_an_unlabelled_issue_with_our_marker_below_a_note_is_still_ignored(
        fake_github: FakeGitHub) -> None:
    run_issues(fake_github)
    with fake_github.store.lock:
        issue = fake_github.store.issues[1]
        issue.update(labels=[], body="copied here:\n\n" + issue["body"])
    result = run_issues(fake_github, **LATER)
    assert result.ok and len(result.issues_created) == 1 and len(fake_github.ours()) == 2


# -- 3. names we had to squash get distinct marker keys ----------------------------------------

def test_names_that_squash_alike_get_distinct_keys_and_ascii_names_keep_theirs() -> None:
    assert CommentKey.of("svc", "部署") != CommentKey.of("svc", "夜间巡检")
    assert CommentKey.of("svc", "Deploy (prod)") != CommentKey.of("svc", "Deploy [prod]")
    assert CommentKey.of("日本", "d") != CommentKey.of("中国", "d")
    assert CommentKey.of("svc", "部署") == CommentKey.of("svc", " 部署 ")  # stable
    assert CommentKey.of("netra-backend-staging", "Deploy").marker() == MARKER
    assert CommentKey.of("api", "ci/cd:v1.2").workflow == "ci/cd:v1.2"
    assert CommentKey.of("api", "Deploy  staging").workflow == "Deploy_staging"  # as before
    key = CommentKey.of("svc", "Deploy (prod)")
    assert key.workflow.startswith("Deploy_prod_-") and len(key.workflow) == len("Deploy_prod_") + 9
    assert len(CommentKey.of("svc", "é" * 300).workflow) <= 100


def test_two_non_ascii_workflows_keep_two_comments(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    for _ in range(2):
        for workflow in ("部署", "夜间巡检", "Deploy (prod)", "Deploy [prod]"):
            assert publish(fake_github, PullRequestTarget(pr), workflow=workflow).ok
    assert len(marked(fake_github, pr)) == 4
    assert fake_github.count("POST", r"/comments$") == 4


# -- 4. Retry-After longer than max_wait -------------------------------------------------------

def test_a_read_told_to_retry_after_an_hour_fails_at_once(fake_github: FakeGitHub) -> None:
    fake_github.inject("GET", r"/issues$", "too_many", times=10, retry_after=3600)
    started = time.monotonic()
    result = publish(fake_github, IssuesTarget(), max_wait=1.0)
    assert time.monotonic() - started < 1.0
    assert not result.ok and "rate-limited" in result.errors[0].what
    assert "429" in result.errors[0].what and "1 s allowed" in result.errors[0].diagnostics()
    assert fake_github.count("GET", r"/issues$") == 1


def test_an_edit_told_to_retry_after_an_hour_fails_at_once(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    assert publish(fake_github, PullRequestTarget(pr)).ok
    fake_github.inject("PATCH", r"/issues/comments/\d+$", "secondary", times=10, retry_after=600)
    result = publish(fake_github, PullRequestTarget(pr), seed_worklog(**LATER), max_wait=1.0)
    assert not result.ok and "rate-limited" in result.errors[0].what
    assert fake_github.count("PATCH") == 1


def test_a_short_retry_after_on_a_read_is_still_waited_out(fake_github: FakeGitHub) -> None:
    fake_github.inject("GET", r"/issues$", "too_many", times=1, retry_after=1)
    result = publish(fake_github, IssuesTarget(), max_wait=2.0)
    assert result.ok and len(result.issues_created) == 5
    assert fake_github.count("GET", r"/issues$") >= 2


def test_a_fractional_retry_after_within_a_sub_second_max_wait_is_waited_out(
        fake_github: FakeGitHub) -> None:
    fake_github.inject("GET", r"/issues$", "too_many", times=1, retry_after=0.2)
    fake_github.inject("POST", r"/issues$", "secondary", times=1, retry_after=0.2)
    started = time.monotonic()
    result = publish(fake_github, IssuesTarget(), max_wait=0.5)
    assert result.ok and len(result.issues_created) == 5, result.errors
    assert time.monotonic() - started >= 0.4  # both waits were slept, not skipped
    assert fake_github.count("GET", r"/issues$") >= 2 and len(fake_github.ours()) == 5


def test_a_fractional_retry_after_beyond_max_wait_fails_at_once(fake_github: FakeGitHub) -> None:
    fake_github.inject("GET", r"/issues$", "too_many", times=10, retry_after=0.9)
    result = publish(fake_github, IssuesTarget(), max_wait=0.5)
    assert not result.ok and "0.5 s allowed" in result.errors[0].diagnostics()
    assert fake_github.count("GET", r"/issues$") == 1


def test_a_whole_second_retry_after_fits_a_fractional_max_wait(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("POST", r"/issues/\d+/comments$", "secondary", times=1, retry_after=1)
    assert publish(fake_github, PullRequestTarget(pr), max_wait=1.5).ok
    assert len(marked(fake_github, pr)) == 1


def test_retry_after_zero_on_a_create_posts_again_at_once(fake_github: FakeGitHub) -> None:
    """`Retry-After: 0` means "try again now": it was read as "not a rate limit" and failed."""
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("POST", r"/issues/\d+/comments$", "secondary", times=1, retry_after=0)
    result = publish(fake_github, PullRequestTarget(pr))
    assert result.ok, result.errors
    assert len(marked(fake_github, pr)) == 1
    assert fake_github.count("POST", r"/issues/\d+/comments$") == 2
