"""Typed masking of variable tokens: turn a log message into tokens with `<*>` where values go.

Pure functions, one default configuration for every input. Values are recognised by their shape
(numbers, hex, UUIDs, IPv4/IPv6, host:port, dates and times, durations, sizes, paths, URLs,
e-mails, long ids, booleans) but never in the middle of a word: `exit(3)` becomes `exit(<*>)`,
`5xx`, `ext4` and `jk2_init()` stay. Punctuation stays where it was (`(8.0s)` -> `(<*>s)`), so
templates keep the structure of the message. What shapes cannot tell (user names, host names) is
left to the miner's statistics.

Masking works token by token (whitespace-separated) with a cache, because log tokens repeat:
most are words seen before, and a word without digits is looked up, not re-parsed. A few
values span tokens (`Fri Jul 1 07:57:30 2005`, `1190 bytes (1.16 KB)`, `tag="View Lock"`);
`gardener.spanning` folds those after the per-token pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import cast

from gardener.model import WILDCARD
from gardener.spanning import EDGE, MONTH_WORDS, SIZE_UNIT, SIZE_WORDS, join_runs

_HEX = r"[0-9a-fA-F]"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
_PATH = r"(?:[A-Za-z]:\\|/)[\w.+~-]+[\\/][^\s\"'()\[\]{},;]*"

# Shapes that are values as a whole, with the kinds of character they can start with (Digit,
# Letter, Slash, Colon, Punctuation). At one position the first alternative that matches wins,
# so longer, more specific shapes come first.
_SHAPES = (
    (rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}", "DL"),        # UUID
    (r"[a-zA-Z][a-zA-Z0-9+.-]*+://[^\s'\"<>()\[\]{},]+", "L"),                      # URL
    (r"[\w.+-]++@[\w-]++(?:\.[\w-]++)+", "DLP"),                                  # e-mail
    (rf"\d{{4}}-\d{{2}}-\d{{2}}(?:T{_CLOCK}(?:Z|[+-]\d{{2}}:?\d{{2}})?)?", "D"),    # ISO date
    (r"(?:[A-Za-z][\w.-]*)?/?(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?", "DLS"),      # host/IPv4
    (rf"(?={_HEX}{{0,4}}:{_HEX}{{0,4}}:)(?=[0-9a-fA-F:]*?\d)[0-9a-fA-F:]{{3,39}}+(?:%\w+)?",
     "DLC"),                                                                      # IPv6
    (r"(?:[A-Za-z0-9-]++\.){2,}[A-Za-z][A-Za-z0-9-]*+:\d{1,5}", "DLP"),             # host:port
    (r"[A-Za-z][A-Za-z0-9]*+(?:-[A-Za-z0-9]++)+:\d{2,5}", "L"),                      # host-1:port
    (_CLOCK, "D"),                                                                # time of day
    (_PATH, "LS"),                                        # absolute path (not a route: `_route`)
    (r"\d[xX][0-9a-fA-F]+", "D"),                                                 # 0x hex
    (rf"(?=[0-9a-fA-F]*?\d)(?=[0-9a-fA-F]*?[a-fA-F]){_HEX}{{6,}}+", "DL"),          # bare hex
    (r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*_-?\d+(?:_[A-Za-z0-9]+)*", "L"),       # name_123
    (rf"\d+(?:\.\d+)?{SIZE_UNIT}", "D"),                                          # size
    (r"\d+(?:\.\d+){2,}", "D"),                                                    # version
    (r"(?<!/)(?!/)(?=[\w+/-]*?\d)(?=[\w+/-]*?[A-Za-z])[\w+/-]{24,}+={0,2}", "DLP"),  # base64
    (r"(?:true|false|True|False|TRUE|FALSE|null|NULL|None|nil)", "L"),             # literals
)
_FIRST = {"D": r"\d", "L": r"[^\W\d]", "S": r"[/\\]", "C": ":", "P": r"[-+.<>~]"}
"""What each kind of first character is; a position only tries the shapes of its kind."""
_END = r"(?![\w@-]|[.:]\w)"
"""A value ends where a word would not go on (`12.` ends a sentence; `12.5a` is no value)."""
_UNIT = r"(?:[mun\u00b5]?s|[mhdw]|%)"
_NUMBER = rf"[-+<>~]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?={_UNIT}?{_END})"
"""A number; a unit after it stays (`<*>ms`)."""


def _compile() -> re.Pattern[str]:
    """One regex for every shape, each position trying only the shapes of its first character."""
    branches = []
    for kind, first in _FIRST.items():
        shapes = "|".join(shape for shape, kinds in _SHAPES if kind in kinds)
        number = f"|{_NUMBER}" if kind in "DP" else ""
        branches.append(rf"(?={first})(?:(?:{shapes}){_END}{number})")
    # never start inside a word or a dotted number
    return re.compile(rf"(?<!\w)(?<!\d\.)(?:{'|'.join(branches)})")


_VALUE = _compile()
_ROUTE_ID = re.compile(r"[^/]*\d[^/]*|[\w.~-]{20,}|[^/]*[@%][^/]*")
"""A path segment that is an id: any digit, a long token, an e-mail or percent-encoding."""
_API_VERSION = re.compile(r"v\d+(?:beta\d*|alpha\d*)?")
HTTP_METHODS = frozenset(("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"))
_METHODS = frozenset(q + m for q in ("", '"', "'") for m in HTTP_METHODS)
_LIST = re.compile(r"<\*>(?:[,;|]<\*>)+")
"""A list of values is one value: `10.0.0.1,10.0.0.2` -> `<*>`."""
_PLAIN_EDGE = "()[]{},;:'\"`!?."
"""Punctuation that never belongs to a number (`<`, `>` and `~` may: `<1`, `~42`)."""
_CACHE_LIMIT = 100_000
_ID_DIGITS = 5
"""A token that keeps this many digits outside any value is an id (`build~pk9x8y7z6w5~x64`)."""


_SHAPE = bytes.maketrans(b"0123456789", b"1111111111")
"""Every digit -> 1: no rule looks at which digit it is, so tokens of one shape mask alike."""
_DIGIT = re.compile(r"\d")
_NAMED_SHAPE = re.compile(rb"[A-Za-z](1+)")
"""Digits right after a letter (`v2`, `ssh2`, `jk2`), in a shape: names, not values."""
_LONE_DIGIT = re.compile(r"(?<![A-Za-z\d])\d")



class _Named:
    """Results for one message shape whose templates keep digits that follow letters (`v2`).

    Those digits are read at fixed offsets (the shape fixes them) and key the results.
    """

    __slots__ = ("digits", "forms")

    def __init__(self, shape: bytes) -> None:
        offsets = [i for m in _NAMED_SHAPE.finditer(shape) for i in range(*m.span(1))]
        self.digits: Callable[[bytes], object] = itemgetter(*offsets) if offsets else len
        self.forms: dict[object, tuple[str, ...]] = {}


class Masker:
    """Masks messages, with bounded caches: masked words, and value spans per token shape."""

    __slots__ = ("_words", "_spans", "_routes", "_forms")

    def __init__(self) -> None:
        self._words: dict[str, str] = {}
        self._spans: dict[bytes, tuple[tuple[int, int], ...]] = {}
        self._routes: dict[bytes, tuple[tuple[int, int], ...]] = {}
        self._forms: dict[bytes, tuple[str, ...] | _Named] = {}

    def form(self, message: str) -> tuple[str, ...]:
        """`mask(message)` as a tuple, reusing the work of any earlier message of the same shape.

        Messages that differ only in digits that fell inside values (`took 12ms`, `took 47ms`)
        share a shape and a result. Digits a result keeps must follow a letter (`jk2_init()`,
        `/v2/`); those are part of the cache key, since another digit there is another template.
        A result keeping any other digit is not reused.
        """
        if not message.isascii():
            return tuple(self._mask(message, None))
        data = message.encode()
        shape = data.translate(_SHAPE)
        known = self._forms.get(shape)
        if known is not None:
            if not isinstance(known, _Named):
                return known
            form = known.forms.get(known.digits(data))
            if form is not None:
                return form
        form = tuple(self._mask(message, shape))
        text = " ".join(form)
        if not _DIGIT.search(text):
            self._remember(shape, form)
        elif not _LONE_DIGIT.search(text):
            named = known if isinstance(known, _Named) else _Named(shape)
            named.forms[named.digits(data)] = form
            self._remember(shape, named)
        return form

    def _remember(self, shape: bytes, form: tuple[str, ...] | _Named) -> None:
        """Keep the result for a message shape (the cache is bounded: full, it starts over)."""
        if len(self._forms) >= _CACHE_LIMIT:
            self._forms.clear()
        self._forms[shape] = form

    def _token(self, token: str) -> str:
        """Mask a token not seen before: by its shape, so `job_123` and `job_456` share work."""
        if not _DIGIT.search(token):
            return self._word(token)
        if not token.isascii():
            return _apply(token, _spans(token))
        shape = token.encode().translate(_SHAPE)
        spans = self._spans.get(shape)
        return _apply(token, spans if spans is not None else self._learn(shape))

    def _route(self, token: str) -> str:
        """A route after an HTTP method (see `_route_spans`), cached by shape."""
        if not token.isascii():
            return _apply(token, _route_spans(token))
        shape = token.encode().translate(_SHAPE)
        spans = self._routes.get(shape)
        if spans is None:
            spans = _route_spans(shape.decode())
            if len(self._routes) >= _CACHE_LIMIT:
                self._routes.clear()
            self._routes[shape] = spans
        return _apply(token, spans)

    def _word(self, token: str) -> str:
        """A token without digits: masked once, then remembered whole (words repeat)."""
        # without digits only a URL, e-mail, path or literal can be a value
        masked = _apply(token, _spans(token)) if _WORD_VALUE_HINT.search(token) else token
        if len(self._words) >= _CACHE_LIMIT:
            self._words.clear()
        self._words[token] = masked
        return masked

    def _learn(self, shape: bytes) -> tuple[tuple[int, int], ...]:
        """Where the values are in tokens of this shape."""
        text = shape.decode()
        whole = _ID_TOKEN.fullmatch(text)
        if whole and (whole["uuid"] or whole["word"].count("1") >= _ID_DIGITS):
            return (whole.span(2),)  # one value, in a shape seldom seen twice: not cached
        spans = _plain_number(text)
        if spans is None:
            spans = _spans(text)
        if len(self._spans) >= _CACHE_LIMIT:
            self._spans.clear()
        self._spans[shape] = spans
        return spans

    def mask(self, message: str) -> list[str]:
        """Tokens of `message` with typed values replaced by `<*>`."""
        # str.split also splits at \x1c-\x1f, bytes.split does not: shapes would misalign.
        ascii_split = message.isascii() and not _STR_ONLY_SPACES.search(message)
        return self._mask(message, message.encode().translate(_SHAPE) if ascii_split else None)

    def _mask(self, message: str, shape: bytes | None) -> list[str]:
        """`mask`, given the message's shape (None when not ASCII)."""
        raw = message.split()
        words = self._words
        out: list[str | None] = list(map(words.get, raw))  # most tokens: words seen before
        if None in out:
            if len(words) >= _CACHE_LIMIT:
                words.clear()
            shapes = shape.split() if shape is not None else []
            if len(shapes) != len(raw):  # not ASCII: no shapes
                shapes = [b""] * len(raw)
            known = self._spans
            at = out.index(None)
            while True:
                tok, token_shape = raw[at], shapes[at]
                if b"1" not in token_shape:  # every digit is a 1 in a shape
                    out[at] = self._word(tok) if token_shape else self._token(tok)
                else:
                    spans = known.get(token_shape)
                    if spans is None:
                        spans = self._learn(token_shape)
                    if not spans:  # a name with digits (`an14`, `ssh2`): look it up next time
                        out[at] = words[tok] = tok
                    elif len(spans) == 1:
                        start, end = spans[0]
                        out[at] = tok[:start] + WILDCARD + tok[end:]
                    else:
                        out[at] = _apply(tok, spans)
                try:
                    at = out.index(None, at + 1)
                except ValueError:
                    break
        tokens = cast(list[str], out)
        if not _METHODS.isdisjoint(raw):
            for i in range(1, len(raw)):
                if raw[i - 1] in _METHODS:
                    tokens[i] = self._route(raw[i])
        months = not MONTH_WORDS.isdisjoint(tokens)
        sizes = not SIZE_WORDS.isdisjoint(tokens)
        if months or sizes or '="' in message:
            tokens = join_runs(tokens, months, sizes, '="' in message)
        return tokens


