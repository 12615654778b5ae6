"""Load and validate `.gardener.yml`: every error names file:line:column and the fix."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gardener.errors import ConfigError
from gardener.gate import parse_fail_on
from gardener.model import Priority, Severity
from gardener.rules import Match, Rule, TeamRegex, team_regex
from gardener.yaml_nodes import EXAMPLE, Node, decode, kind, load_yaml, short

DEFAULT_CONFIG = ".gardener.yml"
"""The rules file read from the working directory (the CLI) or the workspace (the action)."""
STATUSES = frozenset({"new", "spiking", "known"})
_TOP_KEYS = {"version", "fail_on", "service", "samples", "rules"}
_RULE_KEYS = {"name", "match", "set", "reason"}
_SET_KEYS = {"priority", "title", "labels", "mute"}
_MATCH_KEYS = {"template", "severity", "resource", "logger", "source", "exception", "status_class",
               "fields", "min_count", "min_share", "status"}
_HOME = {**dict.fromkeys(_TOP_KEYS, "the top level"),
         **dict.fromkeys(_RULE_KEYS, "a rule (beside `match:` and `set:`)"),
         **dict.fromkeys(_MATCH_KEYS, "`match:`"), **dict.fromkeys(_SET_KEYS, "`set:`")}
"""Where each key belongs, to say so when one is written at the wrong level."""
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "429")
"""What a request log's status class can be (`clusters`: `5xx` for 503, and `429` too)."""


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
        data = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the config file: {err.strerror}",
                          fix="pass --config PATH to an existing .gardener.yml") from None
    return parse_config(decode(data, path), path)


def parse_config(text: str, path: str = ".gardener.yml") -> Config:
    """`load_config` on a string, for tests and stdin."""
    data = load_yaml(text, path)
    if data is None:
        return Config(path=path)
    top = Node(path, data).mapping(_TOP_KEYS, _HOME)
    version = top.get("version")
    if version is not None and (isinstance(version.value, bool) or version.value != 1
                                or not isinstance(version.value, int)):
        version.fail(f"unsupported version, got {kind(version.value)}", "use `version: 1`")
    rules = top.get("rules")
    return Config(
        rules=tuple(_rule(item, i) for i, item in enumerate(rules.sequence())) if rules else (),
        fail_on=_fail_on(top["fail_on"]) if "fail_on" in top else None,
        service=top["service"].string() if "service" in top else None,
        samples=top["samples"].integer(0, 20) if "samples" in top else 3,
        path=path,
    )


def _fail_on(node: Node) -> str:
    """The file's gate conditions, checked now: the flag may win, but a bad file is an error."""
    text = node.string()
    try:
        parse_fail_on(text)
    except ConfigError as err:
        node.fail(err.what.replace("--fail-on", "fail_on", 1), err.fix)
    return text


def _rule(node: Node, index: int) -> Rule:
    keys = node.mapping(_RULE_KEYS, _HOME)
    name = keys["name"].string() if "name" in keys else f"rule-{index + 1}"
    if "match" not in keys:
        node.fail(f"rule {name!r} has no `match`", f"add conditions, for example:\n{EXAMPLE}")
    if "set" not in keys:
        node.fail(f"rule {name!r} has no `set`", "add `set: {priority: P2}` (or title/labels/mute)")
    action = keys["set"].mapping(_SET_KEYS, _HOME)
    if not action:
        keys["set"].fail("`set` is empty", "set at least one of priority, title, labels, mute")
    priority = _parsed(action["priority"], Priority.parse) if "priority" in action else None
    return Rule(
        name=f"team:{name}",
        match=_match(keys["match"], name),
        reason=keys["reason"].string() if "reason" in keys else f"team rule {name!r}",
        priority=priority,
        title=action["title"].string() if "title" in action else None,
        labels=tuple(action["labels"].strings()) if "labels" in action else (),
        mute=action["mute"].boolean() if "mute" in action else None,
    )


