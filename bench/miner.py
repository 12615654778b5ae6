"""Benchmark `gardener.mining` against drain3 0.9.11 on loghub-2k: accuracy and throughput.

    python bench/miner.py --loghub DIR [--repeat 3] [--only HDFS,BGL]
    python bench/miner.py --loghub DIR --stream 200000      # cost as volume grows

Reads every `*_2k.log_structured_corrected.csv` under DIR. The miners see the `Content` column
only. Three parsers run interleaved in one process, best of `--repeat` runs each:
- `ours`: `gardener.mining.mine`, its one default configuration;
- `drain3`: drain3's `TemplateMiner` with its defaults plus its own example number masking;
- `drain3-tuned`: drain3 with the loghub benchmark's per-dataset settings (the competitor's
  tuned configuration, reproduced from logpai/logparser `logparser/Drain/benchmark.py`).

Metrics, per dataset and averaged over datasets:
- GA (grouping accuracy, logpai semantics): a line is right when the set of lines in its
  predicted group equals the set of lines in its true group. True groups are the distinct
  `EventTemplate` values (as in Loghub-2.0's evaluator).
- PA (parsing accuracy): a line is right when its predicted template equals the true template,
  both normalised by `normalise` (see there: whitespace, named masks, wildcard runs).
- lines/s of the parse call (fresh parser, all lines in, final template of every line out).

`--stream N` re-draws the values of N lines per dataset (random lines of the 2k set, every digit
replaced by a random digit) and times ours and drain3 (`--tuned`: drain3-tuned too) on the 2k set
and on the stream, to show how the cost per line grows with volume. drain3's cost grows with its
cluster count, so a parser still running after `--budget` seconds is stopped and rated on the
lines it processed (which flatters it); such rates are marked `*`. One run each.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drain3 import TemplateMiner  # noqa: E402
from drain3.masking import MaskingInstruction  # noqa: E402
from drain3.template_miner_config import TemplateMinerConfig  # noqa: E402

from gardener.mining import Miner, mine  # noqa: E402

Parse = Callable[[Sequence[str]], list[tuple[int, str]]]
"""A parser under test: all contents in, one (group id, final template) per line out."""

NUMBER = r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)"
"""drain3's own example masking for numbers (its `drain3.ini`)."""

# The COMPETITOR's tuned configuration: logpai/logparser `logparser/Drain/benchmark.py`
# (regexes masked to `<*>`, similarity threshold `st`, tree `depth`), per loghub dataset.
# Only drain3-tuned uses it; our miner has one configuration and never looks at this table.
DRAIN_TUNED: dict[str, tuple[list[str], float, int]] = {
    "HDFS": ([r"blk_-?\d+", r"(\d+\.){3}\d+(:\d+)?"], 0.5, 4),
    "Hadoop": ([r"(\d+\.){3}\d+"], 0.5, 4),
    "Spark": ([r"(\d+\.){3}\d+", r"\b[KGTM]?B\b", r"([\w-]+\.){2,}[\w-]+"], 0.5, 4),
    "Zookeeper": ([r"(/|)(\d+\.){3}\d+(:\d+)?"], 0.5, 4),
    "BGL": ([r"core\.\d+"], 0.5, 4),
    "HPC": ([r"=\d+"], 0.5, 4),
    "Thunderbird": ([r"(\d+\.){3}\d+"], 0.5, 4),
    "Windows": ([r"0x.*?\s"], 0.7, 5),
    "Linux": ([r"(\d+\.){3}\d+", r"\d{2}:\d{2}:\d{2}"], 0.39, 6),
    "Android": ([r"(/[\w-]+)+", r"([\w-]+\.){2,}[\w-]+",
                 r"\b(\-?\+?\d+)\b|\b0[Xx][a-fA-F\d]+\b|\b[a-fA-F\d]{4,}\b"], 0.2, 6),
    "HealthApp": ([], 0.2, 4),
    "Apache": ([r"(\d+\.){3}\d+"], 0.5, 4),
    "Proxifier": ([r"<\d+\ssec", r"([\w-]+\.)+[\w-]+(:\d+)?", r"\d{2}:\d{2}(:\d{2})*",
                   r"[KGTM]B"], 0.6, 3),
    "OpenSSH": ([r"(\d+\.){3}\d+", r"([\w-]+\.){2,}[\w-]+"], 0.6, 5),
    "OpenStack": ([r"((\d+\.){3}\d+,?)+", r"/.+?\s", r"\d+"], 0.5, 5),
    "Mac": ([r"([\w-]+\.){2,}[\w-]+"], 0.7, 6),
}


@dataclass(frozen=True, slots=True)
class Dataset:
    """One loghub-2k system."""

    name: str
    """System name from the file name (`HDFS`)."""
    contents: list[str]
    """`Content` column, in file order."""
    templates: list[str]
    """`EventTemplate` column (ground truth)."""


@dataclass(frozen=True, slots=True)
class Score:
    """One parser on one dataset."""

    ga: float
    """Grouping accuracy."""
    pa: float
    """Parsing accuracy."""
    seconds: float
    """Best wall time of the parse call."""


