"""A clock for retry tests: time stands still until something sleeps."""

from __future__ import annotations


class FakeClock:
    """time.monotonic and time.sleep in one, advancing only when slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
