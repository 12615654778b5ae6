"""Priority rules: the defaults that encode what P0-P4 mean, and the machinery for team rules.

Rules match a whole cluster. A condition on an entry attribute (severity, resource, logger,
source location, payload field, status class) holds when any entry of the cluster satisfies it;
`template` is a regex searched in the cluster's template (and its sample messages, so a word
the miner made variable still counts); `min_count`/`min_share` look at its size.
Rules are tried in order, team rules before defaults; for each of priority, title and mute the
first matching rule that sets it wins, and labels add up.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from gardener.errors import ConfigError
from gardener.folding import fold
from gardener.model import Cluster, Finding, Priority, Severity

if TYPE_CHECKING:
    import regex

TEAM_REGEX_TIMEOUT = 1.0
"""Seconds one search of a team regex may take on one text before the run stops: a CI gate must
not hang on a regex that backtracks catastrophically (read when a team regex is compiled)."""
_MAX_UNROLLED = 100_000
"""The `regex` package unrolls a repeat's minimum (`a{1000000}` takes ~280 MB to compile), so
the product of a pattern's repeat counts is capped."""
_REPEAT_COUNT = re.compile(r"\{(\d+)(?:,\d*)?\}")


class Searcher(Protocol):
    """A rule's regex as `matches` uses it: `re.Pattern` (defaults) or `TeamRegex` (team)."""

    def search(self, string: str, /) -> object: ...


@dataclass(frozen=True, slots=True)
class TeamRegex:
    """A team rule's regex: Python `re` syntax, case-insensitive, searched with the `regex`
    package so that a search running past `timeout` stops the run with a `ConfigError` that
    names the rule and where the regex is written, instead of hanging it."""

    compiled: regex.Pattern[str]
    """The pattern, compiled with `regex.VERSION0` (the semantics of `re`) and IGNORECASE."""
    rule: str
    """The rule's name in the file."""
    where: str
    """`file:line:column` of the regex."""
    timeout: float
    """Seconds one search may take."""

    @property
    def pattern(self) -> str:
        return self.compiled.pattern

    def search(self, string: str, /) -> regex.Match[str] | None:
        try:
            return self.compiled.search(string, timeout=self.timeout)
        except TimeoutError:
            raise ConfigError(
                f"{self.where}: rule {self.rule!r}: the regex {self.pattern!r} ran for over "
                f"{self.timeout:g} s on one text and was stopped",
                cause="it backtracks catastrophically: overlapping repeats such as (a|aa)+ or "
                      "(\\w|\\w\\w)* try exponentially many ways on a text that almost matches",
                fix="simplify the regex: anchor it, search for a literal word, and avoid a "
                    "repeat inside a repeat") from None


def team_regex(pattern: str, rule: str, where: str) -> TeamRegex:
    """Compile a team rule's regex; ValueError says what is wrong with it."""
    import regex  # here: a run without team rules need not load it (~20 ms)

    try:
        re.compile(pattern, re.IGNORECASE)  # the syntax the README documents, and its messages
        unrolled = 1
        for count in _REPEAT_COUNT.findall(pattern):
            unrolled *= max(1, int(count))
        if unrolled > _MAX_UNROLLED:
            raise ValueError(f"repeat counts multiply to {unrolled:,}, over {_MAX_UNROLLED:,}")
        with warnings.catch_warnings():  # `re` has already warned about the same thing
            warnings.simplefilter("ignore", FutureWarning)
            compiled = regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    except (re.error, regex.error, OverflowError) as err:
        raise ValueError(str(err)) from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    return TeamRegex(compiled, rule, where, TEAM_REGEX_TIMEOUT)


@dataclass(frozen=True, slots=True)
class Match:
    """Conditions on a cluster; all given ones must hold."""

    template: Searcher | None = None
    """Searched in the template (and the sample messages)."""
    folded: bool = False
    """`template` is a lower-case regex without IGNORECASE, searched in the folded texts
    (`gardener.folding`): what an IGNORECASE regex finds, several times faster (default rules)."""
    severities: frozenset[Severity] | None = None
    """Some entry has one of these severities."""
    resource_type: str | None = None
    """Some entry comes from this resource type."""
    resource_labels: Mapping[str, str] = field(default_factory=dict)
    """Some entry's resource has all these labels (exact values)."""
    logger: Searcher | None = None
    """Searched in the logger names of the cluster."""
    source: Searcher | None = None
    """Searched in `file:line (function)` of the cluster's source locations."""
    exception: Searcher | None = None
    """Searched in the exception types of the cluster's stack traces."""
    status_classes: frozenset[str] | None = None
    """Some request log has one of these status classes (`5xx`, `4xx`, `429`)."""
    fields: Mapping[str, Searcher] = field(default_factory=dict)
    """Payload field path (dotted) -> regex searched in some entry's value."""
    min_count: int = 0
    """The cluster has at least this many entries."""
    min_share: float = 0.0
    """The cluster holds at least this share (0..1) of the analysed entries."""
    statuses: frozenset[str] | None = None
    """The cluster's change status against the baseline (`new`, `spiking`, `known`)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """When `match` holds, set what is given."""

    name: str
    """`default:<id>` or `team:<name>`; shown in the worklog as the reason's source."""
    match: Match
    """The conditions."""
    reason: str
    """Why, in words a reader of the worklog understands."""
    priority: Priority | None = None
    """Priority to give, if any."""
    title: str | None = None
    """Title to give, if any."""
    labels: tuple[str, ...] = ()
    """Labels to add."""
    mute: bool | None = None
    """Mute (True) or un-mute (False) the cluster, if given."""


