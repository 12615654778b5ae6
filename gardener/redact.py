"""Redact secrets from log text and decoded JSON before anything is written, printed or posted.

`redact(text)` replaces each secret with `[REDACTED:<kind>]` and leaves the text around it readable
(`postgresql://user:[REDACTED:password]@host/db`, `Authorization: Bearer [REDACTED:bearer]`).
`redact_json(value)` does the same for every string in decoded JSON and also replaces the values of
keys that name secrets (`password`, `api_key`, `clientSecret`, ...). `Redactor` adds exact known
values (the workflow's tokens) on top of the patterns. Redaction is idempotent:
`redact(redact(x)) == redact(x)`.

The patterns, and how they use detect-secrets, are in `gardener.redact_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any, Final

from gardener.folding import fold
from gardener.redact_rules import (
    KEY_NEEDLES,
    MARKER,
    Found,
    Rule,
    assignments,
    default_rules,
    find,
    marker,
    secret_key_kind,
)

__all__ = ["MARKER", "Redactor", "Rule", "marker", "redact", "redact_json", "secret_key_kind",
           "use_environment"]

_MAX_PASSES: Final = 5
_MEMO_SIZE: Final = 8192
_MEMO_TEXT: Final = 256
_KEY_NEEDLES_SET: Final = frozenset(KEY_NEEDLES)
_RARE_FIRST: Final = "_-./:@1234567890zqjxywkvbgphfmucldrsoniate"
"""Characters from rarest to most common in log text (roughly): see `Redactor._guarded`."""


def _rarity(char: str) -> int:
    at = _RARE_FIRST.find(char)
    return at if at >= 0 else -1  # anything else (`+`, a space) is rarer still


class Redactor:
    """Replaces secrets found by `rules`, and the exact `extra_secrets`, with markers."""

    MIN_EXTRA: Final = 6
    """Shorter known values are ignored: replacing them everywhere would erase ordinary words."""

    def __init__(self, extra_secrets: Iterable[str] = (), rules: Iterable[Rule] | None = None):
        self._rules = tuple(rules) if rules is not None else default_rules()
        values = {v.strip() for v in extra_secrets if len(v.strip()) >= self.MIN_EXTRA}
        self.known_values = frozenset(values)
        """The exact values scrubbed besides what the rules find."""
        self._known = (re.compile("|".join(map(re.escape, sorted(values, key=len, reverse=True))))
                       if values else None)
        by_needle: dict[str, list[int]] = {n: [] for n in KEY_NEEDLES}
        for rank, rule in enumerate(self._rules):
            for needle in rule.needles:
                by_needle.setdefault(needle, []).append(rank)
        self._by_needle = {n: tuple(ranks) for n, ranks in by_needle.items()}
        guarded: dict[str, list[str]] = {}
        for needle in self._by_needle:
            guarded.setdefault(min(needle, key=_rarity), []).append(needle)
        self._guarded = tuple((guard, tuple(needles)) for guard, needles in guarded.items())
        """Needles by their rarest character: a text without it holds none of them, so about
        20 searches decide for 60 needles (every distinct message is redacted)."""
        self._memo: dict[str, str] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Redactor:
        """Also scrub the values of the workflow's tokens and of variables named like secrets."""
        workflow = {"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_RUNTIME_TOKEN", "GITHUB_TOKEN"}
        return cls(extra_secrets=[v for k, v in env.items() if k in workflow or secret_key_kind(k)])

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by `[REDACTED:<kind>]`."""
        # Log entries repeat their short strings (service, revision, user agent, severity), so
        # those are remembered; the memo is dropped when full rather than managed.
        if len(text) > _MEMO_TEXT:
            return self._redact(text)
        if (done := self._memo.get(text)) is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            done = self._memo[text] = self._redact(text)
        return done

    def _redact(self, text: str) -> str:
        if not self._may_hold_secret(text):
            return text  # most texts: a needle or two, and no rule's regex matches at all
        # A pass can expose a secret that a boundary check hid ("-----AIza..." becomes
        # "[REDACTED:private-key]AIza..."), so repeat until nothing changes. Each pass only turns
        # text outside markers into markers, so this ends, usually after the second pass.
        for _ in range(_MAX_PASSES):
            redacted = self._redact_once(text)
            if redacted == text:
                break
            text = redacted
        return text

    def _redact_once(self, text: str) -> str:
        found = sorted(self._found(text), key=lambda f: (f[2], -f[3], f[5]))
        if not found:
            return text
        out: list[str] = []
        done = 0
        start, end, kind = found[0][2], found[0][3], found[0][4]
        for _, _, s, e, k, _ in found[1:]:
            if s < end:  # overlapping or nested: one marker for the union, first kind wins
                end = max(end, e)
                continue
            out += [text[done:start], marker(kind)]
            done, start, end, kind = end, s, e, k
        out += [text[done:start], marker(kind), text[end:]]
        return "".join(out)

    def redact_json(self, value: Any) -> Any:
        """A copy of decoded JSON with strings (keys too) redacted and the values of secret-named
        keys replaced, also where the name is a sibling's: `{"name": "DB_PASSWORD", "value": x}`
        (Kubernetes and Cloud Run env vars, HAR headers) and `["x-api-key", x]` (header lists).

        Values that are empty, booleans or null are kept: they reveal nothing and say a lot.
        """
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            named = _named_value(value)
            return {self.redact(key) if isinstance(key, str) else key:
                    self._field(named if key == "value" and named else key, item)
                    for key, item in value.items()}
        if isinstance(value, list):
            if len(value) == 2 and isinstance(value[0], str) and _names_secret(value[0]):
                return [self.redact(value[0]), self._field(value[0], value[1])]
            return [self.redact_json(item) for item in value]
        return value

    def _field(self, key: Any, value: Any) -> Any:
        kind = secret_key_kind(key) if isinstance(key, str) else None
        if kind is None or value is None or isinstance(value, bool) or value in ("", [], {}):
            return self.redact_json(value)
        if isinstance(value, str) and MARKER.fullmatch(value):
            return value
        return marker(kind)

    def _found(self, text: str) -> Iterator[tuple[int, int, int, int, str, int]]:
        """Candidates with their rank; those touching an existing marker are left alone, which
        keeps redaction idempotent."""
        if self._known is not None:
            for m in self._known.finditer(text):
                yield m.start(), m.end(), m.start(), m.end(), "known-secret", -1
        # folded as the rules' case-insensitive regexes fold: `lower()` alone keeps the long s
        # of `baſic dXNl...`, which the basic-auth regex takes for an s
        lowered = fold(text)
        present = self._present(lowered)
        if not present:
            return
        markers = [m.span() for m in MARKER.finditer(text)] if "[redacted:" in lowered else []
        for rank, found in self._candidates(text, lowered, present):
            if not any(found[0] < e and s < found[1] for s, e in markers):
                yield (*found, rank)

    def _may_hold_secret(self, text: str) -> bool:
        """False when no rule can find anything in `text` (each pattern searched once, without
        the work of collecting and checking candidates); True when one may."""
        if self._known is not None and self._known.search(text):
            return True
        present = self._present(fold(text))
        if not _KEY_NEEDLES_SET.isdisjoint(present):
            return True  # `key=value`: found from the needles outwards (`assignments`)
        return any(self._rules[rank].pattern.search(text) for rank in self._ranks(present))

    def _present(self, lowered: str) -> list[str]:
        """The needles in folded text (see `_guarded`)."""
        return [n for guard, needles in self._guarded if guard in lowered
                for n in needles if n in lowered]

    def _ranks(self, present: list[str]) -> list[int]:
        """The rules those needles call for, in rank order."""
        return sorted({rank for needle in present for rank in self._by_needle[needle]})

    def _candidates(self, text: str, lowered: str,
                    present: list[str]) -> Iterator[tuple[int, Found]]:
        for rank in self._ranks(present):
            yield from ((rank, f) for f in find(self._rules[rank], text))
        if not _KEY_NEEDLES_SET.isdisjoint(present):
            yield from ((len(self._rules), f) for f in assignments(text, lowered))


def _named_value(value: dict[Any, Any]) -> str:
    """The name a `{"name"|"key": ..., "value": ...}` pair gives its value, if it names a
    secret; else ""."""
    if "value" not in value:
        return ""
    name = value.get("name", value.get("key"))
    return name if isinstance(name, str) and _names_secret(name) else ""


def _names_secret(name: str) -> bool:
    """A name that says its value is a secret (`DB_PASSWORD`, `x-api-key`); not a marker."""
    return "[REDACTED:" not in name and secret_key_kind(name) is not None


_KNOWN: set[str] = set()
"""The exact secrets `redact` also scrubs: the tokens of this process's environment."""


@cache
def _default() -> Redactor:
    return Redactor(extra_secrets=_KNOWN)


def use_environment(env: Mapping[str, str]) -> None:
    """From now on, `redact` also scrubs the values of `env`'s tokens and secret-named variables
    (`GITHUB_TOKEN`, `INPUT_GITHUB_TOKEN`, `DB_PASSWORD`, ...) wherever they appear, whatever
    their shape: a token quoted by a log line is no more posted than one in a header. Values
    add up over the process (the action's, then the CLI's environment)."""
    found = set(Redactor.from_env(env).known_values)
    if not found <= _KNOWN:
        _KNOWN.update(found)
        _default.cache_clear()


def redact(text: str) -> str:
    """`text` with every secret replaced by `[REDACTED:<kind>]` (see `Redactor`)."""
    return _default().redact(text)


def redact_json(value: Any) -> Any:
    """A redacted deep copy of decoded JSON (see `Redactor.redact_json`)."""
    return _default().redact_json(value)
