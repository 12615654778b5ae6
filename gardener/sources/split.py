"""Cut an export into batches of elements without decoding them, so batches can be decoded (and
analysed) in other processes.

Exports are line-structured: gcloud prints a JSON array with each element starting on a line of
its own (`\\n  {`), and JSON Lines puts one element per line (`\\n{`). The indentation of the first
element gives the marker of every element start; raw newlines cannot occur inside JSON strings,
so a marker is always between elements in valid JSON. A cut in the wrong place (mixed
indentation, broken input) cannot decode as an object, so it is never trusted: the batch is read
again by the careful reader (`read_stream`), which gives the same entries and the same skips as
reading the whole file with it. What is not line-structured (a one-line array, the last element
and the closing `]`) goes to the careful reader from the start.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from typing import BinaryIO

import msgspec

from gardener.model import Skip
from gardener.sources import ORIGIN_KEY, RawEntry, chunked
from gardener.sources.files import read_stream

BLOCK = 1 << 22
"""Bytes read at a time."""
_MAX_ELEMENT = 1 << 24
"""A buffer this far past the last element start with no new one: not line-structured here."""
_ARRAY_START = re.compile(rb"[ \t\r\n]*\[[ \t\r]*\n([ \t]*)\{")
_LINES_START = re.compile(rb"[ \t\r\n]*\{")
_TRAILER = b" \t\r\n,"
"""What may follow an element before the next one starts."""
_DECODE = msgspec.json.Decoder().decode


@dataclass(frozen=True, slots=True)
class Elements:
    """Consecutive elements of one export, as bytes; iterating decodes them."""

    name: str
    """The export's name, for messages (`export.json#12`)."""
    first: int
    """Index of the first element in the export."""
    data: bytes
    """The elements, from the first one's `{` to just before the `{` of the one after the last."""
    count: int
    """How many elements `data` holds."""
    array: bool
    """Elements of a JSON array (else JSON Lines)."""

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[RawEntry | Skip]:
        name, first = self.name, self.first
        try:  # one C call for the batch: elements of an array are already comma-separated
            values = _DECODE(b"[%s]" % (self.data.rstrip(_TRAILER) if self.array else
                                        self.data.rstrip().replace(b"\n{", b"\n,{")))
        except (msgspec.DecodeError, UnicodeDecodeError):
            values = None
        if values is None or len(values) != self.count:
            yield from self._careful()
            return
        for offset, value in enumerate(values):
            value[ORIGIN_KEY] = f"{name}#{first + offset}"
            yield value

    def _careful(self) -> Iterator[RawEntry | Skip]:
        """The same elements through `read_stream`: one bad element costs only itself."""
        text = self.data.decode("utf-8", errors="replace")
        yield from read_stream(StringIO(f"[{text}]" if self.array else text), self.name,
                               self.first)


Batch = Elements | list[RawEntry | Skip]
"""Elements still as bytes, or entries already decoded."""


def split(stream: BinaryIO, name: str, size: int) -> Iterator[Batch]:
    """Batches of `size` elements from one export opened in binary; the careful reader takes
    over where the export is not line-structured."""
    buf = stream.read(BLOCK)
    if buf.startswith(codecs.BOM_UTF8):
        buf = buf[len(codecs.BOM_UTF8):]
    array = _ARRAY_START.match(buf)
    lines = None if array else _LINES_START.match(buf)
    if array is None and lines is None:
        yield from _careful(buf, stream, name, 0, size)
        return
    marker = b"\n" + (array.group(1) if array else b"") + b"{"
    starts = re.compile(re.escape(marker)).finditer
    begin = last = (array or lines).end() - 1  # type: ignore[union-attr]
    index = count = 0
    scan = begin
    while True:
        for found in starts(buf, scan):  # the hot loop: a C search per element
            last = found.end() - 1
            count += 1
            if count == size:
                yield Elements(name, index, buf[begin:last], count, array is not None)
                index, begin, count = index + count, last, 0
        more = stream.read(BLOCK) if len(buf) - last < _MAX_ELEMENT else b""
        if not more:
            break
        scan = max(last + 1, len(buf) - len(marker) + 1) - begin  # a marker may span the cut
        buf, last = buf[begin:] + more, last - begin
        begin = 0
    # The end (or no more element starts): what is left goes to the careful reader.
    if count:
        yield Elements(name, index, buf[begin:last], count, array is not None)
        index += count
    yield from _careful((b"[" if array else b"") + buf[last:], stream, name, index, size)


def _careful(head: bytes, stream: BinaryIO, name: str, index: int, size: int
             ) -> Iterator[Batch]:
    """`head` and the rest of `stream` through the careful (streaming) reader, in batches."""
    yield from chunked(read_stream(_Rest(head, stream), name, index), size)  # type: ignore[arg-type]


class _Rest:
    """`head` then the rest of a binary stream, as text (what `read_stream` reads from)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._head: bytes | None = head
        self._stream = stream

    def read(self, size: int = -1) -> str:
        """Some text; '' only at the end (a read can end inside a multi-byte character)."""
        while True:
            data = self._head if self._head is not None else self._stream.read(size)
            self._head = None
            text = self._decoder.decode(data, final=not data)
            if text or not data:
                return text
