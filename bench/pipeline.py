"""Time `gardener analyze` end to end beside a drain3 pipeline, on synthetic Cloud Run exports.

    .venv/bin/python bench/pipeline.py                       # 10k, 100k, 1M entries
    .venv/bin/python bench/pipeline.py --sizes 10000,100000 --repeat 5 --keep /tmp/lg-bench

Each size gets one export from `bench/synth.py` (gcloud's JSON array, or `--format jsonl`). Each
run is a fresh child process: wall seconds from the parent's clock, peak RSS from `os.wait4` on
that child. Ours and the baseline (`bench/drain3_baseline.py`) alternate; the best of N runs and
their median are shown, the verdicts use the best. The targets are printed for reading, never
asserted; this script is not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synth import generate, write_json, write_jsonl  # noqa: E402

TARGETS = {100_000: 3.0, 1_000_000: 30.0}
"""Seconds ours should stay under at these sizes (the performance issue's targets)."""
RSS_TARGET_MB = 1536


@dataclass(frozen=True)
class Run:
    """One timed child process."""

    seconds: float
    """Wall-clock time from spawn to exit."""
    rss_mb: float
    """Peak resident set size of the child, MiB."""
    ok: bool
    """Exit status meant success (for ours: 0 gate passed or 1 gate failed)."""
    note: str = ""
    """The tail of stderr when it failed."""
    median: float = 0.0
    """For a summary of several runs (`best`): their median wall-clock time."""


def ours_command() -> list[str] | None:
    """How to start our CLI: the venv's console script, `-m gardener`, or `cli.main` directly."""
    script = Path(sys.executable).parent / "gardener"
    if script.exists():
        return [str(script)]
    if (ROOT / "gardener" / "__main__.py").exists():
        return [sys.executable, "-m", "gardener"]
    if (ROOT / "gardener" / "cli.py").exists():
        return [sys.executable, "-c", "import sys; from gardener.cli import main; "
                "sys.exit(main(sys.argv[1:]))"]
    return None


# A small launcher process runs each command, so the child's peak RSS is its own: a child forked
# from this (large) process would report at least our RSS, since Linux carries the pre-exec peak.
_LAUNCHER = """
import os, subprocess, sys, time
began = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), time.perf_counter() - began, usage.ru_maxrss)
"""


def compile_ours() -> None:
    """Compile our package's bytecode before timing, as an install does: pip compiled drain3's
    when it installed it, and the image compiles ours (Dockerfile). An editable checkout run with
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module on every run."""
    import compileall

    compileall.compile_dir(ROOT / "gardener", quiet=1)


def timed(command: list[str], ok_codes: tuple[int, ...]) -> Run:
    """Run `command` in a fresh child; wall time and that child's own peak RSS."""
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    try:
        code, seconds, rss_kib = done.stdout.split()
    except ValueError:
        return Run(0.0, 0.0, False, f"launcher failed: {done.stderr.strip()[-300:]}")
    ok = int(code) in ok_codes
    tail = " | ".join(done.stderr.strip().splitlines()[-3:])
    return Run(float(seconds), int(rss_kib) / 1024, ok, "" if ok else f"exit {code}: {tail}")


def export(size: int, directory: Path, fmt: str, seed: int) -> Path:
    """The synthetic export for `size`, written once and reused from `--keep`."""
    path = directory / f"synth-{size}-seed{seed}.{fmt}"
    if path.exists():
        return path
    began = time.perf_counter()
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8") as out:
        (write_json if fmt == "json" else write_jsonl)(generate(size, seed=seed), out)
    partial.rename(path)
    print(f"  wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB in "
          f"{time.perf_counter() - began:.1f} s", flush=True)
    return path


def best(runs: list[Run]) -> Run | None:
    good = [r for r in runs if r.ok]
    if not good:
        return None
    fastest = min(good, key=lambda r: r.seconds)
    middle = statistics.median(r.seconds for r in good)  # this machine is noisy: show both
    return Run(fastest.seconds, max(r.rss_mb for r in good), True, median=middle)


def measure(size: int, path: Path, work: Path, repeat: int,
            ours: list[str] | None) -> tuple[Run | None, Run | None, list[str]]:
    base = [sys.executable, str(ROOT / "bench" / "drain3_baseline.py"), str(path),
            "--json", str(work / f"drain3-{size}.json")]
    mine = None if ours is None else [*ours, "analyze", "--input", str(path), "--json",
                                      str(work / f"ours-{size}.json"), "--markdown",
                                      str(work / f"ours-{size}.md")]
    ours_runs: list[Run] = []
    base_runs: list[Run] = []
    for i in range(repeat):  # alternate who goes first, so neither always gets a warm cache
        order = [("base", base), ("ours", mine)] if i % 2 else [("ours", mine), ("base", base)]
        for who, command in order:
            if command is None:
                continue
            run = timed(command, (0, 1) if who == "ours" else (0,))
            (ours_runs if who == "ours" else base_runs).append(run)
            print(f"  {who:5} run {i + 1}: {run.seconds:7.2f} s {run.rss_mb:8.0f} MB"
                  f"{'' if run.ok else '  FAILED ' + run.note}", flush=True)
    notes = [r.note for r in ours_runs + base_runs if not r.ok][:1]
    return best(ours_runs), best(base_runs), notes


def row(size: int, mb: float, ours: Run | None, base: Run | None) -> str:
    def show(run: Run | None, attr: str, spec: str) -> str:
        return "-" if run is None else format(getattr(run, attr), spec)

    ratio = f"{base.seconds / ours.seconds:.2f}x" if ours and base else "-"
    medians = f"{base.median / ours.median:.2f}x" if ours and base else "-"
    return (f"{size:>9,} {mb:>8.1f} {show(ours, 'seconds', '.2f'):>8} "
            f"{show(base, 'seconds', '.2f'):>9} {ratio:>8} {show(ours, 'median', '.2f'):>8} "
            f"{show(base, 'median', '.2f'):>10} {medians:>8} {show(ours, 'rss_mb', '.0f'):>8} "
            f"{show(base, 'rss_mb', '.0f'):>10}")


def verdicts(size: int, ours: Run | None, base: Run | None) -> list[str]:
    """Where this size stands against the issue's targets (information, not an assertion)."""
    if ours is None:
        return []
    lines = []
    if size in TARGETS:
        limit = TARGETS[size]
        lines.append(f"{size:,}: {ours.seconds:.2f} s against a target of {limit:.0f} s: "
                     f"{'met' if ours.seconds < limit else 'MISSED'}")
    if size >= 1_000_000:
        lines.append(f"{size:,}: peak RSS {ours.rss_mb:.0f} MB against {RSS_TARGET_MB} MB: "
                     f"{'met' if ours.rss_mb <= RSS_TARGET_MB else 'MISSED'}")
    if base:
        lines.append(f"{size:,}: {'faster' if ours.seconds < base.seconds else 'NOT faster'} "
                     "than the drain3 baseline")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated entry counts (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per size, best kept (default: 3 below 1M entries, 1 from 1M)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="write (and reuse) exports and outputs here instead of a temp dir")
    parser.add_argument("--format", choices=("json", "jsonl"), default="json",
                        help="gcloud's JSON array (default) or JSON Lines")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--ours", metavar="CMD", help="command for our CLI (default: found)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    ours = shlex.split(args.ours) if args.ours else ours_command()
    print(f"{platform.python_implementation()} {platform.python_version()} on "
          f"{platform.machine()}, {os.cpu_count()} CPUs; drain3 {metadata.version('drain3')}")
    print(f"ours: {shlex.join(ours) if ours else 'not available yet (no gardener CLI found)'}")
    compile_ours()
    with tempfile.TemporaryDirectory(prefix="lg-bench-") as temp:
        work = args.keep or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        rows, notes = [], []
        for size in sizes:
            print(f"{size:,} entries", flush=True)
            path = export(size, work, args.format, args.seed)
            repeat = args.repeat or (3 if size < 1_000_000 else 1)
            ours_best, base_best, failed = measure(size, path, work, repeat, ours)
            rows.append(row(size, path.stat().st_size / 1e6, ours_best, base_best))
            notes += failed + verdicts(size, ours_best, base_best)
    print(f"\n{'entries':>9} {'file MB':>8} {'ours s':>8} {'drain3 s':>9} {'ratio':>8} "
          f"{'ours med':>8} {'drain3 med':>10} {'ratio':>8} {'ours MB':>8} {'drain3 MB':>10}")
    print("\n".join(rows))
    print("s: best run; med: median run; ratio = drain3 seconds / ours (above 1 means ours is "
          "faster); MB = peak RSS (MiB).")
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
