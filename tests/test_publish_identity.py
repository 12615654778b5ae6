"""Whose comments and issues count as ours: one rule for the sticky comment and the issues.

The token's login from `GET /user` (a personal access token); for an installation token, which is
refused `GET /user`, only the bot it writes as: `github-actions[bot]` for the workflow's
GITHUB_TOKEN, or the GitHub App's `<slug>[bot]` named in GARDENER_BOT_LOGIN. Real PyGithub against
the fake GitHub on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from gardener.errors import ConfigError
from gardener.model import Priority
from gardener.publish import (
    IssuesTarget,
    PublishResult,
    PullRequestTarget,
)
from gardener.publish.args import add_publish_arguments
from gardener.publish.cli import run_publish
from gardener.publish.issues import regressed_note
from gardener.publish.model import GitHubSettings
from tests.fakes.github import (
    ALICE,
    APP_BOT,
    BOT,
    DEPENDABOT,
    FakeGitHub,
    fake_github,
)
from tests.fakes.publishing import LATER, MARKER, P0, publish
from tests.fakes.worklogs import seed_worklog

__all__ = ["fake_github"]  # the fixture, imported for pytest
SHA = "b0a7c3d1" * 5
DEPLOYER = {"login": "deploy-machine", "id": 77, "node_id": "MDQ6VXNlcjc3", "type": "User",
            "site_admin": False}
GITHUB_ACTIONS_BOT = "github-actions[bot]"


def p0_only(fake: FakeGitHub, **settings: Any) -> PublishResult:
    doc = seed_worklog()
    doc["clusters"] = doc["clusters"][:1]
    return publish(fake, IssuesTarget(min_priority=Priority.P0), doc, **settings)


def copied_issue_body() -> str:
    """The body of our P0 issue, as someone copying it into a new issue would paste it."""
    with FakeGitHub() as elsewhere:
        assert p0_only(elsewhere).ok
        return str(elsewhere.ours()[0]["body"])


def marked(fake: FakeGitHub, pr: int) -> dict[str, dict[str, Any]]:
    return {c["user"]["login"]: c for c in fake.issue_comments(pr)
            if c["body"].startswith(MARKER)}


# -- the rule itself -------------------------------------------------------------------------

def test_the_rule_compares_the_login_and_for_bots_also_the_type() -> None:
    from gardener.publish.identity import GITHUB_ACTIONS_BOT, Identity, written_by
    actions = Identity(GITHUB_ACTIONS_BOT, bot=True)
    assert written_by(BOT, actions)
    assert not written_by(DEPENDABOT, actions) and not written_by(APP_BOT, actions)
    assert not written_by({**BOT, "type": "User"}, actions)  # no person can hold a [bot] login
    assert not written_by(None, actions) and not written_by({}, actions)
    person = Identity("Deploy-Machine", bot=False)
    assert written_by(DEPLOYER, person)  # logins are case-insensitive
    assert not written_by(ALICE, person) and not written_by(BOT, person)


def test_bot_login_setting_must_be_an_app_bot_login() -> None:
    assert GitHubSettings(token="t", repo="a/b").bot_login == "github-actions[bot]"
    assert GitHubSettings(token="t", repo="a/b", bot_login="my-app[bot]").bot_login == "my-app[bot]"
    for bad in ("alice", "my app[bot]", "[bot]", "x" * 40 + "[bot]", "a[bot][bot]"):
        with pytest.raises(ConfigError, match="GARDENER_BOT_LOGIN"):
            GitHubSettings(token="t", repo="a/b", bot_login=bad)


# -- issues: only ours are updated, reopened or commented -------------------------------------

@pytest.mark.parametrize("closed", [False, True])
def test_an_issue_a_person_opened_with_our_marker_is_left_alone(fake_github: FakeGitHub,
                                                                closed: bool) -> None:
    body = copied_issue_body()
    theirs = fake_github.add_issue("[P0] copied from the other repo", body, ALICE)
    if closed:
        fake_github.close(theirs)
    result = p0_only(fake_github)
    assert result.ok and len(result.issues_created) == 1
    assert not result.issues_updated and not result.issues_reopened
    issues = {i["number"]: i for i in fake_github.ours()}
    assert issues[theirs]["body"] == body and issues[theirs]["user"]["login"] == "alice"
    assert issues[theirs]["state"] == ("closed" if closed else "open")
    assert not fake_github.issue_comments(theirs)
    assert fake_github.count("PATCH") == 0
    mine = issues[result.issues_created[0].number]
    assert mine["user"]["login"] == GITHUB_ACTIONS_BOT and f"fingerprint={P0} " in mine["body"]


def test_an_issue_another_bot_opened_with_our_marker_is_left_alone(
        fake_github: FakeGitHub) -> None:
    theirs = fake_github.add_issue("[P0] a bot's copy", copied_issue_body(), DEPENDABOT)
    result = p0_only(fake_github)
    assert result.ok and len(result.issues_created) == 1 and not result.issues_updated
    assert fake_github.count("PATCH", rf"/issues/{theirs}$") == 0


def test_with_a_personal_token_issues_by_github_actions_are_not_ours() -> None:
    with FakeGitHub(user=DEPLOYER) as fake:
        theirs = fake.add_issue("[P0] posted by the workflow", copied_issue_body(), BOT)
        first = p0_only(fake)
        second = p0_only(fake)
        assert first.ok and len(first.issues_created) == 1
        assert second.ok and [i.number for i in second.issues_updated] == \
            [first.issues_created[0].number]
        assert fake.count("PATCH", rf"/issues/{theirs}$") == 0
        assert fake.ours()[-1]["user"]["login"] == "deploy-machine"


def test_a_regression_note_by_someone_else_does_not_stand_in_for_ours(
        fake_github: FakeGitHub) -> None:
    number = p0_only(fake_github).issues_created[0].number
    fake_github.close(number)
    doc = seed_worklog()
    note = regressed_note(doc, doc["clusters"][0], "", IssuesTarget().mute_labels)
    fake_github.add_comment(number, note, ALICE)
    fake_github.inject("POST", r"/issues/\d+/comments$", "bad_gateway")  # not stored: look again
    result = p0_only(fake_github, max_retries=1)
    assert result.ok and [i.number for i in result.issues_reopened] == [number]
    by = [c["user"]["login"] for c in fake_github.issue_comments(number)]
    assert by == ["alice", GITHUB_ACTIONS_BOT]


# -- the sticky comment: GITHUB_TOKEN means github-actions[bot], not any bot ------------------

def test_another_bots_comment_with_our_marker_is_not_taken_for_ours(
        fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    theirs = f"{MARKER}\nposted by another app"
    fake_github.add_comment(pr, theirs, DEPENDABOT)
    for doc in (seed_worklog(), seed_worklog(**LATER)):
        assert publish(fake_github, PullRequestTarget(pr), doc).ok
    by_login = marked(fake_github, pr)
    assert set(by_login) == {"dependabot[bot]", GITHUB_ACTIONS_BOT}
    assert by_login["dependabot[bot]"]["body"] == theirs
    assert fake_github.count("POST", r"/comments$") == 1
    assert fake_github.count("PATCH", r"/issues/comments/\d+$") == 1


def test_a_github_app_token_edits_its_own_comment_when_told_its_bot_login() -> None:
    with FakeGitHub(bot=APP_BOT) as fake:
        pr = fake.add_pull(head_sha=SHA)
        fake.add_comment(pr, f"{MARKER}\nthe workflow's", BOT)
        for doc in (seed_worklog(), seed_worklog(**LATER)):
            assert publish(fake, PullRequestTarget(pr), doc,
                           bot_login="log-gardener-app[bot]").ok
        by_login = marked(fake, pr)
        assert set(by_login) == {GITHUB_ACTIONS_BOT, "log-gardener-app[bot]"}
        assert by_login[GITHUB_ACTIONS_BOT]["body"] == f"{MARKER}\nthe workflow's"
        assert fake.count("POST", r"/comments$") == 1


def test_a_github_app_token_without_its_bot_login_says_what_to_set() -> None:
    with FakeGitHub(bot=APP_BOT) as fake:
        pr = fake.add_pull(head_sha=SHA)
        result = publish(fake, PullRequestTarget(pr))
        assert len(fake.issue_comments(pr)) == 1  # posted, but the next run could not find it
    assert not result.ok
    text = result.errors[0].diagnostics()
    assert "log-gardener-app[bot]" in text and "GARDENER_BOT_LOGIN=log-gardener-app[bot]" in text


def test_the_cli_reads_the_bot_login_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "worklog.json"
    path.write_text(json.dumps(seed_worklog()), encoding="utf-8")
    parser = argparse.ArgumentParser()
    add_publish_arguments(parser)
    args = parser.parse_args(["--worklog", str(path), "--repo", "acme/shop", "--pr", "1",
                              "--write-interval", "0"])
    with FakeGitHub(bot=APP_BOT) as fake:
        pr = fake.add_pull(head_sha=SHA)
        env = {"GITHUB_TOKEN": fake.token, "GITHUB_API_URL": fake.url,
               "GITHUB_WORKFLOW": "Deploy"}
        args.pr = pr
        for slug in ("log-gardener-app", "log-gardener-app[bot]"):  # the slug alone is enough
            out = io.StringIO()
            assert run_publish(args, {**env, "GARDENER_BOT_LOGIN": slug}, out) == 0, \
                out.getvalue()
        assert fake.count("POST", r"/comments$") == 1
        out = io.StringIO()
        assert run_publish(args, {**env, "GARDENER_BOT_LOGIN": "not a login"}, out) == 2
        assert "GARDENER_BOT_LOGIN" in out.getvalue()
