"""The GitHub Actions runtime at our edge: the event in; commands, outputs and the summary out.

The functions are pure (they read values and return the exact text to print or write) except
`load_event` and the two file writers. Escaping follows the runner's rules, so text from logs can
never start a workflow command of its own.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

from gardener import markup
from gardener.errors import ConfigError, InputError
from gardener.markup import code_block, inline
from gardener.publish import PublishResult

SUMMARY_LIMIT = 1024 * 1024
"""The runner rejects a step summary larger than 1 MiB (it then shows nothing at all)."""
MAX_ANNOTATIONS = 10
"""The runner shows at most 10 annotations of each level per step; the rest are dropped."""
VERDICTS = {0: "pass", 1: "fail"}
"""Exit code -> `verdict` output; every other code (and a missing worklog) is `error`."""


class Level(Enum):
    """Annotation levels the runner knows."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


@dataclass(frozen=True, slots=True)
class Annotation:
    """One `::error`/`::warning`/`::notice` line, optionally pinned to a file in the repository."""

    level: Level
    """How it shows in the run and on the pull request's files."""
    message: str
    """The text (may be several lines; escaped when printed)."""
    title: str = ""
    """A short heading."""
    file: str = ""
    """Repository-relative path the annotation points at; empty for none."""
    line: int | None = None
    """1-based line in `file`."""

    def command(self) -> str:
        """The workflow command line for this annotation."""
        props = {"title": self.title, "file": self.file,
                 "line": "" if self.line is None or not self.file else str(self.line)}
        return workflow_command(self.level.value, self.message, props)


def escape_data(text: str) -> str:
    """Escape a command's message so it stays on one line (the runner's `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value (the runner's `escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(name: str, message: str, props: Mapping[str, str] | None = None) -> str:
    """`::name k=v,k=v::message` with empty properties left out."""
    pairs = ",".join(f"{key}={escape_property(value)}"
                     for key, value in (props or {}).items() if value)
    return f"::{name}{' ' + pairs if pairs else ''}::{escape_data(message)}"


def add_mask(value: str) -> list[str]:
    """`::add-mask::` lines hiding `value` (each line of a multi-line secret separately)."""
    return [f"::add-mask::{escape_data(part)}" for part in value.splitlines() if part.strip()]


@contextmanager
def commands_stopped(out: TextIO, token: str | None = None) -> Iterator[str]:
    """Stop the runner from acting on workflow commands printed inside the block.

    Whatever prints log text (the CLI's progress, a dry run's comment body) runs inside this, so
    a log line such as `::add-mask::` or `::error::` is shown, never obeyed.
    """
    token = token or secrets.token_hex(16)
    out.write(f"::stop-commands::{token}\n")
    out.flush()
    try:
        yield token
    finally:
        out.write(f"::{token}::\n")
        out.flush()


def output_block(name: str, value: str) -> str:
    """One GITHUB_OUTPUT record, heredoc-style so any value (multi-line too) is safe."""
    delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
    while delimiter in value:  # pragma: no cover - 64 random bits
        delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(path: str, outputs: Mapping[str, str]) -> None:
    """Append `outputs` to the GITHUB_OUTPUT file."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write("".join(output_block(name, value) for name, value in outputs.items()))


def fit_summary(markdown: str, note: str, limit: int = SUMMARY_LIMIT) -> str:
    """`markdown` cut at a line boundary so that it plus `note` fits in `limit` UTF-8 bytes."""
    if len(markdown.encode("utf-8")) <= limit:
        return markdown
    budget = limit - len(note.encode("utf-8")) - 2 - _CLOSERS_ROOM
    kept, used = [], 0
    for line in markdown.splitlines(keepends=True):
        size = len(line.encode("utf-8"))
        if used + size > budget:
            break
        kept.append(line)
        used += size
    return "".join(kept) + _closers(kept) + "\n" + note + "\n"


_CLOSERS_ROOM = 512
"""Bytes kept free for `_closers`: a fence and a few `</details>`."""
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})")


def _closers(lines: list[str]) -> str:
    """What closes the code fence and `<details>` blocks left open where the worklog was cut,
    so the note after it reads as text, not as code or inside a folded block."""
    fence, details = "", 0
    for line in lines:
        opened = _FENCE.match(line)
        if fence:
            if opened and opened[1][0] == fence[0] and len(opened[1]) >= len(fence) and \
                    not line[opened.end():].strip():
                fence = ""
        elif opened:
            fence = opened[1]
        else:
            details += line.count("<details>") - line.count("</details>")
    return (f"{fence}\n" if fence else "") + "</details>\n" * min(max(details, 0), 20)


