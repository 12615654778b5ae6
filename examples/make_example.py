"""Write `examples/netra-backend-staging.json`: the bundled example export, shaped like seed 000.

    python examples/make_example.py            # rewrites the committed file, byte for byte

Deterministic: a fixed seed and a fixed hour (2025-09-15T23:46:21Z to 2025-09-16T00:46:21Z), so
running it again gives the same bytes. The generator itself lives in `bench/synth.py` (shared with
the benchmark); this script puts the repository root on `sys.path` to import it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synth import END, START, Entry, generate, write_json  # noqa: E402

ENTRIES = 3850
"""Thousands of entries, like the seed's 5,000, while the committed file stays under 5 MB
(gcloud's indented JSON costs about 1.3 kB an entry)."""
RESTARTS = 39
"""Container exits in the hour, as seed 000 counted them."""
SEED = 20250915
OUT = ROOT / "examples" / "netra-backend-staging.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT,
                        help="where to write the export (default: the committed example)")
    parser.add_argument("--entries", type=int, default=ENTRIES, help=f"default {ENTRIES}")
    args = parser.parse_args(argv)
    severities: Counter[str] = Counter()

    def counted(entries: Iterable[Entry]) -> Iterator[Entry]:
        for entry in entries:
            severities[entry.get("severity", "DEFAULT")] += 1
            yield entry

    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        restarts = RESTARTS if args.entries == ENTRIES else None  # else scale with the size
        count = write_json(counted(generate(args.entries, seed=SEED, start=START, end=END,
                                            restarts=restarts)), out)
    shares = ", ".join(f"{name} {n} ({n / count:.1%})" for name, n in severities.most_common())
    print(f"wrote {count} entries to {args.out}: {shares}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
