"""CheckpointSaverHook and CheckpointSaverListener (TF1_BEHAVIOUR §4.2)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from jaxsession.checkpoint import storage
from jaxsession.checkpoint.graph_io import write_graph
from jaxsession.checkpoint.preemption import PreemptionWatcher
from jaxsession.distributed import process
from jaxsession.distributed.preemption import in_job
from jaxsession.graph.core import GraphKeys, get_default_graph
from jaxsession.session._global_step import (
    get_or_create_global_step_read,
    require_global_step_read,
)
from jaxsession.session.hooks import (
    SessionRunArgs,
    SessionRunContext,
    SessionRunHook,
    SessionRunValues,
)
from jaxsession.session.quiet_runs import takes_part
from jaxsession.session.scaffold import collected_saver
from jaxsession.session.summary_writer import FileWriterCache, SessionLog
from jaxsession.session.timers import (
    SharedTimer,
    host_step,
    stale_step,
    step_after_run,
)

logger = logging.getLogger("jaxsession")
_INF = float("inf")


class CheckpointSaverListener:
    """Callbacks around the saves of a CheckpointSaverHook."""

    def begin(self) -> None:
        """Called once when the hook begins."""

    def before_save(self, session: Any, global_step_value: int) -> None:
        """Called before each save."""

    def after_save(self, session: Any, global_step_value: int) -> bool | None:
        """Called after each save; return True to stop training."""

    def end(self, session: Any, global_step_value: int) -> None:
        """Called once at the end, after the last save."""


def _get_saver(saver: Any, scaffold: Any) -> Any:
    if saver is not None:
        return saver
    if scaffold is not None:
        return scaffold.saver
    collected = collected_saver()
    if collected is None:
        raise RuntimeError(
            f"No items in collection {GraphKeys.SAVERS}. Please add a saver to the "
            "collection or provide a saver or scaffold."
        )
    return collected


@takes_part
class CheckpointSaverHook(SessionRunHook):
    """Saves a checkpoint every N steps or seconds, at creation and at the end.

    Saving is asynchronous (the Saver writes in the background); ``end`` waits
    for the last save to be committed and flushes the event file of
    ``checkpoint_dir``, where each save adds a ``SessionLog(CHECKPOINT)``.

    In a multi-process job the hook runs on every process (workers get one
    from MonitoredTrainingSession) and calls ``Saver.save`` at the same steps
    with the same path, because saving is collective; a seconds cadence is
    the chief's (a SharedTimer). Only the chief writes the graph, the events
    and the log lines; listeners run on every process, so a listener that
    requests a stop must do so on every process.

    Args:
        checkpoint_dir: Directory for the checkpoints.
        save_secs: Seconds between saves.
        save_steps: Global steps between saves.
        saver: The Saver (exclusive with scaffold).
        checkpoint_basename: Checkpoint file prefix.
        scaffold: A Scaffold whose saver is used.
        listeners: CheckpointSaverListeners.
        save_graph_def: Whether to write ``graph.pbtxt`` (a GraphDef with shapes)
            into ``checkpoint_dir`` after the session is created. Differs from
            TF1: no per-checkpoint ``.meta`` file is written; the event file gets
            the graph from the cached writer instead.
        clock: Seconds, for the timer (tests).

    Raises:
        ValueError: both saver and scaffold, or not exactly one period.
    """

    def __init__(
        self,
        checkpoint_dir: str,
        save_secs: float | None = None,
        save_steps: int | None = None,
        saver: Any = None,
        checkpoint_basename: str = "model.ckpt",
        scaffold: Any = None,
        listeners: Sequence[CheckpointSaverListener] | None = None,
        save_graph_def: bool = True,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        logger.info("Create CheckpointSaverHook.")
        if saver is not None and scaffold is not None:
            raise ValueError("You cannot provide both saver and scaffold.")
        self._saver = saver
        self._checkpoint_dir = checkpoint_dir
        self._save_path = storage.join(checkpoint_dir, checkpoint_basename)
        self._scaffold = scaffold
        self._timer = SharedTimer(
            every_secs=save_secs,
            every_steps=save_steps,
            clock=clock,
            name="checkpoints",
        )
        self._listeners = list(listeners or [])
        self._steps_per_run = 1
        self._save_graph_def = save_graph_def
        self._global_step_tensor: Any = None
        self._summary_writer: Any = None
        self._is_chief = True
        self._before: int | None = None

    def _set_steps_per_run(self, steps_per_run: int) -> None:
        self._steps_per_run = steps_per_run

    def begin(self) -> None:
        """Opens checkpoint_dir's writer (making the directory), starts the listeners."""
        self._is_chief = process.is_chief()
        if self._is_chief:
            self._summary_writer = FileWriterCache.get(self._checkpoint_dir)
        else:
            storage.makedirs(self._checkpoint_dir)
        self._global_step_tensor = require_global_step_read("CheckpointSaverHook")
        for listener in self._listeners:
            listener.begin()

    def after_create_session(self, session: Any, coord: Any) -> None:
        """Saves a checkpoint at the current step."""
        step = int(session.run(self._global_step_tensor))
        if self._save_graph_def and self._is_chief:
            write_graph(get_default_graph(), self._checkpoint_dir, "graph.pbtxt")
        self._save(session, step)
        self._timer.update_last_triggered_step(step)

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Requests the global step, unless the host knows it (``timers.host_step``)."""
        self._before = host_step(run_context.session, self._global_step_tensor)
        if self._before is not None:
            return None
        return SessionRunArgs(self._global_step_tensor)

    def after_run(
        self, run_context: SessionRunContext, run_values: SessionRunValues
    ) -> None:
        """Saves when the timer fires; a listener may request a stop."""
        fetched = run_values.results
        stale = stale_step(fetched, self._before)
        if self._timer.should_trigger_for_step(stale + self._steps_per_run):
            session, tensor = run_context.session, self._global_step_tensor
            step = step_after_run(session, tensor, fetched)
            step = int(session.run(tensor)) if step is None else step
            if self._timer.should_trigger_for_step(step):
                self._timer.update_last_triggered_step(step)
                if self._save(run_context.session, step):
                    run_context.request_stop()

    def _quiet_bounds(self, step: int) -> tuple | None:
        # Quiet runs (session/quiet_runs.py): as StepCounterHook's.
        due_step, due_time = self._timer.quiet_until()
        return due_step - self._steps_per_run, _INF, due_time, None

    def _quiet_before(self, step: int) -> None:
        self._before = step

    def _quiet_catch_up(self, start: int, end: int, runs: int) -> None:
        pass

    def end(self, session: Any) -> None:
        """Saves once more unless this step was just saved, then waits for the write."""
        step = int(session.run(self._global_step_tensor))
        if step != self._timer.last_triggered_step():
            self._save(session, step)
        saver = self._get_saver()
        wait = getattr(saver, "wait_until_finished", None)
        if wait is not None:
            wait()
        for listener in self._listeners:
            listener.end(session, step)
        # Differs from TF1 (which leaves it to the writer's 120 s flush): the
        # CHECKPOINT events are on disk when training ends.
        if self._summary_writer is not None:
            self._summary_writer.flush()

    def _get_saver(self) -> Any:
        if self._saver is None:
            self._saver = _get_saver(None, self._scaffold)
        return self._saver

    def _save(self, session: Any, step: int) -> bool:
        log = logger.info if self._is_chief else logger.debug
        log("Calling checkpoint listeners before saving checkpoint %d...", step)
        for listener in self._listeners:
            listener.before_save(session, step)
        log("Saving checkpoints for %d into %s.", step, self._save_path)
        self._get_saver().save(session, self._save_path, global_step=step)
        if self._summary_writer is not None:
            # TF1 records the prefix without the step; the step is the event's.
            self._summary_writer.add_session_log(
                SessionLog(
                    status=SessionLog.CHECKPOINT, checkpoint_path=self._save_path
                ),
                step,
            )
        if self._listeners:
            # Listeners' after_save may read the checkpoint (TF1 saves
            # synchronously), so with listeners the save is waited for.
            wait = getattr(self._get_saver(), "wait_until_finished", None)
            if wait is not None:
                wait()
        should_stop = False
        for listener in self._listeners:
            if listener.after_save(session, step):
                logger.info(
                    "A CheckpointSaverListener requested that training be stopped."
                )
                should_stop = True
        return should_stop


@takes_part
class PreemptionStopHook(SessionRunHook):
    """On SIGTERM, stops training after the current run, at an agreed step.

    Every process polls a PreemptionWatcher after each run; in multi-process
    jobs they stop at the step JAX's preemption sync picks. The stop ends the
    monitored session normally, so CheckpointSaverHook's ``end`` saves that
    step and a restart resumes from it. Not in TF1 (its pods were not
    preempted by signal); MonitoredTrainingSession adds it with a checkpoint_dir.

    Args:
        watcher: The watcher to poll (default: a new one on SIGTERM).
    """

    def __init__(self, watcher: PreemptionWatcher | None = None):
        self._watcher = watcher or PreemptionWatcher()
        # Our watcher's answer is known without asking it when alone and not
        # signalled; a subclass is always asked.
        kind = type(self._watcher)
        self._plain_watcher = (
            kind.should_save_and_stop is PreemptionWatcher.should_save_and_stop
            and kind.preempted is PreemptionWatcher.preempted
        )
        self._installed = False
        self._global_step_tensor: Any = None
        self._runs = 0
        self._stale: int | None = None

    @property
    def watcher(self) -> PreemptionWatcher:
        """The watcher polled after each run."""
        return self._watcher

    def begin(self) -> None:
        """Installs the signal handlers (only possible on the main thread)."""
        # Without a global step, runs are counted instead (the same on every process).
        self._global_step_tensor = get_or_create_global_step_read()
        if self._installed:
            return
        if threading.current_thread() is not threading.main_thread():
            logger.warning(
                "PreemptionStopHook: not on the main thread, so no signal handler "
                "is installed; training will not stop on SIGTERM."
            )
            return
        self._watcher.install()
        self._installed = True

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Requests the global step, unless the host knows it (``timers.host_step``)."""
        tensor = self._global_step_tensor
        self._stale = None if tensor is None else host_step(run_context.session, tensor)
        if tensor is None or self._stale is not None:
            return None
        return SessionRunArgs(tensor)

    def after_run(
        self, run_context: SessionRunContext, run_values: SessionRunValues
    ) -> None:
        """Requests a stop once the watcher says so for this step."""
        self._runs += 1
        watcher = self._watcher
        if self._plain_watcher and not watcher.preempted and not in_job():
            return
        if self._global_step_tensor is None:
            step = self._runs
        elif self._stale is not None:
            step = self._stale
        else:
            step = int(run_values.results)
        if watcher.should_save_and_stop(step):
            run_context.request_stop()

    def _quiet_bounds(self, step: int) -> tuple | None:
        # Quiet runs (session/quiet_runs.py): alone, our watcher says no
        # until its event is set.
        watcher = self._watcher
        if not self._plain_watcher or watcher.preempted or in_job():
            return None
        if self._global_step_tensor is None:
            return None
        return _INF, _INF, _INF, watcher.event

    def _quiet_before(self, step: int) -> None:
        self._stale = step

    def _quiet_catch_up(self, start: int, end: int, runs: int) -> None:
        self._runs += runs

    def end(self, session: Any) -> None:
        """Puts back the previous signal handlers."""
        self.close()

    def close(self) -> None:
        """Puts back the previous signal handlers."""
        if self._installed:
            self._watcher.uninstall()
            self._installed = False
