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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from gardener import actions_runtime as rt
from gardener.action_inputs import ActionInputs, PublishMode, Window, parse_inputs
from gardener.errors import ConfigError, ExitCode, GardenerError
from gardener.model import Priority
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
from gardener.publish.cli import bot_login_from, run_url
from gardener.publish.model import DEFAULT_API_URL
from gardener.redact import use_environment

SECRET_ENV = ("INPUT_GITHUB_TOKEN", "GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
              "ACTIONS_RUNTIME_TOKEN")
"""Environment variables whose values are masked before anything is printed."""
WORKLOG_DIR = ".log-gardener"
"""Where worklogs go, inside the workspace: the only directory a container action shares with
the steps after it (RUNNER_TEMP is not mounted into the container)."""


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
    mask_secrets(env, out)  # in the job's log
    use_environment(env)  # in everything printed, written or posted, whatever the token's shape
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
                                      api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
                                      bot_login=bot_login_from(env))
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
