"""Recognise multi-line stack traces (Python, Java, Node, Go) and reduce them to a cluster key.

A trace clusters by its exception type and its top frames, not by its whole text: the same bug
raised with different messages, ids or line numbers is one cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gardener.model import SourceLocation

TOP_FRAMES = 3
"""How many frames identify a trace: enough to tell call sites apart, few enough to survive
refactors far from the failure."""

MAX_LINE_DIGITS = 9
"""A longer run of digits is not a line number (and `int` of thousands of them raises)."""

_PY_HEADER = "Traceback (most recent call last):"
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)', re.M)
_PY_EXC = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Timeout"
                     r"|Failure|Fault|[A-Z]\w*))(?::\s?(?P<msg>.*))?$")
_JAVA_FRAME = re.compile(r"^\s+at (?P<func>[\w$.<>/]+)\((?P<loc>[^)]*)\)", re.M)
_JAVA_HEAD = re.compile(r"^(?:Exception in thread \"[^\"]*\" )?(?:Caused by: )?"
                        r"(?P<type>[a-zA-Z_$][\w$]*(?:\.[\w$]+)+)(?::\s?(?P<msg>.*))?$")
_NODE_FRAME = re.compile(r"^\s+at (?:async |new )?(?:(?P<func>[^\s(]+(?: \[as \w+\])?) \()?"
                         r"(?P<loc>[^()\s]+?)"
                         r"(?::(?P<line>\d+))?(?::\d+)?\)?$", re.M)
_NODE_HEAD = re.compile(r"^(?:Uncaught )?(?P<type>[A-Z]\w*(?:Error|Exception)|Error)"
                        r"(?: \[\w+\])?(?::\s?(?P<msg>.*))?$")
_GO_FUNC = re.compile(r"^(?P<func>[\w./*()\[\]\-]+)\(.*\)$")  # [...]: generic functions
_GO_FILE = re.compile(r"^\t(?P<file>\S+\.go):(?P<line>\d+)")
_GO_KIND = re.compile(r"^(?:runtime error|fatal error): [^\[\d]*")
"""The Go runtime's own panics and throws: a fixed text up to the first value (`[5]`, `0x18`)."""


@dataclass(frozen=True, slots=True)
class Trace:
    """What a stack trace says, reduced."""

    exception_type: str
    """Exception class (Python/Java/Node) or `panic` (Go); for Java, the root cause's."""
    message: str
    """The exception's own message (first line of it)."""
    frames: tuple[str, ...]
    """Top frames as `file in function`, innermost first where the language says so."""
    location: SourceLocation | None
    """The innermost frame with its line, for the worklog's source locations."""
    kind: str = ""
    """Go: which runtime error it was (`runtime error: index out of range`), the part of a
    panic's message that plays the exception type's role; '' otherwise."""

    def cluster_key(self) -> str:
        """The text the miner sees for this trace: type and frames, no message, no line numbers."""
        if not self.frames:
            return f"{self.exception_type}: {self.message}"
        kind = f": {self.kind}" if self.kind else ""
        return f"{self.exception_type} at " + " < ".join(self.frames) + kind


def parse_trace(text: str) -> Trace | None:
    """A `Trace` if `text` contains a multi-line stack trace, else None."""
    if "\n" not in text:
        return None
    if _PY_HEADER in text:
        return _python(text)
    if "\n\tat " in text or "\n    at " in text or "\n  at " in text:
        return _java(text) if _JAVA_FRAME.search(text) and "(" in text else _node(text)
    if text.startswith("panic: ") or "\ngoroutine " in text:
        return _go(text)
    return None


def line_number(text: object) -> int | None:
    """A line number from a log's own text or number; None when it is not one: no digits,
    non-ASCII digits, a negative or more than `MAX_LINE_DIGITS` digits."""
    if type(text) is int:
        return text if 0 <= text < 10**MAX_LINE_DIGITS else None
    if not isinstance(text, str) or not 0 < len(text) <= MAX_LINE_DIGITS:
        return None
    return int(text) if text.isascii() and text.isdigit() else None


