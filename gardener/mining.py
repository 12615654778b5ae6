"""Template miner: cluster log messages into templates with `<*>` wildcards, one configuration.

How it works (pure, deterministic, no tuning knobs):
1. Typed masking (`gardener.masking`) turns a message into tokens with `<*>` for values that
   have a recognisable shape. Each distinct masked token sequence (a *form*) is a key; repeated
   messages and messages of one shape are cached, so most messages cost a lookup or two.
2. Grouping, on demand (`resolve`, `clusters`), over all distinct forms seen so far:
   - forms of one length are rooted Brain-style: the positions whose (position, token)
     frequency (in distinct forms) is the form's most common frequency, or higher, are its
     root constants;
   - a root group is split on a position only when it looks like a constant that takes a few
     values: two, or up to eight capitalised words (`GET`/`POST`, `Resumed`), any word in the
     first position, or a route after an HTTP method. Many values, `key=value` pairs with one
     key, quoted data, or values beside masked ones make a position variable;
   - groups are then merged when one template covers another at its variable positions, and
     when a variable of one spans two tokens of the other (`<*>` vs `<*> sec`, lists one item
     longer).
3. Cluster ids are stable within a miner: after each regrouping a group keeps the id most of
   its messages had before. Long streams are compacted (`Miner._compact`) so cost stays
   proportional to volume. State saves to and loads from versioned JSON, so scheduled runs
   keep matching clusters.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import getitem
from typing import Any

from gardener.masking import HTTP_METHODS, WILDCARD, Masker, generalise, key_of, shared_key

FORMAT_VERSION = 1
_MESSAGE_CACHE_LIMIT = 200_000
"""Distinct raw messages remembered; beyond that the cache restarts (keys stay stable)."""
_COMPACT_AFTER = 4096
"""New distinct forms that trigger a compaction (then: as many as are live, so it stays cheap)."""
_MANY = 16
"""Values one position takes within a cluster for it to be a learned variable (see `_compact`)."""
_FEW = 2
"""A position with at most this many values splits its group: few values are constants."""
_FEW_NAMES = 8
"""...or up to this many when they are all capitalised words (`GET`, `Resumed`, `NEW`)."""
_ROUTES = 64
"""Routes after an HTTP method are names, not values, up to this many in one place."""
_NAME = re.compile(r"\W*[A-Z][A-Za-z_]*\W*")
_QUOTED = re.compile(r"""[\[({]*(?:'(?![A-Za-z_]+')[^']*'|"(?![A-Za-z_]+")[^"]*")[\])},;:.]*""")
"""A quoted token that is not a plain word: `'a.b.C',`, `"x y"`, `''`."""
_QUOTED_ITEM = re.compile(r"""([\[({]*)(['"])(?![A-Za-z_]+\2)[^'"]*\2([\])},;:.]*)""")
_HAS_QUOTE = re.compile("['\"]")
Form = tuple[str, ...]
"""A masked message: its tokens."""
Root = tuple[tuple[int, ...], tuple[str, ...]]
"""Positions and tokens a group of forms shares."""


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


@dataclass(frozen=True, slots=True)
class Group:
    """Forms that share a template."""

    keys: tuple[int, ...]
    """Indexes of the member forms."""
    template: Form
    """Tokens, `<*>` where the members differ or a value was masked."""
    variable: frozenset[int]
    """Positions where the members differ (as opposed to masked by type)."""
    size: int
    """Messages in the group."""


def group(forms: Sequence[Form], counts: Sequence[int]) -> list[Group]:
    """Group forms into templates; deterministic, and independent of the order of `forms`."""
    by_length: dict[int, list[int]] = defaultdict(list)
    for key, form in enumerate(forms):
        if counts[key]:
            by_length[len(form)].append(key)
    groups: list[Group] = []
    for keys in by_length.values():
        for root in _roots(forms, counts, keys):
            groups.extend(_make(forms, counts, part) for part in _split(forms, counts, root))
    return _merge(groups)


def _roots(forms: Sequence[Form], counts: Sequence[int], keys: list[int]) -> list[list[int]]:
    """Brain-style roots among forms of one length: the most common frequency's tokens.

    Frequencies count distinct forms (so the counting runs in C). A root must be real: if
    fewer forms share a form's root than its tokens' frequency claims (tokens common one by one
    but not together: a long list of values), the form is rooted on its most frequent tokens.
    """
    if len(keys) == 1:
        return [keys]
    frequency: list[dict[str, int]] = [Counter(column) for column in
                                       zip(*(forms[k] for k in keys), strict=True)]
    for column in frequency:
        if WILDCARD in column:
            column[WILDCARD] = 0  # masked values take no part in the root
    chosen = []
    support: dict[Root, int] = {}
    positions = range(len(frequency))
    for key in keys:  # the hot loop of grouping: kept to C-level calls where possible
        form = forms[key]
        seen = list(map(getitem, frequency, form))
        levels = sorted(set(seen), reverse=True)
        if levels and levels[-1] == 0:
            levels.pop()
        top = _top_level(seen, levels) if levels else 1
        kept = list(map(top.__le__, seen))
        root = tuple(compress(positions, kept)), tuple(compress(form, kept))
        support[root] = support.get(root, 0) + 1
        chosen.append((key, root, top, seen))
    roots: dict[Root, list[int]] = defaultdict(list)
    for key, root, top, seen in chosen:
        if support[root] < top or (top == counts[key] == 1 and max(seen, default=0) > 1):
            root = _root(forms[key], seen, max(seen))  # not shared as a whole: fall back
        roots[root].append(key)
    return list(roots.values())  # any order: the result does not depend on it


def _top_level(seen: list[int], levels: list[int]) -> int:
    """The frequency most tokens share, the higher one on a tie (`levels`: highest first)."""
    if len(levels) > 16:  # long forms with many levels: count once instead of per level
        counts = Counter(seen)
        return max(levels, key=counts.__getitem__)
    return max(levels, key=seen.count)


def _root(form: Form, seen: list[int], top: int) -> Root:
    """The positions and tokens of `form` whose frequency is at least `top`."""
    kept = list(map(top.__le__, seen))
    return tuple(compress(range(len(form)), kept)), tuple(compress(form, kept))


def _split(forms: Sequence[Form], counts: Sequence[int], members: list[int]) -> list[list[int]]:
    """Split a root group on positions that hold a few constants (see `_splits_on`)."""
    length = len(forms[members[0]])
    done = []
    stack = [(members, tuple(range(length)))]
    while stack:
        keys, open_positions = stack.pop()
        parts, position = _split_once(forms, counts, keys, open_positions)
        if parts is None:
            done.append(keys)
            continue
        rest = tuple(p for p in open_positions if p != position) if position >= 0 \
            else open_positions
        stack.extend((part, rest) for part in reversed(parts))
    return done


def _split_once(forms: Sequence[Form], counts: Sequence[int], keys: list[int],
                positions: tuple[int, ...]) -> tuple[list[list[int]] | None, int]:
    """The parts of `keys` split on the best position, and that position (-1: split by key)."""
    if len(keys) < 2:
        return None, 0
    table = list(zip(*(forms[k] for k in keys), strict=True))
    columns = []
    for position in positions:
        values = set(table[position])
        if len(values) > 1:
            columns.append((len(values), position, values))
    for distinct, position, values in sorted(columns, key=lambda c: (c[0], c[1])):
        if shared_key(values):
            continue  # `user=root`, `user=guest`: one key, its values vary
        if distinct > _FEW and all("=" in v for v in values) and all(
                key_of(v) for v in values) and len({key_of(v) for v in values}) > 1:
            # `num=3,flags=1` vs `topActivity=...`: different keys, different statements
            return _by(keys, lambda k, p=position: key_of(forms[k][p])), -1
        if _splits_on(position, distinct, values) or (position and distinct <= _ROUTES and all(
                forms[k][position - 1] in HTTP_METHODS for k in keys)):  # a route is a name
            return _by(keys, lambda k, p=position: forms[k][p]), position
    return None, 0


def _splits_on(position: int, distinct: int, values: set[str]) -> bool:
    """Does a position hold constants? Few values, or named ones, or the first word."""
    if all(_QUOTED.fullmatch(v) for v in values) or (WILDCARD in values and all(
            any(c.isalnum() for c in v) for v in values if v != WILDCARD)):
        return False  # quoted text is data; where some values were masked, the rest are values
    if distinct <= _FEW:
        return True
    wordy = all(WILDCARD not in v and not any(c.isdigit() for c in v) for v in values)
    if wordy and position == 0:
        return True  # messages start with a constant word: a verb, a component, an event
    return wordy and distinct <= _FEW_NAMES and all(_NAME.fullmatch(v) for v in values)


def _by(keys: list[int], value: Any) -> list[list[int]]:
    """`keys` partitioned by `value(key)`, parts in the order of their values."""
    parts: dict[str, list[int]] = defaultdict(list)
    for key in keys:
        parts[value(key)].append(key)
    return [parts[v] for v in sorted(parts)]


def _make(forms: Sequence[Form], counts: Sequence[int], keys: list[int]) -> Group:
    """The group of `keys`: its template keeps what they share, `<*>` where they differ."""
    if len(keys) == 1:
        return Group((keys[0],), forms[keys[0]], frozenset(), counts[keys[0]])
    template = []
    variable = set()
    for position, column in enumerate(zip(*(forms[k] for k in keys), strict=True)):
        values = set(column)
        if len(values) == 1:
            template.append(column[0])
        else:
            template.append(generalise(sorted(values)))
            variable.add(position)
    return Group(tuple(keys), tuple(template), frozenset(variable), sum(counts[k] for k in keys))


def _merge(groups: list[Group]) -> list[Group]:
    """Merge groups that one template covers: same tokens, or its variables absorb theirs."""
    groups.sort(key=lambda g: (-g.size, g.template))
    parent = list(range(len(groups)))
    _merge_covered(groups, parent)
    _merge_runs(groups, parent)
    members: dict[int, list[int]] = defaultdict(list)
    for index in range(len(groups)):
        members[_find(parent, index)].append(index)
    merged = []
    for indexes in members.values():
        if len(indexes) == 1:
            merged.append(groups[indexes[0]])
            continue
        head = groups[min(indexes)]  # the template most of the messages have
        keys = tuple(k for i in indexes for k in groups[i].keys)
        merged.append(Group(keys, head.template, head.variable,
                            sum(groups[i].size for i in indexes)))
    return merged


def _find(parent: list[int], index: int) -> int:
    """Union-find root of `index`, halving paths on the way."""
    while parent[index] != index:
        parent[index] = parent[parent[index]]
        index = parent[index]
    return index


def _merge_covered(groups: list[Group], parent: list[int]) -> None:
    """B joins a bigger A of its length when they agree outside A's variable positions."""
    seen: dict[tuple[int, frozenset[int]], dict[Form, int]] = defaultdict(dict)
    shapes: dict[int, list[frozenset[int]]] = defaultdict(list)
    same: dict[Form, int] = {}
    for index, candidate in enumerate(groups):
        length = len(candidate.template)
        twin = same.setdefault(candidate.template, index)
        if twin != index:
            parent[index] = twin
            continue
        for variable in shapes[length]:
            if any(candidate.template[p] == WILDCARD for p in variable):
                continue
            projection = tuple(WILDCARD if p in variable else t
                               for p, t in enumerate(candidate.template))
            host = seen[length, variable].get(projection)
            if host is not None:
                parent[index] = host
                break
        else:
            if not candidate.variable:
                continue  # nothing varies: only its twins join it
            if (length, candidate.variable) not in seen:
                shapes[length].append(candidate.variable)
            projection = tuple(WILDCARD if p in candidate.variable else t
                               for p, t in enumerate(candidate.template))
            seen[length, candidate.variable].setdefault(projection, index)


def _merge_runs(groups: list[Group], parent: list[int]) -> None:
    """B joins A when one variable token of A spans two tokens of B.

    `lifetime <*>` takes `lifetime <*> sec`; `classes: ['<*>', '<*>']` takes a list one item
    longer (and, step by step, any longer one). Quoted data counts as a value here. Candidates
    are found by their constant tokens: the same, or B's with one more next to a value.
    """
    shapes = [tuple(_unquote(t) for t in g.template) if _HAS_QUOTE.search(" ".join(g.template))
              else g.template for g in groups]
    constants = [tuple(t for t in template if WILDCARD not in t) for template in shapes]
    hosts: dict[tuple[int, Form], list[int]] = defaultdict(list)
    for index, template in enumerate(shapes):
        if parent[index] == index and len(constants[index]) < len(template) and constants[index]:
            hosts[len(template), constants[index]].append(index)
    sizes = {(length, len(constant)) for length, constant in hosts}
    for index in reversed(range(len(groups))):
        template, constant = shapes[index], constants[index]
        if parent[index] != index or len(constant) == len(template) or not (
                (len(template) - 1, len(constant)) in sizes
                or (len(template) - 1, len(constant) - 1) in sizes):
            continue  # no value to span, or no host of the right size
        for host in _run_candidates(template, constant, hosts):
            if _find(parent, host) != index and _aligned(shapes[host], template):
                parent[index] = _find(parent, host)
                break


def _run_candidates(template: Form, constant: Form, hosts: dict[tuple[int, Form], list[int]]
                    ) -> list[int]:
    """Hosts one token shorter with the same constants, or with one constant of B fewer."""
    length = len(template) - 1
    found = list(hosts.get((length, constant), ()))
    at = 0
    for position, token in enumerate(template):
        if WILDCARD in token:
            continue
        if (position and WILDCARD in template[position - 1]) or (
                position + 1 < len(template) and WILDCARD in template[position + 1]):
            found.extend(hosts.get((length, constant[:at] + constant[at + 1:]), ()))
        at += 1
    return found


def _aligned(host: Form, template: Form) -> bool:
    """Is `template` `host` with one of its variable tokens spanning two tokens?"""
    last = len(host) - 1
    prefix = 0
    while prefix <= last and host[prefix] == template[prefix]:
        prefix += 1
    suffix = 0
    while suffix <= last and host[last - suffix] == template[last + 1 - suffix]:
        suffix += 1
    return any(_spans(host[s], template[s], template[s + 1])
               for s in range(max(0, last - suffix), min(prefix, last) + 1))


def _unquote(token: str) -> str:
    """Quoted data as a value: `['a.b.C',` -> `['<*>',`; other tokens as they are."""
    if "'" not in token and '"' not in token:
        return token
    match = _QUOTED_ITEM.fullmatch(token)
    return f"{match[1]}{match[2]}{WILDCARD}{match[2]}{match[3]}" if match else token


def _spans(token: str, first: str, second: str) -> bool:
    """Can the variable `token` stand for the two tokens `first second`?

    A bare `<*>` can (`<*>` vs `<*> sec`); a list item can stand for two items of the same
    shape (`['<*>',` vs `['<*>', '<*>',`); `rhost=<*>` cannot stand for `rhost=<*> user=<*>`.
    """
    if token == WILDCARD:
        return WILDCARD in first or WILDCARD in second
    item = _item(token)
    return WILDCARD in item and _item(first) == item == _item(second)


def _item(token: str) -> str:
    """A list item's shape: `['<*>',` -> `'<*>'`."""
    return token.strip("[](){},;")


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