def _match(node: Node, rule: str) -> Match:
    m = node.mapping(_MATCH_KEYS, _HOME)
    if not m:
        node.fail("`match` is empty", "give at least one condition (template, severity, ...)")
    resource_type, labels = None, {}
    if "resource" in m:
        res = m["resource"].mapping({"type", "labels"}, _HOME)
        resource_type = res["type"].string() if "type" in res else None
        if "labels" in res:
            labels = {k: v.string() for k, v in res["labels"].mapping(None).items()}
    fields = {}
    if "fields" in m:
        fields = {_field_path(v): _regex(v, rule) for v in m["fields"].mapping(None).values()}
    return Match(
        template=_regex(m["template"], rule) if "template" in m else None,
        severities=_severities(m["severity"]) if "severity" in m else None,
        resource_type=resource_type, resource_labels=labels,
        logger=_regex(m["logger"], rule) if "logger" in m else None,
        source=_regex(m["source"], rule) if "source" in m else None,
        exception=_regex(m["exception"], rule) if "exception" in m else None,
        status_classes=_status_classes(m["status_class"]) if "status_class" in m else None,
        fields=fields,
        min_count=m["min_count"].integer(0, 10**12) if "min_count" in m else 0,
        min_share=_share(m["min_share"]) if "min_share" in m else 0.0,
        statuses=_statuses(m["status"]) if "status" in m else None,
    )


def _regex(node: Node, rule: str) -> TeamRegex:
    text = node.string()
    try:
        return team_regex(text, rule, node.where)
    except ValueError as err:
        node.fail(f"bad regex {short(text)!r}: {err}", "fix the pattern (regexes are Python `re`, "
                  "matched case-insensitively with search)")


def _parsed(node: Node, parse: Callable[[str], Any]) -> Any:
    text = node.string() if isinstance(node.value, bool) or not isinstance(node.value, int) \
        else str(node.value)
    try:
        return parse(text)
    except ValueError as err:
        node.fail(str(err), "see the README's rule reference")


def _severities(node: Node) -> frozenset[Severity]:
    severities: frozenset[Severity] = _parsed(node, parse_severities)
    if not severities:
        node.fail(f"severity {str(node.value)!r} selects no severity", "e.g. ERROR, \">=WARNING\", "
                  "\"<=INFO\" or \"WARNING,ERROR\" (DEFAULT is the lowest, EMERGENCY the highest)")
    return severities


def _status_classes(node: Node) -> frozenset[str]:
    items = node.sequence() if isinstance(node.value, list) else [node]
    if not items:
        node.fail("expected at least one status class, got an empty list",
                  f"use some of {', '.join(STATUS_CLASSES)}")
    out = set()
    for item in items:
        value = item.value
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) \
            else item.string()
        if text not in STATUS_CLASSES:
            item.fail(f"unknown status class {text!r}, which no request log has",
                      f"use {', '.join(STATUS_CLASSES)} (lower-case x; 429 also counts as 4xx)")
        out.add(text)
    return frozenset(out)


def _statuses(node: Node) -> frozenset[str]:
    statuses = frozenset(node.strings())
    if not statuses:
        node.fail("expected at least one status, got an empty list", "use new, spiking or known")
    if not statuses <= STATUSES:
        node.fail(f"unknown status {sorted(statuses - STATUSES)}", "use new, spiking or known")
    return statuses


def _field_path(node: Node) -> str:
    """A payload field's dotted path, from the key `node` is the value of."""
    key = node.key if node.key is not None else node
    path = str(key.value)
    if not all(part.strip() for part in path.split(".")):
        key.fail(f"bad payload field path {path!r}: a part between dots is empty",
                 "write the path as keys joined by dots, e.g. `error.type` or "
                 "`logging.googleapis.com/sourceLocation.file`")
    return path


def _share(node: Node) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        node.fail(f"min_share must be a number from 0 to 1, got {kind(value)}", "e.g. 0.05 for 5%")
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