def _route_spans(token: str) -> tuple[tuple[int, int], ...]:
    """A request path after its method: ids in it are masked segment by segment, the rest kept.

    `/api/threads/thread_0978b36a/messages?page=2` -> `/api/threads/<*>/messages?<*>`, the same
    shape `gardener.entries` gives request logs: a route names an endpoint.
    """
    start = len(token) - len(token.lstrip("\"'([{"))
    end = len(token.rstrip("\"')]},;"))
    path, question, query = token[start:end].partition("?")
    if not path.startswith("/"):
        return _spans(token)
    spans = []
    at = start
    for segment in path.split("/"):
        if segment and _ROUTE_ID.fullmatch(segment) and not _API_VERSION.fullmatch(segment):
            spans.append((at, at + len(segment)))
        at += len(segment) + 1
    if query:
        spans.append((end - len(query), end))
    return tuple(spans)


def _plain_number(shape: str) -> tuple[tuple[int, int], ...] | None:
    """The span of a bare number (`1111`, `(1.11)`, `key=1111,`) without the regex, else None.

    Shapes like these are most of the new ones; the result is what `_spans` would give.
    """
    if ":" in shape[:-1]:
        return None  # `::1` is an IPv6 address, `1:11` a time
    core = shape.strip(_PLAIN_EDGE)
    start = shape.find(core)
    label, equals, number = core.rpartition("=")
    if equals:
        if not _PLAIN_LABEL.fullmatch(label):
            return None
        start += len(label) + 1
    if not (number.isdigit() or (number.count(".") == 1 and number.replace(".", "").isdigit()
                                 and not number.startswith(".") and not number.endswith("."))):
        return None
    return ((start, start + len(number)),)