def load(directory: Path) -> list[Dataset]:
    """Every `*_2k.log_structured_corrected.csv` under `directory`, sorted by name."""
    datasets = []
    for path in sorted(directory.rglob("*_2k.log_structured_corrected.csv")):
        with path.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
        datasets.append(Dataset(path.name.split("_2k")[0], [r["Content"] for r in rows],
                                [r["EventTemplate"] for r in rows]))
    return datasets


_NAMED_MASK = re.compile(r"<[A-Z_]*>|<\*>")
_WILDCARD_RUN = re.compile(r"<\*>(?:\s*<\*>)+")


def normalise(template: str) -> str:
    """Whitespace runs -> one space; `<NUM>`-style masks -> `<*>`; adjacent `<*>`s -> one."""
    text = " ".join(template.split())
    return _WILDCARD_RUN.sub("<*>", _NAMED_MASK.sub("<*>", text))


def grouping_accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of lines whose predicted group holds exactly the lines of their true group."""
    true_groups: dict[str, set[int]] = defaultdict(set)
    predicted_groups: dict[str, set[int]] = defaultdict(set)
    for index, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        true_groups[t].add(index)
        predicted_groups[p].add(index)
    right = sum(len(lines) for lines in predicted_groups.values()
                if lines == true_groups[truth[next(iter(lines))]])
    return right / len(truth)


def parsing_accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of lines whose normalised template equals the normalised true template."""
    cache: dict[str, str] = {}

    def norm(text: str) -> str:
        if text not in cache:
            cache[text] = normalise(text)
        return cache[text]

    right = sum(norm(t) == norm(p) for t, p in zip(truth, predicted, strict=True))
    return right / len(truth)


def parse_ours(contents: Sequence[str]) -> list[tuple[int, str]]:
    """Our miner: `mine` as the pipeline would call it."""
    return mine(contents)


def drain3_parser(name: str, tuned: bool) -> Parse:
    """A drain3 `TemplateMiner` run: add every line, then read each line's final template."""
    def parse(contents: Sequence[str]) -> list[tuple[int, str]]:
        miner = drain3_miner(name, tuned)
        ids = [miner.add_log_message(line)["cluster_id"] for line in contents]
        final = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
        return [(i, final[i]) for i in ids]
    return parse


def drain3_miner(name: str, tuned: bool) -> TemplateMiner:
    """A fresh drain3 `TemplateMiner`: defaults with number masking, or the tuned settings."""
    regexes, sim_th, depth = DRAIN_TUNED.get(name, ([], 0.4, 4)) if tuned else ([], 0.4, 4)
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.drain_sim_th = sim_th
    config.drain_depth = depth
    config.masking_instructions = [MaskingInstruction(r, "*") for r in regexes] if tuned else \
        [MaskingInstruction(NUMBER, "NUM")]
    return TemplateMiner(config=config)


def parsers_for(name: str) -> dict[str, Parse]:
    """The three contestants for one dataset."""
    return {"ours": parse_ours, "drain3": drain3_parser(name, tuned=False),
            "drain3-tuned": drain3_parser(name, tuned=True)}


def run(parse: Parse, contents: Sequence[str]) -> tuple[list[tuple[int, str]], float]:
    start = time.perf_counter()
    result = parse(contents)
    return result, time.perf_counter() - start


def score(dataset: Dataset, repeat: int) -> dict[str, Score]:
    """Each parser on `dataset`, interleaved, best time of `repeat` runs."""
    parsers = parsers_for(dataset.name)
    best: dict[str, float] = dict.fromkeys(parsers, float("inf"))
    outputs: dict[str, list[tuple[int, str]]] = {}
    for _ in range(repeat):
        for label, parse in parsers.items():
            outputs[label], seconds = run(parse, dataset.contents)
            best[label] = min(best[label], seconds)
    scores = {}
    for label, output in outputs.items():
        groups = [str(group_id) for group_id, _ in output]
        templates = [template for _, template in output]
        scores[label] = Score(grouping_accuracy(dataset.templates, groups),
                              parsing_accuracy(dataset.templates, templates), best[label])
    return scores


def redraw(contents: Sequence[str], count: int, seed: int = 7) -> list[str]:
    """`count` lines drawn from `contents` with every digit replaced by a random digit."""
    rng = random.Random(seed)
    digits = re.compile(r"\d")
    return [digits.sub(lambda _: str(rng.randrange(10)), rng.choice(contents))
            for _ in range(count)]


