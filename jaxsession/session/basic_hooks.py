"""The built-in SessionRunHooks of TF1's basic_session_run_hooks (TF1_BEHAVIOUR §4).

Hooks that follow the global step fetch its read tensor with every run. That
value is the step at the start of the run (the engine orders reads before
writes), so a hook near a trigger re-reads the real value with a hook-free
``run_context.session.run``, as TF1 does.

Differs from TF1: periodic hooks take a keyword-only ``clock`` (seconds,
default ``time.monotonic``) for their timer, and GlobalStepWaiterHook a
keyword-only ``sleep``, so tests need not patch the ``time`` module.
"""

from __future__ import annotations

import gzip
import logging
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.engine.deferred import DeferredValue
from jaxsession.graph.core import get_default_graph
from jaxsession.graph.variables import get_global_step
from jaxsession.session._global_step import (
    get_global_step_read,
    global_step,
    require_global_step_read,
)
from jaxsession.session.config import RunOptions
from jaxsession.session.hooks import (
    Deferred,
    EveryStep,
    SessionRunArgs,
    SessionRunContext,
    SessionRunHook,
    SessionRunValues,
)
from jaxsession.session.quiet_runs import takes_part
from jaxsession.session.summary_writer import (
    FileWriter,
    FileWriterCache,
    SessionLog,
    Summary,
)
from jaxsession.session.timers import (
    NeverTriggerTimer,
    SecondOrStepTimer,
    SharedTimer,
    host_step,
    stale_step,
    step_after_run,
)

__all__ = [
    "FeedFnHook",
    "FinalOpsHook",
    "GlobalStepWaiterHook",
    "LoggingTensorHook",
    "NanLossDuringTrainingError",
    "NanTensorHook",
    "ProfilerHook",
    "StepCounterHook",
    "StopAtStepHook",
    "SummarySaverHook",
]

logger = logging.getLogger("jaxsession")

Clock = Callable[[], float]
_INF = float("inf")


@takes_part
class StopAtStepHook(SessionRunHook):
    """Requests a stop once the global step reaches a target.

    In a multi-step run (``steps_per_run=K``) the run that would pass
    ``last_step`` is shortened to end on it (``run_context.limit_steps``), as
    TF1's ``_MultiStepStopAtStepHook`` does: with ``last_step=25`` and K=10,
    runs of 10, 10 and 5 steps. Like it, this counts one global step per step.

    Args:
        num_steps: Steps to run from the global step at session creation.
        last_step: Global step after which to stop.

    Raises:
        ValueError: neither or both arguments are given.
    """

    def __init__(self, num_steps: int | None = None, last_step: int | None = None):
        if num_steps is None and last_step is None:
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and last_step is not None:
            raise ValueError("Only one of num_steps or last_step can be specified.")
        self._num_steps = num_steps
        self._last_step = last_step
        # The global step expected at the start of the next run (None: unknown).
        self._next_step: int | None = None
        # The step a run started at when the hook fetched nothing (a quiet
        # run found not quiet after it ran, session/quiet_runs.py).
        self._before: int | None = None

    def begin(self) -> None:
        """Finds the global step.

        Raises:
            RuntimeError: the graph has no global step.
        """
        self._global_step_tensor = require_global_step_read("StopAtStepHook")

    def after_create_session(self, session: Any, coord: Any) -> None:
        """Fixes the last step from ``num_steps``, once (a recovery keeps it)."""
        if self._last_step is None:
            step = global_step(session, self._global_step_tensor)
            self._last_step = step + self._num_steps
        self._next_step = None

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs:
        """Requests the global step; shortens a multi-step run that would pass the last step."""
        steps = run_context.steps_per_run
        if steps > 1:
            start = self._next_step
            if start is None or start + steps > self._last_step:
                # Near the end, the real value decides (a hook-free read).
                start = global_step(run_context.session, self._global_step_tensor)
            if start + steps > self._last_step:
                run_context.limit_steps(max(1, self._last_step - start))
        self._before = None
        return SessionRunArgs(self._global_step_tensor)

    def _quiet_bounds(self, step: int) -> tuple | None:
        # Quiet runs (session/quiet_runs.py): a one-step run from a step
        # under last_step - 1 only notes where the next run starts.
        if self._last_step is None:
            return None
        return self._last_step - 1, _INF, _INF, None

    def _quiet_before(self, step: int) -> None:
        self._before = step

    def _quiet_catch_up(self, start: int, end: int, runs: int) -> None:
        self._next_step = start + 1

    def after_run(
        self, run_context: SessionRunContext, run_values: SessionRunValues
    ) -> None:
        """Requests a stop when the re-read global step reached the last step."""
        stale = stale_step(run_values.results, self._before)
        self._next_step = stale + run_context.steps_per_run
        if self._next_step >= self._last_step:
            step = global_step(run_context.session, self._global_step_tensor)
            self._next_step = step
            if step >= self._last_step:
                run_context.request_stop()


