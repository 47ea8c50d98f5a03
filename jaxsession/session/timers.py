"""Timers deciding when a periodic hook fires, shared by every periodic hook."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from jaxsession import errors
from jaxsession.session import cluster


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


# How long a worker waits for the chief's decision before giving up: the
# chief may be busy between runs (saving, evaluating) for a while.
CADENCE_WAIT_SECS = 600.0
# Decisions kept in the coordination service: a worker is at most a run or
# two behind the chief (every run's collectives pair them up).
_KEPT_DECISIONS = 64
_ordinals: dict[str, itertools.count] = {}


class SharedTimer(SecondOrStepTimer):
    """A SecondOrStepTimer whose seconds cadence the chief decides for every process.

    In a multi-process job, processes' clocks differ, so a seconds timer
    would fire at different steps in each, and the work it triggers
    (summaries that need collectives, collective checkpoint saves) would not
    pair up. With ``every_secs`` in a job of several processes, the chief's
    timer decides each ``should_trigger_for_step`` call and publishes the
    decision on the coordination service; the others wait for it (up to
    ``wait_secs``). Step cadences, and one-process jobs, decide locally.

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
        self._name = name
        self._wait_secs = wait_secs
        self._key: str | None = None
        if every_secs is not None:
            ordinal = next(_ordinals.setdefault(name, itertools.count(1)))
            self._key = f"cadence/{name}/{ordinal}"
        self._calls = 0
        self._shared: bool | None = None

    @property
    def shared(self) -> bool:
        """Whether decisions go through the coordination service (fixed at the first call)."""
        if self._shared is None:
            self._shared = (
                self._key is not None
                and cluster.is_initialized()
                and cluster.process_count() > 1
            )
        return self._shared

    def should_trigger_for_step(self, step: int) -> bool:
        """Whether the timer fires at ``step``: the chief's answer in a job.

        Raises:
            errors.DeadlineExceededError: a worker did not get the chief's
                decision within ``wait_secs``.
            errors.InternalError: the chief asked about another step (the
                processes ran different steps).
        """
        if not self.shared:
            return super().should_trigger_for_step(step)
        self._calls += 1
        key = f"{self._key}/{self._calls}"
        if cluster.process_index() == 0:
            decision = super().should_trigger_for_step(step)
            cluster.key_set(key, f"{int(decision)} {int(step)}")
            if self._calls > _KEPT_DECISIONS:
                cluster.key_delete(f"{self._key}/{self._calls - _KEPT_DECISIONS}")
            return decision
        what = f"the chief's decision whether {self._name} are due at step {step}"
        value = cluster.key_wait(key, self._wait_secs, what)
        decision, chief_step = value.split()
        if int(chief_step) != int(step):
            raise errors.InternalError(
                None,
                None,
                f"{cluster.log_prefix()} asked whether {self._name} are due at "
                f"step {step}, but the chief asked at step {chief_step} (key "
                f"'{key}'): the processes ran different steps",
            )
        return decision == "1"
