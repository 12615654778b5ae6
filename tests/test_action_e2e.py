"""The action end to end, in-process: real event payloads, the real google-auth, Cloud Logging and
PyGithub clients against the local fake Google and GitHub servers.

OIDC token -> STS -> impersonation -> entries:list -> worklog -> comment or issues -> outputs,
job summary, annotations -> exit code, for a healthy deploy, a P0 deploy, unreadable logs (never
a pass), a publish failure (the verdict still right) and bad input.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gardener.action import main
from tests.fakes.action import (
    HEAD,
    NOW,
    Job,
    event_payload,
    example_entries,
    healthy_entries,
    one_p0_entries,
    prepare,
)
from tests.fakes.github import FakeGitHub, fake_github
from tests.fakes.github_state import APP_BOT
from tests.fakes.google import REQUEST_TOKEN, FakeGoogle, fake_google, loopback_only

__all__ = ["fake_github", "fake_google", "loopback_only"]  # fixtures, imported for pytest


@pytest.fixture
def google(fake_google: FakeGoogle) -> FakeGoogle:
    """The fake Google APIs; any name look-up beyond loopback fails the test."""
    return fake_google


@pytest.fixture
def github(fake_github: FakeGitHub) -> FakeGitHub:
    return fake_github


def run(job: Job) -> Job:
    out = io.StringIO()
    job.code = main(job.env, out=out, now=lambda: NOW)
    job.stdout = out.getvalue()
    return job


def assert_tokens_never_shown(job: Job, github: FakeGitHub) -> None:
    lines = job.stdout.splitlines()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert masks[:2] == [f"::add-mask::{github.token}", f"::add-mask::{REQUEST_TOKEN}"]
    first_other = next(i for i, line in enumerate(lines) if not line.startswith("::add-mask::"))
    assert all(line.startswith("::add-mask::") for line in lines[:first_other])
    for secret in (github.token, REQUEST_TOKEN, "ya29.fake"):
        shown = [line for line in lines[first_other:] if secret in line]
        assert shown == [], secret
    assert github.token not in job.summary and "ya29.fake" not in job.summary


def test_healthy_deploy_on_push_passes_and_comments_on_the_merged_pr(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    google.set_entries(healthy_entries())
    pr = github.add_pull(head_sha=HEAD, state="closed", merged=True)
    job = run(prepare(tmp_path, google, github, "push"))
    assert job.code == 0, job.stdout
    outputs = job.outputs
    assert outputs["verdict"] == "pass" and outputs["max_priority"] == "P4"
    assert outputs["p0_clusters"] == "0" and int(outputs["clusters"]) > 5
    comments = github.issue_comments(pr)
    assert len(comments) == 1 and outputs["comment_url"] == comments[0]["html_url"]
    assert job.commands("error") == [] and job.commands("warning") == []
    assert job.summary.startswith("## ✅ Log Gardener: pass (exit code 0)")
    assert f"Worklog comment: {outputs['comment_url']}" in job.summary
    # The whole chain ran: OIDC token -> STS exchange -> impersonation -> entries:list.
    assert [google.count(s) > 0 for s in ("oidc", "sts", "iam", "logging")] == [True] * 4
    assert (job.workspace / outputs["worklog_json"]).is_file()
    assert (job.workspace / outputs["worklog_markdown"]).read_text().startswith("# Log Gardener")
    assert_tokens_never_shown(job, github)


def test_p0_deploy_on_a_pull_request_fails_with_annotations_on_the_source(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    google.set_entries(example_entries())
    job = run(prepare(tmp_path, google, github, "pull_request"))
    assert job.code == 1, job.stdout
    outputs = job.outputs
    assert (outputs["verdict"], outputs["max_priority"]) == ("fail", "P0")
    assert int(outputs["p0_clusters"]) >= 1
    # The hour before the deploy (the baseline) has no entries: every cluster is new.
    assert outputs["new_clusters"] == outputs["clusters"]
    errors = job.annotations("error")
    pinned = [e for e in errors if (e.get("file"), e.get("line")) == ("netra_backend/app/smd.py",
                                                                        "1005")]
    assert pinned and "Database initialization timeout" in pinned[0]["message"]
    assert errors[-1]["title"] == "Log Gardener: gate failed"
    assert any(w["title"].startswith("Log Gardener P1") for w in job.annotations("warning"))
    pr = int(outputs["comment_url"].rsplit("/pull/", 1)[1].split("#")[0])
    body = github.issue_comments(pr)[0]["body"]
    assert "Database initialization timeout" in body
    assert job.summary.startswith("## ❌ Log Gardener: fail (exit code 1)")
    assert_tokens_never_shown(job, github)


def test_deployment_status_reads_from_the_deploy_time_and_comments_on_the_commit(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    google.set_entries(healthy_entries())
    github.add_commit(HEAD)
    job = run(prepare(tmp_path, google, github, "deployment_status", window="deploy"))
    assert job.code == 0, job.stdout
    filters = [call.body.get("filter", "") for call in google.list_calls()]
    since_deploy = [f for f in filters if 'timestamp>="2025-09-15T23:46:21' in f]
    # the baseline ends a nanosecond before the deploy: an entry at that instant is read once
    baseline = [f for f in filters if 'timestamp<="2025-09-15T23:46:20.999999999Z"' in f]
    assert since_deploy and baseline, filters
    assert job.outputs["new_clusters"] != ""
    assert f"/commit/{HEAD}" in job.outputs["comment_url"]


def test_workflow_run_comments_on_the_pull_request_it_names(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    google.set_entries(healthy_entries())
    job = run(prepare(tmp_path, google, github, "workflow_run"))
    assert job.code == 0 and "/pull/" in job.outputs["comment_url"]


def test_schedule_files_one_issue_per_urgent_cluster(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    google.set_entries(one_p0_entries())
    job = run(prepare(tmp_path, google, github, "schedule", fail_on="never",
                      issue_min_priority="P0"))
    assert job.code == 0, job.stdout
    issues = github.ours()
    assert job.outputs["verdict"] == "pass" and job.outputs["max_priority"] == "P0"
    assert len(issues) == int(job.outputs["p0_clusters"]) >= 1
    assert any("Database initialization timeout" in i["title"] for i in issues)
    assert job.outputs["comment_url"] == issues[0]["html_url"]
    assert f"Issues: {len(issues)} opened, 0 reopened, 0 updated" in job.summary


def test_workflow_dispatch_dry_run_posts_nothing(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    google.set_entries(example_entries())
    job = run(prepare(tmp_path, google, github, "workflow_dispatch", dry_run="true"))
    assert job.code == 1 and job.outputs["verdict"] == "fail"
    assert github.count("POST") == 0 and github.count("PATCH") == 0
    assert job.outputs["comment_url"] == ""
    assert "Dry run: nothing was posted" in job.summary


def test_log_text_can_never_issue_a_workflow_command(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    hostile = dict(example_entries()[0], insertId="hostile-1",
                   textPayload="boom\n::add-mask::hidden\n::set-output name=verdict::pass")
    hostile.pop("jsonPayload", None)
    google.set_entries([*example_entries(), hostile])
    job = run(prepare(tmp_path, google, github, "workflow_dispatch", dry_run="true"))
    obeyed = job.commands("add-mask") + job.commands("set-output")
    assert all("hidden" not in line for line in obeyed)
    assert job.outputs["verdict"] == "fail"


# A 503 storm is left out: the reader retries it for two minutes before giving up.
@pytest.mark.parametrize("fault", ["permission", "bad_filter", "attribute_condition"])
def test_unreadable_logs_are_an_error_never_a_pass(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub, fault: str) -> None:
    google.set_entries(healthy_entries())
    inputs = {"filter": 'severity>=(ERROR'} if fault == "bad_filter" else {}
    if fault == "permission":
        google.viewers = set()  # nobody holds roles/logging.viewer
    elif fault == "attribute_condition":
        google.repositories = {"someone-else/repo"}  # the provider's attribute condition
    job = run(prepare(tmp_path, google, github, "push", **inputs))
    assert job.code in (2, 3), job.stdout
    assert job.outputs["verdict"] == "error" and job.outputs["clusters"] == ""
    errors = job.annotations("error")
    assert errors and errors[-1]["title"] in ("Log Gardener: could not read the logs",
                                              "Log Gardener: bad input or configuration")
    assert job.summary.startswith(f"## ⚠️ Log Gardener: error (exit code {job.code})")
    assert github.count("POST") == 0


def test_a_bug_in_the_analysis_is_an_internal_error_never_a_verdict(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug of ours (stood in for by a renderer that raises, quoting a secret from the logs)
    is exit 4 and verdict `error`, annotated as an internal error, its message redacted, and
    nothing is published."""
    secret = "postgres://app:" + "s3cr3tPassw0rd" + "@10.0.0.5/db"

    def broken(report: object, samples: int = 3) -> object:
        raise ValueError(f"cannot render sample from {secret}")

    monkeypatch.setattr("gardener.cli.to_document", broken)
    google.set_entries(healthy_entries())
    job = run(prepare(tmp_path, google, github, "push"))
    assert job.code == 4, job.stdout
    assert job.outputs["verdict"] == "error"
    errors = job.annotations("error")
    assert errors and errors[-1]["title"] == "Log Gardener: internal error"
    assert "internal error, the gate did not decide: ValueError" in errors[-1]["message"]
    assert job.summary.startswith("## ⚠️ Log Gardener: error (exit code 4)")
    assert "s3cr3tPassw0rd" not in job.stdout and "s3cr3tPassw0rd" not in job.summary
    assert github.count("POST") == 0