@takes_part
class StepCounterHook(SessionRunHook):
    """Logs and records global steps per second.

    The rate is global steps completed per wall-clock second between two
    triggers. The step comes from the session's host mirror of the global
    step (``timers.host_step``): a run where the timer does not fire fetches
    nothing and waits for nothing; where the host does not know the step,
    the hook fetches it. The summary tag is ``<global step op name>/sec``;
    the first trigger only starts the clock.

    Args:
        every_n_steps: Global steps between records.
        every_n_secs: Seconds between records (pass ``every_n_steps=None``).
        output_dir: Directory whose cached FileWriter gets the summaries.
        summary_writer: A writer to use instead.
        clock: Seconds, for the timer (tests).

    Raises:
        ValueError: not exactly one of the two periods is given.
    """

    def __init__(
        self,
        every_n_steps: int | None = 100,
        every_n_secs: float | None = None,
        output_dir: str | None = None,
        summary_writer: Any = None,
        *,
        clock: Clock = time.monotonic,
    ):
        if (every_n_steps is None) == (every_n_secs is None):
            raise ValueError(
                "exactly one of every_n_steps and every_n_secs should be provided."
            )
        self._timer = SecondOrStepTimer(every_n_secs, every_n_steps, clock=clock)
        self._summary_writer = summary_writer
        self._output_dir = output_dir
        self._last_global_step: int | None = None
        self._steps_per_run = 1
        self._warnings_left = 5
        self._before: int | None = None

    def _set_steps_per_run(self, steps_per_run: int) -> None:
        self._steps_per_run = steps_per_run

    def begin(self) -> None:
        """Finds the writer and the global step.

        Raises:
            RuntimeError: the graph has no global step.
        """
        if self._summary_writer is None and self._output_dir:
            self._summary_writer = FileWriterCache.get(self._output_dir)
        self._global_step_tensor = require_global_step_read("StepCounterHook")
        self._summary_tag = get_global_step().op.name + "/sec"

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Requests the global step, unless the host knows it."""
        self._before = before = host_step(run_context.session, self._global_step_tensor)
        if before is not None:
            return None
        return SessionRunArgs(self._global_step_tensor)

    def _quiet_bounds(self, step: int) -> tuple | None:
        # Quiet runs (session/quiet_runs.py): after_run's timer check is at
        # the step before the run + steps_per_run, its clock read after it.
        if self._last_global_step == step and self._warnings_left > 0:
            return None
        due_step, due_time = self._timer.quiet_until()
        return due_step - self._steps_per_run, _INF, due_time, None

    def _quiet_before(self, step: int) -> None:
        self._before = step

    def _quiet_catch_up(self, start: int, end: int, runs: int) -> None:
        self._last_global_step = start

    def _log_and_record(
        self, elapsed_steps: int, elapsed_time: float, step: int
    ) -> None:
        steps_per_sec = elapsed_steps / elapsed_time
        if self._summary_writer is not None:
            value = Summary.Value(tag=self._summary_tag, simple_value=steps_per_sec)
            self._summary_writer.add_summary(Summary(value=[value]), step)
        logger.info("%s: %g", self._summary_tag, steps_per_sec)

    def after_run(
        self, run_context: SessionRunContext, run_values: SessionRunValues
    ) -> None:
        """Records the rate when the timer fires; warns if the step stands still."""
        fetched = run_values.results
        stale = stale_step(fetched, self._before)
        if self._timer.should_trigger_for_step(stale + self._steps_per_run):
            session, tensor = run_context.session, self._global_step_tensor
            step = step_after_run(session, tensor, fetched)
            step = global_step(session, tensor) if step is None else step
            if self._timer.should_trigger_for_step(step):
                elapsed_time, elapsed_steps = self._timer.update_last_triggered_step(
                    step
                )
                if elapsed_time is not None:
                    self._log_and_record(elapsed_steps, elapsed_time, step)
        if stale == self._last_global_step and self._warnings_left > 0:
            self._warnings_left -= 1
            logger.warning(
                "It seems that global step (tf.train.get_global_step) has not been "
                "increased. Current value (could be stable): %s vs previous value: %s. "
                "You could increase the global step by passing "
                "tf.train.get_global_step() to Optimizer.apply_gradients or "
                "Optimizer.minimize.",
                stale,
                self._last_global_step,
            )
        self._last_global_step = stale


def _as_graph_element(obj: Any) -> Any:
    """A tensor given itself or by name (``n`` means ``n:0`` if unambiguous)."""
    graph = get_default_graph()
    if not isinstance(obj, str):
        if getattr(obj, "graph", None) is not graph:
            raise ValueError(
                f"Passed {obj} should have graph attribute that is equal to current "
                f"graph {graph}."
            )
        return obj
    if ":" in obj:
        return graph.as_graph_element(obj)
    element = graph.as_graph_element(obj + ":0")
    try:
        graph.as_graph_element(obj + ":1")
    except (KeyError, ValueError):
        return element
    raise ValueError(
        f"Name {obj} is ambiguous, as this `Operation` has multiple outputs (at least 2)."
    )


class LoggingTensorHook(SessionRunHook):
    """Logs tensor values every N local iterations, every N seconds and/or at the end.

    Logs go to the ``jaxsession`` logger at INFO, as ``"tag1 = v1, tag2 = v2"``
    (plus ``" (1.234 sec)"`` since the previous log), or ``formatter(values)``.
    Iterations are counted by the hook, not by the global step. In a
    multi-step run an iteration is a step: the hook asks for its tensors at
    every step of a run holding a step to log, and logs one line per such
    step with that step's values, as K single runs would.

    Args:
        tensors: A dict tag -> tensor or name (logged in sorted tag order), or
            an iterable of tensors or names (each its own tag, in order).
        every_n_iter: Local iterations between logs.
        every_n_secs: Seconds between logs.
        at_end: Also log once in ``end``.
        formatter: A function of the dict tag -> value returning the log line.
        clock: Seconds, for the timer (tests).

    Raises:
        ValueError: no period and not ``at_end``, both periods, or
            ``every_n_iter <= 0``.
    """

    def __init__(
        self,
        tensors: Mapping[Any, Any] | Sequence[Any],
        every_n_iter: int | None = None,
        every_n_secs: float | None = None,
        at_end: bool = False,
        formatter: Callable[[dict], str] | None = None,
        *,
        clock: Clock = time.monotonic,
    ):
        only_log_at_end = at_end and every_n_iter is None and every_n_secs is None
        if not only_log_at_end and (every_n_iter is None) == (every_n_secs is None):
            raise ValueError(
                "either at_end and/or exactly one of every_n_iter and every_n_secs "
                "must be provided."
            )
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        if isinstance(tensors, Mapping):
            self._tag_order = sorted(tensors.keys())
        else:
            self._tag_order = list(tensors)
            tensors = {item: item for item in self._tag_order}
        self._tensors = dict(tensors)
        self._formatter = formatter
        self._timer: SecondOrStepTimer | NeverTriggerTimer = (
            NeverTriggerTimer()
            if only_log_at_end
            else SecondOrStepTimer(every_n_secs, every_n_iter, clock=clock)
        )
        self._log_at_end = at_end

    def begin(self) -> None:
        """Resets the timer and resolves tensor names.

        Raises:
            ValueError: a name is ambiguous or a tensor is from another graph.
        """
        self._timer.reset()
        self._iter_count = 0
        self._current_tensors = {
            tag: _as_graph_element(t) for tag, t in self._tensors.items()
        }

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Requests the tensors when this iteration (or a step of this run) logs."""
        steps = run_context.steps_per_run
        if steps > 1:
            self._should_trigger = False
            count, timer = self._iter_count, self._timer
            self._per_step = any(
                timer.should_trigger_for_step(count + i) for i in range(steps)
            )
            return (
                SessionRunArgs(EveryStep(self._current_tensors))
                if self._per_step
                else None
            )
        self._per_step = False
        self._should_trigger = self._timer.should_trigger_for_step(self._iter_count)
        return SessionRunArgs(self._current_tensors) if self._should_trigger else None

    def _log_tensors(self, tensor_values: dict, step: int | None = None) -> None:
        step = self._iter_count if step is None else step
        elapsed_secs, _ = self._timer.update_last_triggered_step(step)
        with np.printoptions(suppress=True):
            if self._formatter:
                logger.info(self._formatter(tensor_values))
                return
            stats = ", ".join(
                f"{tag} = {tensor_values[tag]}" for tag in self._tag_order
            )
        if elapsed_secs is not None:
            logger.info("%s (%.3f sec)", stats, elapsed_secs)
        else:
            logger.info("%s", stats)

    def after_run(
        self, run_context: SessionRunContext, run_values: SessionRunValues
    ) -> None:
        """Logs if this iteration (or each step of this run) triggers; counts them."""
        if self._per_step:
            self._log_steps(run_values.results, run_context.steps_per_run)
            return
        if self._should_trigger:
            self._log_tensors(run_values.results)
        self._iter_count += run_context.steps_per_run

    def _log_steps(self, stacked: dict, steps: int) -> None:
        """Logs the steps of a multi-step run that trigger, each with its values."""
        made = len(next(iter(stacked.values()))) if stacked else steps
        for i in range(made):
            step = self._iter_count + i
            if self._timer.should_trigger_for_step(step):
                self._log_tensors({tag: v[i] for tag, v in stacked.items()}, step)
        self._iter_count += made

    def end(self, session: Any) -> None:
        """Logs once more if ``at_end``."""
        if self._log_at_end:
            self._log_tensors(session.run(self._current_tensors))


