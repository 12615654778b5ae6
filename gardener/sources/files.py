"""Read `gcloud logging read --format=json` exports (a JSON array) or JSON Lines, streaming.

Bad elements become `Skip`s naming the file, the entry and the problem; reading goes on with the
next element, so one broken line never costs the rest of the export.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from gardener.errors import InputError
from gardener.model import Skip
from gardener.sources import ORIGIN_KEY, RawEntry, SourceInfo, chunked

if TYPE_CHECKING:
    from gardener.sources.split import Batch

CHUNK = 1 << 20
"""Characters read at a time: large enough that per-read overhead vanishes, small enough for RSS."""

_DECODER = json.JSONDecoder()
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A `\\ud800`-style escape: json decodes one without its pair to a lone surrogate, which no
text can be written with (msgspec refuses the batch, so such elements come here)."""
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SEPARATORS = re.compile(r"[ \t\n\r,]*")
_NEXT_ELEMENT = re.compile(r"\}\s*,\s*(?=\{)")
_NEXT_ENTRY = re.compile(r'\}\s*,\s*(?=\{\s*"(?:insertId|logName|httpRequest|textPayload|'
                         r'jsonPayload|protoPayload|receiveTimestamp|timestamp)")')
"""In a one-line array whose brackets stop pairing up (a quote missing turns strings inside out),
where the next LogEntry starts: `}, {"insertId"` (gcloud sorts the keys: an entry starts with
`httpRequest` or `insertId`), not `}, {` of a nested list of objects."""
_SKIP_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*("?)|[{}\[\],]')
"""A string (to the closing quote or the end of its line), a bracket or a comma."""
_MAX_ELEMENT = 8 << 20
"""Bracket matching gives up past this (Cloud Logging caps an entry at 256 KiB)."""
_CUT_MARGIN = 16
"""A decode error this close to the end of the buffer may be the chunk's cut, not the input's."""
_NEXT_LINE_OBJECT = re.compile(r"\n\s*(?=\{)")
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]+\Z")
_LINE_GOES_ON = re.compile(r"[ \t]*[^\s]")
"""More text on the line after a value (JSON Lines hold one value per line)."""
_VALUE_START = frozenset('{"-0123456789tfn')
_EXPORT_LINE = re.compile(r"(?<=\n)[ \t]*[\[{]")
"""A line that starts an array or an object: where an export begins after lines of text."""
"""Characters a JSON Lines value can start with (`[` means an array export)."""


class FileSource:
    """Entries from one or more export files; `-` is standard input."""

    def __init__(self, paths: Sequence[str], stdin: TextIO | None = None) -> None:
        self.paths, self.repeated = distinct_inputs(paths)
        """The inputs to read, each once, and those given again (dropped)."""
        self.stdin = stdin
        self._text: TextIO | None = None

    def read(self) -> Iterator[RawEntry | Skip]:
        for path in self.paths:
            if path == "-":
                yield from read_stream(self._stdin(), "<stdin>")
                continue
            with _opened(path, binary=False) as stream:
                yield from read_stream(stream, path)  # type: ignore[arg-type]

    def batches(self, size: int) -> Iterator[Batch]:
        """What `read` yields, in batches of `size` elements; an export's elements stay bytes
        (`Elements`) where they can be cut apart undecoded, so they can be decoded elsewhere."""
        from gardener.sources.split import Decoded, split  # they build on read_stream, below

        for source, path in enumerate(self.paths):
            if path == "-":
                yield from (Decoded(items, source) for items in chunked(
                    read_stream(self._stdin(), "<stdin>"), size))
                continue
            with _opened(path, binary=True) as stream:
                yield from split(stream, path, size, path, source)  # type: ignore[arg-type]

    def _stdin(self) -> TextIO:
        """Standard input read as export files are (UTF-8, a BOM dropped, bad bytes replaced),
        whatever the locale says: `sys.stdin` would raise on bytes that are not UTF-8."""
        if self.stdin is None:
            raise InputError("--input - given but there is no standard input")
        if self._text is None:
            raw = getattr(self.stdin, "buffer", None)
            self._text = self.stdin if raw is None else io.TextIOWrapper(
                raw, encoding="utf-8-sig", errors="replace", newline="")
        return self._text

    def info(self) -> SourceInfo:
        return SourceInfo(kind="file", inputs=tuple(Path(p).name if p != "-" else "-"
                                                    for p in self.paths),
                          notes=tuple(f"{path}: the same file was given before, so it was "
                                      "read once" for path in self.repeated))


