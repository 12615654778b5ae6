"""Fetch cost: our Cloud Logging reader vs google-cloud-logging's `list_entries` defaults.

Serves N entries (default 100,000) from the local fake Logging API (tests/fakes/google.py, on
127.0.0.1) and reads them all three ways, in the same run:

- gardener: `CloudLoggingSource` (pages of 1000, WARNING-and-above first, raw JSON dicts), then
  the same plus `gardener.entries.parse_entry` (the pipeline's own parsing);
- baseline: `Client.list_entries()` as documented, with its default page size (the API's 50),
  yielding the library's entry objects;
- baseline with `page_size=1000`, to separate the page size from the entry conversion.

It prints entries/s and the number of entries.list calls, the cost that matters against the
read quota (about 60 calls a minute per project), as minutes of quota.

    .venv/bin/python bench/fetch.py [--entries 100000] [--repeat 1] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# No real credentials or metadata server may be consulted: everything stays on loopback.
os.environ.update(GCE_METADATA_HOST="127.0.0.1:9", GCE_METADATA_IP="127.0.0.1:9",
                  NO_GCE_CHECK="True", GOOGLE_CLOUD_DISABLE_GRPC="true")
os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)

from google.oauth2.credentials import Credentials  # noqa: E402

from gardener.entries import parse_entry  # noqa: E402
from gardener.sources import ORIGIN_KEY  # noqa: E402
from gardener.sources.cloud_logging import CloudLoggingSource  # noqa: E402
from gardener.sources.live_query import LiveQuery, build_filter  # noqa: E402
from tests.fakes.google import PROJECT, SERVICE, T0, FakeGoogle, sample_entries  # noqa: E402

QUOTA_PER_MINUTE = 60


def ours(fake: FakeGoogle, query: LiveQuery, parse: bool) -> Iterator[object]:
    source = CloudLoggingSource(query, credentials=_token(fake), endpoint=fake.logging.url)
    for raw in source.read():
        if parse:
            origin = raw.pop(ORIGIN_KEY, "")
            yield parse_entry(raw, str(origin))
        else:
            yield raw


def library(fake: FakeGoogle, query: LiveQuery, page_size: int | None) -> Iterator[object]:
    from google.cloud.logging import DESCENDING, Client

    client = Client(project=PROJECT, credentials=_token(fake), _use_grpc=False,
                    client_options={"api_endpoint": fake.logging.url})
    yield from client.list_entries(resource_names=[f"projects/{PROJECT}"],
                                   filter_=build_filter(query), order_by=DESCENDING,
                                   page_size=page_size)


def _token(fake: FakeGoogle) -> Credentials:
    """A static access token the fake accepts (auth is not what is measured here)."""
    return Credentials(token=fake.issue_token("serviceAccount:bench@example.iam."
                                              "gserviceaccount.com", lifetime=86_400))


def measure(fake: FakeGoogle, read: Callable[[], Iterator[object]], repeat: int
            ) -> tuple[int, int, float]:
    """(entries, calls, best seconds) over `repeat` runs, after one untimed warm-up run (imports,
    and the fake's per-filter match cache, so no reader pays for the fake's filtering)."""
    sum(1 for _ in read())
    best, count, calls = float("inf"), 0, 0
    for _ in range(repeat):
        before = len(fake.list_calls())
        started = time.perf_counter()
        count = sum(1 for _ in read())
        best = min(best, time.perf_counter() - started)
        calls = len(fake.list_calls()) - before
    return count, calls, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                        help="added to every entries.list answer, to mimic a real round trip")
    args = parser.parse_args(argv)
    entries = sample_entries(args.entries, step_ms=500)
    query = LiveQuery(project=PROJECT, service=SERVICE, start=T0,
                      end=T0 + timedelta(milliseconds=500 * args.entries + 1000),
                      max_entries=args.entries)
    rows: list[tuple[str, int, int, float]] = []
    with FakeGoogle(entries) as fake:
        fake.slow_pages = args.latency
        runs: list[tuple[str, Callable[[], Iterator[Any]]]] = [
            ("gardener CloudLoggingSource (raw JSON)", lambda: ours(fake, query, False)),
            ("gardener CloudLoggingSource + parse_entry", lambda: ours(fake, query, True)),
            ("library list_entries, default page size", lambda: library(fake, query, None)),
            ("library list_entries, page_size=1000", lambda: library(fake, query, 1000)),
        ]
        for name, read in runs:
            count, calls, seconds = measure(fake, read, args.repeat)
            rows.append((name, count, calls, seconds))
    _report(rows, args.entries, args.latency)
    return 0


def _report(rows: list[tuple[str, int, int, float]], total: int, latency: float) -> None:
    print(f"Fetching {total:,} entries from the local fake Logging API (127.0.0.1, "
          f"{latency * 1000:.0f} ms added per call)")
    print(f"{'reader':44} {'entries':>9} {'calls':>6} {'quota min':>9} {'seconds':>8} "
          f"{'entries/s':>10}")
    for name, count, calls, seconds in rows:
        print(f"{name:44} {count:>9,} {calls:>6,} {calls / QUOTA_PER_MINUTE:>9.1f} "
              f"{seconds:>8.2f} {count / seconds:>10,.0f}")
    ours_raw, ours_parsed, default, big = rows
    print(f"\nvs the library's defaults: {default[2] / ours_raw[2]:.1f}x fewer entries.list "
          f"calls, {default[3] / ours_raw[3]:.1f}x the throughput (raw), "
          f"{default[3] / ours_parsed[3]:.1f}x (with our parsing)")
    print(f"vs the library at page_size=1000: {big[2] / ours_raw[2]:.2f}x the calls, "
          f"{big[3] / ours_raw[3]:.1f}x the throughput (raw)")
    if any(count != total for _, count, _, _ in rows):
        print("WARNING: a reader did not return every entry", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
