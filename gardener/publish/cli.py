"""`gardener publish`: post a JSON worklog as a sticky comment or as issues.

Usage: `gardener publish --worklog OUT.json --repo OWNER/NAME (--pr N | --commit SHA | --issues
[--min-priority P3])`. Token from `GITHUB_TOKEN`, API from `GITHUB_API_URL`; with a GitHub App's
token, `GARDENER_BOT_LOGIN` names the app's bot (see `gardener.publish.identity`). Exit codes: 0
published, 2 bad usage or input, 3 GitHub refused or failed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from gardener.errors import ConfigError, ExitCode, GardenerError, InputError
from gardener.model import Priority
from gardener.publish.identity import BOT_LOGIN_ENV, GITHUB_ACTIONS_BOT, bot_login
from gardener.publish.model import (
    DEFAULT_API_URL,
    DEFAULT_MUTE_LABEL,
    CommitTarget,
    GitHubSettings,
    IssuesTarget,
    PublishOptions,
    PublishResult,
    PublishTarget,
    PullRequestTarget,
    ReadOnlyForkError,
)


def run_publish(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """Run `gardener publish`; returns 0 published, 2 bad usage/input, 3 publish failed."""
    # Imported here: PyGithub costs a tenth of a second that `gardener analyze` need not pay.
    from gardener.publish.core import publish_worklog

    try:
        doc = load_worklog(Path(args.worklog))
        target = _target(args)
        settings = _settings(args, env)
        options = PublishOptions(key=args.marker_key,
                                 workflow=args.workflow if args.workflow is not None
                                 else env.get("GITHUB_WORKFLOW", ""),
                                 worklog_url=args.worklog_url if args.worklog_url is not None
                                 else run_url(env))
        with _commands_stopped(out, env):  # a dry run prints bodies: log text, not commands
            result = publish_worklog(doc, target=target, github=settings,
                                     dry_run=args.dry_run, out=out, options=options)
    except GardenerError as err:
        _report_error(err, env, out)
        return int(err.exit_code)
    return report(result, env, out)


@contextmanager
def _commands_stopped(out: TextIO, env: Mapping[str, str]) -> Iterator[None]:
    """In a GitHub Actions job, the runner obeys no workflow command printed inside."""
    if env.get("GITHUB_ACTIONS") != "true":
        yield
        return
    from gardener.actions_runtime import commands_stopped

    with commands_stopped(out):
        yield


def load_worklog(path: Path) -> dict[str, Any]:
    """The JSON worklog at `path` (InputError if missing or not JSON)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"cannot read the worklog {path}", cause=err.strerror or str(err),
                         fix="pass the file written by `gardener analyze --json OUT.json`"
                         ) from err
    except ValueError as err:
        raise InputError(f"the worklog {path} is not JSON", cause=str(err),
                         fix="pass the file written by `gardener analyze --json OUT.json`"
                         ) from err
    if not isinstance(data, dict):
        raise InputError(f"the worklog {path} is not a JSON object")
    return data


def _target(args: argparse.Namespace) -> PublishTarget:
    if args.pr is not None:
        if args.pr <= 0:
            raise ConfigError(f"--pr {args.pr} is not a pull request number")
        return PullRequestTarget(args.pr)
    if args.commit:
        return CommitTarget(args.commit.strip())
    try:
        priority = Priority.parse(args.min_priority)
    except ValueError as err:
        raise ConfigError(f"--min-priority: {err}") from err
    if args.max_new_issues < 0:
        raise ConfigError("--max-new-issues must be 0 or more")
    return IssuesTarget(min_priority=priority, max_new_issues=args.max_new_issues,
                        mute_labels=tuple(args.mute_label or (DEFAULT_MUTE_LABEL,)))


def _settings(args: argparse.Namespace, env: Mapping[str, str]) -> GitHubSettings | None:
    repo = args.repo or env.get("GITHUB_REPOSITORY", "")
    if not repo:
        raise ConfigError("no repository to publish to",
                          fix="pass --repo OWNER/NAME (in Actions, $GITHUB_REPOSITORY is used)")
    token = env.get("GITHUB_TOKEN", "")
    if not token and not args.dry_run:
        raise ConfigError("GITHUB_TOKEN is not set, so nothing can be posted to GitHub",
                          fix="add `env: GITHUB_TOKEN: ${{ github.token }}` to the step, or use "
                              "--dry-run to see what would be posted")
    return GitHubSettings(token=token, repo=repo,
                          api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
                          seconds_between_writes=args.write_interval,
                          bot_login=bot_login_from(env))


def bot_login_from(env: Mapping[str, str]) -> str:
    """The bot a GitHub App token writes as, from GARDENER_BOT_LOGIN (`my-app` or `my-app[bot]`);
    `github-actions[bot]`, the GITHUB_TOKEN's, when unset."""
    return bot_login(env.get(BOT_LOGIN_ENV, "")) or GITHUB_ACTIONS_BOT


def run_url(env: Mapping[str, str]) -> str:
    """This workflow run's page (its job summary holds the full worklog), or ""."""
    server, repo, run = (env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", ""),
                         env.get("GITHUB_RUN_ID", ""))
    return f"{server.rstrip('/')}/{repo}/actions/runs/{run}" if server and repo and run else ""


def report(result: PublishResult, env: Mapping[str, str], out: TextIO) -> int:
    """Print what happened; 0 if everything was posted (or a fork PR's token is read-only), 3
    otherwise. The fork case is a warning: such runs can never comment, and the gate decides."""
    if result.issues_created or result.issues_updated or result.issues_reopened:
        out.write(f"issues: {len(result.issues_created)} opened, "
                  f"{len(result.issues_updated)} updated, {len(result.issues_reopened)} "
                  f"reopened, {len(result.skipped)} left alone\n")
    for err in result.errors:
        _report_error(err, env, out, warning=isinstance(err, ReadOnlyForkError))
    return int(ExitCode.PASSED if result.ok or only_fork(result) else ExitCode.UPSTREAM)


def only_fork(result: PublishResult) -> bool:
    """True when every error is the read-only token of a fork pull request."""
    return bool(result.errors) and all(isinstance(e, ReadOnlyForkError) for e in result.errors)


def _report_error(err: GardenerError, env: Mapping[str, str], out: TextIO,
                  warning: bool = False) -> None:
    out.write(f"{'warning' if warning else 'error'}: {err.diagnostics()}\n")
    if env.get("GITHUB_ACTIONS") == "true":
        level = "warning" if warning else "error"
        out.write(f"::{level} title=Log Gardener publish::{_escape(err.diagnostics())}\n")


def _escape(text: str) -> str:
    """Workflow-command data escaping (`%`, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
