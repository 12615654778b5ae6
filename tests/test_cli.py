"""`gardener analyze` end to end, in-process: the command, the JSON contract, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gardener.cli import main

RUN = {"type": "cloud_run_revision",
       "labels": {"service_name": "api", "revision_name": "api-00007-xyz",
                  "project_id": "demo-staging", "location": "us-central1"}}


def entry(i: int, text: str, severity: str = "INFO", minute: int = 0, **extra: Any
          ) -> dict[str, Any]:
    body: dict[str, Any] = {"insertId": f"id-{i:05d}", "severity": severity,
                            "timestamp": f"2025-09-15T10:{minute:02d}:{i % 60:02d}.{i:06d}Z",
                            "resource": RUN, "logName": "projects/demo-staging/logs/run.googleapis"
                            ".com%2Fstdout"}
    if extra:
        body.update(extra)
    else:
        body["textPayload"] = text
    return body


def healthy(n: int = 40) -> list[dict[str, Any]]:
    return [entry(i, f"request {i} served in {i * 3}ms", minute=i % 5) for i in range(n)]


def outage() -> list[dict[str, Any]]:
    rows = healthy(30)
    rows += [entry(100 + i, "Container called exit(3).", "ERROR", minute=i) for i in range(6)]
    rows += [entry(200 + i, "", "WARNING", minute=i, jsonPayload={
        "message": f"cache miss for key user:{i}, retrying in {i}s"}) for i in range(5)]
    return rows


def write(tmp_path: Path, name: str, rows: list[Any], *, lines: bool = False) -> str:
    path = tmp_path / name
    if lines:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        path.write_text(json.dumps(rows, indent=2))
    return str(path)


def analyze(*args: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["analyze", *args], {}, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def document(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "out.json"
    code, _, _ = analyze(*args, "--json", str(out))
    return code, json.loads(out.read_text())


def test_p0_fails_the_gate_and_the_json_keeps_the_contract(tmp_path: Path) -> None:
    code, doc = document(tmp_path, "--input", write(tmp_path, "x.json", outage()))
    assert code == 1
    assert doc["schema_version"] == 1
    assert doc["entries"] == {"total": 41, "analysed": 41, "skipped": 0, "skipped_reasons": {},
                              "skipped_examples": [], "truncated": False,
                              "repeated_insert_ids": 0}
    assert doc["severity_counts"] == {"ERROR": 6, "WARNING": 5, "INFO": 30}
    assert doc["window"]["start"].startswith("2025-09-15T10:00") and doc["window"]["end"]
    top = doc["clusters"][0]
    assert top["priority"] == "P0" and top["count"] == 6
    assert top["template"] == "Container called exit(<*>)."
    assert top["insert_ids"] == [f"id-{100 + i:05d}" for i in range(6)]
    assert top["share"] == round(6 / 41, 4)
    assert set(top) >= {"id", "fingerprint", "title", "first_seen", "last_seen", "severity_counts",
                        "resources", "source_locations", "samples", "query"}
    assert 'resource.labels.service_name="api"' in top["query"]
    assert '"Container called exit("' in top["query"]
    assert doc["gate"]["passed"] is False and doc["gate"]["fail_on"] == "P0"
    assert doc["gate"]["reasons"][0].startswith("C1 (P0, 6 entries) meets P0")
    priorities = [c["priority"] for c in doc["clusters"]]
    assert priorities == sorted(priorities)
    ids = [i for c in doc["clusters"] for i in c["insert_ids"]]
    assert sorted(ids) == sorted(e["insertId"] for e in outage())


def test_fail_on_never_passes_and_a_higher_bar_fails_on_warnings(tmp_path: Path) -> None:
    path = write(tmp_path, "x.json", outage())
    assert analyze("--input", path, "--fail-on", "never", "--json", str(tmp_path / "a"))[0] == 0
    code, doc = document(tmp_path, "--input", write(tmp_path, "h.json", healthy() + outage()[-5:]),
                         "--fail-on", "P2")
    assert code == 1 and any("P2" in r for r in doc["gate"]["reasons"])
    code, doc = document(tmp_path, "--input", write(tmp_path, "ok.json", healthy()))
    assert code == 0 and doc["gate"] == {"fail_on": "P0", "passed": True, "reasons": []}


def test_markdown_goes_to_stdout_without_outputs(tmp_path: Path) -> None:
    code, out, err = analyze("--input", write(tmp_path, "x.json", outage()))
    assert code == 1
    assert out.startswith("# Log Gardener worklog: api\n\n**Verdict: ❌ failed**")
    assert "| C1 | P0 |" in out
    assert "gate FAILED" in err


def test_stdin_and_json_lines_and_merging(tmp_path: Path) -> None:
    rows = outage()
    _, by_array = document(tmp_path, "--input", write(tmp_path, "x.json", rows))
    _, by_lines = document(tmp_path, "--input", write(tmp_path, "x.jsonl", rows, lines=True))
    out = tmp_path / "stdin.json"
    code, _, _ = analyze("--input", "-", "--json", str(out), stdin=json.dumps(rows))
    by_stdin = json.loads(out.read_text())
    for doc in (by_lines, by_stdin):
        assert doc["clusters"] == by_array["clusters"]
    half = len(rows) // 2
    _, merged = document(tmp_path, "--input", write(tmp_path, "a.json", rows[:half]),
                         "--input", write(tmp_path, "b.jsonl", rows[half:], lines=True))
    assert merged["clusters"] == by_array["clusters"]
    assert merged["source"]["inputs"] == ["a.json", "b.jsonl"]


def test_bad_entries_are_skipped_named_and_counted(tmp_path: Path) -> None:
    rows: list[Any] = outage()
    rows[3] = {"insertId": "no-time", "severity": "ERROR", "textPayload": "x"}
    rows[4] = "not an object"
    rows[5] = {**rows[5], "jsonPayload": "oops"}
    code, doc = document(tmp_path, "--input", write(tmp_path, "bad.json", rows))
    assert code == 1  # the good entries still fail the gate on the P0
    assert doc["entries"]["skipped"] == 3 and doc["entries"]["analysed"] == len(rows) - 3
    reasons = doc["entries"]["skipped_reasons"]
    assert any(k.startswith("timestamp:") for k in reasons)
    assert any(k.startswith("(entry):") for k in reasons)
    assert any(k.startswith("jsonPayload:") for k in reasons)
    examples = "\n".join(doc["entries"]["skipped_examples"])
    assert "bad.json#3 (insertId no-time): timestamp" in examples
    assert "bad.json#4: (entry)" in examples


@pytest.mark.parametrize("content", ["this is not json", "[1, 2, 3]", '[{"insertId": "a"}]'])
def test_nothing_readable_is_exit_2_never_a_pass(tmp_path: Path, content: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    code, _, err = analyze("--input", str(path), "--fail-on", "never")
    assert code == 2
    assert "no entry could be read" in err


def test_usage_errors_are_exit_2_with_the_fix(tmp_path: Path) -> None:
    code, _, err = analyze("--input", str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in err and "fix:" in err
    code, _, err = analyze("--input", write(tmp_path, "x.json", healthy()), "--fail-on", "P7")
    assert code == 2 and "--fail-on" in err
    code, _, err = analyze()
    assert code == 2 and "no input" in err
    bad = tmp_path / "rules.yml"
    bad.write_text("rules:\n  - match: {template: 'x'}\n    set: {priority: P9}\n")
    code, _, err = analyze("--input", write(tmp_path, "y.json", healthy()), "--config", str(bad))
    assert code == 2 and f"{bad}:3:" in err and "P9" in err


def test_a_bug_is_exit_4_redacted_never_a_gate_verdict(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception nothing expected (a bug of ours, stood in for by a renderer that raises with
    log text in its message) exits 4, not 1 as an uncaught exception would, which reads as a
    failed gate; its traceback and message are redacted."""
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"

    def broken(report: object, samples: int = 3) -> object:
        raise KeyError(f"Authorization: Bearer {token}")

    monkeypatch.setattr("gardener.cli.to_document", broken)
    code, out, err = analyze("--input", write(tmp_path, "x.json", outage()))
    assert code == 4 and out == ""
    assert err.startswith("Traceback (most recent call last):") and "in broken" in err
    last = err.rstrip().splitlines()[-1]
    assert last.startswith("gardener: error: internal error, the gate did not decide: KeyError")
    assert "please report it" in last
    assert token not in err and "[REDACTED:" in last

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    def worse(report: object, samples: int = 3) -> object:
        raise Unprintable

    monkeypatch.setattr("gardener.cli.to_document", worse)
    code, _, err = analyze("--input", write(tmp_path, "y.json", outage()))
    assert code == 4 and "internal error, the gate did not decide: " in err
    assert "Unprintable" in err.rstrip().splitlines()[-1]


