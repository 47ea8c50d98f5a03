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


class SessionRunContext:
    """The caller's run arguments and the raw session, shared by the hooks of one run.

    Args:
        original_args: ``SessionRunArgs(fetches, feed_dict)`` of the caller.
        session: The raw session; running through it bypasses the hooks.
    """

    def __init__(self, original_args: SessionRunArgs, session: Any):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

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