@takes_part
class SummarySaverHook(SessionRunHook):
    """Writes summaries every N global steps or seconds (and at the first run).

    Summaries are stamped with the global step after the run; the first run
    also writes ``SessionLog(START)``. In a multi-process job a seconds
    cadence is the chief's (a SharedTimer), so every process computes the
    summaries at the same steps.

    Args:
        save_steps: Global steps between saves.
        save_secs: Seconds between saves.
        output_dir: Directory whose cached FileWriter is used.
        summary_writer: A writer to use instead.
        scaffold: A Scaffold whose ``summary_op`` is saved.
        summary_op: A summary tensor or a list of them.
        clock: Seconds, for the timer (tests).

    Raises:
        ValueError: not exactly one of scaffold and summary_op, or not exactly
            one period.
    """

    def __init__(
        self,
        save_steps: int | None = None,
        save_secs: float | None = None,
        output_dir: str | None = None,
        summary_writer: Any = None,
        scaffold: Any = None,
        summary_op: Any = None,
        *,
        clock: Clock = time.monotonic,
    ):
        if (scaffold is None) == (summary_op is None):
            raise ValueError("Exactly one of scaffold or summary_op must be provided.")
        self._summary_op = summary_op
        self._summary_writer = summary_writer
        self._output_dir = output_dir
        self._scaffold = scaffold
        self._timer = SharedTimer(save_secs, save_steps, clock=clock, name="summaries")

    def begin(self) -> None:
        """Finds the writer and the global step.

        Raises:
            RuntimeError: the graph has no global step.
        """
        if self._summary_writer is None and self._output_dir:
            self._summary_writer = FileWriterCache.get(self._output_dir)
        self._next_step: int | None = None
        self._before: int | None = None
        self._global_step_tensor = require_global_step_read("SummarySaverHook")
        # Our writer finishes summaries on its own thread: the step need not
        # wait for them (hooks.Deferred), unless a subclass reads them.
        writer = type(self._summary_writer)
        self._defer = (
            issubclass(writer, FileWriter)
            and writer.add_summary is FileWriter.add_summary
            and writer.add_event is FileWriter.add_event
            and type(self).after_run is SummarySaverHook.after_run
        )
        self._pending: list[DeferredValue] = []

    def _raise_failed(self, wait: bool = False) -> None:
        """Raises the error of a summary finished after its run, if one failed."""
        pending, self._pending = self._pending, []
        for value in pending:
            if wait or value.done():
                error = value.exception()
                if error is not None:
                    raise error
            else:
                self._pending.append(value)

    def _get_summary_op(self) -> list[Any] | None:
        op = (
            self._summary_op
            if self._summary_op is not None
            else self._scaffold.summary_op
        )
        if op is None:
            return None
        return op if isinstance(op, list) else [op]

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Requests the summaries when due, and the global step unless the host knows it.

        Raises:
            errors.InvalidArgumentError: a summary finished after its run
                since the last run failed (a NaN in a histogram).
        """
        if self._pending:
            self._raise_failed()
        next_step = self._next_step
        self._request_summary = request = next_step is None or (
            self._timer.should_trigger_for_step(next_step)
        )
        self._before = host_step(run_context.session, self._global_step_tensor)
        known = self._before is not None
        if known and not request:
            return None
        requests: dict[str, Any] = {}
        if not known:
            requests["global_step"] = self._global_step_tensor
        summary_op = self._get_summary_op() if request else None
        if summary_op is not None:
            later = self._defer and run_context.accepts_deferred
            requests["summary"] = Deferred(summary_op) if later else summary_op
        return SessionRunArgs(requests) if requests else None

    def _quiet_bounds(self, step: int) -> tuple | None:
        # Quiet runs (session/quiet_runs.py): before_run's timer check is at
        # the step after the last run + 1, its clock read before the run.
        # A run sets the next one's check at its own start + 2 (TF1's
        # stale + 1, + 1), at most the next start + 1: quiet runs start
        # above where the last started.
        if self._pending or not self._summary_writer or self._next_step != step + 1:
            return None
        due_step, due_time = self._timer.quiet_until()
        return due_step - 1, due_time, _INF, None

    def _quiet_before(self, step: int) -> None:
        self._request_summary = False
        self._before = step

    def _quiet_catch_up(self, start: int, end: int, runs: int) -> None:
        self._next_step = start + 2

    def after_run(
        self, run_context: SessionRunContext, run_values: SessionRunValues
    ) -> None:
        """Writes the fetched summaries at the post-run global step."""
        if not self._summary_writer:
            return
        results = run_values.results or {}
        session, tensor = run_context.session, self._global_step_tensor
        fetched = results.get("global_step")
        stale = self._before if fetched is None else int(fetched)
        if stale is not None and not (self._next_step is None or self._request_summary):
            # TF1 counts on from the step before the run (stale + 1), even
            # when the run moved the step by more or less than one per step.
            step = stale + run_context.steps_per_run
        else:
            # Written at the step after the run: the host's, else re-read.
            step = host_step(session, tensor) if fetched is None else None
            step = global_step(session, tensor) if step is None else step
        if self._next_step is None:
            self._summary_writer.add_session_log(
                SessionLog(status=SessionLog.START), step
            )
        if self._request_summary:
            self._timer.update_last_triggered_step(step)
            for summary in results.get("summary", []):
                if isinstance(summary, DeferredValue):
                    self._pending.append(summary)
                    self._summary_writer.add_summary(summary, step)
                else:
                    self._summary_writer.add_summary(_summary_bytes(summary), step)
        self._next_step = step + 1

    def end(self, session: Any = None) -> None:
        """Flushes the writer; raises the error of a summary that failed.

        Raises:
            errors.InvalidArgumentError: a summary finished after its run
                failed (a NaN in a histogram), raised here or by the run
                after it; TF1 raises it from the run that fetched it.
        """
        if self._summary_writer:
            self._summary_writer.flush()
        self._raise_failed(wait=True)


def _summary_bytes(value: Any) -> bytes:
    # A fetched string scalar may come back as a 0-d object array.
    return value.item() if isinstance(value, np.ndarray) else value


class NanLossDuringTrainingError(RuntimeError):
    """Raised by NanTensorHook when the loss is NaN.

    Args:
        global_step: The global step of the step whose loss was NaN, when
            known (multi-step runs).
    """

    def __init__(self, global_step: int | None = None):
        super().__init__()
        self.global_step = global_step

    def __str__(self) -> str:
        if self.global_step is None:
            return "NaN loss during training."
        return f"NaN loss during training at global step {self.global_step}."


class NanTensorHook(SessionRunHook):
    """Fails (or stops) when the loss is NaN.

    In a multi-step run the hook gets the loss (and the global step, if the
    graph has one) of every step, so a NaN in any step is caught, and the
    messages name the first such step and its global step (the value read
    in that step, before its increment).

    Args:
        loss_tensor: The loss tensor.
        fail_on_nan_loss: Raise NanLossDuringTrainingError; else log a
            warning and request a stop.
    """

    def __init__(self, loss_tensor: Any, fail_on_nan_loss: bool = True):
        self._loss_tensor = loss_tensor
        self._fail_on_nan_loss = fail_on_nan_loss
        self._global_step_tensor: Any = None
        self._per_step = False

    def begin(self) -> None:
        """Finds the global step's read tensor, if the graph has a global step."""
        read = get_global_step_read()
        if read is None:
            read = getattr(_global_step_or_none(), "_snapshot", None)
        self._global_step_tensor = read

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs:
        """Requests the loss (of every step, in a multi-step run)."""
        self._per_step = run_context.steps_per_run > 1
        if not self._per_step:
            return SessionRunArgs(self._loss_tensor)
        every = {"loss": self._loss_tensor}
        if self._global_step_tensor is not None:
            every["step"] = self._global_step_tensor
        return SessionRunArgs(EveryStep(every))

    def after_run(
        self, run_context: SessionRunContext, run_values: SessionRunValues
    ) -> None:
        """Checks the loss (of each step) for NaN.

        Raises:
            NanLossDuringTrainingError: the loss is NaN and ``fail_on_nan_loss``.
        """
        if not self._per_step:
            if np.isnan(run_values.results):
                self._diverged(run_context, "", None)
            return
        losses = np.asarray(run_values.results["loss"])
        nan = np.isnan(losses.reshape(len(losses), -1)).any(axis=1)
        if not nan.any():
            return
        i = int(np.argmax(nan))
        steps = run_values.results.get("step")
        step = None if steps is None else int(steps[i])
        at = f" at global step {step}" if step is not None else ""
        self._diverged(
            run_context, f"{at} (step {i + 1} of {len(losses)} of the run)", step
        )

    def _diverged(
        self, run_context: SessionRunContext, at: str, step: int | None
    ) -> None:
        source = getattr(getattr(self._loss_tensor, "op", None), "source", None)
        where = (
            f" (loss {self._loss_tensor.name} created at {source})" if source else ""
        )
        if self._fail_on_nan_loss:
            logger.error("Model diverged with loss = NaN%s.%s", at, where)
            raise NanLossDuringTrainingError(step)
        logger.warning("Model diverged with loss = NaN%s.%s", at, where)
        run_context.request_stop()


