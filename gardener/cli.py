"""The `gardener` command: a thin shell over `gardener.pipeline.run`, testable in-process."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import msgspec

from gardener import __version__
from gardener.batches import default_jobs
from gardener.config import DEFAULT_CONFIG, Config, load_config
from gardener.errors import ConfigError, ExitCode, GardenerError
from gardener.gate import FAIL_ON_HELP
from gardener.pipeline import run
from gardener.redact import redact, use_environment
from gardener.render import markdown
from gardener.report import Report
from gardener.sources import LogSource
from gardener.sources.files import FileSource
from gardener.state import load_state, save_state
from gardener.worklog import to_document

EXIT_CODES = """exit codes:
  0  the gate passed
  1  the gate failed: a cluster met a --fail-on condition
  2  bad usage, configuration or input (including: no entry could be read)
  3  an upstream service (Cloud Logging, Google auth, GitHub) failed
  4  an internal error (a bug in gardener): the gate did not decide"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gardener", description="Cluster a service's Cloud Logging entries, rank them P0-P4, "
        "write a worklog and gate the deploy.", epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gardener {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    analyze = commands.add_parser(
        "analyze", help="analyse log entries and write a worklog",
        description="Analyse a `gcloud logging read --format=json` export (or Cloud Logging "
        "directly) and write a worklog; the exit code is the gate's verdict.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    files = analyze.add_argument_group("offline input")
    files.add_argument("--input", action="append", metavar="PATH", default=[],
                       help="a JSON array export or JSON Lines file; `-` for stdin; repeatable "
                       "(inputs are merged)")
    files.add_argument("--baseline", action="append", metavar="PATH", default=[],
                       help="an export of the window before the deploy, to mark clusters new, "
                       "spiking or gone; repeatable")
    files.add_argument("--state", metavar="PATH",
                       help="scheduled runs: compare against the run that saved PATH (if it "
                       "exists), then save this run there")
    analyze.add_argument("--config", metavar="PATH",
                         help=f"team rules (default: ./{DEFAULT_CONFIG} if it exists)")
    analyze.add_argument("--fail-on", metavar="SPEC",
                         help=f"when the gate fails: {FAIL_ON_HELP}; the config's fail_on "
                         "applies when this is not given")
    analyze.add_argument("--markdown", metavar="OUT.md", help="write the Markdown worklog here")
    analyze.add_argument("--json", metavar="OUT.json", help="write the JSON worklog here")
    analyze.add_argument("--jobs", metavar="N", type=_jobs, default=0,
                         help="processes that parse big export files (default: one per CPU; "
                         "1: none besides this one); the worklog is the same for any N")
    _add_live(analyze)
    _add_publish(commands)
    return parser


def _jobs(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:  # `²` is a digit to isdigit
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, 1 or more, "
                                         f"got {text!r}")
    return int(text)


def _add_live(analyze: argparse.ArgumentParser) -> None:
    """Cloud Logging flags, when the live source is installed alongside."""
    try:
        from gardener.sources.live_args import add_live_arguments
    except ImportError:  # pragma: no cover - the live source ships with the package
        return
    add_live_arguments(analyze.add_argument_group("Cloud Logging (instead of --input)"))


def _add_publish(commands: Any) -> None:
    try:
        from gardener.publish.args import add_publish_arguments
    except ImportError:  # pragma: no cover - the publisher ships with the package
        return
    publish = commands.add_parser(
        "publish", help="post a worklog to GitHub (PR comment, commit comment or issues)",
        description="Post a JSON worklog to GitHub. Token from GITHUB_TOKEN, API from "
        "GITHUB_API_URL (GitHub Enterprise Server).", epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_publish_arguments(publish)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None, *,
         stdin: TextIO | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code (see `EXIT_CODES`)."""
    env = os.environ if env is None else env
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    use_environment(env)  # before anything is printed: the job's tokens are secrets too
    try:
        if args.command == "analyze":
            return analyze(args, env, stdin or sys.stdin, stdout, stderr)
        if args.command == "publish":
            from gardener.publish.cli import run_publish
            return int(run_publish(args, env, stdout))
        parser.print_help(stderr)
        return ExitCode.USAGE
    except GardenerError as err:
        print(f"gardener: error: {redact(err.diagnostics())}", file=stderr)
        return err.exit_code
    except Exception as err:  # noqa: BLE001 - a bug: never let it pass for a gate's verdict
        print(internal_error(err), file=stderr)
        return ExitCode.INTERNAL


def internal_error(err: BaseException) -> str:
    """The traceback of a bug, redacted (exception messages can quote log text), then one line
    saying what happened: an uncaught exception would exit 1, a failed gate's code, and print
    its message unredacted."""
    import traceback

    trace = "".join(traceback.format_exception(err)).rstrip()
    what = " ".join("".join(traceback.format_exception_only(err)).split())  # even if str() fails
    return (f"{redact(trace)}\ngardener: error: internal error, the gate did not decide: "
            f"{redact(what)[:500]} (a bug: please report it with the traceback above)")


def analyze(args: argparse.Namespace, env: Mapping[str, str], stdin: TextIO, stdout: TextIO,
            stderr: TextIO) -> int:
    """`gardener analyze`: read, analyse, write the worklog, return the gate's exit code."""
    config = _config(args.config)
    fail_on = args.fail_on or config.fail_on or "P0"
    source = _source(args, env, stdin, stderr)
    baseline: LogSource | None = FileSource(args.baseline, stdin) if args.baseline else None
    if getattr(args, "deployed_at", None):
        source, baseline = _around_deploy(source, args)
    previous = load_state(args.state) if args.state and not baseline else None
    baseline_skips: list[str] = []
    report = run(source, config, fail_on, baseline=baseline, previous=previous,
                 jobs=args.jobs or default_jobs(), skipped=baseline_skips.append)
    doc = to_document(report, samples=config.samples)
    _write_outputs(doc, args, stdout, actions=env.get("GITHUB_ACTIONS") == "true")
    if args.state and report.state and report.entries.analysed:
        save_state(args.state, report.state)
    print(redact(summary_line(report)), file=stderr)
    for example in [*report.entries.skip_examples[:5], *baseline_skips[:5]]:
        print(f"gardener: skipped {redact(example)}", file=stderr)
    if report.entries.total and not report.entries.analysed:
        print("gardener: error: no entry could be read; the gate cannot pass", file=stderr)
        return ExitCode.USAGE
    return ExitCode.PASSED if report.gate.passed else ExitCode.FAILED


def _config(path: str | None) -> Config:
    if path:
        return load_config(path)
    return load_config(DEFAULT_CONFIG) if Path(DEFAULT_CONFIG).is_file() else Config()


def _source(args: argparse.Namespace, env: Mapping[str, str], stdin: TextIO,
            stderr: TextIO) -> LogSource:
    live: LogSource | None = None
    if getattr(args, "project", None):
        from gardener.sources.cloud_logging import live_source_from_args
        live = live_source_from_args(args, env, progress=stderr)
    if live is not None and args.input:
        raise ConfigError("both --input and --project were given",
                          fix="read an export with --input, or Cloud Logging with --project, "
                          "not both")
    if live is not None:
        return live
    if getattr(args, "deployed_at", None):
        raise ConfigError("--deployed-at needs Cloud Logging (--project)",
                          fix="offline, pass the export before the deploy with --baseline PATH")
    if not args.input:
        raise ConfigError("no input: give --input PATH (an export) or --project/--service "
                          "(Cloud Logging)", fix="e.g. gardener analyze --input "
                          "examples/netra-backend-staging.json")
    return FileSource(args.input, stdin)


def _around_deploy(source: LogSource, args: argparse.Namespace) -> tuple[LogSource, LogSource]:
    """The window since the deploy (the source's: `--deployed-at` until `--end` or now), and the
    window of the same length before it."""
    from gardener.sources.cloud_logging import CloudLoggingSource

    if not isinstance(source, CloudLoggingSource):
        raise ConfigError("--deployed-at needs Cloud Logging (--project)")
    query = source.query
    try:
        before = query.start - (query.end - query.start)
    except OverflowError:
        raise ConfigError(f"--deployed-at {args.deployed_at}: the window before it (as long as "
                          "the one after) starts before the year 1",
                          fix="give the deploy's real time, in RFC 3339") from None
    # the baseline ends a nanosecond before the deploy (bounds are inclusive, and Cloud Logging
    # keeps nanoseconds): an entry logged at the deploy's instant is counted after it, not twice
    end, end_ns = ((query.start, query.start_ns - 1) if query.start_ns else
                   (query.start - timedelta(microseconds=1), 999))
    baseline = CloudLoggingSource(
        replace(query, start=before, start_ns=0, end=end, end_ns=end_ns),
        auth=source.auth, env=source.env, endpoint=source.endpoint, policy=source.policy,
        progress=source.progress)
    return source, baseline


def _write_outputs(doc: dict[str, Any], args: argparse.Namespace, stdout: TextIO, *,
                   actions: bool = False) -> None:
    """The worklog to `--json`/`--markdown`, else its Markdown to stdout: in a GitHub Actions
    job, between `::stop-commands::` lines, so log text in it (`::add-mask::x`) is not obeyed."""
    text = markdown(doc)
    if args.json:
        _write(args.json, json_bytes(doc))
    if args.markdown:
        _write(args.markdown, text.encode("utf-8", "replace"))
    if not args.json and not args.markdown:
        try:
            if actions:
                from gardener.actions_runtime import commands_stopped
                with commands_stopped(stdout):
                    stdout.write(text)
                return
            stdout.write(text)
        except BrokenPipeError:
            pass  # the reader stopped early (`| head`): its choice; the verdict still stands
        except OSError as err:
            raise ConfigError(f"standard output: cannot write the worklog: {err.strerror}",
                              fix="write it to a file with --markdown") from None


def json_bytes(doc: dict[str, Any]) -> bytes:
    """`doc` as indented UTF-8 JSON: msgspec's encoder, several times faster than `json.dumps(doc,
    indent=2, ensure_ascii=False)` and the same text but for exponents (`1e-8`, not `1e-08`), and
    bytes as written (no round trip through `str`, which cost 0.6 s for 1M entries); json's, with
    non-ASCII escaped, for what msgspec refuses (a lone surrogate, which UTF-8 cannot hold)."""
    try:
        return msgspec.json.format(msgspec.json.encode(doc), indent=2) + b"\n"
    except (msgspec.EncodeError, TypeError, UnicodeEncodeError, OverflowError):
        return (json.dumps(doc, indent=2) + "\n").encode("ascii")


def _write(path: str, data: bytes) -> None:
    try:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as err:
        raise ConfigError(f"{path}: cannot write: {err.strerror}",
                          fix="choose a writable output path") from None


def summary_line(report: Report) -> str:
    """`gardener: 5,000 entries (2 skipped), 7 clusters, max P0: gate FAILED (--fail-on P0)`."""
    stats = report.entries
    skipped = f" ({stats.skipped:,} skipped)" if stats.skipped else ""
    live = [f.priority for f in report.findings if not f.muted]
    top = f", most urgent {min(live).name}" if live else ""
    verdict = "passed" if report.gate.passed else "FAILED"
    entries = "entry" if stats.total == 1 else "entries"
    clusters = "cluster" if len(report.findings) == 1 else "clusters"
    return (f"gardener: {stats.total:,} {entries}{skipped}, {len(report.findings)} {clusters}"
            f"{top}: gate {verdict} (--fail-on {report.gate.fail_on})")


def main_entry() -> None:
    """Console-script entry point (and `python -m gardener`)."""
    exit_now(main())


def exit_now(code: int) -> None:
    """Flush standard output and error, then end the process without tearing the interpreter
    down, as mypy does: the outputs are written and closed and any worker pool is shut down by
    now, and freeing every module and cache one by one is 1.5% of a 10k-entry run's
    instructions, for nothing."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be written
            pass
    os._exit(code)
