"""One exception tree for everything a user can act on, and the exit codes it maps to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (README, `--help`)."""

    PASSED = 0
    """The gate passed."""
    FAILED = 1
    """The gate failed: a cluster met a `--fail-on` condition."""
    USAGE = 2
    """Bad usage, configuration or input (including: no entry could be read)."""
    UPSTREAM = 3
    """An upstream service (Cloud Logging, Google auth, GitHub) failed."""
    INTERNAL = 4
    """A bug in gardener: the gate did not decide (the message says what to report)."""


class GardenerError(Exception):
    """Base of every error we raise on purpose: says what failed, the likely cause and the fix."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, what: str, *, cause: str = "", fix: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.cause = cause
        self.fix = fix

    def diagnostics(self) -> str:
        """A multi-line, human-readable explanation: what, cause, fix."""
        lines = [self.what]
        if self.cause:
            lines.append(f"  cause: {self.cause}")
        if self.fix:
            lines.append(f"  fix:   {self.fix}")
        return "\n".join(lines)


class ConfigError(GardenerError):
    """A bad option, flag, environment value or `.gardener.yml`."""


class InputError(GardenerError):
    """Log input that cannot be used at all (no readable entry, unreadable file)."""


class UpstreamError(GardenerError):
    """Cloud Logging, Google auth or another remote service failed."""

    exit_code = ExitCode.UPSTREAM


class PublishError(GardenerError):
    """GitHub refused or failed a write; never hides the gate's verdict."""

    exit_code = ExitCode.UPSTREAM
