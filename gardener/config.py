"""Load and validate `.gardener.yml`: every error names file:line:column and the fix."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gardener.errors import ConfigError
from gardener.model import Priority, Severity
from gardener.rules import Match, Rule

DEFAULT_CONFIG = ".gardener.yml"
"""The rules file read from the working directory (the CLI) or the workspace (the action)."""
STATUSES = frozenset({"new", "spiking", "known"})
_TOP_KEYS = {"version", "fail_on", "service", "samples", "rules"}
_RULE_KEYS = {"name", "match", "set", "reason"}
_SET_KEYS = {"priority", "title", "labels", "mute"}
_MATCH_KEYS = {"template", "severity", "resource", "logger", "source", "exception", "status_class",
               "fields", "min_count", "min_share", "status"}
EXAMPLE = """rules:
  - name: db-timeouts
    match: {template: "Database initialization timeout", severity: ">=ERROR"}
    set: {priority: P0, title: "Database start-up timeout", labels: [database]}"""


@dataclass(frozen=True, slots=True)
class Config:
    """The team's settings from `.gardener.yml`."""

    rules: tuple[Rule, ...] = ()
    """Team rules, tried before the defaults, in file order."""
    fail_on: str | None = None
    """Gate conditions (`P0`, `P1,new>=P1`); the CLI flag wins over this."""
    service: str | None = None
    """Service name to show when the entries do not say."""
    samples: int = 3
    """Samples per cluster in the worklog."""
    path: str = ""
    """Where it was loaded from."""