def _global_step_or_none() -> Any:
    try:
        return get_global_step()
    except TypeError:
        return None


class GlobalStepWaiterHook(SessionRunHook):
    """Delays a worker's first run until the global step reaches a value.

    Args:
        wait_until_step: The global step to wait for (<= 0: do not wait).
        sleep: Sleeps the given seconds between polls (tests).
    """

    def __init__(
        self, wait_until_step: int, *, sleep: Callable[[float], None] = time.sleep
    ):
        self._wait_until_step = wait_until_step
        self._sleep = sleep

    def begin(self) -> None:
        """Finds the global step.

        Raises:
            RuntimeError: the graph has no global step (TF1 names the hook
                ``_GlobalStepWaiterHook`` in the message; kept).
        """
        self._worker_is_started = False
        self._global_step_tensor = require_global_step_read("_GlobalStepWaiterHook")

    def before_run(self, run_context: SessionRunContext) -> None:
        """Before the first run, polls the global step every 0.5 s until it is reached."""
        if self._worker_is_started:
            return None
        if self._wait_until_step <= 0:
            self._worker_is_started = True
            return None
        logger.info(
            "Waiting for global step %d before starting training.",
            self._wait_until_step,
        )
        last_logged_step = 0
        while True:
            step = global_step(run_context.session, self._global_step_tensor)
            if step >= self._wait_until_step:
                self._worker_is_started = True
                return None
            if step - last_logged_step > 1000:
                logger.info(
                    "Waiting for global step %d before starting training. Current "
                    "step is %d.",
                    self._wait_until_step,
                    step,
                )
                last_logged_step = step
            self._sleep(0.5)