def _spans(token: str) -> tuple[tuple[int, int], ...]:
    """Where the values are in a token; a token left with many digits is one value (an id such
    as `build~pk9x8y7z6w5~x64`), after any `key=` or `key:`."""
    spans = tuple(m.span() for m in _VALUE.finditer(token))
    digits = sum(map(str.isdigit, token))
    if digits < _ID_DIGITS or digits - sum(
            sum(map(str.isdigit, token[start:end])) for start, end in spans) < _ID_DIGITS:
        return spans
    label = _LABEL.match(token)
    start = label.end() if label else 0
    core = token[start:].strip(EDGE)
    start = token.index(core, start)
    return ((start, start + len(core)),)


def _apply(token: str, spans: tuple[tuple[int, int], ...]) -> str:
    """`token` with each span replaced by `<*>`; a list of values becomes one."""
    if not spans:
        return token
    if len(spans) == 1:
        start, end = spans[0]
        return f"{token[:start]}{WILDCARD}{token[end:]}"
    parts = []
    at = 0
    for start, end in spans:
        parts.append(token[at:start])
        parts.append(WILDCARD)
        at = end
    parts.append(token[at:])
    return _LIST.sub(WILDCARD, "".join(parts))


_DEFAULT = Masker()


def mask(message: str) -> list[str]:
    """Tokens of `message` with typed values replaced by `<*>` (shared default masker)."""
    return _DEFAULT.mask(message)


_STR_ONLY_SPACES = re.compile("[\x1c-\x1f]")
_LABEL = re.compile(r"[(\[{]*[\w.-]+[=:](?=\S)")
_WORD_VALUE_HINT = re.compile(r"[/@\\]|true|false|null|none|nil", re.IGNORECASE)
_PLAIN_LABEL = re.compile(r"[A-Za-z_][A-Za-z_.-]*")
_ID_TOKEN = re.compile(
    r"""([(\[{'"]*|(?!(?:true|false|True|False|TRUE|FALSE|null|NULL|None|nil)=)[A-Za-z_]+=)"""
    rf"""((?P<word>[A-Za-z]\w*)|(?P<uuid>{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}))"""
    r"""[)\]},;.'"!?]*""", re.ASCII)
"""A token that is one value by its shape alone (`usr_2cdbb41f5721)`, `id=<uuid>`), found without
trying every shape: a word with `_ID_DIGITS` digits or more, or a UUID, after brackets or a
`key=` and before closing punctuation. `_spans` finds the same: a value cannot start inside a
word and must end where the word does, and the digits rule takes the rest (a test checks)."""