def distinct_inputs(paths: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`paths` each once, the same file under another name too (`--input logs/*.json --input
    logs/api.json`), and the repeats: reading a file twice would count its entries twice."""
    kept: list[str] = []
    repeated: list[str] = []
    seen: set[object] = set()
    for path in paths:
        identity: object = path
        if path != "-":
            try:
                status = os.stat(path)
                identity = (status.st_dev, status.st_ino)
            except OSError:
                pass  # reading it says what is wrong
        if identity in seen:
            repeated.append(path)
        else:
            seen.add(identity)
            kept.append(path)
    return tuple(kept), tuple(repeated)


@contextmanager
def _opened(path: str, *, binary: bool) -> Iterator[IO[Any]]:
    """`path` opened for reading (text: UTF-8, a BOM dropped, bad bytes replaced); a path that
    cannot be read, at once or part-way (a disk error), is an `InputError` saying what to do."""
    try:
        stream = open(path, "rb") if binary else open(  # noqa: SIM115 (closed below)
            path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as err:
        raise unreadable(path, err) from None
    with stream:
        try:
            yield stream
        except OSError as err:
            raise unreadable(path, err) from None


def unreadable(path: str, err: OSError) -> InputError:
    """The error for an export that cannot be read (also when a worker reads its batch again)."""
    if isinstance(err, FileNotFoundError):
        return InputError(f"{path}: no such file", fix="check the --input path; export with "
                          "gcloud logging read ... --format=json > FILE")
    return InputError(f"{path}: cannot read: {err.strerror or err}")


def read_stream(stream: TextIO, name: str, index: int = 0) -> Iterator[RawEntry | Skip]:
    """Decode a JSON array of entries, or concatenated/line-delimited JSON values; elements are
    numbered from `index` in messages."""
    reader = _Reader(stream)
    first = reader.peek()
    if first == "\ufeff":  # a UTF-8 BOM on stdin (files are opened as utf-8-sig)
        reader.pos += 1
        first = reader.peek()
    if first == "":
        yield Skip(name, "(file)", "the file is empty; an export with no entries is `[]`")
        return
    if first not in _VALUE_START and first != "[":
        skip = _leading_text(reader, name)
        yield skip
        if skip.field != "(text)":
            return
        first = reader.peek()
    while first == "[":  # `cat a.json b.json` concatenates arrays: read every one of them
        reader.pos += 1
        index = yield from _array(reader, name, index)
        first = reader.peek()
        if first == "\ufeff":  # the next file's BOM
            reader.pos += 1
            first = reader.peek()
        if first == "":
            return
        if first not in "[{":
            yield Skip(f"{name}#{index}", "(json)", f"unexpected {first!r} after the closing `]` "
                       "of the JSON array; delete what follows it, or export again")
            return
    if first in _VALUE_START:
        yield from _lines(reader, name, index)
    else:
        yield Skip(name, "(json)", f"not JSON: starts with {first!r}; expected the output of "
                   "`gcloud logging read --format=json` (a JSON array) or JSON Lines")


class _Reader:
    """A growing text buffer over a stream, with a read position."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.buf = ""
        self.pos = 0
        self.offset = 0  # characters dropped from the front of buf
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.offset += self.pos
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end)."""
        while True:
            self.pos = _WHITESPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def decode(self) -> object:
        """The next JSON value; ValueError if it is malformed (or cut off at the end)."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except (ValueError, RecursionError) as err:  # JSONDecodeError, a huge int, deep nesting
                error = _decode_error(err, self.buf, self.pos)
                if _may_be_cut(error, self.buf) and self.more():
                    continue
                raise error from None
            if _may_go_on(value, self.buf, end) and self.more():
                continue
            value = _paired(value, self.buf, self.pos, end)
            self.pos = end
            return value

    def skip_to(self, pattern: re.Pattern[str]) -> bool:
        """Move past the next match of `pattern`; False if there is none before the end."""
        while True:
            match = pattern.search(self.buf, self.pos)
            if match:
                self.pos = match.end()
                return True
            self.pos = max(self.pos, len(self.buf) - 64)
            if not self.more():
                self.pos = len(self.buf)
                return False

    def skip_element(self) -> bool:
        """Move past the malformed array element at the read position, matching brackets outside
        strings, so one bad entry holding `[{...}, {...}]` costs that entry only. Brackets that
        do not pair up (an element cut short) fall back to the next element start: a line
        indented as this element's first (pretty exports), else the next `}, {`. False at the
        end."""
        start, scan, opened = self.pos, self.pos, []
        resync = self._resync(start)
        while True:
            match = _SKIP_TOKEN.search(self.buf, scan)
            if match is None or (match[0][0] == '"' and not match[1]
                                 and match.end() == len(self.buf)):
                resume = match.start() if match else len(self.buf)
                if resume - start > _MAX_ELEMENT:  # no LogEntry is this big: stop matching
                    self.pos = start
                    return self.skip_to(resync)
                self.pos = start  # keep the element: the fallback re-reads it from its start
                if not self.more():
                    if resync is _NEXT_ELEMENT:  # one line whose brackets never pair up (a
                        return self.skip_to(_NEXT_ENTRY)  # quote missing): the next entry
                    self.pos = len(self.buf)
                    return False
                scan, start = resume - start, 0
                continue
            token, scan = match[0], match.end()
            if token in "{[":
                opened.append(token)
            elif token in "}]":
                if not opened:  # the element was a bare word and `]` ends the array
                    self.pos = scan - (token == "]")
                    return True
                if "{[".index(opened.pop()) != "}]".index(token):
                    self.pos = start
                    return self.skip_to(resync)
                if not opened:
                    self.pos = scan
                    return True
            elif token == "," and not opened:
                self.pos = scan
                return True

    def _resync(self, start: int) -> re.Pattern[str]:
        """Where the element after the one at `start` may begin: in a pretty export, the next
        line indented as this one (or the array's `]`, indented less), else the next `}, {`."""
        line = self.buf.rfind("\n", 0, start) + 1
        indent = self.buf[line:start]
        if not line or not indent or indent.strip(" \t"):
            return _NEXT_ELEMENT
        return re.compile(rf"\n{re.escape(indent)}(?=\{{)|\n[ \t]{{0,{len(indent) - 1}}}(?=\])")

    def line(self) -> int:
        """1-based line of the read position, for messages (costly: only on errors)."""
        return self.buf.count("\n", 0, self.pos) + 1


