"""In a GitHub Actions job, what gardener prints cannot command the runner, and the job's own
tokens are scrubbed from everything, whatever their shape (found by probing the action)."""

from __future__ import annotations

import io
import json
import re
import secrets
from pathlib import Path
from typing import Any

from gardener.cli import main

HOSTILE = "deploy ok\n::add-mask::hidden\n::error file=README.md,line=1::Deploy approved"


def export(tmp_path: Path, *messages: str) -> str:
    path = tmp_path / "in.json"
    path.write_text(json.dumps([
        {"insertId": f"id{i}", "timestamp": f"2025-09-16T00:0{i}:00Z", "severity": "ERROR",
         "textPayload": message} for i, message in enumerate(messages)]), "utf-8")
    return str(path)


def outside_stop_commands(text: str) -> list[str]:
    """Lines the runner would obey: `::` lines not between `::stop-commands::T` and `::T::`."""
    obeyed, token = [], None
    for line in text.splitlines():
        if token is not None:
            token = None if line == f"::{token}::" else token
        elif line.startswith("::stop-commands::"):
            token = line.removeprefix("::stop-commands::")
        elif line.startswith("::"):
            obeyed.append(line)
    return obeyed


def test_markdown_on_stdout_in_a_job_is_not_obeyed(tmp_path: Path) -> None:
    stdout = io.StringIO()
    code = main(["analyze", "--input", export(tmp_path, HOSTILE)], {"GITHUB_ACTIONS": "true"},
                stdin=io.StringIO(), stdout=stdout, stderr=io.StringIO())
    assert code in (0, 1)
    assert "add-mask" in stdout.getvalue()  # the log text is shown...
    assert outside_stop_commands(stdout.getvalue()) == []  # ...never obeyed


def test_a_publish_dry_run_in_a_job_is_not_obeyed(tmp_path: Path) -> None:
    worklog = tmp_path / "w.json"
    assert main(["analyze", "--input", export(tmp_path, HOSTILE), "--json", str(worklog)], {},
                stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO()) in (0, 1)
    stdout = io.StringIO()
    code = main(["publish", "--worklog", str(worklog), "--repo", "acme/shop", "--pr", "7",
                 "--dry-run"], {"GITHUB_ACTIONS": "true"}, stdout=stdout, stderr=io.StringIO())
    assert code == 0
    assert "DRY RUN" in stdout.getvalue()
    assert outside_stop_commands(stdout.getvalue()) == []


def test_the_jobs_token_is_scrubbed_whatever_its_shape(tmp_path: Path) -> None:
    """A 40-hex token (a classic PAT, a GHES token) matches no pattern: only knowing the job's
    environment finds it in a log line."""
    token = secrets.token_hex(20)
    out = tmp_path / "w.json"
    stderr = io.StringIO()
    code = main(["analyze", "--input", export(tmp_path, f"calling GitHub with {token} failed"),
                 "--json", str(out), "--markdown", str(tmp_path / "w.md")],
                {"GITHUB_TOKEN": token}, stdin=io.StringIO(), stdout=io.StringIO(), stderr=stderr)
    assert code in (0, 1)
    written = out.read_text("utf-8") + (tmp_path / "w.md").read_text("utf-8") + stderr.getvalue()
    assert token not in written
    doc: dict[str, Any] = json.loads(out.read_text("utf-8"))
    assert re.search(r"\[REDACTED:known-secret\]", doc["clusters"][0]["samples"][0]["message"])
