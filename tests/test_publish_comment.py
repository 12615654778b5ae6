"""Sticky PR and commit comments through the real PyGithub against the fake GitHub on 127.0.0.1."""

from __future__ import annotations

import io
import re

import pytest

from gardener.publish import (
    CommitTarget,
    PublishOptions,
    PullRequestTarget,
    publish_worklog,
)
from gardener.publish.faults import ReadOnlyForkError
from tests.fakes.github import FakeGitHub, fake_github, fast_settings
from tests.fakes.github_state import comment_json
from tests.fakes.worklogs import cluster, seed_worklog, worklog

__all__ = ["fake_github"]  # the fixture, imported for pytest
SHA = "5d8e2a1c" * 5


def publish(fake: FakeGitHub, target: object, doc: dict | None = None, **options: str):
    out = io.StringIO()
    result = publish_worklog(doc or seed_worklog(), target=target,  # type: ignore[arg-type]
                             github=fast_settings(fake), out=out,
                             options=PublishOptions(**options))
    return result, out.getvalue()


def test_first_run_creates_and_second_run_edits_the_same_comment(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    first, _ = publish(fake_github, PullRequestTarget(pr), workflow="deploy")
    assert first.ok and first.pull_request == pr
    later = seed_worklog(end="2025-09-16T01:46:21Z", start="2025-09-16T00:46:21Z")
    later["clusters"][0]["count"] = 999
    second, log = publish(fake_github, PullRequestTarget(pr), later, workflow="deploy")
    comments = fake_github.issue_comments(pr)
    assert len(comments) == 1
    assert second.comment_url == first.comment_url == comments[0]["html_url"]
    assert "**999 entries" in comments[0]["body"]
    assert fake_github.count("PATCH", r"/issues/comments/\d+$") == 1
    assert fake_github.count("POST", r"/comments$") == 1
    assert f"comment on pull request #{pr}" in log


def test_unchanged_worklog_is_not_written_again(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    publish(fake_github, PullRequestTarget(pr))
    publish(fake_github, PullRequestTarget(pr))
    assert fake_github.count("PATCH") == 0 and fake_github.count("POST") == 1


def test_two_services_and_two_workflows_keep_separate_comments(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    for _ in range(2):
        publish(fake_github, PullRequestTarget(pr), seed_worklog(service="api"), workflow="d")
        publish(fake_github, PullRequestTarget(pr), seed_worklog(service="worker"), workflow="d")
        publish(fake_github, PullRequestTarget(pr), seed_worklog(service="api"), workflow="nightly")
    bodies = [c["body"] for c in fake_github.issue_comments(pr)]
    assert len(bodies) == 3
    heads = sorted(b.splitlines()[0] for b in bodies)
    assert heads == ["<!-- log-gardener:comment service=api workflow=d -->",
                     "<!-- log-gardener:comment service=api workflow=nightly -->",
                     "<!-- log-gardener:comment service=worker workflow=d -->"]


def test_a_person_quoting_the_marker_does_not_hijack_the_comment(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    marker = "<!-- log-gardener:comment service=netra-backend-staging workflow= -->"
    with fake_github.store.lock:
        human = comment_json(fake_github.store, pr, f"> quoting the bot\n{marker}\nlooks bad")
        fake_github.store.comments[human["id"]] = human
    publish(fake_github, PullRequestTarget(pr))
    bodies = [c["body"] for c in fake_github.issue_comments(pr)]
    assert bodies[0].startswith("> quoting the bot") and bodies[1].startswith(marker)


def test_commit_in_a_pull_request_gets_the_comment_on_that_pull_request(
        fake_github: FakeGitHub) -> None:
    fake_github.add_pull(head_sha=SHA, state="closed", updated_at="2025-09-10T00:00:00Z")
    merged = fake_github.add_pull(head_sha=SHA, state="closed", merged=True,
                                  updated_at="2025-09-12T00:00:00Z")
    result, log = publish(fake_github, CommitTarget(SHA))
    assert result.ok and result.pull_request == merged and not result.commit
    assert len(fake_github.issue_comments(merged)) == 1
    assert f"belongs to pull request #{merged}" in log
    assert not fake_github.store.commit_comments


def test_an_open_pull_request_is_preferred_to_a_merged_one(fake_github: FakeGitHub) -> None:
    fake_github.add_pull(head_sha=SHA, state="closed", merged=True,
                         updated_at="2025-09-15T00:00:00Z")
    open_pr = fake_github.add_pull(head_sha=SHA, updated_at="2025-09-01T00:00:00Z")
    result, _ = publish(fake_github, CommitTarget(SHA))
    assert result.pull_request == open_pr


def test_deploy_commit_without_pull_request_gets_a_sticky_commit_comment(
        fake_github: FakeGitHub) -> None:
    fake_github.add_commit(SHA)
    first, _ = publish(fake_github, CommitTarget(SHA))
    second, _ = publish(fake_github, CommitTarget(SHA), seed_worklog(fail_on="P4"))
    comments = list(fake_github.store.commit_comments.values())
    assert len(comments) == 1 and first.commit == SHA
    assert first.comment_url == second.comment_url == comments[0]["html_url"]
    assert "❌ gate failed" in comments[0]["body"] and "Failed on `P4`" in comments[0]["body"]


def test_unknown_commit_is_a_clear_422(fake_github: FakeGitHub) -> None:
    result, _ = publish(fake_github, CommitTarget("ab" * 20))
    assert not result.ok
    assert "422 No commit found for SHA" in result.errors[0].what


def test_fork_pull_request_gets_a_clear_message_not_a_crash(fake_github: FakeGitHub) -> None:
    fork = FakeGitHub(read_only_tokens=("ghs_fork",))
    with fork:
        pr = fork.add_pull(head_sha=SHA, fork=True)
        out = io.StringIO()
        result = publish_worklog(seed_worklog(), target=PullRequestTarget(pr),
                                 github=fast_settings(fork, token="ghs_fork"), out=out)
    assert result.read_only_fork and isinstance(result.errors[0], ReadOnlyForkError)
    text = result.errors[0].diagnostics()
    assert "fork" in text and "verdict still decides" in text and "workflow_run" in text
    assert not fork.issue_comments(pr)


def test_missing_permission_names_the_workflow_permission(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("POST", r"/issues/\d+/comments$", "forbidden")
    result, _ = publish(fake_github, PullRequestTarget(pr))
    assert not result.read_only_fork
    assert "pull-requests: write" in result.errors[0].diagnostics()


def test_unknown_repository_names_contents_read(fake_github: FakeGitHub) -> None:
    out = io.StringIO()
    result = publish_worklog(seed_worklog(), target=PullRequestTarget(1),
                             github=fast_settings(fake_github, repo="acme/nope"), out=out)
    text = result.errors[0].diagnostics()
    assert "404" in text and "contents: read" in text and "acme/nope" in text


def test_secondary_rate_limit_on_create_waits_and_posts_once(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("POST", r"/issues/\d+/comments$", "secondary", retry_after=1)
    result, _ = publish(fake_github, PullRequestTarget(pr))
    assert result.ok and len(fake_github.issue_comments(pr)) == 1
    assert fake_github.count("POST", r"/comments$") == 2


def test_429_with_retry_after_on_a_read_is_retried(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("GET", r"/issues/\d+/comments$", "too_many", retry_after=1)
    result, _ = publish(fake_github, PullRequestTarget(pr))
    assert result.ok and fake_github.count("GET", r"/issues/\d+/comments$") >= 2


def test_502_after_the_comment_was_stored_does_not_post_twice(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("POST", r"/issues/\d+/comments$", "bad_gateway", after_store=True)
    result, _ = publish(fake_github, PullRequestTarget(pr))
    comments = fake_github.issue_comments(pr)
    assert result.ok and len(comments) == 1 and result.comment_url == comments[0]["html_url"]


def test_502_before_storing_posts_again(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("POST", r"/issues/\d+/comments$", "bad_gateway", times=2)
    result, _ = publish(fake_github, PullRequestTarget(pr))
    assert result.ok and len(fake_github.issue_comments(pr)) == 1
    assert fake_github.count("POST", r"/comments$") == 3


def test_persistent_5xx_is_reported_and_bounded(fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("GET", r"/pulls/\d+$", "server_error", times=50)
    result, _ = publish(fake_github, PullRequestTarget(pr))
    assert not result.ok and "githubstatus" in result.errors[0].diagnostics()
    assert fake_github.count("GET", r"/pulls/\d+$") == 4  # first try + max_retries (3)


def test_primary_rate_limit_fails_fast_instead_of_sleeping_an_hour(
        fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("GET", r"/issues/\d+/comments$", "primary", times=10)
    result, _ = publish(fake_github, PullRequestTarget(pr))
    assert not result.ok and "rate-limited" in result.errors[0].what
    assert fake_github.count("GET", r"/issues/\d+/comments$") == 1


def test_oversized_worklog_is_trimmed_below_githubs_limit(fake_github: FakeGitHub) -> None:
    many = [cluster(f"C{i}", f"P{min(4, i // 40)}", f"{i:016x}", f"Failure number {i} " + "x" * 200,
                    10, message="m" * 3000) for i in range(200)]
    pr = fake_github.add_pull(head_sha=SHA)
    result, _ = publish(fake_github, PullRequestTarget(pr), worklog(many),
                        worklog_url="https://github.com/acme/shop/actions/runs/1")
    body = fake_github.issue_comments(pr)[0]["body"]
    assert result.ok and len(body) <= 65_536
    assert "Trimmed to fit GitHub's 65,536-character limit" in body
    assert "(<https://github.com/acme/shop/actions/runs/1>)" in body


def test_api_url_path_prefix_is_honoured() -> None:
    with FakeGitHub(base_path="/ghe/api/v3") as ghes:
        pr = ghes.add_pull(head_sha=SHA)
        result, _ = publish(ghes, PullRequestTarget(pr))
    assert result.ok
    assert all(path.startswith("/ghe/api/v3/") for _, path in ghes.log)


@pytest.mark.parametrize("sha", ["", "xyz", "g" * 40])
def test_bad_sha_is_a_usage_error(fake_github: FakeGitHub, sha: str) -> None:
    from gardener.errors import ConfigError
    with pytest.raises(ConfigError, match="not a commit SHA"):
        publish(fake_github, CommitTarget(sha))
    assert not re.search("POST", str(fake_github.log))


def test_pygithub_default_retry_would_post_twice_which_is_why_we_configure_it(
        fake_github: FakeGitHub) -> None:
    from github import Auth, Github
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("POST", r"/issues/\d+/comments$", "bad_gateway", after_store=True)
    plain = Github(auth=Auth.Token(fake_github.token), base_url=fake_github.url,
                   seconds_between_writes=None, seconds_between_requests=None)
    plain.get_repo("acme/shop").get_issue(pr).create_comment("hello")
    assert len(fake_github.issue_comments(pr)) == 2  # the boundary fact our publisher avoids


def test_unreachable_api_url_says_which_url(fake_github: FakeGitHub) -> None:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    out = io.StringIO()
    result = publish_worklog(seed_worklog(), target=PullRequestTarget(1), out=out,
                             github=fast_settings(fake_github, max_retries=0,
                                                  api_url=f"http://127.0.0.1:{port}/api/v3"))
    text = result.errors[0].diagnostics()
    assert f"Cannot reach GitHub at http://127.0.0.1:{port}/api/v3" in text
    assert "GITHUB_API_URL" in text


def test_sticky_comment_is_found_on_a_later_page() -> None:
    with FakeGitHub(max_per_page=4) as fake:
        pr = fake.add_pull(head_sha=SHA)
        with fake.store.lock:
            for i in range(13):
                human = comment_json(fake.store, pr, f"review note {i}")
                fake.store.comments[human["id"]] = human
        publish(fake, PullRequestTarget(pr))
        publish(fake, PullRequestTarget(pr), seed_worklog(fail_on="P4"))
        comments = fake.issue_comments(pr)
        pages = fake.count("GET", r"/issues/\d+/comments$")
    assert len(comments) == 14 and "Failed on `P4`" in comments[-1]["body"]
    assert pages == 2 * 4  # two runs, four pages of four each
