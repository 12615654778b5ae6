"""`gardener publish` in-process: flags, environment, dry run, exit codes."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from gardener.publish.args import add_publish_arguments
from gardener.publish.cli import run_publish
from gardener.publish.comment import render_comment
from gardener.publish.markers import CommentKey
from tests.fakes.github import FakeGitHub, fake_github
from tests.fakes.worklogs import seed_worklog

__all__ = ["fake_github"]  # the fixture, imported for pytest
SHA = "c0ffee00" * 5


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gardener publish")
    add_publish_arguments(p)
    return p


def cli(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = run_publish(parser().parse_args(argv), env or {}, out)
    return code, out.getvalue()


@pytest.fixture
def doc_path(tmp_path: Path) -> Path:
    path = tmp_path / "worklog.json"
    path.write_text(json.dumps(seed_worklog()), encoding="utf-8")
    return path


def env_for(fake: FakeGitHub, **extra: str) -> dict[str, str]:
    return {"GITHUB_TOKEN": fake.token, "GITHUB_API_URL": fake.url, **extra}


def test_dry_run_prints_exactly_the_comment_and_needs_no_network(doc_path: Path) -> None:
    code, out = cli(["--worklog", str(doc_path), "--repo", "acme/shop", "--pr", "7",
                     "--workflow", "deploy", "--dry-run"])
    expected = render_comment(seed_worklog(), CommentKey.of("netra-backend-staging", "deploy"))
    assert code == 0
    assert expected.rstrip() in out and "DRY RUN" in out and "pull request #7" in out


def test_dry_run_of_issues_reads_but_never_writes(fake_github: FakeGitHub, doc_path: Path) -> None:
    assert cli(["--worklog", str(doc_path), "--repo", "acme/shop", "--issues",
                "--write-interval", "0"], env_for(fake_github))[0] == 0
    writes = fake_github.count("POST") + fake_github.count("PATCH")
    later = seed_worklog(start="2025-09-16T00:46:21Z", end="2025-09-16T01:46:21Z")
    doc_path.write_text(json.dumps(later), encoding="utf-8")
    code, out = cli(["--worklog", str(doc_path), "--repo", "acme/shop", "--issues", "--dry-run"],
                    env_for(fake_github))
    assert code == 0 and out.count("DRY RUN: would rewrite issue #") == 5
    assert "would open" not in out
    assert fake_github.count("POST") + fake_github.count("PATCH") == writes


def dry_run_body(out: str, heading: str) -> str:
    """The body printed under the first DRY RUN heading that starts with `heading`."""
    rule = "=" * 72 + "\n"
    after = out.split(f"DRY RUN: {heading}", 1)[1]
    return after.split(rule)[1].rstrip()


def test_dry_run_of_an_update_shows_the_note_above_the_marker_as_the_real_run_writes_it(
        fake_github: FakeGitHub, doc_path: Path) -> None:
    issues = ["--worklog", str(doc_path), "--repo", "acme/shop", "--issues", "--min-priority",
              "P0", "--write-interval", "0"]
    assert cli(issues, env_for(fake_github))[0] == 0
    note = "**Owner: @alice** (root cause in PR 41)"
    with fake_github.store.lock:
        issue = fake_github.store.issues[1]
        issue["body"] = f"{note}\n\n{issue['body']}"
    later = seed_worklog(start="2025-09-16T00:46:21Z", end="2025-09-16T01:46:21Z")
    doc_path.write_text(json.dumps(later), encoding="utf-8")
    code, out = cli([*issues, "--dry-run"], env_for(fake_github))
    previewed = dry_run_body(out, "would rewrite issue #1 ")
    assert code == 0 and previewed.startswith(note + "\n\n<!-- log-gardener:fingerprint=")
    assert cli(issues, env_for(fake_github))[0] == 0
    assert fake_github.ours()[0]["body"].rstrip() == previewed


def test_publishes_with_token_and_api_url_from_the_environment(fake_github: FakeGitHub,
                                                               doc_path: Path) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    env = env_for(fake_github, GITHUB_SERVER_URL="https://github.com", GITHUB_RUN_ID="42",
                  GITHUB_REPOSITORY="acme/shop", GITHUB_WORKFLOW="Deploy staging")
    code, out = cli(["--worklog", str(doc_path), "--pr", str(pr)], env)
    body = fake_github.issue_comments(pr)[0]["body"]
    assert code == 0 and "comment on pull request" in out
    assert body.startswith("<!-- log-gardener:comment service=netra-backend-staging "
                           "workflow=Deploy_staging -->")
    assert "(<https://github.com/acme/shop/actions/runs/42>)" in body


def test_commit_flag_and_marker_key(fake_github: FakeGitHub, doc_path: Path) -> None:
    fake_github.add_commit(SHA)
    code, _ = cli(["--worklog", str(doc_path), "--repo", "acme/shop", "--commit", SHA,
                   "--marker-key", "backend"], env_for(fake_github))
    (comment,) = fake_github.store.commit_comments.values()
    assert code == 0 and "service=backend workflow=" in comment["body"]


def test_issue_flags(fake_github: FakeGitHub, doc_path: Path) -> None:
    code, out = cli(["--worklog", str(doc_path), "--repo", "acme/shop", "--issues",
                     "--min-priority", "p1", "--max-new-issues", "1", "--write-interval", "0"],
                    env_for(fake_github))
    assert code == 0 and len(fake_github.ours()) == 1
    assert "issues: 1 opened, 0 updated, 0 reopened, 1 left alone" in out


@pytest.mark.parametrize(("argv", "env", "message"), [
    (["--pr", "1", "--repo", "a/b"], {}, "GITHUB_TOKEN is not set"),
    (["--pr", "1"], {"GITHUB_TOKEN": "t"}, "no repository"),
    (["--pr", "0", "--repo", "a/b"], {"GITHUB_TOKEN": "t"}, "not a pull request number"),
    (["--issues", "--repo", "a/b", "--min-priority", "P9"], {"GITHUB_TOKEN": "t"}, "P9"),
    (["--commit", "nothex", "--repo", "a/b"], {"GITHUB_TOKEN": "t"}, "not a commit SHA"),
    (["--pr", "1", "--repo", "not-a-repo"], {"GITHUB_TOKEN": "t"}, "OWNER/NAME"),
    (["--pr", "1", "--repo", "a/b"], {"GITHUB_TOKEN": "t", "GITHUB_API_URL": "ftp://x"},
     "GITHUB_API_URL"),
    (["--pr", "1", "--repo", "a/b", "--write-interval", "-1"], {"GITHUB_TOKEN": "t"},
     "non-negative"),
])
def test_usage_errors_exit_2(doc_path: Path, argv: list[str], env: dict[str, str],
                             message: str) -> None:
    code, out = cli(["--worklog", str(doc_path), *argv], env)
    assert code == 2 and message in out


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read the worklog"), ("{not json", "is not JSON"), ("[]", "not a JSON object"),
    (json.dumps({"schema_version": 2}), "schema_version 2"),
])
def test_bad_worklog_exits_2(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "w.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out = cli(["--worklog", str(path), "--repo", "a/b", "--pr", "1", "--dry-run"])
    assert code == 2 and message in out


def test_one_target_only() -> None:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(["--worklog", "w", "--pr", "1", "--issues"])
    assert exit_.value.code == 2


def test_publish_failure_exits_3_with_an_annotation(fake_github: FakeGitHub,
                                                    doc_path: Path) -> None:
    pr = fake_github.add_pull(head_sha=SHA)
    fake_github.inject("POST", r"/comments$", "forbidden")
    code, out = cli(["--worklog", str(doc_path), "--repo", "acme/shop", "--pr", str(pr)],
                    env_for(fake_github, GITHUB_ACTIONS="true"))
    assert code == 3
    assert "::error title=Log Gardener publish::GitHub refused to comment" in out
    assert "pull-requests: write" in out and "%0A" in out


def test_fork_pull_request_is_a_warning_not_a_failure(doc_path: Path) -> None:
    with FakeGitHub(read_only_tokens=("ro",)) as fake:
        pr = fake.add_pull(head_sha=SHA, fork=True)
        env: dict[str, Any] = {"GITHUB_TOKEN": "ro", "GITHUB_API_URL": fake.url,
                               "GITHUB_ACTIONS": "true"}
        code, out = cli(["--worklog", str(doc_path), "--repo", "acme/shop", "--pr", str(pr)],
                        env)
    assert code == 0 and "::warning title=Log Gardener publish::" in out and "fork" in out


def test_the_package_names_are_its_modules_names() -> None:
    """`gardener.publish` loads its names on first use: each must be the one its module defines."""
    import importlib

    import gardener.publish as package

    for name in package.__all__:
        home = package._HOMES[name]
        assert getattr(package, name) is getattr(
            importlib.import_module(f"gardener.publish.{home}"), name)
    with pytest.raises(AttributeError):
        _ = package.not_a_name