def _array(reader: _Reader, name: str, index: int) -> Generator[RawEntry | Skip, None, int]:
    """The elements of one array, numbered from `index`; returns the next index."""
    scan, separators = _DECODER.scan_once, _SEPARATORS.match  # type: ignore[attr-defined]
    while True:
        # The hot loop: one regex to skip `,` and whitespace, one C scan per element.
        buf = reader.buf
        pos = separators(buf, reader.pos).end()  # type: ignore[union-attr]
        reader.pos = pos
        if pos >= len(buf):
            if reader.more():
                continue
            yield Skip(f"{name}#{index}", "(json)", "the JSON array is truncated (no closing `]`)"
                       "; the export was cut off: export again or check the disk was not full")
            return index
        if buf[pos] == "]":
            reader.pos = pos + 1
            return index
        try:
            value, end = scan(buf, pos)
        except (ValueError, RecursionError, StopIteration) as err:  # a huge int, deep nesting
            error = _decode_error(err, buf, pos)
            if _may_be_cut(error, buf) and reader.more():  # an element cut by the chunk's end
                continue
            yield _invalid(reader, error, name, index)
            index += 1
            if not reader.skip_element():
                return index
            continue
        if _may_go_on(value, buf, end) and reader.more():
            continue
        value = _paired(value, buf, pos, end)
        reader.pos = end
        if type(value) is dict:
            value[ORIGIN_KEY] = f"{name}#{index}"
            yield value
        else:
            yield _element(value, name, index)
        index += 1


def _may_go_on(value: object, buf: str, end: int) -> bool:
    """Whether a decoded value may be only the start of one cut by the end of the chunk: a
    number whose rest, up to the end of the buffer, is digits (`1` of `12`, `0` of `0.5`)."""
    if type(value) is dict:  # the hot path: objects end with `}`, never cut
        return False
    return end == len(buf) or (type(value) in (int, float)
                               and _NUMBER_TAIL.match(buf, end) is not None)


def _may_be_cut(err: json.JSONDecodeError, buf: str) -> bool:
    """Whether reading on could fix the error: it is at the end of the buffer (a cut literal,
    escape or delimiter) or a string runs to the end. An error far from the end is the input's:
    reading the rest of a big file to retry would hold it all in memory, copied per chunk."""
    return err.pos >= len(buf) - _CUT_MARGIN or err.msg.startswith("Unterminated string")