def matches(rule: Match, cluster: Cluster, total: int, status: str = "",
            texts: Texts | None = None) -> bool:
    """Whether every condition of `rule` holds for `cluster` (`total` analysed entries). The
    cheap conditions go first: a rule whose severity or count does not fit is not searched.
    `texts` are the cluster's (`Texts`), when the caller tries several rules on it."""
    return (
        (rule.severities is None or any(s in rule.severities for s in cluster.severity_counts))
        and cluster.count >= rule.min_count
        and (total == 0 or cluster.count / total >= rule.min_share)
        and (rule.statuses is None or status in rule.statuses)
        and (rule.status_classes is None or any(c in rule.status_classes
                                                for c in cluster.status_classes))
        and (rule.resource_type is None or any(t == rule.resource_type
                                               for t, _ in cluster.resources))
        and (not rule.resource_labels or any(rule.resource_labels.items() <= dict(labels).items()
                                             for _, labels in cluster.resources))
        and (rule.exception is None or _any_search(rule.exception, cluster.exception_types))
        and (rule.logger is None or _any_search(rule.logger, cluster.loggers))
        and (rule.source is None or _any_search(rule.source, (str(s) for s in
                                                              cluster.source_locations)))
        and all(any(path == p and pattern.search(v) for p, v in cluster.field_values)
                for path, pattern in rule.fields.items())
        and (rule.template is None or _any_search(rule.template, (
            texts or Texts(cluster)).get(folded=rule.folded)))
    )


class Texts:
    """What a template regex searches in a cluster: the template, then the sample messages (a
    word the miner turned into `<*>`, a `False` or an exit code, is still there for a rule to
    see); as they are, or folded for the default rules' regexes. Each made once, when needed."""

    __slots__ = ("_cluster", "_plain", "_folded")

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._plain: tuple[str, ...] | None = None
        self._folded: tuple[str, ...] | None = None

    def get(self, *, folded: bool) -> tuple[str, ...]:
        if self._plain is None:
            self._plain = (self._cluster.template, *(s.message for s in self._cluster.samples))
        if not folded:
            return self._plain
        if self._folded is None:
            self._folded = tuple(map(fold, self._plain))
        return self._folded


def _any_search(pattern: Searcher, values: Iterable[str]) -> bool:
    return any(pattern.search(v) for v in values)


def prioritise(cluster: Cluster, rules: Sequence[Rule], total: int, status: str = "") -> Finding:
    """Apply `rules` (team rules first, then `DEFAULT_RULES`) to one cluster."""
    priority: Priority | None = None
    title: str | None = None
    mute: bool | None = None
    labels: list[str] = []
    rule_name, reason = "default:normal", "normal operation"
    texts = Texts(cluster)
    for rule in (*rules, *DEFAULT_RULES):
        if not matches(rule.match, cluster, total, status, texts):
            continue
        if priority is None and rule.priority is not None:
            priority, rule_name, reason = rule.priority, rule.name, rule.reason
        title = title if title is not None else rule.title
        mute = mute if mute is not None else rule.mute
        labels.extend(label for label in rule.labels if label not in labels)
    return Finding(cluster=cluster, priority=priority if priority is not None else Priority.P4,
                   title=title or default_title(cluster.template), rule=rule_name, reason=reason,
                   labels=tuple(labels), muted=bool(mute))


