"""The GitHub Action: `INPUT_*` and the event in; analyse, publish, report; exit code out.

`main(env)` is the whole action and takes the environment as an argument, so tests run it
in-process: inputs are parsed strictly (a bad one is exit 2 and an `::error`), tokens are masked
before anything prints, `gardener analyze` runs in-process against Cloud Logging, the worklog is
published where the event points (a publish failure never changes the verdict), and the outputs,
job summary and P0/P1 annotations are written. Exit codes are the CLI's: 0 pass, 1 gate failed,
2 bad input or configuration, 3 the logs (or something upstream) could not be read.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from gardener import actions_runtime as rt
from gardener.errors import ConfigError, ExitCode, GardenerError
from gardener.gate import parse_fail_on
from gardener.model import Priority, Severity
from gardener.publish import (
    CommitTarget,
    GitHubSettings,
    IssuesTarget,
    PublishOptions,
    PublishResult,
    PublishTarget,
    PullRequestTarget,
    publish_worklog,
)
from gardener.publish.cli import run_url
from gardener.publish.model import DEFAULT_API_URL
from gardener.sources.live_query import parse_duration, parse_timestamp

DEFAULT_CONFIG = ".gardener.yml"
INPUT_DEFAULTS: dict[str, str] = {
    "workload_identity_provider": "", "service_account": "", "project_id": "", "service": "",
    "cluster": "", "namespace": "", "container": "", "window": "1h", "filter": "",
    "min_severity": "DEFAULT", "max_entries": "5000", "config": DEFAULT_CONFIG, "fail_on": "",
    "publish": "auto", "issue_min_priority": "P3", "github_token": "", "dry_run": "false",
}
"""Every input of action.yml with its default there (a test keeps the two in step)."""
SECRET_ENV = ("INPUT_GITHUB_TOKEN", "GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
              "ACTIONS_RUNTIME_TOKEN")
"""Environment variables whose values are masked before anything is printed."""
WORKLOG_DIR = ".log-gardener"
"""Where worklogs go, inside the workspace: the only directory a container action shares with
the steps after it (RUNNER_TEMP is not mounted into the container)."""
_WIF = re.compile(r"projects/\d+/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}"
                  r"/providers/[a-z0-9-]{4,32}")
_SERVICE_ACCOUNT = re.compile(r"[a-z0-9][a-z0-9-]{4,61}[a-z0-9]@[a-z0-9.-]+\.gserviceaccount\.com")
_TRUE, _FALSE = ("true", "True", "TRUE"), ("false", "False", "FALSE")


class PublishMode(Enum):
    """The `publish` input."""

    AUTO = "auto"
    PR = "pr"
    COMMIT = "commit"
    ISSUES = "issues"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Window:
    """Which logs to read: either a span back from now, or from a start time until now."""

    since: timedelta | None = None
    """A duration back from now (`window: 1h`)."""
    start: datetime | None = None
    """A fixed start (`window: 2025-09-15T23:46:21Z`)."""
    from_deploy: bool = False
    """`window: deploy`: the start is the deploy time the event carries."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionInputs:
    """The action's inputs, validated."""

    workload_identity_provider: str
    """WIF provider resource name, or "" for Application Default Credentials."""
    service_account: str
    """Service account to impersonate, or ""."""
    project_id: str
    """Project whose logs are read."""
    service: str
    """Cloud Run service, or "" when `cluster` is set."""
    cluster: str
    """GKE cluster, or "" when `service` is set."""
    namespace: str
    """GKE namespace, or "" for all."""
    container: str
    """GKE container, or "" for all."""
    window: Window
    """Which logs to read."""
    filter: str
    """Extra Cloud Logging filter, or ""."""
    min_severity: Severity
    """Lowest severity read."""
    max_entries: int
    """Most entries read."""
    config: str
    """Path of the rules file (relative to the workspace), or "" when none should be read."""
    fail_on: str
    """The gate's `--fail-on` spec, already checked; "" for the config's, else P0."""
    publish: PublishMode
    """Where the worklog goes."""
    issue_min_priority: Priority
    """Least urgent priority that gets an issue."""
    github_token: str
    """Token for GitHub writes (never printed)."""
    dry_run: bool
    """Post nothing; print what would be posted."""


def read_input(env: Mapping[str, str], name: str) -> str:
    """The raw value of input `name` as the runner passes it (`INPUT_<NAME>`), stripped."""
    return env.get(f"INPUT_{name.upper()}", INPUT_DEFAULTS[name]).strip()