def append_summary(path: str, markdown: str) -> None:
    """Append Markdown to the GITHUB_STEP_SUMMARY file."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(markdown)


def load_event(env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """`(GITHUB_EVENT_NAME, payload)`; an empty payload outside Actions."""
    name, path = env.get("GITHUB_EVENT_NAME", ""), env.get("GITHUB_EVENT_PATH", "")
    if not path:
        return name, {}
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read the event payload {path}", cause=str(err)) from err
    return name, payload if isinstance(payload, dict) else {}


def pull_number(event: str, payload: Mapping[str, Any]) -> int | None:
    if event in ("pull_request", "pull_request_target", "pull_request_review"):
        number = dig(payload, "pull_request", "number") or payload.get("number")
        return number if isinstance(number, int) else None
    if event == "workflow_run":  # only same-repository PRs are listed; forks give []
        pulls = dig(payload, "workflow_run", "pull_requests") or []
        numbers = [p.get("number") for p in pulls if isinstance(p, dict)]
        return numbers[0] if len(numbers) == 1 and isinstance(numbers[0], int) else None
    return None


def commit_sha(event: str, payload: Mapping[str, Any]) -> str:
    value = {"push": dig(payload, "after"),
             "deployment_status": dig(payload, "deployment", "sha"),
             "deployment": dig(payload, "deployment", "sha"),
             "workflow_run": dig(payload, "workflow_run", "head_sha")}.get(event)
    # A branch deletion pushes the all-zero SHA: there is no commit to comment on.
    return value if isinstance(value, str) and value.strip("0") else ""


def deploy_time(event: str, payload: Mapping[str, Any]) -> datetime:
    """When the deploy the event reports happened, for `window: deploy`."""
    candidates = {
        "deployment_status": [dig(payload, "deployment_status", "created_at")],
        "workflow_run": [dig(payload, "workflow_run", "run_started_at"),
                         dig(payload, "workflow_run", "created_at")],
        "push": [dig(payload, "repository", "pushed_at"),
                 dig(payload, "head_commit", "timestamp")],
    }.get(event, [])
    for value in candidates:
        if isinstance(value, int):  # push payloads give repository.pushed_at in epoch seconds
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str) and value:
            return _timestamp(value)
    raise ConfigError(f"window: deploy, but the {event or 'unknown'} event carries no deploy time",
                      fix="run on deployment_status, workflow_run or push, or give window: a "
                      "duration (1h) or the time a step before the deploy wrote")


def dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise InputError(f"the event's time {text!r} is not an RFC 3339 time") from None


class Tee(io.StringIO):
    """Text written here goes straight to `out` and is also kept, to quote errors afterwards."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self._out = out

    def write(self, text: str) -> int:
        self._out.write(text)
        return super().write(text)

    def flush(self) -> None:
        self._out.flush()

    def error_text(self) -> str:
        """What followed the CLI's first `gardener: error:`, or ""."""
        text = self.getvalue()
        at = text.find("gardener: error:")
        return text[at + len("gardener: error:"):].strip() if at >= 0 else ""