def test_a_reader_that_stops_early_neither_crashes_nor_changes_the_verdict(tmp_path: Path
                                                                          ) -> None:
    """`gardener analyze ... | head`: the Markdown's reader is gone before it is written (the
    pipe is closed at once; stdout is block-buffered, as outside this workplace). The exit code
    is still the gate's (1: the outage's P0), with no traceback. Standard output on a full disk
    is exit 2, naming it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    rows = [*outage(), entry(900, "slow page " + "word " * 6000, "WARNING")]  # > the buffer
    child = subprocess.Popen([sys.executable, "-m", "gardener", "analyze", "--input",
                              write(tmp_path, "x.json", rows)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 1, err
    assert "Traceback" not in err and "gate FAILED" in err
    if Path("/dev/full").exists():  # a full disk is a failure to write, not a reader's choice
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "gardener", "analyze", "--input",
                                   str(tmp_path / "x.json")], stdout=full,
                                  stderr=subprocess.PIPE, env=env, cwd=tmp_path, check=False)
        assert done.returncode == 2, done.stderr
        assert b"standard output: cannot write the worklog" in done.stderr


def test_team_rules_change_priority_title_and_mute(tmp_path: Path) -> None:
    rules = tmp_path / "g.yml"
    rules.write_text(
        "rules:\n"
        "  - name: restarts-are-known\n"
        "    match: {template: 'Container called exit'}\n"
        "    set: {mute: true, title: Known restart loop, labels: [infra]}\n"
        "  - name: cache\n"
        "    match: {template: 'cache miss', min_count: 3}\n"
        "    set: {priority: P1}\n")
    code, doc = document(tmp_path, "--input", write(tmp_path, "x.json", outage()),
                         "--config", str(rules))
    by_title = {c["title"]: c for c in doc["clusters"]}
    restart = by_title["Known restart loop"]
    assert restart["muted"] is True and restart["labels"] == ["infra"]
    cache = next(c for c in doc["clusters"] if c["template"].startswith("cache miss"))
    assert cache["priority"] == "P1" and cache["rule"] == "team:cache"
    assert code == 0  # the P0 is muted and P1 is below the default P0 bar
    assert doc["summary"]["max_priority"] == "P1"


def test_output_is_deterministic(tmp_path: Path) -> None:
    path = write(tmp_path, "x.json", outage())
    first = tmp_path / "1.md"
    second = tmp_path / "2.md"
    analyze("--input", path, "--markdown", str(first))
    analyze("--input", path, "--markdown", str(second))
    assert first.read_bytes() == second.read_bytes()


def test_request_logs_cluster_by_route_shape_and_status_class(tmp_path: Path) -> None:
    rows = [entry(i, "", "ERROR" if i % 2 else "INFO", httpRequest={
        "requestMethod": "GET", "requestUrl": f"https://api.run.app/v1/users/{i * 7}/orders?p={i}",
        "status": 503 if i % 2 else 200, "latency": "0.05s"}) for i in range(20)]
    code, doc = document(tmp_path, "--input", write(tmp_path, "r.json", rows))
    templates = sorted(c["template"] for c in doc["clusters"])
    assert len(templates) == 2
    assert all("/v1/users/<*>/orders" in t for t in templates)
    failing = next(c for c in doc["clusters"] if c["priority"] == "P1")
    assert failing["count"] == 10
    assert "httpRequest.status>=500" in failing["query"]


def test_baseline_marks_new_spiking_and_gone(tmp_path: Path) -> None:
    before = healthy(40) + [entry(300 + i, f"slow query took {i}ms", "WARNING", minute=i % 5)
                            for i in range(4)]
    before += [entry(400 + i, "feature flag cache refreshed", minute=i % 5) for i in range(5)]
    now = healthy(40) + [entry(500 + i, f"slow query took {i}ms", "WARNING", minute=i % 5)
                         for i in range(60)]
    now += [entry(600 + i, "payment provider returned HTTP 502", "ERROR", minute=1)
            for i in range(3)]
    code, doc = document(tmp_path, "--input", write(tmp_path, "now.json", now),
                         "--baseline", write(tmp_path, "before.json", before),
                         "--fail-on", "new>=P1")
    statuses = {c["template"]: c["status"] for c in doc["clusters"]}
    assert statuses["payment provider returned HTTP <*>"] == "new"
    assert statuses["slow query took <*>ms"] == "spiking"
    assert statuses["request <*> served in <*>ms"] == "known"
    assert [g["template"] for g in doc["gone"]] == ["feature flag cache refreshed"]
    assert doc["summary"]["new"] == 1 and doc["summary"]["spiking"] == 1
    assert code == 1 and "new>=P1" in doc["gate"]["reasons"][0]


def test_state_makes_the_previous_run_the_baseline(tmp_path: Path) -> None:
    state = str(tmp_path / "state" / "gardener-state.json")
    first = healthy(40) + [entry(700 + i, "feature flag cache refreshed", minute=i % 5)
                           for i in range(5)]
    code, doc = document(tmp_path, "--input", write(tmp_path, "run1.json", first),
                         "--state", state)
    assert code == 0 and "status" not in doc["clusters"][0]  # no previous run yet
    assert Path(state).is_file()
    second = healthy(40) + [entry(800 + i, "payment provider returned HTTP 502", "ERROR",
                                  minute=2) for i in range(4)]
    code, doc = document(tmp_path, "--input", write(tmp_path, "run2.json", second),
                         "--state", state, "--fail-on", "new>=P1")
    statuses = {c["template"]: c.get("status") for c in doc["clusters"]}
    assert statuses["payment provider returned HTTP <*>"] == "new"
    assert statuses["request <*> served in <*>ms"] == "known"
    assert [g["template"] for g in doc["gone"]] == ["feature flag cache refreshed"]
    assert doc["summary"]["baseline"] == "the previous run"
    assert code == 1


def test_a_corrupt_state_file_is_a_usage_error_with_the_fix(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"version": 99}')
    code, _, err = analyze("--input", write(tmp_path, "x.json", healthy()), "--state", str(state))
    assert code == 2 and "unusable state file" in err and f"delete {state}" in err


def test_a_state_that_cannot_be_written_is_a_usage_error_with_the_fix(tmp_path: Path) -> None:
    """Not a crash (it was an uncaught OSError): the next run would have no baseline."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    state = blocker / "state.json"
    code, _, err = analyze("--input", write(tmp_path, "x.json", healthy()), "--state", str(state))
    assert code == 2 and f"{state}: cannot write the state" in err
    assert "writable directory" in err and "internal error" not in err


