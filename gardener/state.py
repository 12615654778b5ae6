"""The state a scheduled run leaves for the next one: the miner and the clusters it saw.

Loading it makes the previous run the baseline (new / spiking / known / gone) and keeps cluster
fingerprints matched across runs, because the miner resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gardener.baseline import Saved
from gardener.errors import ConfigError
from gardener.mining import Miner
from gardener.model import Cluster

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class RunState:
    """What one run hands to the next."""

    miner: Miner
    """The miner, with every template it has learnt."""
    clusters: tuple[Saved, ...]
    """The clusters of that run, with their counts."""
    window_seconds: float
    """Length of that run's window, to compare rates."""

    def to_json(self) -> dict[str, Any]:
        """Versioned JSON (see `from_json`)."""
        return {"version": STATE_VERSION, "window_seconds": self.window_seconds,
                "clusters": [{"fingerprint": c.fingerprint, "template": c.template,
                              "count": c.count} for c in self.clusters],
                "miner": self.miner.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunState:
        """Parse `to_json`'s output; ValueError says what is wrong."""
        if not isinstance(data, Mapping) or data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported state version {data.get('version')!r}"
                             if isinstance(data, Mapping) else "the state is not a JSON object")
        clusters = tuple(Saved(str(c["fingerprint"]), str(c["template"]), int(c["count"]))
                         for c in data["clusters"])
        return cls(Miner.from_json(data["miner"]), clusters, float(data["window_seconds"]))


def capture(miner: Miner, clusters: Sequence[Cluster], window_seconds: float) -> RunState:
    """The state after a run."""
    saved = tuple(Saved(c.fingerprint, c.template, c.count) for c in clusters)
    return RunState(miner, saved, window_seconds)


def load_state(path: str) -> RunState | None:
    """The state saved at `path`, or None when there is none yet (the first run)."""
    file = Path(path)
    if not file.exists():
        return None
    try:
        return RunState.from_json(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"{path}: unusable state file: {err}",
                          cause="it was written by another version or was cut off",
                          fix=f"delete {path}; the next run starts a new baseline") from None


def save_state(path: str, state: RunState) -> None:
    """Write the state atomically, so an interrupted run never leaves half a file."""
    file = Path(path)
    partial = file.with_name(file.name + ".partial")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(state.to_json(), separators=(",", ":")), encoding="utf-8")
        partial.replace(file)
    except OSError as err:  # the next scheduled run would have nothing to compare against
        raise ConfigError(f"{path}: cannot write the state: {err.strerror or err}",
                          fix="give --state a path in a writable directory") from None
