"""Read `.gardener.yml` into values that know their file:line:column, for error messages."""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Collection, Mapping
from collections.abc import Set as AbstractSet
from datetime import date
from functools import cache
from typing import Any, NoReturn

from gardener.errors import ConfigError

EXAMPLE = """rules:
  - name: db-timeouts
    match: {template: "Database initialization timeout", severity: ">=ERROR"}
    set: {priority: P0, title: "Database start-up timeout", labels: [database]}"""
UTF8_FIX = ("save it as UTF-8 (in most editors: Save with Encoding > UTF-8); a rules file is "
            "plain text, without control characters")


def decode(data: bytes, path: str) -> str:
    """The file's text; a `ConfigError` at the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        before = data[:err.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
        what = "UTF-16 text" if utf16 else f"not UTF-8 text (byte 0x{data[err.start]:02x})"
        raise ConfigError(f"{path}:{line}:{column}: the file is {what}", fix=UTF8_FIX) from None


_REUSED = re.compile(r"duplicate anchor '([^']*)'.*?line (\d+), column (\d+).*?"
                     r"line (\d+), column (\d+)")
"""ruamel's warning about an anchor defined twice: its name, then where it was and is."""


def load_yaml(text: str, path: str) -> Any:
    """The round-trip loader's document; a `ConfigError` with a position for anything YAML or
    the file's characters do not allow."""
    # Imported here: a run without a config file need not load a YAML parser.
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import ConstructorError
    from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")
    yaml.Constructor = _constructor()
    try:
        with warnings.catch_warnings():  # an anchor defined twice: an error, not a stray warning
            warnings.simplefilter("error", ReusedAnchorWarning)
            return yaml.load(text)
    except ReusedAnchorWarning as err:
        found = _REUSED.search(" ".join(str(err).split()))
        what = (f"{path}:{found[4]}:{found[5]}: the anchor &{found[1]} is defined again (first "
                f"at line {found[2]}, column {found[3]})" if found else
                f"{path}: an anchor is defined twice")
        raise ConfigError(what, fix="give each anchor (&name) a name of its own") from None
    except MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        fix = ("remove the explicit tag (`!!int`, `!!float`, ...) or write a value of that type"
               if isinstance(err, ConstructorError) else
               "check indentation and quoting (quote regexes with ':' or '#')")
        raise ConfigError(f"{where}: not valid YAML: {err.problem}", fix=fix) from None
    except ReaderError as err:
        offset = err.position if isinstance(err.position, int) else 0
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        char = err.character if isinstance(err.character, int) else 0
        raise ConfigError(f"{path}:{line}:{column}: the file holds the control character "
                          f"U+{char:04X}, which YAML does not allow", fix=UTF8_FIX) from None
    except RecursionError:
        raise ConfigError(f"{path}: lists or mappings are nested too deeply",
                          fix=f"a rules file nests a few levels, for example:\n{EXAMPLE}"
                          ) from None
    except YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}",
                          fix="check indentation and quoting") from None


@cache
def _constructor() -> type:
    """The round-trip constructor, with a value that its tag cannot build (`!!int P1`, `!!omap x`)
    or a key that cannot be one (a mapping) reported as a `ConstructorError` at the value, or at
    the last one read, instead of a bare ValueError, KeyError or TypeError."""
    from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor

    unbuildable = (ValueError, LookupError, TypeError, AttributeError, ArithmeticError)

    class _Constructor(RoundTripConstructor):
        last: Any = None
        """The node read last: a mapping's entries are built after the mapping itself."""

        def construct_document(self, node: Any) -> Any:
            try:
                return super().construct_document(node)
            except unbuildable as err:
                raise ConstructorError(None, None, f"cannot build this value ({err})",
                                       (self.last or node).start_mark) from None

        def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
            self.last = node
            try:
                return super().construct_non_recursive_object(node, tag)
            except unbuildable:
                tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
                shown = repr(short(node.value)) if isinstance(node.value, str) else "this value"
                raise ConstructorError(None, None, f"cannot read {shown} as {tag}",
                                       node.start_mark) from None

    return _Constructor