def test_baseline_pairs_known_by_construction(tmp_path: Path) -> None:
    """Issue 8's cases: steady noise is not a spike, small counts are not spikes, and a template
    whose variable part changed shape is still the same cluster."""
    def rows(start: int, text: str, n: int, severity: str = "WARNING") -> list[dict[str, Any]]:
        return [entry(start + i, text.format(i=i), severity, minute=i % 5) for i in range(n)]

    before = rows(0, "upstream latency high: {i}ms", 1000) + rows(2000, "disk usage at {i}%", 1)
    before += rows(3000, "cache miss for key user:{i}", 30)
    now = rows(5000, "upstream latency high: {i}ms", 1030) + rows(7000, "disk usage at {i}%", 3)
    now += [entry(8000 + i, f"cache miss for key user:{i:08x}-ab12-4cde-9f01-23456789abcd",
                  "WARNING", minute=i % 5) for i in range(30)]
    _, doc = document(tmp_path, "--input", write(tmp_path, "now.json", now),
                      "--baseline", write(tmp_path, "before.json", before))
    by_template = {c["template"]: c for c in doc["clusters"]}
    steady = next(c for t, c in by_template.items() if t.startswith("upstream latency high"))
    assert steady["status"] == "known" and steady["baseline_count"] == 1000
    assert 1.0 <= steady["rate_ratio"] <= 1.1
    small = next(c for t, c in by_template.items() if t.startswith("disk usage at"))
    assert small["status"] == "known" and small["baseline_count"] == 1  # 1 -> 3 is no spike
    assert small["spike_p_value"] > 0.05
    reshaped = next(c for t, c in by_template.items() if t.startswith("cache miss for key"))
    assert reshaped["status"] == "known" and reshaped["baseline_count"] == 30
    assert doc["gone"] == [] and doc["summary"]["new"] == 0 and doc["summary"]["spiking"] == 0


