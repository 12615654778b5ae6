"""A bad `.gardener.yml` is a ConfigError (exit 2) naming file:line:column and the fix, never a
traceback; and what a good one means (merge keys, dotted payload paths, regex time limits)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gardener.rules
from gardener.cli import main
from gardener.clusters import field_value
from gardener.config import load_config, parse_config
from gardener.errors import ConfigError, ExitCode
from gardener.model import Priority
from gardener.rules import prioritise
from tests.test_team_rules import GOOD, cluster, config_error, rule_text, where

PATH = "team/.gardener.yml"


def assert_error(text: str, needle: str, what: str, fix: str = "") -> ConfigError:
    err = config_error(text)
    assert err.what.startswith(f"{PATH}:{where(text, needle)}: "), err.what
    assert what in err.what, err.what
    assert fix in err.fix, err.fix
    return err


def run_cli(tmp_path: Path, config: str | bytes, rows: list[dict[str, Any]] | None = None,
            *flags: str) -> tuple[int, str, dict[str, Any] | None]:
    """`gardener analyze` in-process on a small export, with `config` as the rules file."""
    export = tmp_path / "export.json"
    export.write_text(json.dumps(rows if rows is not None else [entry(0, "request served")]))
    rules = tmp_path / "rules.yml"
    rules.write_bytes(config if isinstance(config, bytes) else config.encode())
    out, err, doc = io.StringIO(), io.StringIO(), tmp_path / "out.json"
    code = main(["analyze", "--input", str(export), "--config", str(rules), "--json", str(doc),
                 *flags], {}, stdin=io.StringIO(), stdout=out, stderr=err)
    return code, err.getvalue(), json.loads(doc.read_text()) if doc.exists() else None


def entry(i: int, message: str, **payload: Any) -> dict[str, Any]:
    return {"insertId": f"id-{i}", "severity": "INFO", "timestamp": f"2025-09-15T10:00:{i:02d}Z",
            "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
            "jsonPayload": {"message": message, **payload}}


# 1: encodings and control characters
@pytest.mark.parametrize(("data", "position", "what"), [
    ("version: 1\n".encode("utf-16"), "1:1", "UTF-16"),
    (b"version: 1\n# caf\xff\n", "2:6", "not UTF-8 text (byte 0xff)"),
    (b"rules: [\x00]\n", "1:9", "control character U+0000"),
    (b"service: a\xe2\x82\xac\x07\n", "1:12", "control character U+0007"),
])
def test_not_utf8_text_names_the_spot(tmp_path: Path, data: bytes, position: str,
                                      what: str) -> None:
    code, stderr, _ = run_cli(tmp_path, data)
    assert code == ExitCode.USAGE, stderr
    assert f"rules.yml:{position}: " in stderr and what in stderr
    assert "save it as UTF-8" in stderr


# 2: merge keys are supported; a merged key is placed where it is written
def test_merge_keys_merge() -> None:
    config = parse_config("""\
<<: {version: 1, samples: 5}
rules:
  - &first {name: a, match: &m {template: x, severity: ERROR}, set: {priority: P1}}
  - <<: *first
    name: b
  - name: c
    match: {<<: *m, logger: db}
    set: {priority: P2}
