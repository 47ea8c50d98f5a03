"""The SessionRunHook protocol: how hooks take part in a monitored session.

Lifecycle, as TF1's ``MonitoredSession`` drives it::

    for hook in hooks: hook.begin()                 # graph not finalized yet
    session = creator.create_session()              # init or restore
    for hook in hooks: hook.after_create_session(session, coord)
    while not monitored.should_stop():
        # one monitored.run(fetches, feed_dict):
        ctx = SessionRunContext(SessionRunArgs(fetches, feed_dict), session)
        requests = [hook.before_run(ctx) for hook in hooks]
        results = session.run(fetches + requested fetches, merged feeds)
        for hook in hooks:
            hook.after_run(ctx, SessionRunValues(results[hook], options, metadata))
        if ctx.stop_requested: should_stop() is True from now on
    for hook in hooks: hook.end(session)            # only at a clean close

A recovered session (after ``AbortedError``/``UnavailableError``) calls
``after_create_session`` again; ``begin`` and ``end`` run once.

If ``run`` raises ``OutOfRangeError`` or ``StopIteration``, no ``after_run`` is
called, but ``end`` is (end of data is a clean stop). For any other exception
neither ``after_run`` nor ``end`` is called and the exception propagates.
``request_stop()`` in ``before_run`` or ``after_run`` lets the current run
finish normally; the next ``should_stop()`` returns True.

Multi-step runs (``MonitoredSession(steps_per_run=K)``): one ``run`` makes
K training steps in one compiled call, and the hooks see it as one run;
fetched values are those of the last step. ``run_context.steps_per_run``
says how many steps the coming run makes, and in ``after_run`` how many it
made (fewer when the data ran out); a hook's ``before_run`` may
shorten the run with ``run_context.limit_steps(n)`` (StopAtStepHook does,
so as not to pass its last step). A hook that must see every step wraps
fetches in ``EveryStep(...)`` (anywhere in its fetch structure): their
values come stacked on a leading axis of the steps made (fewer than K when
the data ran out, and 1 when a later hook shortened the run to one step).
Hooks ask for per-step values only when ``steps_per_run > 1``, so a run of
one step is exactly TF1's.

Quiet runs: when every hook of a session is one of the default chief hooks
(StepCounterHook, SummarySaverHook, CheckpointSaverHook, PreemptionStopHook)
or StopAtStepHook and none has anything to do at a run, their callbacks are skipped and they
catch up on their counters when next called (``session/quiet_runs.py``);
what they fetch, write, log and save is the same. Any other hook keeps
every run calling every hook.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class SessionRunHook:
    """Base class of hooks; every callback does nothing by default."""

    def begin(self) -> None:
        """Called once before the session is created; may add ops to the graph."""

    def after_create_session(self, session: Any, coord: Any) -> None:
        """Called after each creation (or re-creation) of the raw session."""

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Called before each run; returns extra fetches/feeds or None."""
        return None

    def after_run(
        self, run_context: SessionRunContext, run_values: SessionRunValues
    ) -> None:
        """Called after each successful run with the hook's requested results."""

    def end(self, session: Any) -> None:
        """Called once at a clean close, with the raw session."""


class SessionRunArgs(NamedTuple):
    """Fetches, feeds and options a hook adds to the coming run."""

    fetches: Any
    feed_dict: Any = None
    options: Any = None


class SessionRunValues(NamedTuple):
    """What a hook gets back: its results, the run options and metadata."""

    results: Any
    options: Any
    run_metadata: Any


class Deferred:
    """Marks hook fetches (summaries) that a run may finish after it returns.

    Not in TF1. In a hook's ``SessionRunArgs.fetches`` (itself, or a value
    of its dict), ``Deferred(fetches)`` stands for ``fetches``; in a
    one-step run whose other fetches need no summary, their values come back
    as ``engine.deferred.DeferredValue``s, finished a run or two later once
    the device has made them, so the step does not wait for the device. ``FileWriter.add_summary``
    takes them. Otherwise the values are the usual ones.

    Args:
        fetches: Summary tensors (a tensor or a list of them).
    """

    __slots__ = ("fetches",)

    def __init__(self, fetches: Any):
        self.fetches = fetches

    def __repr__(self) -> str:
        return f"Deferred({self.fetches!r})"


class EveryStep:
    """Marks hook fetches whose values a multi-step run returns for every step.

    In a hook's ``SessionRunArgs.fetches``, ``EveryStep(fetches)`` stands
    for ``fetches`` with each value stacked on a leading axis of the steps
    the run made (see the module docstring). Only these values are stacked;
    the rest of a multi-step run's fetches are the last step's.

    Args:
        fetches: A fetch structure, as for ``Session.run``.
    """

    __slots__ = ("fetches",)

    def __init__(self, fetches: Any):
        self.fetches = fetches

    def __repr__(self) -> str:
        return f"EveryStep({self.fetches!r})"


class SessionRunContext:
    """The caller's run arguments and the raw session, shared by the hooks of one run.

    Args:
        original_args: ``SessionRunArgs(fetches, feed_dict)`` of the caller.
        session: The raw session; running through it bypasses the hooks.
        steps_per_run: Training steps the run makes (multi-step runs).
    """

    def __init__(
        self, original_args: SessionRunArgs, session: Any, steps_per_run: int = 1
    ):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False
        self._steps_per_run = steps_per_run
        # Set by the monitored session when it serves ``Deferred`` fetches.
        self.accepts_deferred = False

    @property
    def original_args(self) -> SessionRunArgs:
        """The caller's fetches and feed_dict (options are not recorded, as TF1)."""
        return self._original_args

    @property
    def session(self) -> Any:
        """The raw session."""
        return self._session

    @property
    def stop_requested(self) -> bool:
        """Whether a hook called ``request_stop()`` during this run."""
        return self._stop_requested

    def request_stop(self) -> None:
        """Asks the monitored session to stop after this run."""
        self._stop_requested = True

    @property
    def steps_per_run(self) -> int:
        """Steps of the run: planned in ``before_run``, made in ``after_run``.

        In ``before_run``, the session's steps_per_run less any limit; in
        ``after_run``, the steps the run made (fewer at the end of the data).
        Not in TF1 (one run is one step there).
        """
        return self._steps_per_run

    def limit_steps(self, steps: int) -> None:
        """Asks that the coming run make at most ``steps`` steps (in ``before_run``).

        After the run, the monitored session limits it to the steps made.

        Args:
            steps: The most steps the run may make (>= 1); a larger value
                than the current one changes nothing.

        Raises:
            ValueError: ``steps`` < 1.
        """
        if steps < 1:
            raise ValueError(f"a run makes at least one step, got limit_steps({steps})")
        self._steps_per_run = min(self._steps_per_run, steps)