class Node:
    """A YAML value with its position, for error messages. The round-trip loader gives every
    mapping as a `CommentedMap` (a dict) and every sequence as a `CommentedSeq` (a list), each
    with its position in `lc`; `key` is the node of the mapping key the value belongs to."""

    def __init__(self, path: str, value: Any, line: int = 0, col: int = 0,
                 key: Node | None = None) -> None:
        self.path, self.value, self.line, self.col, self.key = path, value, line, col, key
        position = getattr(value, "lc", None)  # where the loader found a mapping or a sequence
        if position is not None and not (line or col) and isinstance(position.line, int):
            self.line, self.col = position.line, position.col or 0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line + 1}:{self.col + 1}"

    def fail(self, what: str, fix: str) -> NoReturn:
        raise ConfigError(f"{self.where}: {what}", fix=fix)

    def mapping(self, allowed: Collection[str] | None,
                home: Mapping[str, str] | None = None) -> dict[str, Node]:
        """The entries by key; any text key when `allowed` is None. `home` says where a key
        that is not allowed here belongs instead (`priority` -> `set:`)."""
        if not isinstance(self.value, dict):
            self.fail(f"expected a mapping, got {kind(self.value)}", f"for example:\n{EXAMPLE}")
        out: dict[str, Node] = {}
        for key in self.value:
            kline, kcol, vline, vcol = _key_position(self.value, key, (self.line, self.col))
            key_node = Node(self.path, key, kline, kcol)
            if allowed is None and (isinstance(key, bool) or not isinstance(key, str | int)):
                key_node.fail(f"expected a text key, got {kind(key)}", "quote the key")
            if allowed is not None and key not in allowed:
                key_node.fail(f"unknown key {key!r}", _unknown_key_fix(str(key), allowed, home))
            out[str(key)] = Node(self.path, self.value[key], vline, vcol, key_node)
        return out

    def sequence(self) -> list[Node]:
        if not isinstance(self.value, list):
            self.fail(f"expected a list, got {kind(self.value)}", "write a YAML list (- item)")
        data = getattr(getattr(self.value, "lc", None), "data", None) or {}
        return [Node(self.path, item, *data.get(i, (self.line, self.col))[:2])
                for i, item in enumerate(self.value)]

    def string(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            self.fail(f"expected a non-empty string, got {kind(self.value)}", "quote the value")
        return str(self.value)

    def strings(self) -> list[str]:
        if isinstance(self.value, str):
            return [self.string()]
        return [item.string() for item in self.sequence()]

    def integer(self, low: int, high: int) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int) \
                or not low <= self.value <= high:
            self.fail(f"expected an integer from {low} to {high}, got {kind(self.value)}",
                      f"write a whole number between {low} and {high}")
        return int(self.value)

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail(f"expected true or false, got {kind(self.value)}", "write true or false")
        return bool(self.value)


def _key_position(mapping: Any, key: Any, default: tuple[int, int]) -> tuple[int, int, int, int]:
    """(key line, key column, value line, value column) of `key`. A key merged in by `<<: *base`
    has no position in the mapping itself: it has one where it is written, in the merged one."""
    data = getattr(getattr(mapping, "lc", None), "data", None) or {}
    if key in data:
        kline, kcol, vline, vcol = data[key]
        return kline, kcol, vline, vcol
    for merged in getattr(mapping, "merge", None) or ():
        source = merged[1] if isinstance(merged, tuple) else merged  # ruamel.yaml 0.18: (i, map)
        if isinstance(source, dict) and key in source:
            return _key_position(source, key, default)
    return (*default, *default)


def _unknown_key_fix(key: str, allowed: Collection[str], home: Mapping[str, str] | None) -> str:
    choices = f"use one of: {', '.join(sorted(allowed))}"
    if home and key in home:
        return f"`{key}` belongs under {home[key]}; here {choices}"
    near = difflib.get_close_matches(key, list(allowed), n=1)
    return f"did you mean `{near[0]}`? {choices}" if near else choices


def kind(value: Any) -> str:
    """What a YAML value is, in YAML's words: `a number (1.5)`, `a string ('x')`, `a list`."""
    if value is None:
        return "nothing"
    if isinstance(value, bool) or type(value).__name__ == "ScalarBoolean":
        return f"a boolean ({str(bool(value)).lower()})"
    if isinstance(value, int | float):
        return f"a number ({short(repr(int(value) if isinstance(value, int) else float(value)))})"
    if isinstance(value, str):
        return f"a string ({short(repr(str(value)))})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, AbstractSet):
        return "a set"
    if isinstance(value, date):
        return f"a date ({value.isoformat()})"
    tag = getattr(getattr(value, "tag", None), "value", None)
    if tag:  # a TaggedScalar: `!foo 1`
        return f"a value tagged {short(str(tag))}"
    return "binary data" if isinstance(value, bytes) else "an unsupported value"


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
