"""The action's pure parts: strict INPUT_* parsing, event -> publish target, window -> flags."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gardener.action import analyze_argv, choose_target, window_arguments
from gardener.action_inputs import (
    INPUT_DEFAULTS,
    PublishMode,
    Window,
    parse_bool,
    parse_inputs,
    parse_window,
)
from gardener.actions_runtime import commit_sha, deploy_time, load_event, pull_number
from gardener.errors import ConfigError, InputError
from gardener.model import Priority, Severity
from gardener.publish import CommitTarget, IssuesTarget, PullRequestTarget

EVENTS = Path(__file__).parent / "fixtures" / "events"
HEAD = "5f3c2a9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
RUN_SHA = "1111111111111111111111111111111111111111"
NOW = datetime(2025, 9, 16, 0, 46, 21, tzinfo=UTC)
WIF = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/acme-shop"


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data


def env_of(**inputs: str) -> dict[str, str]:
    base = {"project_id": "acme-prod", "service": "shop"}
    return {f"INPUT_{k.upper()}": v for k, v in {**base, **inputs}.items()}


@pytest.mark.parametrize("text, expected", [("true", True), ("True", True), ("TRUE", True),
                                            ("false", False), ("False", False),
                                            ("FALSE", False)])
def test_booleans_follow_the_runners_rule(text: str, expected: bool) -> None:
    assert parse_bool("dry_run", text) is expected


@pytest.mark.parametrize("text", ["yes", "1", "on", "tRuE", "", "false "])
def test_anything_else_is_not_a_boolean(text: str) -> None:
    with pytest.raises(ConfigError, match="dry_run.*not a boolean") as caught:
        parse_bool("dry_run", text)
    assert "dry_run: true" in caught.value.fix


def test_defaults_give_a_cloud_run_read_of_the_last_hour(tmp_path: Path) -> None:
    inputs = parse_inputs(env_of(), tmp_path)
    assert inputs.window == Window(since=timedelta(hours=1))
    assert inputs.min_severity is Severity.DEFAULT and inputs.max_entries == 5000
    assert inputs.publish is PublishMode.AUTO and inputs.issue_min_priority is Priority.P3
    assert inputs.fail_on == "" and inputs.dry_run is False
    assert inputs.config == ""  # no .gardener.yml in the workspace: built-in rules


def test_the_default_config_is_used_when_the_workspace_has_one(tmp_path: Path) -> None:
    (tmp_path / ".gardener.yml").write_text("fail_on: P1\n")
    assert parse_inputs(env_of(), tmp_path).config == str(tmp_path / ".gardener.yml")


def test_an_explicit_config_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ops/gardener.yml does not exist"):
        parse_inputs(env_of(config="ops/gardener.yml"), tmp_path)


@pytest.mark.parametrize("inputs, message", [
    ({"dry_run": "yes"}, "dry_run"),
    ({"window": "an hour"}, "window"),
    ({"window": "0m"}, "window"),
    ({"window": "2025-09-15 23:46"}, "window"),
    ({"max_entries": "5k"}, "max_entries"),
    ({"max_entries": "0"}, "max_entries"),
    ({"max_entries": "-5"}, "max_entries"),
    ({"min_severity": "LOUD"}, "min_severity"),
    ({"fail_on": "P9"}, "fail-on"),
    ({"publish": "slack"}, "publish"),
    ({"issue_min_priority": "high"}, "issue_min_priority"),
    ({"project_id": ""}, "project_id"),
    ({"service": ""}, "either service"),
    ({"cluster": "prod"}, "either service"),
    ({"namespace": "web"}, "either service"),
    ({"workload_identity_provider": "github/acme-shop"}, "workload_identity_provider"),
    ({"service_account": "robot"}, "service_account"),
])
def test_bad_inputs_are_config_errors_naming_the_input(tmp_path: Path, inputs: dict[str, str],
                                                       message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_inputs(env_of(**inputs), tmp_path)


def test_gke_and_identity_inputs_are_accepted(tmp_path: Path) -> None:
    env = env_of(service="", cluster="prod", namespace="web", container="api",
                 workload_identity_provider=WIF,
                 service_account="log-gardener@acme-prod.iam.gserviceaccount.com",
                 min_severity="warning", max_entries="250", fail_on="P1,new>=P2",
                 publish="issues", issue_min_priority="p2", dry_run="TRUE")
    inputs = parse_inputs(env, tmp_path)
    assert (inputs.cluster, inputs.namespace, inputs.container) == ("prod", "web", "api")
    assert inputs.min_severity is Severity.WARNING and inputs.max_entries == 250
    assert inputs.issue_min_priority is Priority.P2 and inputs.dry_run is True


def test_every_input_has_a_default_that_parses(tmp_path: Path) -> None:
    env = {f"INPUT_{k.upper()}": v for k, v in INPUT_DEFAULTS.items()}
    env.update(INPUT_PROJECT_ID="p-1", INPUT_SERVICE="s")
    parse_inputs(env, tmp_path)


@pytest.mark.parametrize("text, window", [
    ("90m", Window(since=timedelta(minutes=90))),
    ("2h30m", Window(since=timedelta(hours=2, minutes=30))),
    ("1d", Window(since=timedelta(days=1))),
    ("deploy", Window(from_deploy=True)),
    ("2025-09-15T23:46:21Z", Window(start=datetime(2025, 9, 15, 23, 46, 21, tzinfo=UTC))),
    ("2025-09-16T01:46:21+02:00", Window(start=datetime(2025, 9, 15, 23, 46, 21, tzinfo=UTC))),
])
def test_window_forms(text: str, window: Window) -> None:
    assert parse_window(text) == window


@pytest.mark.parametrize("event, target", [
    ("pull_request", PullRequestTarget(412)),
    ("push", CommitTarget(HEAD)),
    ("deployment_status", CommitTarget(HEAD)),
    ("workflow_run", PullRequestTarget(412)),
    ("workflow_dispatch", CommitTarget(RUN_SHA)),
    ("schedule", IssuesTarget(min_priority=Priority.P1)),
])
def test_auto_publishes_where_the_event_points(event: str, target: object) -> None:
    assert choose_target(PublishMode.AUTO, event, payload(event), RUN_SHA, Priority.P1) == target


def test_explicit_modes_override_the_event() -> None:
    pr = payload("pull_request")
    assert choose_target(PublishMode.NONE, "pull_request", pr, RUN_SHA, Priority.P1) is None
    assert choose_target(PublishMode.ISSUES, "pull_request", pr, RUN_SHA, Priority.P0) == \
        IssuesTarget(min_priority=Priority.P0)
    assert choose_target(PublishMode.COMMIT, "push", payload("push"), RUN_SHA, Priority.P1) == \
        CommitTarget(HEAD, prefer_pull_request=False)


def test_publish_pr_needs_a_pull_request_in_the_event() -> None:
    with pytest.raises(ConfigError, match="schedule event names no pull request"):
        choose_target(PublishMode.PR, "schedule", payload("schedule"), RUN_SHA, Priority.P1)


def test_a_fork_workflow_run_lists_no_pull_request_so_the_commit_is_used() -> None:
    run = payload("workflow_run")
    run["workflow_run"]["pull_requests"] = []
    assert pull_number("workflow_run", run) is None
    assert choose_target(PublishMode.AUTO, "workflow_run", run, RUN_SHA, Priority.P1) == \
        CommitTarget(HEAD)


def test_a_branch_deletion_has_no_commit() -> None:
    push = payload("push")
    push["after"] = "0" * 40
    assert commit_sha("push", push) == ""


def test_no_event_outside_actions_publishes_nowhere() -> None:
    assert choose_target(PublishMode.AUTO, "", {}, "", Priority.P1) is None


@pytest.mark.parametrize("event, when", [
    ("deployment_status", datetime(2025, 9, 15, 23, 46, 21, tzinfo=UTC)),
    ("workflow_run", datetime(2025, 9, 15, 23, 41, 30, tzinfo=UTC)),
    ("push", datetime(2025, 9, 15, 23, 41, 7, tzinfo=UTC)),  # repository.pushed_at, epoch
])
def test_deploy_time_comes_from_the_event(event: str, when: datetime) -> None:
    assert deploy_time(event, payload(event)) == when


@pytest.mark.parametrize("event", ["schedule", "workflow_dispatch", "pull_request"])
def test_window_deploy_without_a_deploy_time_is_an_error(event: str) -> None:
    with pytest.raises(ConfigError, match="carries no deploy time"):
        window_arguments(Window(from_deploy=True), event, payload(event), NOW)


def test_window_flags() -> None:
    assert window_arguments(Window(since=timedelta(hours=1)), "push", {}, NOW) == \
        ["--since", "3600s"]
    assert window_arguments(Window(from_deploy=True), "deployment_status",
                            payload("deployment_status"), NOW) == \
        ["--deployed-at", "2025-09-15T23:46:21Z"]
    with pytest.raises(ConfigError, match="not in the past"):
        window_arguments(Window(start=NOW + timedelta(minutes=1)), "push", {}, NOW)


def test_analyze_argv_passes_only_what_was_given(tmp_path: Path) -> None:
    inputs = parse_inputs(env_of(filter='severity>=ERROR OR textPayload:"panic"',
                                 workload_identity_provider=WIF), tmp_path)
    argv = analyze_argv(inputs, ["--since", "3600s"], tmp_path / "w.json", tmp_path / "w.md")
    assert argv[:3] == ["analyze", "--project", "acme-prod"]
    assert argv[argv.index("--service") + 1] == "shop"
    assert argv[argv.index("--filter") + 1] == 'severity>=ERROR OR textPayload:"panic"'
    assert argv[argv.index("--workload-identity-provider") + 1] == WIF
    assert "--gke-cluster" not in argv and "--service-account" not in argv
    assert "--config" not in argv and "--fail-on" not in argv  # the config's, else P0


def test_load_event(tmp_path: Path) -> None:
    assert load_event({"GITHUB_EVENT_NAME": "push",
                       "GITHUB_EVENT_PATH": str(EVENTS / "push.json")})[1]["after"] == HEAD
    assert load_event({}) == ("", {})
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="cannot read the event payload"):
        load_event({"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(tmp_path / "bad.json")})


def test_credentials_from_google_github_actions_auth_are_found_in_the_workspace(
        tmp_path: Path) -> None:
    from gardener.action import container_env

    (tmp_path / "gha-creds-0a1b2c3d.json").write_text("{}")
    runner_path = "/home/runner/work/shop/shop/gha-creds-0a1b2c3d.json"
    env = container_env({"GOOGLE_APPLICATION_CREDENTIALS": runner_path, "X": "1"}, tmp_path)
    assert env == {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "gha-creds-0a1b2c3d.json"),
                   "X": "1"}
    missing = {"GOOGLE_APPLICATION_CREDENTIALS": "/nowhere/key.json"}
    assert container_env(missing, tmp_path) == missing  # left for auth to report clearly