def _short_path(path: str) -> str:
    """Drop deployment-specific prefixes so the same code clusters alike across images."""
    for marker in ("site-packages/", "dist-packages/", "node_modules/"):
        if marker in path:  # the innermost package: vendored copies nest
            path = path.rsplit(marker, 1)[1]
            break
    else:
        for marker in ("/app/", "/src/", "/workspace/"):
            if marker in path:  # the deployment root: cut once (`/app/svc/app/db.py`)
                path = path.split(marker, 1)[1]
                break
    parts = path.strip("/").split("/")
    return "/".join(parts[-3:])


def _python(text: str) -> Trace:
    # Chained exceptions print one traceback per exception; the last is the one that escaped,
    # and only its frames say where it was raised.
    text = text[text.rindex(_PY_HEADER) + len(_PY_HEADER):]
    frames = list(_PY_FRAME.finditer(text))
    exc_type, message = _python_exception(text)
    innermost = frames[::-1][:TOP_FRAMES]
    location = None
    if innermost:
        first = innermost[0]
        location = SourceLocation(_short_path(first["file"]), line_number(first["line"]),
                                  first["func"])
    keys = tuple(f"{_short_path(f['file'])} in {f['func']}" for f in innermost)
    return Trace(exc_type, message, keys, location)


def _python_exception(section: str) -> tuple[str, str]:
    """(type, message) from the first unindented line after the frames; the lines after it
    may be the message's own (psycopg's `HINT: ...`), so they are only a fallback."""
    lines = [line for line in section.splitlines() if line and not line[0].isspace()]
    for line in lines[:1] + lines[:0:-1]:
        match = _PY_EXC.match(line.strip())
        if match:
            return match["type"], (match["msg"] or "").strip()
    return "Exception", ""


def _java(text: str) -> Trace:
    lines = text.splitlines()
    head = _JAVA_HEAD.match(lines[0].strip())
    exc_type = head["type"] if head else lines[0].split(":")[0].strip()
    message = (head["msg"] or "").strip() if head else ""
    section = text
    causes = [i for i, line in enumerate(lines) if line.lstrip().startswith("Caused by: ")]
    if causes:
        root = lines[causes[-1]].strip()
        cause = _JAVA_HEAD.match(root)
        if cause:
            exc_type, message = cause["type"], (cause["msg"] or "").strip()
        section = "\n".join(lines[causes[-1]:])
    frames = list(_JAVA_FRAME.finditer(section))[:TOP_FRAMES]
    location = None
    if frames:
        file, _, line = frames[0]["loc"].partition(":")
        location = SourceLocation(file, line_number(line), frames[0]["func"])
    return Trace(exc_type, message, tuple(f["func"] for f in frames), location)


def _node(text: str) -> Trace:
    first = text.splitlines()[0].strip()
    head = _NODE_HEAD.match(first)
    exc_type = head["type"] if head else first.split(":")[0][:80]
    message = (head["msg"] or "").strip() if head else first
    frames = list(_NODE_FRAME.finditer(text))[:TOP_FRAMES]
    keys = tuple(f"{_short_path(f['loc'])} in {f['func'] or '<anonymous>'}" for f in frames)
    location = None
    if frames:
        top = frames[0]
        location = SourceLocation(_short_path(top["loc"]), line_number(top["line"]),
                                  top["func"] or "")
    return Trace(exc_type, message, keys, location)


def _go(text: str) -> Trace:
    lines = text.splitlines()
    message = lines[0][len("panic: "):].strip() if lines[0].startswith("panic: ") else lines[0]
    funcs: list[str] = []
    location = None
    # Frames above a `panic(...)` frame are the deferred recover (net/http's conn.serve.func1
    # for "http: panic serving"), not where it broke: start below the last one.
    start = max((i for i, line in enumerate(lines) if line.startswith("panic(")), default=0)
    for i, line in enumerate(lines[start:], start):
        match = _GO_FUNC.match(line)
        if not match or i + 1 >= len(lines) or not _GO_FILE.match(lines[i + 1]):
            continue
        func = match["func"]
        if func.startswith(("panic(", "runtime.")) or func in {"panic"}:
            continue
        file_match = _GO_FILE.match(lines[i + 1])
        assert file_match is not None
        if location is None:
            location = SourceLocation(_short_path(file_match["file"]),
                                      line_number(file_match["line"]), func)
        funcs.append(func)
        if len(funcs) == TOP_FRAMES:
            break
    kind = _GO_KIND.match(message)
    return Trace("panic", message, tuple(funcs), location, kind[0].strip() if kind else "")
