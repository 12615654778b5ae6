"""The action's inputs, read strictly: `INPUT_*` as the runner passes them -> `ActionInputs`.

A bad input is a `ConfigError` (exit 2) naming the input and the fix, before anything is read or
posted; `INPUT_DEFAULTS` mirrors action.yml (a test keeps the two in step).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from gardener.config import DEFAULT_CONFIG
from gardener.errors import ConfigError
from gardener.gate import parse_fail_on
from gardener.model import Priority, Severity
from gardener.sources.live_query import parse_duration, parse_timestamp

INPUT_DEFAULTS: dict[str, str] = {
    "workload_identity_provider": "", "service_account": "", "project_id": "", "service": "",
    "cluster": "", "namespace": "", "container": "", "window": "1h", "filter": "",
    "min_severity": "DEFAULT", "max_entries": "5000", "config": DEFAULT_CONFIG, "fail_on": "",
    "publish": "auto", "issue_min_priority": "P3", "github_token": "", "dry_run": "false",
}
"""Every input of action.yml with its default there (a test keeps the two in step)."""
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
