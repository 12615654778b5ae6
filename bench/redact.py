"""Time `gardener.redact` beside detect-secrets' own line scanner, on synthetic Cloud Run logs.

    .venv/bin/python bench/redact.py                   # 10k messages and entries
    .venv/bin/python bench/redact.py --n 50000 --repeat 5 --competitor-n 2000

Messages and LogEntry dicts come from `bench/synth.py` (seed 000's story; it plants DSN passwords
and Bearer JWTs the way careless code logs them). Measured in one process:
- `ours`: `redact(message)` for every message, and `redact_json(entry)` for every entry;
- `detect-secrets`: `detect_secrets.core.scan.scan_line(message)` with its default plugins, the
  obvious way to use the library on a line (it only reports values; it does not redact).
Also printed: how many lines each one touches, whether the planted secrets were caught, and the
slowest of a set of hostile ~100 kB strings (repeated fragments such as "password=" or "eyJ" that
make naive regexes quadratic). Numbers are for reading, never asserted; not part of the test suite.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synth import generate  # noqa: E402
from gardener.redact import Redactor, redact  # noqa: E402


def message_of(entry: dict[str, Any]) -> str:
    if isinstance(entry.get("textPayload"), str):
        return str(entry["textPayload"])
    payload = entry.get("jsonPayload") or {}
    return str(payload.get("message") or payload)


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


HOSTILE = ["password=", "token: ", "pwd", "KEY", '"api_key": "', "eyJ", "eyJa=", "ghp_", "sk-",
           "AIza", "ya29.", "-----BEGIN PRIVATE KEY-----", "Authorization: ", "Bearer ",
           "Basic A", "Cookie: a=", "://u:", "@", "xoxb-1-", "1234567890:", "\\", '"', "'"]


def hostile() -> tuple[float, str]:
    """The slowest redact() over ~100 kB strings built from one repeated fragment."""
    worst = (0.0, "")
    for fragment in HOSTILE:
        text = fragment * (100_000 // len(fragment))
        start = time.perf_counter()
        redact(text)
        worst = max(worst, (time.perf_counter() - start, fragment))
    return worst


def planted(message: str) -> bool:
    return "postgresql://netra:" in message or "Bearer eyJ" in message


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="entries to generate")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for our timings")
    parser.add_argument("--competitor-n", type=int, default=2_000,
                        help="messages given to detect-secrets (it is slow; per-line cost scales)")
    args = parser.parse_args(argv)

    entries = list(generate(args.n))
    messages = [message_of(e) for e in entries]

    start = time.perf_counter()
    redact("warm-up: builds the rules")
    first_use = time.perf_counter() - start

    # A fresh Redactor per run: its memo of short strings starts empty, as in one real run.
    ours_text = best(lambda: list(map(Redactor().redact, messages)), args.repeat)
    ours_json = best(lambda: list(map(Redactor().redact_json, entries)), args.repeat)
    changed = [m for m in messages if redact(m) != m]
    missed = [m for m in messages if planted(m) and ("eyJ" in redact(m) or
                                                     "netra:[REDACTED" not in redact(m)
                                                     and "postgresql" in m)]

    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings

    sample = messages[: args.competitor_n]
    kinds: Counter[str] = Counter()
    flagged = 0
    with default_settings():
        start = time.perf_counter()
        for m in sample:
            found = list(scan_line(m))
            flagged += bool(found)
            kinds.update(s.type for s in found)
        theirs = time.perf_counter() - start

    ours_per_line = ours_text / len(messages) * 1e6
    theirs_per_line = theirs / len(sample) * 1e6
    print(f"messages: {len(messages):,} (planted secrets in {sum(map(planted, messages)):,})")
    print(f"first use (building the rules): {first_use * 1e3:.0f} ms")
    print(f"ours  redact():      {ours_text:.3f} s  {ours_per_line:6.1f} us/line  "
          f"lines changed: {len(changed):,}  planted missed: {len(missed)}")
    print(f"ours  redact_json(): {ours_json:.3f} s  {ours_json / len(entries) * 1e6:6.1f} us/entry")
    print(f"detect-secrets scan_line: {theirs:.3f} s on {len(sample):,} lines  "
          f"{theirs_per_line:6.1f} us/line  lines flagged: {flagged:,} "
          f"({flagged / len(sample):.0%})")
    print(f"  what it flagged: {dict(kinds.most_common(6))}")
    print(f"ratio (their us/line / ours): {theirs_per_line / ours_per_line:.0f}x")
    seconds, fragment = hostile()
    print(f"hostile 100 kB strings: slowest {seconds * 1e3:.0f} ms ({fragment!r} repeated)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