def parse_bool(name: str, text: str) -> bool:
    """The runner's boolean rule (YAML 1.2 core: true/True/TRUE, false/False/FALSE), strictly."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"input {name}: {text!r} is not a boolean", fix=f"use {name}: true or "
                      f"{name}: false")


def parse_window(text: str) -> Window:
    """`1h`/`2h30m` (back from now), `deploy`, or an RFC 3339 time."""
    if text.lower() == "deploy":
        return Window(from_deploy=True)
    if text[:1].isdigit() and "-" in text:
        return Window(start=parse_timestamp(text, "input window"))
    try:
        return Window(since=parse_duration(text, "input window"))
    except ConfigError as err:
        raise ConfigError(err.what, fix="use a duration (30m, 1h, 2h30m, 1d), `deploy`, or an "
                          "RFC 3339 time such as 2025-09-15T23:46:21Z") from None


def _choice(name: str, text: str, parse: Callable[[str], Any], fix: str = "") -> Any:
    try:
        return parse(text)
    except ValueError as err:
        raise ConfigError(f"input {name}: {err}", fix=fix) from None


def parse_inputs(env: Mapping[str, str], workspace: Path) -> ActionInputs:
    """Every input, checked; ConfigError (exit 2) names the input and the fix."""
    get = {name: read_input(env, name) for name in INPUT_DEFAULTS}
    _check_target(get)
    _check_identity(get["workload_identity_provider"], get["service_account"])
    if not re.fullmatch(r"[1-9]\d{0,6}", get["max_entries"]):
        raise ConfigError(f"input max_entries: {get['max_entries']!r} is not a whole number "
                          "from 1 to 9999999", fix="e.g. max_entries: 5000")
    if get["fail_on"]:  # empty: the config's fail_on, else P0 (decided by the CLI)
        parse_fail_on(get["fail_on"])
    return ActionInputs(
        workload_identity_provider=get["workload_identity_provider"],
        service_account=get["service_account"], project_id=get["project_id"],
        service=get["service"], cluster=get["cluster"], namespace=get["namespace"],
        container=get["container"], window=parse_window(get["window"]), filter=get["filter"],
        min_severity=_choice("min_severity", get["min_severity"], Severity.parse),
        max_entries=int(get["max_entries"]), config=_config_path(get["config"], workspace),
        fail_on=get["fail_on"], publish=_choice("publish", get["publish"], PublishMode,
                                                       "use auto, pr, commit, issues or none"),
        issue_min_priority=_choice("issue_min_priority", get["issue_min_priority"],
                                   Priority.parse),
        github_token=get["github_token"], dry_run=parse_bool("dry_run", get["dry_run"]))


def _check_target(get: Mapping[str, str]) -> None:
    if not get["project_id"]:
        raise ConfigError("input project_id is empty", fix="set project_id: to the Google Cloud "
                          "project whose logs are read")
    gke = any(get[name] for name in ("cluster", "namespace", "container"))
    if bool(get["service"]) == gke:
        raise ConfigError("give either service (Cloud Run) or cluster/namespace/container (GKE)",
                          fix="e.g. service: my-api, or cluster: prod with namespace: web")


def _check_identity(provider: str, account: str) -> None:
    if provider and not _WIF.fullmatch(provider):
        raise ConfigError(f"input workload_identity_provider {provider!r} is not a provider's "
                          "full resource name", fix="use projects/PROJECT_NUMBER/locations/global/"
                          "workloadIdentityPools/POOL/providers/PROVIDER (gcloud iam "
                          "workload-identity-pools providers describe ... --format='value(name)')")
    if account and not _SERVICE_ACCOUNT.fullmatch(account):
        raise ConfigError(f"input service_account {account!r} is not a service account e-mail",
                          fix="e.g. log-gardener@my-project.iam.gserviceaccount.com")


def _config_path(text: str, workspace: Path) -> str:
    path = workspace / text
    if path.is_file():
        return str(path)
    if text == DEFAULT_CONFIG:
        return ""  # the default is optional: no file, built-in rules
    raise ConfigError(f"input config: {text} does not exist in the workspace",
                      fix="check out the repository first (actions/checkout), or fix the path")


def choose_target(mode: PublishMode, event: str, payload: Mapping[str, Any], sha: str,
                  issue_min_priority: Priority) -> PublishTarget | None:
    """Where the worklog goes for this event; None for `publish: none` (or nowhere to go)."""
    pr = rt.pull_number(event, payload)
    commit = rt.commit_sha(event, payload) or sha
    match mode:
        case PublishMode.NONE:
            return None
        case PublishMode.ISSUES:
            return IssuesTarget(min_priority=issue_min_priority)
        case PublishMode.PR:
            if pr is None:
                raise ConfigError(f"publish: pr, but the {event or 'unknown'} event names no pull "
                                  "request", fix="use publish: auto (the commit's pull request "
                                  "if it has one) or run on pull_request")
            return PullRequestTarget(pr)
        case PublishMode.COMMIT:
            return CommitTarget(_need_sha(commit, event), prefer_pull_request=False)
        case PublishMode.AUTO:
            if event == "schedule":
                return IssuesTarget(min_priority=issue_min_priority)
            if pr is not None:
                return PullRequestTarget(pr)
            # Nothing names a commit (a local run): publish nowhere rather than refuse to run.
            return CommitTarget(commit) if commit else None


def _need_sha(sha: str, event: str) -> str:
    if not sha:
        raise ConfigError(f"no commit to publish on for the {event or 'unknown'} event",
                          fix="set publish: none, issues or pr")
    return sha


def window_arguments(window: Window, event: str, payload: Mapping[str, Any],
                     now: datetime) -> list[str]:
    """The analyze flags for the window: `--since 1h`, or `--deployed-at T` (the window since
    the deploy until now, with the same length before it read as the baseline)."""
    if window.since is not None:
        return ["--since", f"{int(window.since.total_seconds())}s"]
    start = window.start or rt.deploy_time(event, payload)
    if start >= now:
        raise ConfigError(f"window starts at {rt.rfc3339(start)}, which is not in the past",
                          fix="give an earlier time, or a duration such as 1h")
    return ["--deployed-at", rt.rfc3339(start)]


def analyze_argv(inputs: ActionInputs, window: list[str], json_out: Path,
                 markdown_out: Path) -> list[str]:
    """`gardener analyze ...` for these inputs (Cloud Logging source, both worklog files)."""
    argv = ["analyze", "--project", inputs.project_id, *window,
            "--min-severity", inputs.min_severity.name, "--max-entries", str(inputs.max_entries),
            "--json", str(json_out), "--markdown", str(markdown_out)]
    for flag, value in (("--fail-on", inputs.fail_on), ("--service", inputs.service),
                        ("--gke-cluster", inputs.cluster), ("--namespace", inputs.namespace),
                        ("--container", inputs.container),
                        ("--filter", inputs.filter), ("--config", inputs.config),
                        ("--workload-identity-provider", inputs.workload_identity_provider),
                        ("--service-account", inputs.service_account)):
        if value:
            argv += [flag, value]
    return argv


def mask_secrets(env: Mapping[str, str], out: TextIO) -> None:
    """`::add-mask::` every token in the environment, before anything else is printed."""
    for name in SECRET_ENV:
        for line in rt.add_mask(env.get(name, "")):
            out.write(line + "\n")
    out.flush()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run came to; everything the outputs, summary and annotations are made from."""

    code: int
    """The exit code (0 pass, 1 gate failed, 2 bad input/config, 3 upstream)."""
    doc: Mapping[str, Any] | None = None
    """The JSON worklog, when analysis wrote one."""
    markdown: str = ""
    """The Markdown worklog, when analysis wrote one."""
    files: tuple[str, str] = ("", "")
    """The JSON and Markdown worklogs' paths, relative to the workspace."""
    problem: str = ""
    """Why the logs could not be analysed (diagnostics), for the ::error and the summary."""
    published: PublishResult | None = None
    """What publishing did, or None when nothing was attempted."""
    publish_problem: str = ""
    """Why publishing failed before it started (settings), if it did."""


