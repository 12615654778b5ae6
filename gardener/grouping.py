"""Grouping: distinct masked forms into templates, from scratch, the same for any order.

The miner (`gardener.mining`) calls `group` over every form it has seen whenever it needs its
clusters:
- forms of one length are rooted Brain-style: the positions whose (position, token) frequency
  (in distinct forms) is the form's most common frequency, or higher, are its root constants;
- a root group is split on a position only when it looks like a constant that takes a few
  values: two, or up to eight capitalised words (`GET`/`POST`, `Resumed`), any word in the first
  position, or a route after an HTTP method. Many values, `key=value` pairs with one key, quoted
  data, or values beside masked ones make a position variable;
- groups are then merged when one template covers another at its variable positions, and when a
  variable of one spans two tokens of the other (`<*>` vs `<*> sec`, lists one item longer);
- a variable position's values become one token that keeps what they share (`generalise`:
  `user=<*>`, `<*>::run`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import getitem
from typing import Any

from gardener.masking import HTTP_METHODS
from gardener.model import WILDCARD

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

_KEY = re.compile(r"[(\[{]*[\w.-]*=")
_STRUCTURE = re.compile(r"(<\*>|[()\[\]{}<>=:,;|\"'])")
_RUNS = re.compile(r"(?:<\*>){2,}")
_KEEP_EDGE = frozenset("/_.-\\*<>")
"""Characters a generalised token never keeps as its edge: they belong to values."""

Form = tuple[str, ...]
"""A masked message: its tokens."""
Root = tuple[tuple[int, ...], tuple[str, ...]]
"""Positions and tokens a group of forms shares."""


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


# --- one token for the values at a variable position ----------------------------------------------

def shared_key(values: Iterable[str]) -> str:
    """`user=` when every value is `user=<something>` with the same key, else ""."""
    key = ""
    for value in values:
        match = _KEY.match(value)
        if not match or match.end() == len(value) or (key and match.group() != key):
            return ""
        key = match.group()
    return key


def key_of(value: str) -> str:
    """The `key=` prefix of a `key=value` token, or ""."""
    match = _KEY.match(value)
    return match.group() if match else ""


def generalise(values: Collection[str]) -> str:
    """One token for several values at a variable position: `user=<*>`, `[<*>]`, `<*>(<*>)`.

    Values with the same punctuation skeleton keep it, and the parts they agree on
    (`a::run`, `b::run` -> `<*>::run`); otherwise shared punctuation at the edges stays.
    """
    key = shared_key(values)
    if key:
        return key + WILDCARD
    skeleton = _skeleton(values)
    if skeleton is not None:
        return skeleton
    head = _edge(values, reverse=False)
    tail = _edge([v[len(head):] for v in values], reverse=True)
    return f"{head}{WILDCARD}{tail[::-1]}"


def _skeleton(values: Collection[str]) -> str | None:
    """Values split at punctuation; where all split alike, the parts that differ become `<*>`."""
    if not _STRUCTURE.search("".join(values)):
        return None
    pieces = [_STRUCTURE.split(v) for v in values]
    first = pieces[0]
    if len(first) < 3 or any(len(p) != len(first) or p[1::2] != first[1::2] for p in pieces):
        return None
    parts = [part if all(p[i] == part for p in pieces) else WILDCARD
             for i, part in enumerate(first)]
    return _RUNS.sub(WILDCARD, "".join(parts))


def _edge(values: Collection[str], reverse: bool) -> str:
    """Punctuation that every value starts (or ends, read backwards) with."""
    ordered = [v[::-1] for v in values] if reverse else values
    first, last = min(ordered), max(ordered)  # the common prefix of all is theirs
    out = []
    for a, b in zip(first, last, strict=False):
        if a != b or a.isalnum() or a in _KEEP_EDGE:
            break
        out.append(a)
    return "".join(out)