def rfc3339(moment: datetime) -> str:
    """`2025-09-15T23:46:21Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verdict(doc: Mapping[str, Any] | None, code: int) -> str:
    """`pass`, `fail` or `error`: never `pass` without a worklog that says so."""
    return VERDICTS.get(code, "error") if doc is not None else "error"


def repo_path(file: str, exists: Callable[[str], bool]) -> str:
    """The repository path a logged source file maps to, or "".

    Services log paths as they run them (`/app/netra_backend/app/smd.py`); leading directories
    are dropped one at a time until what is left exists in the checkout.
    """
    parts = [p for p in PurePosixPath(file.replace("\\", "/")).parts if p not in ("/", ".")]
    if not parts or ".." in parts:
        return ""
    for start in range(len(parts)):
        candidate = "/".join(parts[start:])
        if exists(candidate):
            return candidate
    return ""


def cluster_annotation(cluster: Mapping[str, Any], exists: Callable[[str], bool]) -> Annotation:
    """A P0 cluster as an error, a P1 as a warning, pinned to its most frequent source line."""
    level = Level.ERROR if cluster.get("priority") == "P0" else Level.WARNING
    file, line = "", None
    for location in cluster.get("source_locations") or []:
        file = repo_path(str(location.get("file") or ""), exists)
        if file:
            line = location.get("line") if isinstance(location.get("line"), int) else None
            break
    message = (f"{cluster.get('id')} ({cluster.get('priority')}): {cluster.get('title')}\n"
               f"{cluster.get('count')} entries ({float(cluster.get('share') or 0):.1%}), "
               f"{cluster.get('first_seen')} to {cluster.get('last_seen')}")
    if cluster.get("reason"):
        message += f"\nwhy {cluster.get('priority')}: {cluster.get('reason')}"
    return Annotation(level, message, title=f"Log Gardener {cluster.get('priority')}: "
                      f"{str(cluster.get('title') or '')[:100]}", file=file, line=line)


def annotations_for(doc: Mapping[str, Any] | None, code: int, problem: str,
                    publish_problems: Sequence[str], exists: Callable[[str], bool]
                    ) -> list[Annotation]:
    """Everything worth an annotation: P0/P1 clusters, the verdict, what went wrong."""
    found: list[Annotation] = []
    if doc is not None:
        urgent = [c for c in doc.get("clusters", [])
                  if c.get("priority") in ("P0", "P1") and not c.get("muted")]
        for level in (Level.ERROR, Level.WARNING):
            pinned = [cluster_annotation(c, exists) for c in urgent]
            found += [a for a in pinned if a.level is level][:MAX_ANNOTATIONS - 1]
        if not (doc.get("entries") or {}).get("total"):
            found.append(Annotation(Level.WARNING, "no log entry in the window: check project_id, "
                                    "service/cluster, filter and window", title="Log Gardener"))
    if code == 1 and doc is not None:
        reasons = "\n".join(str(r) for r in (doc.get("gate") or {}).get("reasons", []))
        found.append(Annotation(Level.ERROR, reasons or "the gate failed",
                                title="Log Gardener: gate failed"))
    elif verdict(doc, code) == "error":
        title = {2: "bad input or configuration", 4: "internal error"}.get(
            code, "could not read the logs")
        found.append(Annotation(Level.ERROR, problem or f"exit code {code}; the gate cannot pass",
                                title=f"Log Gardener: {title}"))
    found += [Annotation(Level.WARNING, p, title="Log Gardener: could not publish")
              for p in publish_problems]
    return found


def publish_problems(result: PublishResult | None, problem: str) -> list[str]:
    """Diagnostics of everything that failed while publishing."""
    return ([problem] if problem else []) + [e.diagnostics() for e in
                                             (result.errors if result else ())]


def published_url(result: PublishResult | None) -> str:
    """The comment's address, else the first issue touched, else ""."""
    if result is None or result.dry_run:  # a dry run's "URL" is a placeholder
        return ""
    issues = (*result.issues_created, *result.issues_reopened, *result.issues_updated)
    return result.comment_url or (issues[0].url if issues else "")


def outputs_for(doc: Mapping[str, Any] | None, code: int, files: tuple[str, str],
                comment_url: str) -> dict[str, str]:
    """The action's outputs (all of them, always, so expressions never see a missing one)."""
    summary = (doc or {}).get("summary") or {}
    clusters = (doc or {}).get("clusters") or []
    statuses = [c.get("status") for c in clusters if "status" in c]
    return {
        "verdict": verdict(doc, code),
        "max_priority": str(summary.get("max_priority") or ""),
        "clusters": str(summary.get("clusters", "")) if doc is not None else "",
        "p0_clusters": str((summary.get("by_priority") or {}).get("P0", 0)) if doc else "",
        # Without a baseline no cluster has a status, and "new" is unknown rather than 0.
        "new_clusters": str(statuses.count("new")) if statuses else "",
        "spiking_clusters": str(statuses.count("spiking")) if statuses else "",
        "worklog_json": files[0], "worklog_markdown": files[1], "comment_url": comment_url,
    }


def publish_lines(result: PublishResult | None, problem: str) -> list[str]:
    """Bullet lines on what publishing did, for the job summary."""
    lines = [f"- ⚠️ Not published: {inline(p, 600)}" for p in publish_problems(result, problem)]
    if result is None:
        return lines
    if result.dry_run:
        lines.append("- Dry run: nothing was posted to GitHub.")
    if result.comment_url and not result.dry_run:
        lines.append(f"- Worklog comment: {result.comment_url}")
    counts = (len(result.issues_created), len(result.issues_reopened), len(result.issues_updated))
    if any(counts):
        lines.append("- Issues: {} opened, {} reopened, {} updated".format(*counts))
    return lines


def summary_for(doc: Mapping[str, Any] | None, markdown: str, code: int, problem: str,
                publish: Sequence[str], json_file: str = "") -> str:
    """The job summary: the verdict, what went wrong or was posted, then the worklog."""
    icon = {"pass": "✅", "fail": "❌", "error": "⚠️"}[verdict(doc, code)]
    parts = [f"## {icon} Log Gardener: {verdict(doc, code)} (exit code {code})"]
    if problem:
        parts.append(code_block(problem))
    if publish:
        parts.append("\n".join(publish))
    text = "\n\n".join(parts) + "\n\n" + markdown
    note = ("*The worklog was cut to fit the job summary's 1 MiB limit; the whole of it is in "
            f"{markup.code(json_file) if json_file else 'the worklog files'}.*")
    return fit_summary(text, note)
