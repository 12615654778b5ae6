"""Cut an export into batches of elements without decoding them, so batches can be decoded (and
analysed) in other processes.

Exports are line-structured: gcloud prints a JSON array with each element starting on a line of
its own (`\\n  {`), and JSON Lines puts one element per line (`\\n{`). The indentation of the first
element gives the marker of every element start; raw newlines cannot occur inside JSON strings,
so a marker is always between elements in well-formed, consistently indented JSON. A batch is
trusted only if it decodes as exactly the objects it was cut as; when one does not (a non-object
element, a nested object starting a line at the elements' indentation, broken JSON), the rest of
its file goes to the careful reader (`read_stream`) from that batch's start (`Recut`, `reread`),
which every batch before it proves is an element's. So the entries and the skips are the same as
reading the whole file with the careful reader. What is not line-structured (a one-line array,
the last element and the closing `]`) goes to the careful reader from the start.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from io import BufferedIOBase, StringIO
from typing import Any

import msgspec

from gardener.model import Skip
from gardener.sources import ORIGIN_KEY, RawEntry, chunked
from gardener.sources.files import read_stream, unreadable

BLOCK = 1 << 22
"""Bytes read at a time."""
_MAX_ELEMENT = 1 << 24
"""A buffer this far past the last element start with no new one: not line-structured here."""
_ARRAY_START = re.compile(rb"[ \t\r\n]*\[[ \t\r]*\n([ \t]*)\{")
_LINES_START = re.compile(rb"[ \t\r\n]*\{")
_TRAILER = b" \t\r\n,"
"""What may follow an element before the next one starts."""
_DECODER = msgspec.json.Decoder()
PIECES = 4
"""A batch can be shared by this many processes (`Elements.pieces`): the last few of an input."""


def _decode(data: memoryview, array: bool) -> list[Any]:
    return _DECODER.decode(data) if array else _DECODER.decode_lines(data)


class _Buffer:
    """Per process: the buffer batches are read into (see `Elements._framed`)."""

    data = bytearray()


@dataclass(frozen=True, slots=True)
class Elements:
    """Consecutive elements of one export, as bytes (or where to read them); iterating decodes
    them."""

    name: str
    """The export's name, for messages (`export.json#12`)."""
    first: int
    """Index of the first element in the export."""
    count: int
    """How many elements there are."""
    array: bool
    """Elements of a JSON array (else JSON Lines)."""
    data: bytes = b""
    """The elements, from the first one's `{` to just before the `{` of the one after the last;
    empty when they are read from `path` instead (cheaper than sending them to a worker)."""
    path: str = ""
    """The export file the elements are in, when `data` is empty."""
    offset: int = 0
    """Where they start in `path`."""
    length: int = 0
    """How many bytes they take in `path`."""
    source: int = 0
    """Which input of the run the elements are from (an input may be given twice)."""
    cuts: tuple[int, ...] = ()
    """Where `pieces` may cut: offsets, from the first element's start, of every `piece`-th
    element after it."""
    piece: int = 0
    """Elements between cuts."""

    def __len__(self) -> int:
        return self.count

    def pieces(self) -> list[Elements]:
        """These elements as consecutive runs cut at `cuts`, so processes can share one batch."""
        if not self.cuts:
            return [self]
        bounds = (0, *self.cuts, self.length if self.path else len(self.data))
        each = self.piece
        return [Elements(self.name, self.first + i * each, min(each, self.count - i * each),
                         self.array, self.data[start:end], self.path,
                         self.offset + start if self.path else 0, end - start if self.path else 0,
                         self.source)
                for i, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False))]

    def __iter__(self) -> Iterator[RawEntry | Skip]:
        name, first = self.name, self.first
        try:  # one C call for the batch: elements of an array are already comma-separated
            values = _decode(self._framed(), self.array)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            values = None
        if values is None or len(values) != self.count or any(type(v) is not dict
                                                                for v in values):
            if self.path:  # not cut where elements start: re-read the file from here
                raise Recut(self)
            yield from self._careful(self.data)
            return
        for offset, value in enumerate(values):
            if self.array:
                value[ORIGIN_KEY] = f"{name}#{first + offset}"
            else:  # as the careful reader does for JSON Lines
                value.setdefault(ORIGIN_KEY, f"{name}#{first + offset}")
            yield value

    def _framed(self) -> memoryview:
        """The elements between `[` and `]` (an array's) or as they are (JSON Lines), in this
        process's reused buffer: fresh memory for every batch would cost a page fault per 4 KiB,
        a tenth of the time a batch takes."""
        size = (self.length if self.path else len(self.data)) + 2
        if len(_Buffer.data) < size:
            _Buffer.data = bytearray(size + size // 4)
        buffer = memoryview(_Buffer.data)
        if self.path:
            try:
                with open(self.path, "rb", buffering=0) as stream:
                    stream.seek(self.offset)
                    size = stream.readinto(buffer[1:size - 1]) + 2
            except OSError as err:  # removed or unreadable since it was cut
                raise unreadable(self.path, err) from None
        else:
            buffer[1:size - 1] = self.data
        if not self.array:
            return buffer[1:size - 1]
        end = size - 1  # an array's elements end with `,` and the next one's indentation
        while end > 1 and buffer[end - 1] in _TRAILER:
            end -= 1
        buffer[0], buffer[end] = ord("["), ord("]")
        return buffer[:end + 1]

    def _careful(self, data: bytes) -> Iterator[RawEntry | Skip]:
        """The same elements through `read_stream`: one bad element costs only itself."""
        text = data.decode("utf-8", errors="replace")
        yield from read_stream(StringIO(f"[{text}]" if self.array else text), self.name,
                               self.first)


class Recut(Exception):  # noqa: N818 - not an error: a signal to read on carefully
    """`elements` do not decode as the elements they were cut as: the export is not
    line-structured from there (an element that is not an object, a nested object starting a
    line at the elements' indentation, broken JSON). Every batch before it decoded whole, so its
    start is an element's: `reread` goes on from there with the careful reader."""

    def __init__(self, elements: Elements) -> None:
        super().__init__(elements.name, elements.first)
        self.elements = elements


class Decoded(list[RawEntry | Skip]):
    """Entries the careful reader decoded, from input number `source` (-1: not a file)."""

    def __init__(self, items: list[RawEntry | Skip], source: int = -1) -> None:
        super().__init__(items)
        self.source = source


Batch = Elements | Decoded
"""Elements still as bytes, or entries already decoded."""


def entries(batches: Iterable[Batch], size: int) -> Iterator[RawEntry | Skip]:
    """What `batches` hold, in order: where one was not cut where elements start, the rest of
    its input as the careful reader reads it (`gardener.batches.parts` does the same, batch by
    batch, in worker processes)."""
    redone = None
    for batch in batches:
        if redone is not None and getattr(batch, "source", None) == redone:
            continue
        try:
            yield from list(batch)
        except Recut as recut:
            redone = recut.elements.source
            for decoded in reread(recut.elements, size):
                yield from decoded


def reread(elements: Elements, size: int) -> Iterator[Decoded]:
    """The rest of the export `elements` are from, from their start, by the careful reader."""
    try:
        with open(elements.path, "rb") as stream:
            head = b""
            if elements.array:  # from the start of the element's line: its indentation tells
                stream.seek(max(0, elements.offset - 256))  # the careful reader where the next
                before = stream.read(elements.offset - stream.tell())  # one may start
                head = b"[" + before[before.rfind(b"\n"):] if b"\n" in before else b"["
            stream.seek(elements.offset)
            yield from _careful(head, stream, elements.name, elements.first, size,
                                elements.source)
    except OSError as err:  # removed or unreadable since it was cut, or part-way
        raise unreadable(elements.path, err) from None


def split(stream: BufferedIOBase, name: str, size: int, path: str = "", source: int = 0
          ) -> Iterator[Batch]:
    """Batches of `size` elements from one export opened in binary; the careful reader takes
    over where the export is not line-structured. With `path` (the file `stream` reads), a
    batch says where its elements are instead of carrying them. `source` numbers the input."""
    buf = stream.read(BLOCK)
    start = len(codecs.BOM_UTF8) if buf.startswith(codecs.BOM_UTF8) else 0
    array = _ARRAY_START.match(buf, start)
    lines = None if array else _LINES_START.match(buf, start)
    if (array is None and lines is None) or not stream.seekable():
        yield from _careful(buf[start:], stream, name, 0, size, source)
        return
    marker = b"\n" + (array.group(1) if array else b"") + b"{"
    starts = re.compile(re.escape(marker)).finditer

    def elements(begin: int, end: int, count: int) -> Elements:
        within = tuple(cut - begin for cut in cuts if cut < end)
        if path:
            return Elements(name, index, count, array is not None, path=path, offset=begin,
                            length=end - begin, source=source, cuts=within, piece=piece)
        stream.seek(begin)
        data = stream.read(end - begin)
        stream.seek(at + filled)
        return Elements(name, index, count, array is not None, data, source=source, cuts=within,
                        piece=piece)

    # One buffer for every block (fresh memory for each would cost a page fault per 4 KiB).
    keep = len(marker) - 1  # a marker may span two blocks
    window = bytearray(BLOCK + keep)
    view = memoryview(window)
    filled = len(buf)
    window[:filled] = buf
    at = 0  # where `window` starts in the file
    begin = last = (array or lines).end() - 1  # type: ignore[union-attr]
    index = count = 0
    scan = last
    piece = max(1, size // PIECES)
    cuts: list[int] = []
    while True:
        for found in starts(window, scan - at, filled):  # the hot loop: a C search per element
            last = at + found.end() - 1
            count += 1
            if count == size:
                yield elements(begin, last, count)
                index, begin, count = index + count, last, 0
                cuts.clear()
            elif count % piece == 0:
                cuts.append(last)
        if at + filled - last >= _MAX_ELEMENT:
            break  # not line-structured from here on
        tail = min(filled, keep)
        window[:tail] = window[filled - tail:filled]
        more = stream.readinto(view[tail:tail + BLOCK])
        if not more:
            break
        at, filled = at + filled - tail, tail + more
        scan = max(last + 1, at)
    # The end (or no more element starts): what is left goes to the careful reader.
    if count:
        yield elements(begin, last, count)
        index += count
    stream.seek(last)
    yield from _careful(b"[" if array else b"", stream, name, index, size, source)


def _careful(head: bytes, stream: BufferedIOBase, name: str, index: int, size: int, source: int
             ) -> Iterator[Decoded]:
    """`head` and the rest of `stream` through the careful (streaming) reader, in batches."""
    for items in chunked(read_stream(_Rest(head, stream), name, index), size):  # type: ignore[arg-type]
        yield Decoded(items, source)


class _Rest:
    """`head` then the rest of a binary stream, as text (what `read_stream` reads from)."""

    def __init__(self, head: bytes, stream: BufferedIOBase) -> None:
        # utf-8-sig, as files are opened for the careful reader (even a cut-off BOM reads alike)
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> str:
        """Some text; '' only at the end (a read can end inside a multi-byte character). The
        head comes with the first read: the reader sees an element with the line it starts."""
        while True:
            data, self._head = self._head + self._stream.read(size), b""
            text = self._decoder.decode(data, final=not data)
            if text or not data:
                return text
