"""Timers deciding when a periodic hook fires, shared by every periodic hook.

A timer is the state (the last trigger) over a save cadence of
``checkpoint/policies.py``, which makes the decision. Hooks check their
timers against ``host_step``: the global step as the session's host mirror
knows it, so a step where no timer fires fetches nothing and reads nothing
from the device.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from jaxsession.checkpoint.policies import (
    CADENCE_WAIT_SECS as CADENCE_WAIT_SECS,
    ChiefDecides,
    EverySecs,
    EverySteps,
    Never,
    SaveCadence,
    Trigger,
)

_INF = float("inf")


def host_step(session: Any, tensor: Any) -> int | None:
    """The global step now, if ``tensor`` reads it and ``session`` knows it on the host.

    No run and no device read (``Session._host_global_step``); None when the
    session cannot tell (a wrapped or foreign session, a step a run set in
    a way the host does not follow): the hook then fetches ``tensor``.
    """
    known = getattr(session, "_host_global_step", None)
    return None if known is None else known(tensor)


def stale_step(fetched: Any, before: int | None) -> int:
    """The global step before a run, as a hook that tracks it saw it.

    Args:
        fetched: The fetched value of the global step's read, or None when
            the hook fetched nothing because the host knew the step.
        before: ``host_step`` at the hook's ``before_run``.
    """
    if fetched is None and before is not None:
        return before
    return int(fetched)


def step_after_run(session: Any, tensor: Any, fetched: Any) -> int | None:
    """The global step after a run, when the host knows it; else None (read it).

    Only when the hook fetched nothing (``fetched`` None): a hook that had
    to fetch the step found the host not knowing it.
    """
    return host_step(session, tensor) if fetched is None else None


class SecondOrStepTimer:
    """Fires every ``every_secs`` seconds or every ``every_steps`` steps.

    Differs from TF1: the clock is ``time.monotonic`` (injectable), not wall time.

    Args:
        every_secs: Seconds between triggers.
        every_steps: Steps between triggers.
        clock: A function returning seconds, for tests.

    Attributes:
        every_secs: As given.
        every_steps: As given.
        cadence: The policy deciding (``EverySecs`` or ``EverySteps``).

    Raises:
        ValueError: neither or both of every_secs and every_steps are given.
    """

    def __init__(
        self,
        every_secs: float | None = None,
        every_steps: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if every_secs is None and every_steps is None:
            raise ValueError("Either every_secs or every_steps should be provided.")
        if every_secs is not None and every_steps is not None:
            raise ValueError("Can not provide both every_secs and every_steps.")
        self.every_secs, self.every_steps = every_secs, every_steps
        self._clock = clock
        self._last: Trigger | None = None
        self.cadence = (
            EverySecs(every_secs) if every_secs is not None else EverySteps(every_steps)
        )

    @property
    def cadence(self) -> SaveCadence:
        """The policy deciding."""
        return self._cadence

    @cadence.setter
    def cadence(self, cadence: SaveCadence) -> None:
        self._cadence = cadence
        self._set_bounds()

    def _set_bounds(self) -> None:
        """Precomputes below which step and before which time the cadence is not due.

        From the last trigger and a plain local cadence: a step count or a
        clock reading compared with these answers most calls without asking
        the cadence. Otherwise (no trigger yet, a cadence decided by the
        chief or another kind) both are -inf: the cadence decides.
        """
        self._due_step = self._due_time = -_INF
        last, cadence = self._last, self._cadence
        if last is None:
            return
        if type(cadence) is ChiefDecides:
            if not cadence.decided_locally:
                return
            cadence = cadence.cadence
        kind = type(cadence)
        if kind is EverySteps:
            self._due_step, self._due_time = last.step + cadence.n, _INF
        elif kind is EverySecs:
            self._due_step, self._due_time = _INF, last.time + cadence.secs
        elif kind is Never:
            self._due_step = self._due_time = _INF

    def reset(self) -> None:
        """Forgets the last trigger."""
        self._last = None
        self._set_bounds()

    def quiet_until(self) -> tuple[float, float]:
        """``(step, deadline)``: no trigger under ``step`` before ``deadline``.

        The timer does not fire at a step under ``step`` asked while
        ``time.monotonic()`` is under ``deadline``.

        ``(-inf, -inf)`` when it cannot tell without asking: no trigger yet, a
        cadence the chief decides for a job, or a seconds cadence on a clock
        other than ``time.monotonic``.
        """
        if self._due_time != _INF and self._clock is not time.monotonic:
            return -_INF, -_INF
        return self._due_step, self._due_time

    def should_trigger_for_step(self, step: int) -> bool:
        """Whether the timer fires at ``step``."""
        # Between triggers: an int comparison (a step cadence) or one clock
        # reading (seconds), the same answers as the cadence's.
        if step < self._due_step:
            if self._due_time == _INF:
                return False
            now = self._clock()
            if now < self._due_time:
                return False
        else:
            now = self._clock()
        due = self._cadence.is_due(step, now, self._last)
        if self._due_step == -_INF and self._last is not None:
            # A chief-decided cadence may have just found it decides locally.
            self._set_bounds()
        return due

    def update_last_triggered_step(self, step: int) -> tuple[float | None, int | None]:
        """Records a trigger at ``step``; returns (elapsed secs, elapsed steps) or (None, None)."""
        now, last = self._clock(), self._last
        self._last = Trigger(step, now)
        self._set_bounds()
        if last is None:
            return (None, None)
        return (now - last.time, step - last.step)

    def last_triggered_step(self) -> int | None:
        """The step of the last trigger, or None."""
        return None if self._last is None else self._last.step


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


class SharedTimer(SecondOrStepTimer):
    """A SecondOrStepTimer whose seconds cadence the chief decides for every process.

    In a multi-process job, processes' clocks differ, so a seconds timer
    would fire at different steps in each, and the work it triggers
    (summaries that need collectives, collective checkpoint saves) would not
    pair up. With ``every_secs`` the cadence is ``ChiefDecides(EverySecs)``:
    in a job of several processes the chief's timer decides each
    ``should_trigger_for_step`` call and publishes the decision on the
    coordination service; the others wait for it (up to ``wait_secs``).
    Step cadences, and one-process jobs, decide locally.

    Every process must create its SharedTimers of one ``name`` in the same
    order (one program) and ask them the same questions in the same order,
    which holds when the hooks using them run on every process.

    Args:
        every_secs: Seconds between triggers.
        every_steps: Steps between triggers.
        clock: A function returning seconds, for tests.
        name: The kind of work triggered ("summaries", "checkpoints"): names
            the coordination keys and what a waiting worker waits for.
        wait_secs: How long a worker waits for a decision.

    Raises:
        ValueError: neither or both of every_secs and every_steps are given.
    """

    def __init__(
        self,
        every_secs: float | None = None,
        every_steps: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        name: str = "timer",
        wait_secs: float = CADENCE_WAIT_SECS,
    ):
        super().__init__(every_secs, every_steps, clock)
        if every_secs is not None:
            self.cadence = ChiefDecides(self.cadence, name, wait_secs)

    @property
    def shared(self) -> bool:
        """Whether decisions go through the coordination service (fixed at the first call)."""
        return isinstance(self.cadence, ChiefDecides) and self.cadence.shared