def main(env: Mapping[str, str], *, out: TextIO | None = None,
         now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """Run the action with `env` as its environment; returns the process exit code."""
    out = out or sys.stdout
    mask_secrets(env, out)
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
    try:
        inputs = parse_inputs(env, workspace)
        event, payload = rt.load_event(env)
        target = choose_target(inputs.publish, event, payload, env.get("GITHUB_SHA", ""),
                               inputs.issue_min_priority)
        window = window_arguments(inputs.window, event, payload, now())
    except GardenerError as err:
        return finish(env, out, Outcome(code=err.exit_code, problem=err.diagnostics()))
    outcome = analyse(inputs, window, workspace, env, out)
    if outcome.doc is not None and target is not None:
        outcome = publish(outcome, inputs, target, env, out)
    return finish(env, out, outcome)


def analyse(inputs: ActionInputs, window: list[str], workspace: Path, env: Mapping[str, str],
            out: TextIO) -> Outcome:
    """`gardener analyze` in-process, its log text shown but never obeyed as commands."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", inputs.service or inputs.cluster)
    relative = (f"{WORKLOG_DIR}/worklog-{name}.json", f"{WORKLOG_DIR}/worklog-{name}.md")
    json_out, markdown_out = (workspace / p for p in relative)
    argv = analyze_argv(inputs, window, json_out, markdown_out)
    for stale in (json_out, markdown_out):  # an earlier step's worklog must never be reported
        stale.unlink(missing_ok=True)
    tee = rt.Tee(out)
    with rt.commands_stopped(out):
        try:
            from gardener.cli import main as cli_main  # imports the whole pipeline: inside try

            code = cli_main(argv, container_env(env, workspace), stdout=tee, stderr=tee)
        except Exception as err:  # noqa: BLE001 - the pipeline did not even load: "error"
            tee.write(f"gardener: error: internal error, the analysis could not start: "
                      f"{type(err).__name__}: {err}\n")
            code = ExitCode.INTERNAL
    problem = tee.error_text()
    try:
        doc = json.loads(json_out.read_text(encoding="utf-8"))
        markdown = markdown_out.read_text(encoding="utf-8")
    except (OSError, ValueError):
        doc, markdown = None, ""
    if doc is None and code in (ExitCode.PASSED, ExitCode.FAILED):
        code, problem = ExitCode.UPSTREAM, "the analysis wrote no worklog; the gate cannot pass"
    files = relative if doc is not None else ("", "")
    return Outcome(code=code, doc=doc, markdown=markdown, files=files, problem=problem)


def publish(outcome: Outcome, inputs: ActionInputs, target: PublishTarget,
            env: Mapping[str, str], out: TextIO) -> Outcome:
    """Post the worklog; a failure is recorded in the outcome, never raised."""
    assert outcome.doc is not None
    options = PublishOptions(workflow=env.get("GITHUB_WORKFLOW", ""), worklog_url=run_url(env))
    with rt.commands_stopped(out):
        try:
            settings = GitHubSettings(token=inputs.github_token,
                                      repo=env.get("GITHUB_REPOSITORY", ""),
                                      api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL)
            result = publish_worklog(outcome.doc, target=target, github=settings,
                                     dry_run=inputs.dry_run, out=out, options=options)
        except GardenerError as err:
            return replace(outcome, publish_problem=err.diagnostics())
        except Exception as err:  # noqa: BLE001 - publishing must never decide the verdict
            return replace(outcome, publish_problem=f"publishing crashed: "
                           f"{type(err).__name__}: {err}")
    return replace(outcome, published=result)


def container_env(env: Mapping[str, str], workspace: Path) -> dict[str, str]:
    """`env` with GOOGLE_APPLICATION_CREDENTIALS pointed at the workspace when needed.

    google-github-actions/auth writes its credentials file into the runner's workspace and sets
    the variable to the runner's path, which does not exist inside a container action; the same
    file is under the mounted workspace.
    """
    result = dict(env)
    path = env.get("GOOGLE_APPLICATION_CREDENTIALS", "")
    if path and not Path(path).exists() and (workspace / Path(path).name).is_file():
        result["GOOGLE_APPLICATION_CREDENTIALS"] = str(workspace / Path(path).name)
    return result


def finish(env: Mapping[str, str], out: TextIO, outcome: Outcome) -> int:
    """Annotations, outputs and the job summary; returns the exit code."""
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
    problems = rt.publish_problems(outcome.published, outcome.publish_problem)
    for note in rt.annotations_for(outcome.doc, outcome.code, outcome.problem, problems,
                                   lambda path: (workspace / path).is_file()):
        out.write(note.command() + "\n")
    values = rt.outputs_for(outcome.doc, outcome.code, outcome.files,
                            rt.published_url(outcome.published))
    text = rt.summary_for(outcome.doc, outcome.markdown, outcome.code, outcome.problem,
                          rt.publish_lines(outcome.published, outcome.publish_problem),
                          outcome.files[0])
    writers: list[tuple[str, Callable[[str], None]]] = [
        ("GITHUB_OUTPUT", lambda path: rt.write_outputs(path, values)),
        ("GITHUB_STEP_SUMMARY", lambda path: rt.append_summary(path, text))]
    for variable, write in writers:
        try:
            if env.get(variable):
                write(env[variable])
        except OSError as err:
            out.write(rt.Annotation(rt.Level.ERROR, f"cannot write {variable}: {err.strerror}. "
                      "The image runs as uid 1001, the runner user of GitHub-hosted runners; "
                      "on a self-hosted runner whose user has another uid, make the runner's "
                      "_temp directory writable by uid 1001.", title="Log Gardener").command()
                      + "\n")
    out.flush()
    return int(outcome.code)