_FINAL_OPS_INPUT_WARNING = (
    "An OutOfRangeError or StopIteration exception is raised by the code in "
    "FinalOpsHook. This typically means the Ops running by the FinalOpsHook have a "
    "dependency back to some input source, which should not happen. For example, for "
    "metrics in tf.estimator.Estimator, all metrics functions return two Ops: "
    "`value_op` and  `update_op`. Estimator.evaluate calls the `update_op` for each "
    "batch of the data in input source and, once it is exhausted, it call the "
    "`value_op` to get the metric values. The `value_op` here should have dependency "
    "back to variables reading only, rather than reading another batch from input. "
    "Otherwise, the `value_op`, executed by `FinalOpsHook`, triggers another data "
    "reading, which ends OutOfRangeError/StopIteration. Please fix that."
)


class FinalOpsHook(SessionRunHook):
    """Runs ops once at the end and keeps their values.

    Args:
        final_ops: A fetch structure run in ``end``.
        final_ops_feed_dict: Feeds for that run.
    """

    def __init__(self, final_ops: Any, final_ops_feed_dict: Any = None):
        self._final_ops = final_ops
        self._final_ops_feed_dict = final_ops_feed_dict
        self._final_ops_values: Any = None

    @property
    def final_ops_values(self) -> Any:
        """The values of ``final_ops`` after ``end`` (None before)."""
        return self._final_ops_values

    def end(self, session: Any) -> None:
        """Runs the final ops.

        Raises:
            errors.OutOfRangeError: the ops read an exhausted input (logged first).
        """
        if self._final_ops is None:
            return
        try:
            self._final_ops_values = session.run(
                self._final_ops, feed_dict=self._final_ops_feed_dict
            )
        except (errors.OutOfRangeError, StopIteration):
            logger.warning(_FINAL_OPS_INPUT_WARNING)
            raise