def load_config(path: str) -> Config:
    """Parse and validate a `.gardener.yml`; `ConfigError` with file:line:column on any problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the config file: {err.strerror}",
                          fix="pass --config PATH to an existing .gardener.yml") from None
    return parse_config(text, path)


def parse_config(text: str, path: str = ".gardener.yml") -> Config:
    """`load_config` on a string, for tests and stdin."""
    # Imported here: a run without a config file need not load a YAML parser.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise ConfigError(f"{where}: not valid YAML: {err.problem}",
                          fix="check indentation and quoting (quote regexes with ':' or '#')"
                          ) from None
    if data is None:
        return Config(path=path)
    node = _Node(path, data)
    top = node.mapping(_TOP_KEYS)
    version = top.get("version")
    if version is not None and version.value != 1:
        version.fail("unsupported version", "use `version: 1`")
    rules = top.get("rules")
    return Config(
        rules=tuple(_rule(item, i) for i, item in enumerate(rules.sequence())) if rules else (),
        fail_on=top["fail_on"].string() if "fail_on" in top else None,
        service=top["service"].string() if "service" in top else None,
        samples=top["samples"].integer(0, 20) if "samples" in top else 3,
        path=path,
    )


class _Node:
    """A YAML value with its position, for error messages. The round-trip loader gives every
    mapping as a `CommentedMap` (a dict) and every sequence as a `CommentedSeq` (a list), each
    with its position in `lc`."""

    def __init__(self, path: str, value: Any, line: int = 0, col: int = 0) -> None:
        self.path, self.value, self.line, self.col = path, value, line, col
        position = getattr(value, "lc", None)  # where the loader found a mapping or a sequence
        if position is not None and not (line or col):
            self.line, self.col = position.line, position.col

    def fail(self, what: str, fix: str) -> ConfigError:
        raise ConfigError(f"{self.path}:{self.line + 1}:{self.col + 1}: {what}", fix=fix)

    def mapping(self, allowed: set[str]) -> dict[str, _Node]:
        if not isinstance(self.value, dict):
            self.fail(f"expected a mapping, got {_kind(self.value)}", f"for example:\n{EXAMPLE}")
        out: dict[str, _Node] = {}
        for key in self.value:
            line, col = self.value.lc.key(key)
            if key not in allowed:
                near = ", ".join(sorted(allowed))
                _Node(self.path, key, line, col).fail(f"unknown key {key!r}", f"use one of: {near}")
            vline, vcol = self.value.lc.value(key)
            out[str(key)] = _Node(self.path, self.value[key], vline, vcol)
        return out

    def sequence(self) -> list[_Node]:
        if not isinstance(self.value, list):
            self.fail(f"expected a list, got {_kind(self.value)}", "write a YAML list (- item)")
        return [_Node(self.path, item, *self.value.lc.item(i)) for i, item in
                enumerate(self.value)]

    def string(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            self.fail(f"expected a non-empty string, got {_kind(self.value)}", "quote the value")
        return str(self.value)

    def strings(self) -> list[str]:
        if isinstance(self.value, str):
            return [self.value]
        return [item.string() for item in self.sequence()]

    def integer(self, low: int, high: int) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int) \
                or not low <= self.value <= high:
            self.fail(f"expected an integer from {low} to {high}, got {self.value!r}",
                      f"write a whole number between {low} and {high}")
        return int(self.value)

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail(f"expected true or false, got {self.value!r}", "write true or false")
        return bool(self.value)

    def regex(self) -> re.Pattern[str]:
        text = self.string()
        try:
            return re.compile(text, re.IGNORECASE)
        except re.error as err:
            self.fail(f"bad regex {text!r}: {err}", "fix the pattern (regexes are Python `re`, "
                      "matched case-insensitively with search)")
            raise AssertionError("unreachable") from None

    def parsed(self, parse: Callable[[str], Any]) -> Any:
        text = self.string() if not isinstance(self.value, int) else str(self.value)
        try:
            return parse(text)
        except ValueError as err:
            self.fail(str(err), "see the README's rule reference")
            raise AssertionError("unreachable") from None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"


def _rule(node: _Node, index: int) -> Rule:
    keys = node.mapping(_RULE_KEYS)
    name = keys["name"].string() if "name" in keys else f"rule-{index + 1}"
    if "match" not in keys:
        node.fail(f"rule {name!r} has no `match`", f"add conditions, for example:\n{EXAMPLE}")
    if "set" not in keys:
        node.fail(f"rule {name!r} has no `set`", "add `set: {priority: P2}` (or title/labels/mute)")
    action = keys["set"].mapping(_SET_KEYS)
    if not action:
        keys["set"].fail("`set` is empty", "set at least one of priority, title, labels, mute")
    priority = action["priority"].parsed(Priority.parse) if "priority" in action else None
    return Rule(
        name=f"team:{name}",
        match=_match(keys["match"]),
        reason=keys["reason"].string() if "reason" in keys else f"team rule {name!r}",
        priority=priority,
        title=action["title"].string() if "title" in action else None,
        labels=tuple(action["labels"].strings()) if "labels" in action else (),
        mute=action["mute"].boolean() if "mute" in action else None,
    )


def _match(node: _Node) -> Match:
    m = node.mapping(_MATCH_KEYS)
    if not m:
        node.fail("`match` is empty", "give at least one condition (template, severity, ...)")
    resource_type, labels = None, {}
    if "resource" in m:
        res = m["resource"].mapping({"type", "labels"})
        resource_type = res["type"].string() if "type" in res else None
        if "labels" in res:
            labels = {k: v.string() for k, v in res["labels"].mapping(
                set(res["labels"].value or {})).items()}
    fields = {}
    if "fields" in m:
        wanted = set(m["fields"].value or {})
        fields = {k: v.regex() for k, v in m["fields"].mapping(wanted).items()}
    statuses = None
    if "status" in m:
        statuses = frozenset(m["status"].strings())
        if not statuses <= STATUSES:
            m["status"].fail(f"unknown status {sorted(statuses - STATUSES)}",
                             "use new, spiking or known")
    return Match(
        template=m["template"].regex() if "template" in m else None,
        severities=m["severity"].parsed(parse_severities) if "severity" in m else None,
        resource_type=resource_type, resource_labels=labels,
        logger=m["logger"].regex() if "logger" in m else None,
        source=m["source"].regex() if "source" in m else None,
        exception=m["exception"].regex() if "exception" in m else None,
        status_classes=frozenset(m["status_class"].strings()) if "status_class" in m else None,
        fields=fields,
        min_count=m["min_count"].integer(0, 10**12) if "min_count" in m else 0,
        min_share=_share(m["min_share"]) if "min_share" in m else 0.0,
        statuses=statuses,
    )


def _share(node: _Node) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        node.fail(f"min_share must be a number from 0 to 1, got {value!r}", "e.g. 0.05 for 5%")
    return float(value)


def parse_severities(text: str) -> frozenset[Severity]:
    """`ERROR`, `>=WARNING`, `<=INFO`, `WARNING,ERROR` -> the set of severities it means."""
    text = text.strip()
    compare: dict[str, Callable[[Severity, Severity], bool]] = {
        ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
    for op, keep in compare.items():
        if text.startswith(op):
            bound = Severity.parse(text[len(op):])
            return frozenset(s for s in Severity if keep(s, bound))
    return frozenset(Severity.parse(part) for part in text.split(",") if part.strip())
