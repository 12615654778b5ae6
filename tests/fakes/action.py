"""A GitHub Actions job around `gardener.action.main`: event file, workspace, GITHUB_OUTPUT and
GITHUB_STEP_SUMMARY files, and the environment the runner gives a container action, pointed at
the local fake Google and GitHub servers. Shared by the in-process and the in-image tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fakes.github import FakeGitHub
from tests.fakes.google import PROVIDER_NAME, SERVICE_ACCOUNT, FakeGoogle

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "fixtures" / "events"
EXAMPLE = ROOT / "examples" / "netra-backend-staging.json"
SERVICE = "netra-backend-staging"
PROJECT = "netra-staging"
HEAD = "5f3c2a9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
NOW = datetime(2025, 9, 16, 0, 47, 0, tzinfo=UTC)
"""The job's clock: just after the bundled example's last entry."""
WINDOW = "2025-09-15T23:46:00Z"
_TROUBLE = re.compile(r"fail|timeout|exit|error|violation|warning|not found|whitespace|sentry|"
                      r"sanitiz|capacity|probe|ready condition", re.IGNORECASE)


def example_entries() -> list[dict[str, Any]]:
    """The bundled Cloud Run export: a deploy whose database never came up (P0)."""
    entries: list[dict[str, Any]] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return entries


def healthy_entries() -> list[dict[str, Any]]:
    """The same hour with every sign of trouble taken out: INFO lines and 2xx/3xx requests."""
    def healthy(entry: dict[str, Any]) -> bool:
        status = (entry.get("httpRequest") or {}).get("status", 200)
        return (entry.get("severity") in ("INFO", "NOTICE", "DEBUG") and status < 400
                and not _TROUBLE.search(json.dumps(entry)))
    return [e for e in example_entries() if healthy(e)]


def one_p0_entries() -> list[dict[str, Any]]:
    """A healthy hour plus one failing startup log line, repeated: exactly one P0 cluster."""
    failing = [e for e in example_entries()
               if "Database initialization timeout" in json.dumps(e)
               and (e.get("jsonPayload") or {}).get("logging.googleapis.com/sourceLocation")]
    return healthy_entries() + failing


@dataclass
class Job:
    """One job's files and the action's result."""

    workspace: Path
    """The checkout (`GITHUB_WORKSPACE`)."""
    env: dict[str, str] = field(default_factory=dict)
    """The container action's environment."""
    code: int | None = None
    """The exit code."""
    stdout: str = ""
    """Everything printed."""

    @property
    def outputs(self) -> dict[str, str]:
        """GITHUB_OUTPUT parsed like the runner does (heredoc records)."""
        values, lines, i = {}, Path(self.env["GITHUB_OUTPUT"]).read_text().split("\n"), 0
        while i < len(lines) and lines[i]:
            name, delimiter = lines[i].split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1:end])
            i = end + 1
        return values

    @property
    def summary(self) -> str:
        """The job summary."""
        return Path(self.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")

    def commands(self, name: str) -> list[str]:
        """Workflow command lines `::name...` the runner would obey (not inside stop-commands)."""
        found, stopped = [], ""
        for line in self.stdout.splitlines():
            if stopped:
                stopped = "" if line == f"::{stopped}::" else stopped
                continue
            if line.startswith("::stop-commands::"):
                stopped = line.removeprefix("::stop-commands::")
            elif line.startswith(f"::{name}"):
                found.append(line)
        return found


    def annotations(self, level: str) -> list[dict[str, str]]:
        """`::error`/`::warning` lines as the runner reads them: properties and message."""
        found = []
        for line in self.commands(level):
            head, _, message = line[2:].partition("::")
            props = dict(p.split("=", 1) for p in head.partition(" ")[2].split(",") if p)
            found.append({k: _unescape(v) for k, v in {**props, "message": message}.items()})
        return found


def _unescape(text: str) -> str:
    for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","),
                           ("%25", "%")):
        text = text.replace(escaped, plain)
    return text


def event_payload(name: str, github: FakeGitHub) -> dict[str, Any]:
    """The fixture payload for `name`, its pull request renumbered to one the fake knows."""
    payload: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    if name in ("pull_request", "workflow_run"):
        number = github.add_pull(head_sha=HEAD)
        if name == "pull_request":
            payload["number"] = payload["pull_request"]["number"] = number
        else:
            payload["workflow_run"]["pull_requests"][0]["number"] = number
    return payload


def prepare(tmp: Path, google: FakeGoogle, github: FakeGitHub, event: str,
            payload: dict[str, Any] | None = None, **inputs: str) -> Job:
    """A job for `event` with the standard inputs (Workload Identity, the example service)."""
    workspace, files = tmp / "workspace", tmp / "runner"
    for folder in (workspace, files):
        folder.mkdir(parents=True, exist_ok=True)
    (workspace / "netra_backend" / "app").mkdir(parents=True, exist_ok=True)
    (workspace / "netra_backend" / "app" / "smd.py").write_text("# startup\n" * 2000)
    event_file = files / "event.json"
    event_file.write_text(json.dumps(payload if payload is not None
                                     else event_payload(event, github)))
    for name in ("output", "summary"):
        (files / name).write_text("")
    given = {"project_id": PROJECT, "service": SERVICE, "window": WINDOW,
             "workload_identity_provider": PROVIDER_NAME, "service_account": SERVICE_ACCOUNT,
             "github_token": github.token, **inputs}
    env = google.env(
        GITHUB_EVENT_NAME=event, GITHUB_EVENT_PATH=str(event_file), GITHUB_SHA=HEAD,
        GITHUB_OUTPUT=str(files / "output"), GITHUB_STEP_SUMMARY=str(files / "summary"),
        GITHUB_WORKSPACE=str(workspace), GITHUB_API_URL=github.url,
        GITHUB_SERVER_URL="https://github.com", GITHUB_RUN_ID="17712345678",
        GITHUB_WORKFLOW="Deploy", RUNNER_TEMP="/home/runner/work/_temp",
        **{f"INPUT_{k.upper()}": v for k, v in given.items()})
    return Job(workspace, env)


Runner = Callable[[Job], Job]
"""Runs the action for a prepared job (in-process, or inside the image)."""