def default_title(template: str, limit: int = 90) -> str:
    """A short title from a template: wildcards as `…`, whitespace collapsed, cut at a word."""
    text = " ".join(template.replace("<*>", "…").split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _words(pattern: str) -> re.Pattern[str]:
    """A default rule's template regex: lower-case, for folded text (`Match.folded`)."""
    return re.compile(pattern)


_AT_LEAST_WARNING = frozenset(s for s in Severity if s >= Severity.WARNING)
_AT_LEAST_ERROR = frozenset(s for s in Severity if s >= Severity.ERROR)
_BROKEN_WORDS = _words(
    r"fail|error|exception|refused|denied|unavailable|timed? ?out|timeout|retry|retrying|"
    r"violation|invalid|could not|couldn't|cannot|can't|unable|dropp|lost|reset|corrupt|"
    r"deadlock|inconsisten|mismatch|unexpected|degraded|exceeded|reject|abort|panic|crash|leak")
_HYGIENE_WORDS = _words(
    r"deprecat|not (?:set|configured|available|installed|found)|missing|whitespace|sanitiz|"
    r"using default|falling back|fallback|no .{1,40} configured|unset|obsolete|legacy|"
    r"consider (?:setting|using)|should be set|insecure|self-signed")

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("default:crash-loop", Match(folded=True, template=_words(
        r"container called exit\(|exited with (?:exit )?(?:code|status) [1-9]|crashloopbackoff|"
        r"back-off restarting failed container|instance failed to start|"
        r"container failed to start|terminated.{0,40}(?:error|signal)|process exited|"
        r"worker .{0,40}(?:died|exited|was killed)|segmentation fault|core dumped")),
        "the service is crashing or restarting: it cannot serve", Priority.P0),
    Rule("default:failed-probe", Match(folded=True, template=_words(
        r"(?:startup|liveness|readiness|health) ?(?:tcp |http |grpc )?probe failed|"
        r"health ?check(?:s)? failed|failed to start and listen on the port|"
        r"ready condition status changed to false|probe failed.{0,80}not (?:be )?started|"
        r"(?:application|server|app) startup failed|failed to start (?:the )?(?:server|app)")),
        "startup or health probes fail: instances never become ready", Priority.P0),
    Rule("default:out-of-memory", Match(folded=True, template=_words(
        r"out of memory|oomkill|oom-kill|memory limit .{0,40}exceeded|exceeded .{0,30}memory "
        r"limit|outofmemoryerror|memoryerror|cannot allocate memory")),
        "out-of-memory kills: instances die under load", Priority.P0),
    Rule("default:critical", Match(severities=frozenset(s for s in Severity
                                                        if s >= Severity.CRITICAL)),
         "logged at CRITICAL or above", Priority.P0),
    Rule("default:startup-timeout", Match(folded=True, template=_words(
        r"(?:startup|start-up|initiali[sz]|boot|lifespan|on_start|warm ?up|migrat)"
        r".{0,80}(?:timed? ?out|timeout|deadline exceeded)|"
        r"(?:timed? ?out|timeout|deadline exceeded).{0,80}(?:startup|start-up|initiali[sz]|boot)|"
        r"timeout\w* at .{0,200}(?:startup|initiali[sz]e|lifespan|boot|on_start)"),
        severities=_AT_LEAST_WARNING),
        "a start-up dependency timed out: the service cannot start", Priority.P0),
    Rule("default:go-panic", Match(exception=_rx(r"^panic$"), severities=_AT_LEAST_ERROR),
         "the process panicked and exited", Priority.P0),
    Rule("default:unhandled-exception", Match(exception=_rx(r"."), severities=_AT_LEAST_ERROR),
         "an exception escaped with a stack trace", Priority.P1),
    Rule("default:unhandled", Match(folded=True, template=_words(r"unhandled|uncaught"),
                                    severities=_AT_LEAST_WARNING),
         "an unhandled error", Priority.P1),
    Rule("default:server-error", Match(status_classes=frozenset({"5xx"})),
         "requests answered 5xx: users see failures", Priority.P1),
    Rule("default:error", Match(severities=_AT_LEAST_ERROR),
         "logged at ERROR", Priority.P1),
    Rule("default:rate-limited", Match(status_classes=frozenset({"429"})),
         "requests are being rate limited", Priority.P2),
    Rule("default:broken-warning", Match(folded=True, template=_BROKEN_WORDS,
                                         severities=frozenset({Severity.WARNING})),
         "a warning that says something did not work", Priority.P2),
    Rule("default:hygiene", Match(folded=True, template=_HYGIENE_WORDS),
         "configuration or hygiene: worth fixing, not urgent", Priority.P3),
    Rule("default:warning", Match(severities=frozenset({Severity.WARNING})),
         "other warnings", Priority.P3),
    Rule("default:client-error", Match(status_classes=frozenset({"4xx"})),
         "requests answered 4xx", Priority.P3),
)
"""What P0-P4 mean by default (README: "Default rules"). Order matters: the first that sets a
priority wins, so the most urgent meanings come first."""