@pytest.mark.parametrize("entries, code, verdict", [(healthy_entries, 0, "pass"),
                                                    (example_entries, 1, "fail")])
def test_a_publish_failure_never_changes_the_verdict(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub, entries: object, code: int,
        verdict: str) -> None:
    google.set_entries(entries())  # type: ignore[operator]
    github.inject("POST", r"/comments$", "forbidden", times=5)
    job = run(prepare(tmp_path, google, github, "pull_request"))
    assert (job.code, job.outputs["verdict"]) == (code, verdict), job.stdout
    assert job.outputs["comment_url"] == ""
    warnings = [w for w in job.annotations("warning")
                if w["title"] == "Log Gardener: could not publish"]
    assert warnings and "pull-requests: write" in warnings[0]["message"]
    assert "Not published" in job.summary


def test_bad_input_is_exit_2_before_anything_is_read(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    job = run(prepare(tmp_path, google, github, "push", dry_run="yes"))
    assert job.code == 2
    assert job.outputs["verdict"] == "error"
    [error] = job.annotations("error")
    assert error["title"] == "Log Gardener: bad input or configuration"
    assert error["message"].startswith("input dry_run: 'yes' is not a boolean")
    assert google.calls == [] and github.log == []


def test_the_workspace_config_decides_the_gate_when_fail_on_is_empty(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    google.set_entries(example_entries())
    job = prepare(tmp_path, google, github, "push", publish="none")
    (job.workspace / ".gardener.yml").write_text("version: 1\nfail_on: never\n")
    job = run(job)
    assert (job.code, job.outputs["verdict"], job.outputs["max_priority"]) == (0, "pass", "P0")


def test_a_bad_config_is_exit_2_with_its_position(
        tmp_path: Path, google: FakeGoogle, github: FakeGitHub) -> None:
    google.set_entries(example_entries())
    job = prepare(tmp_path, google, github, "push", config="ops/gardener.yml")
    (job.workspace / "ops").mkdir()
    (job.workspace / "ops" / "gardener.yml").write_text("version: 1\nfail_on: P0\nrulez: []\n")
    job = run(job)
    assert job.code == 2 and job.outputs["verdict"] == "error"
    [error] = job.annotations("error")
    assert "gardener.yml:3" in error["message"] and "rulez" in error["message"]


def test_a_github_app_token_updates_its_own_comment_with_the_bot_login_setting(
        tmp_path: Path, google: FakeGoogle) -> None:
    """An App's installation token writes as `<slug>[bot]`, which it cannot ask GitHub for: the
    action passes GARDENER_BOT_LOGIN through, so the second run edits the first run's comment
    instead of posting another."""
    google.set_entries(healthy_entries())
    with FakeGitHub(bot=APP_BOT) as github:
        urls, payload = [], event_payload("pull_request", github)
        for attempt in ("first", "second"):
            job = prepare(tmp_path / attempt, google, github, "pull_request", payload)
            job.env["GARDENER_BOT_LOGIN"] = "log-gardener-app"
            assert run(job).code == 0, job.stdout
            urls.append(job.outputs["comment_url"])
        assert urls[0] == urls[1], job.stdout
        pr = int(urls[0].rsplit("/pull/", 1)[1].split("#")[0])
        [comment] = github.issue_comments(pr)
        assert comment["user"]["login"] == "log-gardener-app[bot]"
        assert github.count("POST", r"/comments$") == 1  # the second run found it as its own