""")
    assert config.samples == 5
    a, b, c = config.rules
    assert (b.name, b.priority, b.match.severities) == ("team:b", Priority.P1, a.match.severities)
    assert c.match.logger is not None and c.match.severities == a.match.severities


@pytest.mark.parametrize(("text", "needle", "what"), [
    ("rules:\n  - name: a\n    match: {template: x}\n    set: &s {priority: P1}\n"
     "  - name: b\n    match: {<<: *s}\n    set: {mute: true}\n", "priority", "unknown key"),
    ("rules:\n  - name: a\n    match: {template: x}\n    set: &s {mute: true}\n"
     "  - <<: {name: b, match: {template: y}, set: *s, nmae: c}\n", "nmae", "unknown key"),
    ("<<: {version: 1, samples: 50}\n", "50", "expected an integer"),
])
def test_errors_in_merged_keys_point_where_they_are_written(text: str, needle: str,
                                                            what: str) -> None:
    assert_error(text, needle, what)


# 3: wrong types for mappings of any keys
@pytest.mark.parametrize("match", ["{fields: 5}", "{fields: true}", "{fields: [{a: b}]}",
                                   "{resource: {labels: 5}}", "{fields: {[a]: b}}"])
def test_fields_and_labels_must_be_mappings(match: str) -> None:
    err = config_error(rule_text(match))
    assert re.match(rf"{PATH}:3:\d+: expected (a mapping|a text key)", err.what), err.what


# 4: explicit tags that cannot build their value
@pytest.mark.parametrize(("text", "needle", "what"), [
    (rule_text(action="{priority: !!int P1}"), "!!int", "cannot read 'P1' as !!int"),
    ("samples: !!float abc\n", "!!float", "cannot read 'abc' as !!float"),
    (rule_text(action="{mute: !!bool maybe}"), "!!bool", "cannot read 'maybe' as !!bool"),
    ("samples: !!int 0xZZ\n", "!!int", "cannot read '0xZZ' as !!int"),
    ("rules: !!pairs [a: 1]\n", "!!pairs", "expected a mapping, got a list"),
    ("version: !custom 1\n", "!custom", "unsupported version, got a value tagged !custom"),
    ("samples: !!omap x\n", "!!omap", "cannot read 'x' as !!omap"),
    ("samples: !!float 1e\n", "!!float", "cannot read '1e' as !!float"),
    ("rules:\n  ? {a: {b: 1}}\n  : 2\n", "? {a", "cannot read this value as !!map"),
    ("? [a, {b: 1}]\n: 2\n", "2\n", "cannot build this value (unhashable"),
    ("rules: !!set {a}\n", "!!set", "expected a list, got a set"),
])
def test_explicit_tags_that_do_not_fit(text: str, needle: str, what: str) -> None:
    assert_error(text, needle, what)


_PIECES = ["<<: ", "*a", "&a ", "!!int ", "!!float ", "!!omap ", "!!set ", "!!binary ", "!x ",
           "[", "]", "{", "}", ": ", "- ", "? ", "\n", "  ", "'", '"', ",", "\x00", "\t", "1e",
           "true", "~", "0x1", "2001-01-01", "|", "---\n", "5XX", "priority", "fields"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GOOD)), st.integers(0, 6),
                          st.sampled_from(_PIECES)), min_size=1, max_size=4))
def test_a_mangled_file_is_a_config_error_or_a_config(edits: list[tuple[int, int, str]]) -> None:
    """Whatever is inserted or cut, loading ends in a Config or a ConfigError with a place and a
    fix, never another exception (which would be exit 4, "internal error")."""
    text = GOOD
    for at, cut, piece in edits:
        text = text[:at] + piece + text[at + cut:]
    try:
        parse_config(text, PATH)
    except ConfigError as err:
        assert err.what.startswith(f"{PATH}") and err.fix


# 5: regexes that `re` cannot compile for reasons other than re.error, or `regex` would
# unroll into gigabytes
@pytest.mark.parametrize(("pattern", "what"), [
    ("a{4294967296}", "too large"),
    ("(" * 1000 + ")" * 1000, "nested too deeply"),
    ("(?:a{1000}){1000}", "repeat counts multiply to 1,000,000"),
    (r"\p{L}", "bad escape"),  # the README documents Python `re` syntax, not the regex package's
])
def test_bad_regexes(pattern: str, what: str) -> None:
    text = rule_text(f"{{template: '{pattern}'}}")
    assert_error(text, f"'{pattern[:10]}", "bad regex", "fix the pattern")
    assert what in config_error(text).what


# 6: nesting deep enough to exhaust Python's stack
def test_deep_nesting(tmp_path: Path) -> None:
    code, stderr, _ = run_cli(tmp_path, "rules: " + "[" * 300 + "]" * 300 + "\n")
    assert code == ExitCode.USAGE and "nested too deeply" in stderr, stderr


# 7: a team regex that backtracks catastrophically stops the run, naming the rule
def test_a_runaway_team_regex_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setattr(gardener.rules, "TEAM_REGEX_TIMEOUT", 0.05)
    text = rule_text('{template: "^(a|aa)+$"}').replace("name: r", "name: runaway")
    rules = parse_config(text, PATH).rules
    with pytest.raises(ConfigError) as info:
        prioritise(cluster("a" * 60 + "!"), rules, 1)
    position = where(text, '"^(a')
    assert info.value.what.startswith(f"{PATH}:{position}: rule 'runaway'"), info.value.what
    assert "anchor" in info.value.fix
    rows = [entry(i, "a" * 60 + "!") for i in range(3)]
    code, stderr, _ = run_cli(tmp_path, text, rows)
    assert code == ExitCode.USAGE and "rules.yml:3:" in stderr and "'runaway'" in stderr
    # `re` never finishes this one; the `regex` package sees through it
    words = parse_config(rule_text(r"{template: '^(\w+\s?)*$'}")).rules
    assert prioritise(cluster("word " * 40 + "!"), words, 1).priority is Priority.P4


def test_team_regexes_keep_re_semantics() -> None:
    rules = parse_config(rule_text(r"{template: 'database initiali[sz]ation\s+TIMEOUT'}")).rules
    pattern = rules[0].match.template
    assert pattern is not None and pattern.search("DATABASE Initialization  timeout")
    assert not pattern.search("database initialisationtimeout")


# 8: the file's fail_on is checked when the file is loaded, even when the flag wins
def test_fail_on_in_the_file_is_checked_at_load(tmp_path: Path) -> None:
    assert_error("fail_on: P9\n", "P9", "fail_on: unknown condition 'P9'", "P1,new>=P2")
    code, stderr, _ = run_cli(tmp_path, "version: 1\nfail_on: 'P1,old>=P2'\n", None,
                              "--fail-on", "P0")
    assert code == ExitCode.USAGE and "rules.yml:2:10: fail_on: unknown condition" in stderr


# 9: conditions that could never hold
@pytest.mark.parametrize(("match", "needle", "what", "fix"), [
    ("{status_class: 5XX}", "5XX", "unknown status class '5XX'", "1xx, 2xx, 3xx, 4xx, 5xx, 429"),
    ("{status_class: ['500']}", "'500'", "unknown status class '500'", "5xx, 429"),
    ("{status_class: [4xx, foo]}", "foo", "unknown status class 'foo'", "4xx"),
    ("{status_class: []}", "[]", "got an empty list", "5xx"),
    ("{severity: ','}", "','", "selects no severity", "WARNING"),
    ("{severity: '>EMERGENCY'}", "'>E", "selects no severity", "EMERGENCY"),
    ("{severity: '<DEFAULT'}", "'<D", "selects no severity", "DEFAULT"),
    ("{status: []}", "[]", "got an empty list", "spiking"),
    ("{fields: {'': x}}", "''", "bad payload field path ''", "error.type"),
    ("{fields: {'error.': x}}", "'error.'", "bad payload field path 'error.'", "error.type"),
])
def test_conditions_that_never_hold(match: str, needle: str, what: str, fix: str) -> None:
    assert_error(rule_text(match), needle, what, fix)


def test_status_class_429_may_be_a_number() -> None:
    rule = parse_config(rule_text("{status_class: [5xx, 429]}")).rules[0]
    assert rule.match.status_classes == frozenset({"5xx", "429"})


# 10: blank labels
@pytest.mark.parametrize("labels", ["''", "'  '"])
def test_blank_label(labels: str) -> None:
    assert_error(rule_text(action=f"{{labels: {labels}}}"), labels + "}",
                 "expected a non-empty string", "quote")


# 11: dotted keys followed by more parts
@pytest.mark.parametrize(("fields", "path", "value"), [
    ({"logging.googleapis.com/sourceLocation": {"file": "smd.py"}},
     "logging.googleapis.com/sourceLocation.file", "smd.py"),
    ({"logging.googleapis.com/trace": "t1"}, "logging.googleapis.com/trace", "t1"),
    ({"error": {"type": "E", "a.b": {"c": 1}}}, "error.a.b.c", "1"),
    ({"a.b": {"c": 1}, "a": {"b": {"c": 2}}}, "a.b.c", "1"),  # the longest key wins
    ({"error": {"type": "E"}}, "error.kind", None),
    ({"error": "flat"}, "error.type", None),
])
def test_field_value_takes_the_longest_key_at_each_level(fields: dict[str, Any], path: str,
                                                         value: str | None) -> None:
    assert field_value(fields, path) == value


def test_dotted_key_then_more_parts_on_an_export(tmp_path: Path) -> None:
    where_ = "logging.googleapis.com/sourceLocation"
    rows = [entry(i, text, **{where_: {"file": f"app/{name}.py"}}) for i, (name, text) in
            enumerate([("smd", "database pool ready"), ("smd", "database pool ready"),
                       ("routes", "GET handler registered"), ("routes", "GET handler registered")])]
    config = rule_text(f"{{fields: {{'{where_}.file': 'smd'}}}}", "{labels: [smd]}")
    code, stderr, doc = run_cli(tmp_path, config, rows)
    assert code == ExitCode.PASSED and doc is not None, stderr
    labelled = [c["labels"] for c in doc["clusters"]]
    assert ["smd"] in labelled and [] in labelled, labelled


# 12: strict versions, readable type names, suggestions
@pytest.mark.parametrize(("text", "needle", "what", "fix"), [
    ("version: true\n", "true", "unsupported version, got a boolean (true)", "version: 1"),
    ("version: 1.0\n", "1.0", "unsupported version, got a number (1.0)", "version: 1"),
    ("samples: 1.5\n", "1.5", "expected an integer from 0 to 20, got a number (1.5)", ""),
    (rule_text("{fields: {error.type: 1}}"), "1}", "got a number (1)", "quote"),
    (rule_text(action="{mute: 'yes'}"), "'yes'", "got a string ('yes')", "true or false"),
    (rule_text(action="{priorty: P1}"), "priorty", "unknown key 'priorty'",
     "did you mean `priority`?"),
    (rule_text("{template: x, priority: P1}"), "priority", "unknown key 'priority'",
     "`priority` belongs under `set:`"),
    (rule_text("{logger: x}", "{template: x}"), "template", "unknown key 'template'",
     "`template` belongs under `match:`"),
])
def test_messages_speak_yaml(text: str, needle: str, what: str, fix: str) -> None:
    err = assert_error(text, needle, what, fix)
    assert not re.search(r"Scalar|Tagged|Commented|ruamel", err.what + err.fix)


def test_the_bundled_example_still_loads() -> None:
    config = load_config(str(Path(__file__).parent.parent / "examples" / "gardener.yml"))
    assert [r.name for r in config.rules][:1] == ["team:database-startup"]
    assert config.fail_on == "P0"


def test_an_anchor_defined_twice_is_an_error_where_it_is_redefined() -> None:
    """It was a ruamel warning on stderr (and the later definition silently won)."""
    error = config_error('rules:\n  - name: a\n    match: &m {template: "x"}\n    set: '
                         '{priority: P1}\n  - name: b\n    match: &m {template: "y"}\n    set: '
                         '{priority: P2}\n')
    assert error.what == ("team/.gardener.yml:6:12: the anchor &m is defined again (first at "
                          "line 3, column 12)")
