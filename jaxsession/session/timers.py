"""Timers deciding when a periodic hook fires, shared by every periodic hook."""

from __future__ import annotations

import time
from collections.abc import Callable


class SecondOrStepTimer:
    """Fires every ``every_secs`` seconds or every ``every_steps`` steps.

    Differs from TF1: the clock is ``time.monotonic`` (injectable), not wall time.

    Args:
        every_secs: Seconds between triggers.
        every_steps: Steps between triggers.
        clock: A function returning seconds, for tests.

    Raises:
        ValueError: neither or both of every_secs and every_steps are given.
    """

    def __init__(self, every_secs: float | None = None, every_steps: int | None = None,
                 clock: Callable[[], float] = time.monotonic):  # fmt: skip
        if every_secs is None and every_steps is None:
            raise ValueError("Either every_secs or every_steps should be provided.")
        if every_secs is not None and every_steps is not None:
            raise ValueError("Can not provide both every_secs and every_steps.")
        self._every_secs = every_secs
        self._every_steps = every_steps
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        """Forgets the last trigger."""
        self._last_time: float | None = None
        self._last_step: int | None = None

    def should_trigger_for_step(self, step: int) -> bool:
        """Whether the timer fires at ``step``."""
        if self._last_step is None:
            return True
        if step == self._last_step:
            return False
        if self._every_secs is not None:
            return self._clock() >= self._last_time + self._every_secs
        return step >= self._last_step + self._every_steps

    def update_last_triggered_step(self, step: int) -> tuple[float | None, int | None]:
        """Records a trigger at ``step``; returns (elapsed secs, elapsed steps) or (None, None)."""
        now = self._clock()
        if self._last_time is None:
            elapsed: tuple[float | None, int | None] = (None, None)
        else:
            elapsed = (now - self._last_time, step - self._last_step)
        self._last_time, self._last_step = now, step
        return elapsed

    def last_triggered_step(self) -> int | None:
        """The step of the last trigger, or None."""
        return self._last_step


class NeverTriggerTimer:
    """A timer that never fires."""

    def reset(self) -> None:
        """Does nothing."""

    def should_trigger_for_step(self, step: int) -> bool:
        """Always False."""
        return False

    def update_last_triggered_step(self, step: int) -> tuple[None, None]:
        """Returns (None, None)."""
        return (None, None)

    def last_triggered_step(self) -> None:
        """Always None."""
        return None
