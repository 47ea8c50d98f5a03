"""Preemption: SIGTERM -> agree on a step -> save and stop.

A training loop (or the session-layer hook) asks
``watcher.should_save_and_stop(step)`` after every step; when it answers True
the loop saves a checkpoint at that step and exits cleanly::

    with PreemptionWatcher() as watcher:
        while True:
            sess.run(train_op)
            step = sess.run(global_step)
            if watcher.should_save_and_stop(step):
                saver.save(sess, prefix, global_step=step)
                saver.close()
                break

In a multi-process run all processes must save at the same step: JAX's
preemption sync manager (started by ``jax.distributed.initialize``) spreads
the notice and picks the step; every process must then call
``should_save_and_stop`` at every step. The watcher's handler replaces JAX's
C++ SIGTERM handler, so it forwards the signal: it posts the notice JAX's
handler would have posted (``distributed.preemption.notify``). The
processes count their calls; the agreed point is the fastest process's
count + 1, so all stop after the same number of steps even when signalled at
different ones. In a single process the watcher's own flag decides, at the
first step after the signal.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from jaxsession.distributed import preemption

__all__ = ["PreemptionWatcher"]

logger = logging.getLogger("jaxsession")


class PreemptionWatcher:
    """Turns a termination signal into a flag that a training loop polls.

    Args:
        signals: The signals that mean "preempted" (default SIGTERM).
    """

    def __init__(self, signals: Sequence[int] = (signal.SIGTERM,)):
        self._signals = tuple(signals)
        self._flag = threading.Event()
        self._previous: dict[int, Any] = {}
        self._calls = 0
        self.received_signal: int | None = None

    def install(self) -> PreemptionWatcher:
        """Installs the signal handlers (main thread only); returns self.

        Raises:
            RuntimeError: already installed.
            ValueError: not called from the main thread (Python's rule).
        """
        if self._previous:
            raise RuntimeError("PreemptionWatcher is already installed.")
        for sig in self._signals:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def uninstall(self) -> None:
        """Puts back the handlers that were installed before ``install``."""
        while self._previous:
            sig, handler = self._previous.popitem()
            signal.signal(sig, handler)

    def __enter__(self) -> PreemptionWatcher:
        return self.install()

    def __exit__(self, *exc_info: Any) -> None:
        self.uninstall()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # Only set a flag: a handler runs between bytecodes of the main thread,
        # possibly in the middle of a save, so it must not do the save itself.
        self.received_signal = signum
        self._flag.set()
        # JAX's own handler, which this one replaced, would have told the job.
        preemption.notify()

    @property
    def preempted(self) -> bool:
        """Whether a preemption signal arrived in this process."""
        return self._flag.is_set()

    @property
    def event(self) -> threading.Event:
        """The event a preemption signal sets (``preempted`` reads it)."""
        return self._flag

    def reset(self) -> None:
        """Forgets a received signal."""
        self._flag.clear()
        self.received_signal = None

    def should_save_and_stop(self, step: int) -> bool:
        """Whether to save a checkpoint at ``step`` and stop.

        Multi-process: True at the step the processes agreed on (call this at
        every step on every process; the calls are counted, so steps may
        advance by more than one). Single process: True once the signal
        arrived.

        Raises:
            RuntimeError: multi-process, with JAX's preemption service off.
        """
        if preemption.in_job():
            self._calls += 1
            if not preemption.reached_sync_point(self._calls):
                return False
            logger.info(
                "Preemption: the processes agreed to save at step %d and stop "
                "(signal received here: %s).",
                step,
                "yes" if self._flag.is_set() else "no",
            )
            return True
        if self._flag.is_set():
            logger.info(
                "Preemption signal received; saving at step %d and stopping.", step
            )
            return True
        return False