def _paired(value: Any, buf: str, start: int, end: int) -> Any:
    """`value`, decoded from `buf[start:end]`, with no lone surrogate (see `_scrub`)."""
    return _scrub(value) if _SURROGATE_ESCAPE.search(buf, start, end) else value


def _scrub(value: object) -> object:
    """`value` with each lone surrogate (an escaped half of a pair) as U+FFFD, as undecodable bytes
    are read; whole pairs stay the character they encode."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _decode_error(err: Exception, buf: str, pos: int) -> json.JSONDecodeError:
    if isinstance(err, json.JSONDecodeError):
        return err
    if isinstance(err, ValueError):  # int() refused a number of thousands of digits
        return json.JSONDecodeError("a number too long to convert", buf, pos)
    if isinstance(err, RecursionError):  # the C scanner recurses once per level
        return json.JSONDecodeError("nested too deeply", buf, pos)
    where = err.value if isinstance(err, StopIteration) and isinstance(err.value, int) else pos
    return json.JSONDecodeError("Expecting value", buf, where)


def _leading_text(reader: _Reader, name: str) -> Skip:
    """What to say of a file that does not start with JSON. UTF-16 (PowerShell's `>`) is named
    as such; text lines before the export (gcloud's `WARNING:` captured with `2>&1`) are skipped
    up to the first line that starts an array or an object, and reading goes on from there."""
    reader.more()  # enough of the file to judge
    head = reader.buf[reader.pos:reader.pos + 4096]
    if "\x00" in head[:64] or head.startswith("\ufffd\ufffd"):
        return Skip(name, "(file)", "the file is not UTF-8 (UTF-16, as PowerShell's `>` writes?); "
                    "save it as UTF-8, e.g. `gcloud logging read ... --format=json | Out-File "
                    "-Encoding utf8 FILE`, or run gcloud from bash")
    start = _EXPORT_LINE.search(reader.buf, reader.pos)
    if start is None or start.start() - reader.pos > 65536:
        return Skip(name, "(json)", f"not JSON: starts with {head[:1]!r}; expected the output of "
                    "`gcloud logging read --format=json` (a JSON array) or JSON Lines")
    lines = reader.buf.count("\n", reader.pos, start.start())
    reader.pos = start.start()
    return Skip(name, "(text)", f"{lines} line{'s' * (lines > 1)} of text before the export (a "
                "gcloud warning captured with `2>&1`?) skipped; send stderr elsewhere: "
                "`gcloud logging read ... 2>/dev/null`")


def _lines(reader: _Reader, name: str, index: int = 0) -> Iterator[RawEntry | Skip]:
    while True:
        char = reader.peek()
        if char == "":
            return
        try:
            value = reader.decode()
        except json.JSONDecodeError as err:
            yield _invalid(reader, err, name, index)
            index += 1
            if not reader.skip_to(_NEXT_LINE_OBJECT):
                return
            continue
        if not isinstance(value, dict) and _LINE_GOES_ON.match(reader.buf, reader.pos):
            # `2025-09-16 12:00:01 ERROR db down` decodes as 2025, -9, ...: a text line, one skip
            yield Skip(f"{name}#{index}", "(json)", "not JSON: a line of text; JSON Lines hold "
                       "one LogEntry object per line (gcloud logging read --format=json)")
            index += 1
            if not reader.skip_to(_NEXT_LINE_OBJECT):
                return
            continue
        yield _element(value, name, index)
        index += 1


def _element(value: object, name: str, index: int) -> RawEntry | Skip:
    if isinstance(value, dict):
        value.setdefault(ORIGIN_KEY, f"{name}#{index}")
        return value
    kind = "null" if value is None else type(value).__name__
    return Skip(f"{name}#{index}", "(entry)", f"expected a LogEntry JSON object, got {kind}; "
                "remove that element (every element is one LogEntry object)")


def _invalid(reader: _Reader, err: json.JSONDecodeError, name: str, index: int) -> Skip:
    if reader.eof and _cut_off(reader.buf, reader.pos):
        return Skip(f"{name}#{index}", "(json)", f"the export is truncated inside entry {index}; "
                    "export again (was the disk full or the command interrupted?)")
    return Skip(f"{name}#{index}", "(json)", f"invalid JSON in entry {index}: {err.msg}; fix or "
                "delete that element, or export again with `--format=json`")


def _cut_off(buf: str, start: int) -> bool:
    """The bad element is the file's last and nothing closes it: the file was cut short."""
    rest = buf[start:].rstrip()
    return not rest.endswith(("}", "]")) and "\n{" not in rest and "},{" not in rest
