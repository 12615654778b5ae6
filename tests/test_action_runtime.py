"""Workflow commands, GITHUB_OUTPUT records, annotations and the job summary, read back as the
runner would read them."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gardener import actions_runtime as rt
from gardener.errors import PublishError
from gardener.publish import IssueRef, PublishResult


def read_outputs(text: str) -> dict[str, str]:
    """Parse GITHUB_OUTPUT the way the runner does (heredoc records)."""
    values, lines, i = {}, text.split("\n"), 0
    while i < len(lines) and lines[i]:
        name, delimiter = lines[i].split("<<", 1)
        end = lines.index(delimiter, i + 1)
        values[name] = "\n".join(lines[i + 1:end])
        i = end + 1
    return values


def unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":") \
        .replace("%2C", ",").replace("%25", "%")


@given(st.text())
def test_escaped_text_is_one_line_that_round_trips(text: str) -> None:
    line = rt.workflow_command("error", text, {"title": text})
    assert "\n" not in line and "\r" not in line
    message = line.split("::", 2)[2]
    assert unescape(message) == text


def test_a_log_line_cannot_smuggle_a_command() -> None:
    evil = "boom\n::add-mask::x\n::set-output name=verdict::pass"
    line = rt.Annotation(rt.Level.ERROR, evil, title="a,b:c").command()
    assert line.startswith("::error title=a%2Cb%3Ac::boom%0A::add-mask")
    assert line.count("\n") == 0


def test_annotation_file_and_line_only_with_a_file() -> None:
    pinned = rt.Annotation(rt.Level.WARNING, "m", title="t", file="shop/db.py", line=12)
    assert pinned.command() == "::warning title=t,file=shop/db.py,line=12::m"
    assert rt.Annotation(rt.Level.ERROR, "m", line=12).command() == "::error::m"


def test_add_mask_masks_each_line_of_a_multi_line_secret() -> None:
    assert rt.add_mask("ghs_abc\n-----KEY-----\n") == ["::add-mask::ghs_abc",
                                                      "::add-mask::-----KEY-----"]
    assert rt.add_mask("") == []


def test_commands_are_stopped_around_a_block_and_resumed() -> None:
    out = io.StringIO()
    with rt.commands_stopped(out) as token:
        out.write("::error::from a log line\n")
    lines = out.getvalue().splitlines()
    assert lines[0] == f"::stop-commands::{token}" and lines[-1] == f"::{token}::"
    assert len(token) == 32


@given(st.dictionaries(st.sampled_from(["verdict", "clusters", "worklog_json"]), st.text()))
def test_outputs_round_trip_through_the_heredoc_format(values: dict[str, str]) -> None:
    text = "".join(rt.output_block(k, v.replace("\r", "")) for k, v in values.items())
    assert read_outputs(text) == {k: v.replace("\r", "") for k, v in values.items()}


def test_write_outputs_appends(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("earlier<<EOF\nx\nEOF\n")
    rt.write_outputs(str(path), {"verdict": "fail", "clusters": "3"})
    assert read_outputs(path.read_text()) == {"earlier": "x", "verdict": "fail", "clusters": "3"}


def test_repo_path_drops_leading_directories_until_the_file_exists() -> None:
    repo = {"netra_backend/app/smd.py", "app.py"}
    assert rt.repo_path("/app/netra_backend/app/smd.py", repo.__contains__) == \
        "netra_backend/app/smd.py"
    assert rt.repo_path("netra_backend/app/smd.py", repo.__contains__) == \
        "netra_backend/app/smd.py"
    assert rt.repo_path("/usr/lib/python3.12/asyncio/tasks.py", repo.__contains__) == ""
    assert rt.repo_path("../../etc/passwd", lambda _: True) == ""
    assert rt.repo_path("", lambda _: True) == ""


def cluster(cid: str, priority: str, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "priority": priority, "title": f"title {cid}", "count": 10, "share": 0.25,
            "first_seen": "2025-09-15T23:46:30Z", "last_seen": "2025-09-16T00:46:01Z",
            "reason": "a startup dependency timed out", "muted": False, "source_locations": [],
            **extra}


def doc_of(*clusters: dict[str, Any], passed: bool = True, total: int = 100) -> dict[str, Any]:
    by = {p: sum(c["priority"] == p for c in clusters) for p in ("P0", "P1", "P2", "P3", "P4")}
    top = min((c["priority"] for c in clusters), default=None)
    return {"summary": {"clusters": len(clusters), "by_priority": by, "max_priority": top},
            "clusters": list(clusters), "entries": {"total": total},
            "gate": {"fail_on": "P0", "passed": passed,
                     "reasons": [] if passed else ["C1 (P0): title C1"]}}


def test_p0_is_an_error_p1_a_warning_pinned_to_the_first_mapped_location() -> None:
    p0 = cluster("C1", "P0", source_locations=[
        {"file": "/usr/lib/python3.12/asyncio/tasks.py", "line": 520, "count": 30},
        {"file": "/app/shop/db.py", "line": 88, "count": 20}])
    doc = doc_of(p0, cluster("C2", "P1"), cluster("C3", "P2"),
                 cluster("C4", "P0", muted=True), passed=False)
    notes = rt.annotations_for(doc, 1, "", [], {"shop/db.py"}.__contains__)
    assert [(n.level, n.title.split(":")[0], n.file, n.line) for n in notes] == [
        (rt.Level.ERROR, "Log Gardener P0", "shop/db.py", 88),
        (rt.Level.WARNING, "Log Gardener P1", "", None),
        (rt.Level.ERROR, "Log Gardener", "", None)]
    assert "C1 (P0)" in notes[-1].message and notes[-1].title == "Log Gardener: gate failed"


def test_annotations_are_capped_per_level() -> None:
    doc = doc_of(*(cluster(f"C{i}", "P0") for i in range(25)), passed=False)
    notes = rt.annotations_for(doc, 1, "", [], lambda _: False)
    assert sum(n.level is rt.Level.ERROR for n in notes) == rt.MAX_ANNOTATIONS


def test_errors_and_publish_failures_are_annotated() -> None:
    notes = rt.annotations_for(None, 3, "Cloud Logging refused: 403", ["no token"],
                               lambda _: False)
    assert [(n.level, n.title) for n in notes] == [
        (rt.Level.ERROR, "Log Gardener: could not read the logs"),
        (rt.Level.WARNING, "Log Gardener: could not publish")]
    assert notes[0].message == "Cloud Logging refused: 403"


def test_an_internal_error_is_annotated_as_one() -> None:
    notes = rt.annotations_for(None, 4, "internal error, the gate did not decide: KeyError", [],
                               lambda _: False)
    assert [(n.level, n.title) for n in notes] == [(rt.Level.ERROR, "Log Gardener: internal error")]
    assert rt.verdict({"gate": {"passed": True}}, 4) == "error"


def test_an_empty_window_is_a_warning() -> None:
    notes = rt.annotations_for(doc_of(total=0), 0, "", [], lambda _: False)
    assert [n.level for n in notes] == [rt.Level.WARNING]
    assert "no log entry" in notes[0].message


def test_outputs_never_say_pass_without_a_worklog() -> None:
    assert rt.outputs_for(None, 0, ("", ""), "")["verdict"] == "error"
    assert rt.outputs_for(doc_of(), 2, ("a", "b"), "")["verdict"] == "error"
    assert rt.outputs_for(doc_of(), 3, ("a", "b"), "")["verdict"] == "error"


def test_outputs_from_a_worklog() -> None:
    doc = doc_of(cluster("C1", "P0", status="new"), cluster("C2", "P0", status="known"),
                 cluster("C3", "P3", status="new"), passed=False)
    values = rt.outputs_for(doc, 1, (".log-gardener/w.json", ".log-gardener/w.md"), "u")
    assert values == {"verdict": "fail", "max_priority": "P0", "clusters": "3",
                      "p0_clusters": "2", "new_clusters": "2", "spiking_clusters": "0",
                      "worklog_json": ".log-gardener/w.json",
                      "worklog_markdown": ".log-gardener/w.md", "comment_url": "u"}
    assert rt.outputs_for(doc_of(cluster("C1", "P2")), 0, ("", ""), "")["new_clusters"] == ""
    spiking = doc_of(cluster("C1", "P1", status="spiking"), cluster("C2", "P4", status="known"))
    assert rt.outputs_for(spiking, 0, ("", ""), "")["spiking_clusters"] == "1"


def test_published_url_prefers_the_comment_then_issues() -> None:
    issue = IssueRef(7, "https://github.com/acme/shop/issues/7")
    assert rt.published_url(PublishResult(comment_url="c", issues_created=(issue,))) == "c"
    assert rt.published_url(PublishResult(issues_updated=(issue,))) == issue.url
    assert rt.published_url(None) == ""


def test_summary_says_the_verdict_what_failed_and_what_was_posted() -> None:
    result = PublishResult(errors=(PublishError("GitHub refused the comment (403)"),))
    text = rt.summary_for(doc_of(passed=False), "# worklog\n", 1, "",
                          rt.publish_lines(result, ""))
    assert text.startswith("## ❌ Log Gardener: fail (exit code 1)")
    # Log and error text is made inert for Markdown (see gardener.markup).
    assert "Not published: GitHub refused the comment \\(403\\)" in text
    assert text.endswith("# worklog\n")
    error = rt.summary_for(None, "", 3, "Cloud Logging: 403 PERMISSION_DENIED", [])
    assert error.startswith("## ⚠️ Log Gardener: error (exit code 3)")
    assert "```\nCloud Logging: 403 PERMISSION_DENIED\n```" in error


def test_summary_is_cut_to_the_runners_limit_at_a_line() -> None:
    big = "".join(f"| row {i} | {'x' * 80} |\n" for i in range(20_000))
    text = rt.summary_for(doc_of(), big, 0, "", [], ".log-gardener/w.json")
    assert len(text.encode()) <= rt.SUMMARY_LIMIT
    assert text.rstrip().endswith("`.log-gardener/w.json`.*")
    assert re.search(r"\| row \d+ \| x+ \|\n\n\*The worklog was cut", text)


def test_tee_shows_and_keeps_the_cli_error() -> None:
    out = io.StringIO()
    tee = rt.Tee(out)
    tee.write("gardener: reading\n")
    tee.write("gardener: error: Cloud Logging refused\n  fix:   grant roles/logging.viewer\n")
    assert out.getvalue() == tee.getvalue()
    assert tee.error_text() == "Cloud Logging refused\n  fix:   grant roles/logging.viewer"


def test_a_summary_cut_inside_a_fence_and_a_fold_closes_them_before_the_note() -> None:
    """The note saying the worklog was cut showed as code, or folded away, when the cut fell
    inside a code block or a `<details>`."""
    body = "# Worklog\n<details>\n<summary>C1</summary>\n\n````\n" + "log line\n" * 2000
    text = rt.fit_summary(body, "**The worklog was cut.**", limit=4096)
    assert len(text.encode()) <= 4096
    head, note = text.rsplit("\n\n", 1)
    assert head.endswith("````\n</details>")
    assert note == "**The worklog was cut.**\n"
