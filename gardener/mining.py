"""Template miner: cluster log messages into templates with `<*>` wildcards.

Messages are masked (typed values -> `<*>`, see `gardener.masking`); each distinct masked form is
a *key*. Keys are grouped into clusters online: same token count, a similar enough template.
State saves to and loads from versioned JSON so scheduled runs match clusters across runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gardener.masking import WILDCARD, mask

FORMAT_VERSION = 1
_SIMILARITY = 0.5
"""Share of positions that must agree for a key to join an existing cluster."""


@dataclass(frozen=True, slots=True)
class MinedCluster:
    """One cluster as the miner sees it now."""

    id: int
    """Stable within one Miner (and across its JSON round trips)."""
    template: str
    """Tokens joined by single spaces, `<*>` as the wildcard."""
    fingerprint: str
    """16 lowercase hex chars; see `fingerprint`."""
    size: int
    """Messages added to it so far."""


def fingerprint(template: str) -> str:
    """A stable id for a template: a hash of its constant words, ignoring variable tokens.

    Tokens that hold a wildcard or a digit are left out, so a token that became `<*>`, or one
    more or fewer variable tokens, keeps the fingerprint.
    """
    words = [t.strip("()[]{}<>,;:'\"`!?.=") for t in template.split()]
    kept = [w for w in words if w and WILDCARD not in w and not any(c.isdigit() for c in w)]
    return hashlib.sha256(" ".join(kept).encode()).hexdigest()[:16]


class _Cluster:
    __slots__ = ("id", "tokens", "size")

    def __init__(self, cluster_id: int, tokens: list[str], size: int = 0) -> None:
        self.id = cluster_id
        self.tokens = tokens
        self.size = size

    def score(self, tokens: list[str]) -> float:
        same = sum(1 for a, b in zip(self.tokens, tokens, strict=True) if a == b or a == WILDCARD)
        return same / len(tokens) if tokens else 1.0

    def absorb(self, tokens: list[str]) -> None:
        self.tokens = [a if a == b else WILDCARD for a, b in zip(self.tokens, tokens, strict=True)]


def _bucket(tokens: list[str]) -> tuple[int, str]:
    """Clusters only compete within a bucket: same length and same first constant token."""
    first = next((t for t in tokens if WILDCARD not in t), WILDCARD)
    return len(tokens), first


class Miner:
    """Incremental miner: `add` messages, `resolve` keys to their current cluster."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}
        self._key_of_form: dict[str, int] = {}
        self._forms: list[str] = []
        self._key_cluster: list[int] = []
        self._clusters: dict[int, _Cluster] = {}
        self._buckets: dict[tuple[int, str], list[_Cluster]] = {}

    def add(self, message: str) -> int:
        """Feed one message; returns its key (same text, same key)."""
        key = self._cache.get(message)
        if key is None:
            key = self._add_form(" ".join(mask(message)))
            self._cache[message] = key
        self._clusters[self._key_cluster[key]].size += 1
        return key

    def _add_form(self, form: str) -> int:
        key = self._key_of_form.get(form)
        if key is not None:
            return key
        tokens = form.split(" ") if form else []
        bucket = self._buckets.setdefault(_bucket(tokens), [])
        best = max(bucket, key=lambda c: c.score(tokens), default=None)
        if best is not None and best.score(tokens) >= _SIMILARITY:
            best.absorb(tokens)
        else:
            best = _Cluster(len(self._clusters) + 1, tokens)
            self._clusters[best.id] = best
            bucket.append(best)
        key = len(self._forms)
        self._forms.append(form)
        self._key_of_form[form] = key
        self._key_cluster.append(best.id)
        return key

    def resolve(self, key: int) -> MinedCluster:
        """The current cluster of `key`."""
        return self._view(self._clusters[self._key_cluster[key]])

    def clusters(self) -> list[MinedCluster]:
        """All clusters, in id order."""
        return [self._view(c) for c in self._clusters.values()]

    @staticmethod
    def _view(cluster: _Cluster) -> MinedCluster:
        template = " ".join(cluster.tokens)
        return MinedCluster(cluster.id, template, fingerprint(template), cluster.size)

    def to_json(self) -> dict[str, Any]:
        """The state as JSON-ready data: `{"version": 1, ...}`."""
        return {
            "version": FORMAT_VERSION,
            "clusters": [{"id": c.id, "template": " ".join(c.tokens), "size": c.size}
                         for c in self._clusters.values()],
            "keys": [[form, cid] for form, cid in zip(self._forms, self._key_cluster, strict=True)],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Miner:
        """Rebuild a miner saved by `to_json`; a bad or unknown version raises ValueError."""
        version = data.get("version") if isinstance(data, Mapping) else None
        if version != FORMAT_VERSION:
            raise ValueError(f"miner state version {version!r} is not supported "
                             f"(expected {FORMAT_VERSION}); delete the state file to start afresh")
        miner = cls()
        try:
            for item in data["clusters"]:
                template = str(item["template"])
                cluster = _Cluster(int(item["id"]), template.split(" ") if template else [],
                                   int(item["size"]))
                miner._clusters[cluster.id] = cluster
                miner._buckets.setdefault(_bucket(cluster.tokens), []).append(cluster)
            for form, cid in data["keys"]:
                if int(cid) not in miner._clusters:
                    raise ValueError(f"key refers to unknown cluster {cid}")
                miner._key_of_form[str(form)] = len(miner._forms)
                miner._forms.append(str(form))
                miner._key_cluster.append(int(cid))
        except (KeyError, TypeError) as err:
            raise ValueError(f"miner state is malformed: {err!r}") from err
        return miner


def mine(messages: Iterable[str]) -> list[tuple[int, str]]:
    """One (cluster id, template) per message, in order, after all messages are seen."""
    miner = Miner()
    keys = [miner.add(m) for m in messages]
    resolved: dict[int, MinedCluster] = {}
    out = []
    for key in keys:
        cluster = resolved.get(key)
        if cluster is None:
            cluster = resolved[key] = miner.resolve(key)
        out.append((cluster.id, cluster.template))
    return out
