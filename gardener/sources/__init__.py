"""Log sources: where raw LogEntry JSON comes from (export files, Cloud Logging)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gardener.model import Skip

ORIGIN_KEY = "__origin__"
"""Key under which a source may store an entry's location (`file#index`) for error messages."""

RawEntry = dict[str, Any]
"""One LogEntry as Cloud Logging's JSON API (and `gcloud logging read --format=json`) spells it."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a source read, for the worklog's header and its reproduce-this query."""

    kind: str
    """`file` or `cloud-logging`."""
    inputs: tuple[str, ...] = ()
    """Paths read (`-` for stdin), for file sources."""
    project: str = ""
    """Google Cloud project id, when known."""
    filter: str = ""
    """The Cloud Logging filter that was (or would be) used."""
    start: datetime | None = None
    """Start of the window that was asked for, if any."""
    end: datetime | None = None
    """End of the window that was asked for, if any."""
    truncated: bool = False
    """True when a `--max-entries` cap stopped the read early."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Anything the reader of the worklog should know about how the entries were read."""


class LogSource(Protocol):
    """Yields raw entries (or `Skip`s for elements it could not decode), then describes itself.

    `info()` is called after `read()` is exhausted, so it can report truncation and counts.
    A source may store where an entry came from (`export.json#12`) under the key `ORIGIN_KEY`;
    the pipeline pops it before the entry is parsed or shown.
    Upstream failures raise `gardener.errors.UpstreamError`; unreadable input raises `InputError`.
    """

    def read(self) -> Iterator[RawEntry | Skip]: ...

    def info(self) -> SourceInfo: ...


def chunked(items: Iterable[RawEntry | Skip], size: int) -> Iterator[list[RawEntry | Skip]]:
    """`items` in lists of `size` (the last may be shorter)."""
    batch: list[RawEntry | Skip] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