class FeedFnHook(SessionRunHook):
    """Feeds ``feed_fn()`` into every run.

    Args:
        feed_fn: Returns a feed dict; called before each run.
    """

    def __init__(self, feed_fn: Callable[[], Any]):
        self.feed_fn = feed_fn

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs:
        """Requests the feeds."""
        return SessionRunArgs(fetches=None, feed_dict=self.feed_fn())


class ProfilerHook(SessionRunHook):
    """Profiles one run every N global steps or seconds with ``jax.profiler``.

    The first run is never profiled. A profiled run's trace is written as
    ``<output_dir>/timeline-<step>.json`` (Chrome trace format) and the full
    profile to ``<output_dir>/plugins/profile/step_<step>/`` for TensorBoard's
    profile plugin, with ``<step>`` the global step after the run.

    Differs from TF1: the timeline is jax.profiler's trace (host threads and
    device activity during the run), not one drawn from step stats;
    ``show_dataflow`` and ``show_memory`` are accepted and ignored. The run
    metadata added to the writer under ``step_<step>`` holds the step stats
    of a FULL_TRACE run (``session/tracing.py``; without the per-XLA-op
    nodes, as this hook's trace is running). A run that cannot start a trace
    (another trace is active) is not profiled and a warning is logged.

    Args:
        save_steps: Global steps between profiles.
        save_secs: Seconds between profiles.
        output_dir: Directory of the traces and of the cached FileWriter.
        show_dataflow: Ignored.
        show_memory: Ignored.
        clock: Seconds, for the timer (tests).

    Raises:
        ValueError: not exactly one period.
    """

    def __init__(
        self,
        save_steps: int | None = None,
        save_secs: float | None = None,
        output_dir: str = "",
        show_dataflow: bool = True,
        show_memory: bool = False,
        *,
        clock: Clock = time.monotonic,
    ):
        self._output_dir = Path(output_dir)
        self._file_writer = FileWriterCache.get(output_dir)
        self._timer = SecondOrStepTimer(save_secs, save_steps, clock=clock)
        self._trace_dir: Path | None = None

    def begin(self) -> None:
        """Finds the global step.

        Raises:
            RuntimeError: the graph has no global step.
        """
        self._next_step: int | None = None
        self._global_step_tensor = require_global_step_read("ProfilerHook")

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs:
        """Requests the global step; starts a trace when this run is profiled."""
        self._discard_trace()  # left open by a run that raised
        self._request_summary = self._next_step is not None and (
            self._timer.should_trigger_for_step(self._next_step)
        )
        if self._request_summary:
            self._request_summary = self._start_trace()
        # As TF1: a profiled run is also traced into its RunMetadata.
        options = RunOptions(trace_level=RunOptions.FULL_TRACE)
        return SessionRunArgs(
            {"global_step": self._global_step_tensor},
            options=options if self._request_summary else None,
        )

    def after_run(
        self, run_context: SessionRunContext, run_values: SessionRunValues
    ) -> None:
        """Saves the trace of a profiled run; the first run only arms the timer."""
        stale = int(run_values.results["global_step"])
        if self._next_step is None:
            self._timer.update_last_triggered_step(stale)
        step = stale + 1
        if self._request_summary:
            # Stop before re-reading the step, so the trace holds this run only.
            trace_dir = self._stop_trace()
            step = global_step(run_context.session, self._global_step_tensor)
            self._timer.update_last_triggered_step(step)
            self._save(trace_dir, step)
            self._file_writer.add_run_metadata(
                run_values.run_metadata, f"step_{step}", step
            )
        self._next_step = step + 1

    def end(self, session: Any) -> None:
        """Stops and discards a trace left open."""
        self._discard_trace()

    def _start_trace(self) -> bool:
        trace_dir = self._output_dir / f".profile-{time.time_ns()}"
        try:
            jax.profiler.start_trace(str(trace_dir))
        except RuntimeError as e:
            logger.warning("ProfilerHook skips this run: cannot start a trace (%s).", e)
            return False
        self._trace_dir = trace_dir
        return True

    def _discard_trace(self) -> None:
        trace_dir = self._stop_trace()
        if trace_dir is not None:
            shutil.rmtree(trace_dir, ignore_errors=True)

    def _stop_trace(self) -> Path | None:
        trace_dir, self._trace_dir = self._trace_dir, None
        if trace_dir is not None:
            jax.profiler.stop_trace()
        return trace_dir

    def _save(self, trace_dir: Path, step: int) -> None:
        runs = sorted((trace_dir / "plugins" / "profile").glob("*"))
        target = self._output_dir / "plugins" / "profile" / f"step_{step}"
        timeline = self._output_dir / f"timeline-{step}.json"
        logger.info("Saving timeline for %d into '%s'.", step, timeline)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if runs:
            shutil.move(str(runs[-1]), str(target))
            for trace in target.glob("*.trace.json.gz"):
                with gzip.open(trace, "rb") as src, timeline.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
        shutil.rmtree(trace_dir, ignore_errors=True)