_SCALARS = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.text()
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def _json(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=8), inner, max_size=4), max_leaves=20)
    return st.dictionaries(st.text(max_size=8), values, max_size=6)


@given(_json(_SCALARS))
def test_json_worklog_text_is_what_json_dumps_writes(doc: dict[str, Any]) -> None:
    """The fast encoder writes the worklog byte for byte as `json.dumps(indent=2)` would..."""
    from gardener.cli import json_bytes

    assert json_bytes(doc).decode() == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@given(_json(_SCALARS | _FLOATS))
def test_json_worklog_text_keeps_every_value(doc: dict[str, Any]) -> None:
    """...but for the spelling of exponents (`1e-8`, not `1e-08`): the values are the same."""
    from gardener.cli import json_bytes

    assert json.loads(json_bytes(doc)) == doc


def test_json_worklog_text_falls_back_for_lone_surrogates() -> None:
    """UTF-8 cannot hold a lone surrogate: json writes it escaped, and reads it back."""
    from gardener.cli import json_bytes

    doc = {"message": "broken \ud800 escape"}
    data = json_bytes(doc)
    assert data.isascii() and json.loads(data) == doc


@pytest.mark.parametrize("lines", [False, True])
def test_an_escaped_half_of_a_surrogate_pair_reads_as_a_replacement_character(
        tmp_path: Path, lines: bool) -> None:
    """`\\ud800` without its pair is valid JSON but no valid text: the entry is analysed with
    U+FFFD in its place (as undecodable bytes are), a whole pair stays its character, and both
    worklogs are written."""
    entries = [{"insertId": f"e{i}", "timestamp": "2025-09-15T23:46:21Z",
                "textPayload": f"upload {i} failed: PLACEHOLDER"} for i in range(3)]
    text = "\n".join(json.dumps(e) for e in entries) if lines else json.dumps(entries, indent=2)
    export = tmp_path / "export.json"
    export.write_text(text.replace("PLACEHOLDER", "bad \\ud800 name \\ud83d\\ude00"),
                      encoding="utf-8")
    out, md = tmp_path / "worklog.json", tmp_path / "worklog.md"
    code = main(["analyze", "--input", str(export), "--json", str(out), "--markdown", str(md)],
                {}, stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 0
    doc = json.loads(out.read_text("utf-8"))
    assert doc["entries"]["analysed"] == 3
    assert doc["clusters"][0]["template"] == "upload <*> failed: bad \ufffd name \U0001f600"
    assert "bad \ufffd name" in md.read_text("utf-8")


def test_analyze_loads_neither_the_publisher_nor_the_google_client(tmp_path: Path) -> None:
    """Start-up cost: `gardener analyze` builds the whole command line (the `publish` and Cloud
    Logging flags too) but imports none of the modules behind them."""
    export = tmp_path / "export.json"
    export.write_text(json.dumps([{"insertId": "a", "timestamp": "2025-09-15T23:46:21Z",
                                   "textPayload": "hello"}]))
    code = ("import sys; from gardener.cli import main; code = main(['analyze', '--input', "
            "sys.argv[1], '--json', sys.argv[2]]); "
            "print(code, sorted(m for m in sys.modules if m.startswith(('gardener.publish.', "
            "'github', 'google', 'gardener.sources.cloud', 'gardener.sources.live_query'))))")
    out = subprocess.run([sys.executable, "-c", code, str(export), str(tmp_path / "o.json")],
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "['gardener.publish.args']"]
