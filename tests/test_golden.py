"""Golden files: the bundled example's worklog, byte for byte.

A change to the miner, the rules or the renderer that changes the example's worklog shows up here
as a diff to review. Regenerating the golden files is a reviewed change, not a reflex:

    gardener analyze --input examples/netra-backend-staging.json --config examples/gardener.yml \
        --markdown examples/netra-backend-staging.worklog.md \
        --json examples/netra-backend-staging.worklog.json
"""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gardener.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXPORT = EXAMPLES / "netra-backend-staging.json"
CONFIG = EXAMPLES / "gardener.yml"


def run_example(tmp_path: Path) -> tuple[int, str, dict[str, object]]:
    md, js = tmp_path / "w.md", tmp_path / "w.json"
    code = main(["analyze", "--input", str(EXPORT), "--config", str(CONFIG), "--markdown",
                 str(md), "--json", str(js)], {}, stdout=io.StringIO(), stderr=io.StringIO())
    return code, md.read_text(encoding="utf-8"), json.loads(js.read_text(encoding="utf-8"))


def test_example_markdown_matches_golden(tmp_path: Path) -> None:
    code, text, _ = run_example(tmp_path)
    golden = (EXAMPLES / "netra-backend-staging.worklog.md").read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(golden.splitlines(True), text.splitlines(True),
                                        "golden", "now", n=1))
    assert text == golden, f"worklog changed (see module docstring to regenerate):\n{diff[:5000]}"
    assert code == 1  # the example holds a P0 outage: the gate must fail


def test_example_json_matches_golden(tmp_path: Path) -> None:
    _, _, doc = run_example(tmp_path)
    golden = json.loads((EXAMPLES / "netra-backend-staging.worklog.json").read_text("utf-8"))
    assert doc == golden


def test_example_tells_the_seed_story(tmp_path: Path) -> None:
    """What a person gardening these logs by hand found (seed 000) is what the worklog says."""
    _, text, doc = run_example(tmp_path)
    clusters = doc["clusters"]
    assert isinstance(clusters, list)
    by_priority: dict[str, list[str]] = {}
    for c in clusters:
        by_priority.setdefault(c["priority"], []).append(c["template"])
    p0 = " | ".join(by_priority["P0"])
    assert "Container called exit(<*>)" in p0
    assert "Database initialization timeout" in p0
    assert any("SSOT" in t for t in by_priority["P2"])
    assert any("SERVICE_ID" in t for t in by_priority["P3"])
    assert any("Sentry" in t for t in by_priority["P3"])
    assert by_priority["P4"]



def test_example_secrets_never_reach_the_worklog(tmp_path: Path) -> None:
    export = EXPORT.read_text(encoding="utf-8")
    secrets = set(re.findall(r"postgresql://netra:([^@]+)@", export))
    secrets |= set(re.findall(r"Bearer (eyJ[\w.-]+)", export))
    assert len(secrets) >= 4  # the example carries secrets on purpose
    _, text, doc = run_example(tmp_path)
    dumped = json.dumps(doc)
    leaked = [s for s in secrets if s in text or s in dumped]
    assert leaked == []
    assert "[REDACTED:password]" in text


_PHRASE = re.compile(r'(?:^| AND )"((?:[^"\\]|\\.)*)"')
"""A quoted phrase standing alone in a filter (a full-text search), not a field's value."""


def test_every_cluster_query_searches_for_text_its_entries_hold(tmp_path: Path) -> None:
    """The `query` reproduces the cluster: each phrase it searches for is in the entries'
    text, so a stack trace's query names its exception and function, not our summary of it."""
    _, _, doc = run_example(tmp_path)
    checked = 0
    for cluster in doc["clusters"]:  # type: ignore[attr-defined]
        for phrase in _PHRASE.findall(cluster["query"]):
            text = json.loads(f'"{phrase}"')
            for sample in cluster["samples"]:  # whitespace runs count as one space
                assert any(text in " ".join(s.split()) for s in _strings(sample["entry"])), (
                    cluster["id"], text)
            checked += 1
    assert checked >= 40


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [s for item in items for s in _strings(item)]


@pytest.mark.parametrize("small", [False, True])
def test_the_command_writes_all_of_the_worklog_to_a_pipe_and_exits_with_the_gate(
        tmp_path: Path, small: bool) -> None:
    """`python -m gardener` ends without interpreter teardown (`cli.exit_now`): the Markdown it
    prints to a pipe must still arrive whole (a small one sits in the buffer until flushed), the
    summary line too, and the exit code is the gate's."""
    export = EXPORT
    if small:  # the example's first entries: a worklog smaller than the pipe's buffer
        export = tmp_path / "small.json"
        export.write_text(json.dumps(json.loads(EXPORT.read_text("utf-8"))[:3]), "utf-8")
    args = ["analyze", "--input", str(export), "--config", str(CONFIG)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a buffered stdout
    done = subprocess.run([sys.executable, "-m", "gardener", *args], capture_output=True,
                          check=False, env=env)
    out, err = io.StringIO(), io.StringIO()
    code = main(args, {}, stdout=out, stderr=err)
    assert done.stdout.decode("utf-8") == out.getvalue()
    assert done.stderr.decode("utf-8") == err.getvalue()
    assert done.returncode == code == (0 if small else 1)  # the example holds a P0 outage
    if not small:
        assert done.stdout == (EXAMPLES / "netra-backend-staging.worklog.md").read_bytes()