def accuracy_table(datasets: Sequence[Dataset], repeat: int) -> None:
    labels = ("ours", "drain3", "drain3-tuned")
    print(f"{'dataset':<12}" + "".join(f"{lab + ' GA':>16}{'PA':>7}{'lines/s':>10}"
                                       for lab in labels))
    all_scores: list[dict[str, Score]] = []
    for dataset in datasets:
        scores = score(dataset, repeat)
        all_scores.append(scores)
        n = len(dataset.contents)
        print(f"{dataset.name:<12}" + "".join(
            f"{scores[lab].ga:>16.3f}{scores[lab].pa:>7.3f}{n / scores[lab].seconds:>10,.0f}"
            for lab in labels), flush=True)
    total = sum(len(d.contents) for d in datasets)
    means = {lab: (sum(s[lab].ga for s in all_scores) / len(all_scores),
                   sum(s[lab].pa for s in all_scores) / len(all_scores),
                   total / sum(s[lab].seconds for s in all_scores)) for lab in labels}
    print(f"{'mean/pooled':<12}" + "".join(
        f"{means[lab][0]:>16.3f}{means[lab][1]:>7.3f}{means[lab][2]:>10,.0f}" for lab in labels))
    for lab in labels[1:]:
        print(f"ours vs {lab}: GA {means['ours'][0] - means[lab][0]:+.3f}, "
              f"PA {means['ours'][1] - means[lab][1]:+.3f}, "
              f"throughput x{means['ours'][2] / means[lab][2]:.2f}")
    worst = min(all_scores, key=lambda s: s["ours"].ga - s["drain3-tuned"].ga)
    gap = worst["ours"].ga - worst["drain3-tuned"].ga
    name = datasets[all_scores.index(worst)].name
    print(f"largest GA gap to drain3-tuned: {name} {gap:+.3f}")


def stream(label: str, name: str, lines: Sequence[str], budget: float) -> tuple[int, float]:
    """Feed `lines` in chunks until done or `budget` seconds pass, then resolve every line.

    Returns (lines processed, seconds). A parser cut off by the budget is reported at its rate
    so far, which flatters it when its cost per line grows with volume.
    """
    chunk = 10_000
    start = time.perf_counter()
    done = 0
    if label == "ours":
        miner = Miner()
        keys: list[int] = []
        while done < len(lines) and time.perf_counter() - start < budget:
            keys.extend(miner.add_all(lines[done:done + chunk]))
            done = len(keys)
        for key in set(keys):
            miner.resolve(key)
    else:
        drain = drain3_miner(name, tuned=label == "drain3-tuned")
        ids: list[int] = []
        while done < len(lines) and time.perf_counter() - start < budget:
            ids.extend(drain.add_log_message(line)["cluster_id"]
                       for line in lines[done:done + chunk])
            done = len(ids)
        final = {c.cluster_id: c.get_template() for c in drain.drain.clusters}
        _ = [final[i] for i in ids]
    return done, time.perf_counter() - start


def stream_table(datasets: Sequence[Dataset], count: int, budget: float, tuned: bool) -> None:
    """Lines/s on each dataset's 2k lines and on `count` re-drawn lines, and the ratios."""
    labels = ("ours", "drain3", "drain3-tuned") if tuned else ("ours", "drain3")
    print(f"lines/s on the 2k set and on a stream of {count:,} re-drawn lines; a parser still "
          f"running after {budget:.0f}s is stopped and rated on the lines it did (marked *)")
    print(f"{'dataset':<12}" + "".join(f"{lab + ' 2k':>16}{'stream':>10}" for lab in labels)
          + "".join(f"{'x ' + lab:>15}" for lab in labels[1:]))
    totals: dict[str, list[float]] = {lab: [0.0, 0.0] for lab in labels}
    for dataset in datasets:
        lines = redraw(dataset.contents, count)
        small, rates, cells = {}, {}, {}
        for label in labels:
            small[label] = stream(label, dataset.name, dataset.contents, budget)
            done, seconds = stream(label, dataset.name, lines, budget)
            rates[label] = done / seconds
            cells[label] = f"{rates[label]:,.0f}" + ("*" if done < len(lines) else "")
            totals[label][0] += done
            totals[label][1] += seconds
        print(f"{dataset.name:<12}" + "".join(
            f"{small[lab][0] / small[lab][1]:>16,.0f}{cells[lab]:>10}" for lab in labels)
            + "".join(f"{rates['ours'] / rates[lab]:>15.2f}" for lab in labels[1:]), flush=True)
    pooled = {lab: done / seconds for lab, (done, seconds) in totals.items()}
    print(f"{'pooled':<12}" + "".join(f"{'':>16}{pooled[lab]:>10,.0f}" for lab in labels)
          + "".join(f"{pooled['ours'] / pooled[lab]:>15.2f}" for lab in labels[1:]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loghub", type=Path, required=True, help="directory of loghub-2k CSVs")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--only", default="", help="comma-separated dataset names")
    parser.add_argument("--stream", type=int, default=0,
                        help="throughput mode: lines per dataset (e.g. 200000)")
    parser.add_argument("--tuned", action="store_true",
                        help="stream mode: also time drain3-tuned (very slow on some datasets)")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="stream mode: seconds per parser per dataset (default 120)")
    args = parser.parse_args(argv)
    datasets = load(args.loghub)
    if args.only:
        wanted = set(args.only.split(","))
        datasets = [d for d in datasets if d.name in wanted]
    if not datasets:
        print(f"no *_2k.log_structured_corrected.csv under {args.loghub}", file=sys.stderr)
        return 2
    if args.stream:
        stream_table(datasets, args.stream, args.budget, args.tuned)
    else:
        accuracy_table(datasets, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
