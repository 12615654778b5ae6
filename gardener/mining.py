"""Template miner: cluster log messages into templates with `<*>` wildcards, one configuration.

How it works (pure, deterministic, no tuning knobs):
1. Typed masking (`gardener.masking`) turns a message into tokens with `<*>` for values that
   have a recognisable shape. Each distinct masked token sequence (a *form*) is a key; repeated
   messages and messages of one shape are cached, so most messages cost a lookup or two.
2. Grouping (`gardener.grouping`), on demand (`resolve`, `clusters`), over all distinct forms
   seen so far: forms of one length share a root of their most frequent constants, roots split
   only on positions that look like constants, and templates that cover each other merge.
3. Cluster ids are stable within a miner: after each regrouping a group keeps the id most of
   its messages had before. Long streams are compacted (`Miner._compact`) so cost stays
   proportional to volume. State saves to and loads from versioned JSON, so scheduled runs
   keep matching clusters.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gardener.grouping import Form, Group, group
from gardener.masking import Masker
from gardener.model import WILDCARD

FORMAT_VERSION = 1
_MESSAGE_CACHE_LIMIT = 200_000
"""Distinct raw messages remembered; beyond that the cache restarts (keys stay stable)."""
_COMPACT_AFTER = 4096
"""New distinct forms that trigger a compaction (then: as many as are live, so it stays cheap)."""
_MANY = 16
"""Values one position takes within a cluster for it to be a learned variable (see `_compact`)."""


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
    """A stable id for a template: a hash of its constant text, wildcards left out.

    Pure `<*>` tokens are dropped and the literal parts of partly variable tokens kept
    (`node-<*>` -> `node-`), so one more or fewer variable token, or a value that became
    `<*>`, keeps the fingerprint; templates that differ in a constant word do not share one.
    """
    parts = []
    for token in template.split():
        literal = token.replace(WILDCARD, "").strip("()[]{}<>,;:'\"`!?.")
        if literal:
            parts.append(literal)
    # surrogatepass: a lone surrogate from a source other than an export must not crash the run
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


class Miner:
    """Incremental miner: `add` messages, `resolve` keys to their current cluster."""

    def __init__(self) -> None:
        self._masker = Masker()
        self._cache: dict[str, int] = {}
        self._key_of_form: dict[tuple[str, ...], int] = {}
        self._forms: list[tuple[str, ...]] = []
        self._counts: list[int] = []
        self._key_cluster: list[int] = []
        """Cluster id per key as of the last grouping (0: not grouped yet)."""
        self._alias: list[int] = []
        """The key that holds a key's messages now (itself, or a form it was folded into)."""
        self._learned: dict[int, list[frozenset[int]]] = defaultdict(list)
        """Per form length, position sets learned to be variable (see `_compact`)."""
        self._templates: dict[int, tuple[str, int]] = {}
        """Template and size per cluster id, as of the last grouping."""
        self._clusters: dict[int, MinedCluster] = {}
        self._groups: list[Group] = []
        self._next_id = 1
        self._compact_at = _COMPACT_AFTER
        self._dirty = False

    def add(self, message: str) -> int:
        """Feed one message; returns its key (same text, same key)."""
        key = self._cache.get(message)
        if key is None:
            return self._add_new(message)
        self._counts[self._alias[key]] += 1
        self._dirty = True
        return key

    def add_all(self, messages: Iterable[str]) -> list[int]:
        """Feed a batch; returns one key per message (`add`, with the common case inlined)."""
        cache, counts, alias = self._cache, self._counts, self._alias
        keys = []
        for message in messages:
            key = cache.get(message)
            if key is None:
                key = self._add_new(message)
            else:
                counts[alias[key]] += 1
            keys.append(key)
        self._dirty = self._dirty or bool(keys)
        return keys

    def add_form(self, form: Form, count: int = 1) -> int:
        """Feed `count` messages already masked to `form` (by `Masker.form`, as `add` would);
        returns the form's key. Batches masked elsewhere (another process) come in this way."""
        key = self._key(form)
        self._count(key, count)
        return key

    def _add_new(self, message: str) -> int:
        """`add` for a message text not in the cache."""
        key = self._key(self._masker.form(message))
        if len(self._cache) >= _MESSAGE_CACHE_LIMIT:
            self._cache.clear()
        self._cache[message] = key
        self._count(key, 1)
        return key

    def _count(self, key: int, count: int) -> None:
        self._counts[self._alias[key]] += count
        self._dirty = True
        if len(self._forms) >= self._compact_at:
            self._compact()

    def _key(self, form: Form) -> int:
        """The key of `form`: known, folded into a learned form, or new."""
        key = self._key_of_form.get(form)
        if key is None:
            key = self._learned_key(form)
            if key is None:
                key = len(self._forms)
                self._forms.append(form)
                self._counts.append(0)
                self._key_cluster.append(0)
                self._alias.append(key)
            self._key_of_form[form] = key
        return key

    def _learned_key(self, form: Form) -> int | None:
        """The folded form that `form` falls into, by the variables learned so far."""
        for variable in self._learned.get(len(form), ()):
            key = self._key_of_form.get(tuple(WILDCARD if p in variable else t
                                              for p, t in enumerate(form)))
            if key is not None:
                return self._alias[key]
        return None

    def _compact(self) -> None:
        """Fold forms that differ only where a cluster has many values, so work stays bounded.

        A position that takes `_MANY` values inside one cluster is a variable for good: its
        forms fold into one with `<*>` there, and later forms that match are counted on it
        directly. Without this, a value no mask recognises (a user name, a package id) makes
        every message a new form, and each regrouping costs more than the last.
        """
        self._regroup()
        for found in self._groups:
            length = len(found.template)
            members = [k for k in found.keys if len(self._forms[k]) == length]
            table = list(zip(*(self._forms[k] for k in members), strict=True))
            variable = frozenset(p for p, column in enumerate(table)
                                 if len(set(column)) >= _MANY)
            if not variable:
                continue
            if variable not in self._learned[length]:
                self._learned[length].append(variable)
            for key in members:
                folded = self._key(tuple(WILDCARD if p in variable else t
                                         for p, t in enumerate(self._forms[key])))
                if folded != key:
                    self._key_cluster[folded] = self._key_cluster[key]
                    self._counts[folded] += self._counts[key]
                    self._counts[key] = 0
                    self._alias[key] = folded
        for key, target in enumerate(self._alias):
            while self._alias[target] != target:
                target = self._alias[target]
            self._alias[key] = target
        live = sum(1 for count in self._counts if count)
        self._compact_at = len(self._forms) + max(_COMPACT_AFTER, live)
        self._dirty = True

    def resolve(self, key: int) -> MinedCluster:
        """The current cluster of `key` (regroups first if messages arrived since)."""
        return self._cluster(self.cluster_id(key))

    def cluster_id(self, key: int) -> int:
        """The id of the current cluster of `key` (cheaper than `resolve`)."""
        if self._dirty:
            self._regroup()
        return self._key_cluster[self._alias[key]]

    def clusters(self) -> list[MinedCluster]:
        """All clusters, largest first (then by id)."""
        if self._dirty:
            self._regroup()
        found = [self._cluster(cluster_id) for cluster_id in self._templates]
        return sorted(found, key=lambda c: (-c.size, c.id))

    def template(self, cluster_id: int) -> str:
        """The template of a cluster by id (see `cluster_id`)."""
        if self._dirty:
            self._regroup()
        return self._templates[cluster_id][0]

    def _cluster(self, cluster_id: int) -> MinedCluster:
        """The `MinedCluster` of an id as of the last grouping."""
        cluster = self._clusters.get(cluster_id)
        if cluster is None:  # made on demand: `mine` needs no fingerprints
            template, size = self._templates[cluster_id]
            cluster = MinedCluster(cluster_id, template, fingerprint(template), size)
            self._clusters[cluster_id] = cluster
        return cluster

    def _regroup(self) -> None:
        """Group every form again and give each group its stable id."""
        groups = group(self._forms, self._counts)
        templates = {}
        for cluster_id, found in zip(self._stable_ids(groups), groups, strict=True):
            templates[cluster_id] = (" ".join(found.template), found.size)
            for key in found.keys:
                self._key_cluster[key] = cluster_id
        self._templates = templates
        self._clusters = {}
        self._groups = groups
        self._dirty = False

    def _stable_ids(self, groups: list[Group]) -> list[int]:
        """Each group keeps the id most of its messages had; new groups get new ids."""
        order = sorted(range(len(groups)), key=lambda i: (-groups[i].size, groups[i].template))
        ids = [0] * len(groups)
        if self._next_id == 1:  # nothing had an id yet: number them, largest first
            for cluster_id, i in enumerate(order, start=1):
                ids[i] = cluster_id
            self._next_id = len(groups) + 1
            return ids
        taken: set[int] = set()
        for i in order:
            votes: Counter[int] = Counter()
            for key in groups[i].keys:
                if self._key_cluster[key]:
                    votes[self._key_cluster[key]] += self._counts[key]
            for cluster_id, _ in sorted(votes.items(), key=lambda v: (-v[1], v[0])):
                if cluster_id not in taken:
                    ids[i] = cluster_id
                    break
            else:
                ids[i] = self._next_id
                self._next_id += 1
            taken.add(ids[i])
        return ids

    def to_json(self) -> dict[str, Any]:
        """The state as JSON-ready data: `{"version": 1, ...}`.

        `keys` lists every form seen, as `[tokens joined by spaces, messages, cluster id, the
        key now holding its messages]`; `learned` the variable positions per form length;
        `clusters` is for people reading the file (it is recomputed on load).
        """
        if self._dirty:
            self._regroup()
        return {
            "version": FORMAT_VERSION,
            "next_id": self._next_id,
            "keys": [[" ".join(form), count, cluster_id, alias] for form, count, cluster_id, alias
                     in zip(self._forms, self._counts, self._key_cluster, self._alias,
                            strict=True)],
            "learned": [[length, sorted(variable)] for length, sets in sorted(self._learned.items())
                        for variable in sets],
            "clusters": [{"id": c.id, "template": c.template, "fingerprint": c.fingerprint,
                          "size": c.size} for c in self.clusters()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Miner:
        """Rebuild a miner saved by `to_json`; a bad or unknown version raises ValueError."""
        version = data.get("version") if isinstance(data, Mapping) else None
        if version != FORMAT_VERSION:
            raise ValueError(f"miner state has version {version!r}, this gardener reads version "
                             f"{FORMAT_VERSION}; delete the state file to start afresh")
        miner = cls()
        try:
            miner._load(data)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"miner state is malformed ({err}); delete the state file to start "
                             "afresh") from err
        miner._dirty = True
        return miner

    def _load(self, data: Mapping[str, Any]) -> None:
        """Fill an empty miner from `to_json` data; raises on anything inconsistent."""
        self._next_id = int(data["next_id"])
        aliases: list[int] = []
        for form, count, cluster_id, alias in data["keys"]:
            if not isinstance(form, str) or int(count) < 0 or not 0 <= int(cluster_id) < \
                    self._next_id:
                raise ValueError(f"bad key entry {[form, count, cluster_id, alias]!r}")
            key = self._key(tuple(form.split(" ")) if form else ())
            if key != len(aliases):
                raise ValueError(f"form {form!r} appears twice")
            self._counts[key] = int(count)
            self._key_cluster[key] = int(cluster_id)
            aliases.append(int(alias))
        if any(not 0 <= a < len(aliases) or aliases[a] != a for a in aliases):
            raise ValueError("a key is folded into a missing or folded key")
        self._alias = aliases
        for length, positions in data["learned"]:
            variable = frozenset(int(p) for p in positions)
            if any(not 0 <= p < int(length) for p in variable):
                raise ValueError(f"learned positions {positions!r} outside length {length}")
            self._learned[int(length)].append(variable)
        live = sum(1 for count in self._counts if count)
        self._compact_at = len(self._forms) + max(_COMPACT_AFTER, live)


def mine(messages: Iterable[str]) -> list[tuple[int, str]]:
    """One (cluster id, template) per message, in order, after all messages are seen."""
    miner = Miner()
    keys = miner.add_all(messages)
    resolved: dict[int, tuple[int, str]] = {}
    out = []
    for key in keys:
        pair = resolved.get(key)
        if pair is None:
            cluster_id = miner.cluster_id(key)
            pair = resolved[key] = (cluster_id, miner.template(cluster_id))
        out.append(pair)
    return out
