"""Quiet runs: monitored runs in which no hook has anything to do.

Most runs of a training loop are quiet for the default chief hooks: no
timer is due, nothing is fetched for them, and their callbacks only note
the step. The hooked layer (``_wrappers._HookedSession``) then skips the
callbacks and makes the caller's run alone; the hooks catch up on what
their ``after_run`` would have recorded when they are next called.

A hook class takes part (``@takes_part``) by defining, beside its own
``before_run`` and ``after_run``, three methods; a subclass or an instance
that replaces any of the five, or a class whose methods were replaced
(patched) since, takes no part, and its session calls every hook at every
run:

- ``_quiet_bounds(step)``: with ``step`` the host's global step at the start
  of the coming run, None when the hook may have work at it; else
  ``(below, before, after, event)``: while a run starts at a host step
  under ``below``, ``time.monotonic()`` is under ``before`` before the run
  and under ``after`` after it, and ``event`` (a ``threading.Event`` or
  None) is not set after it, its ``before_run`` would return None and its
  ``after_run`` would record only what ``_quiet_catch_up`` restores.
- ``_quiet_before(step)``: what its ``before_run`` sets at such a run, for a
  run found not quiet only after it ran (a deadline passed meanwhile).
- ``_quiet_catch_up(start, end, runs)``: what ``after_run`` would have
  recorded over ``runs`` quiet runs, the last from host step ``start`` to
  ``end``.

A hook that keeps ``SessionRunHook``'s own ``before_run`` and ``after_run``
(they do nothing) is no obstacle: it has nothing to do at any run.

Consecutive quiet runs also need the step to advance by each run alone:
each starts where the last ended, above the step the last started at.
"""

from __future__ import annotations

import time
from typing import Any

from jaxsession.session.hooks import SessionRunHook

_INF = float("inf")
_NAMES = (
    "before_run",
    "after_run",
    "_quiet_bounds",
    "_quiet_before",
    "_quiet_catch_up",
)


# The classes taking part, with their five methods as defined.
_TAKING_PART: dict[type, dict[str, Any]] = {}


def takes_part(cls: type) -> type:
    """Class decorator: ``cls`` takes part in quiet runs (see the module docstring)."""
    _TAKING_PART[cls] = {name: cls.__dict__[name] for name in _NAMES}
    return cls


def _takes_part(hook: Any) -> bool:
    """Whether ``hook``'s callbacks are those of a class taking part, as defined."""
    cls = type(hook)
    owner = next((c for c in cls.__mro__ if c in _TAKING_PART), None)
    if owner is None:
        return False
    own = getattr(hook, "__dict__", {})
    methods = _TAKING_PART[owner].items()
    return all(getattr(cls, n) is f and n not in own for n, f in methods)


def _idle(hook: Any) -> bool:
    """Whether ``hook`` keeps ``SessionRunHook``'s ``before_run`` and ``after_run``.

    Those do nothing, so such a hook (one that only watches the session's
    creation or end, say) has nothing to do at any run.
    """
    cls, own = type(hook), getattr(hook, "__dict__", {})
    return all(
        getattr(cls, n, None) is getattr(SessionRunHook, n) and n not in own
        for n in ("before_run", "after_run")
    )


class QuietRuns:
    """The quiet-run state of one hooked session.

    Args:
        hooks: The hooks, each taking part.
        host_step: The raw session's ``_host_global_step``.
        read: The global step's read tensor, the same for every hook.
    """

    def __init__(self, hooks: list[Any], host_step: Any, read: Any):
        self._hooks, self._host_step, self._read = hooks, host_step, read
        self._stale = True
        self._ok = False
        self._below = self._before = self._after = -_INF
        self._events: list[Any] = []
        self._prev_start: int | None = None
        self._prev_end: int | None = None
        self._runs = 0
        self._last: tuple[int, int] = (0, 0)

    @classmethod
    def for_hooks(cls, hooks: list[Any], sess: Any) -> QuietRuns | None:
        """The state for ``hooks`` over ``sess``, or None when a hook does not take part."""
        host_step = getattr(sess, "_host_global_step", None)
        hooks = [h for h in hooks if not _idle(h)]
        if not hooks or host_step is None or not all(map(_takes_part, hooks)):
            return None
        # A hook not begun yet has no read: its session calls it at every run.
        reads = [getattr(h, "_global_step_tensor", None) for h in hooks]
        read = reads[0]
        if read is None or any(r is not read for r in reads):
            return None
        return cls(hooks, host_step, read)

    def _bounds(self, step: int) -> None:
        below = before = after = _INF
        events = []
        for hook in self._hooks:
            bounds = hook._quiet_bounds(step)
            if bounds is None:
                self._ok = False
                return
            b, t0, t1, event = bounds
            below, before, after = min(below, b), min(before, t0), min(after, t1)
            if event is not None:
                events.append(event)
        self._ok = True
        self._below, self._before, self._after, self._events = (
            below,
            before,
            after,
            events,
        )
        self._prev_start, self._prev_end = None, step

    def start(self) -> int | None:
        """The host step at the start of the coming run if it can be quiet, else None."""
        step = self._host_step(self._read)
        if step is None:
            return None
        if self._stale:
            self._stale = False
            self._bounds(step)
        if (
            not self._ok
            or step != self._prev_end
            or (self._prev_start is not None and step <= self._prev_start)
            or step >= self._below
        ):
            return None
        if self._before != _INF and time.monotonic() >= self._before:
            return None
        return step

    def finish(self, start: int) -> bool:
        """Whether the run started at ``start`` was quiet; if so, counts it."""
        end = self._host_step(self._read)
        if end is None or (self._after != _INF and time.monotonic() >= self._after):
            return False
        for event in self._events:
            if event.is_set():
                return False
        self._runs += 1
        self._last = (start, end)
        self._prev_start, self._prev_end = start, end
        return True

    def catch_up(self) -> None:
        """Brings the hooks up to date on the quiet runs; bounds are recomputed next."""
        if self._runs:
            start, end = self._last
            for hook in self._hooks:
                hook._quiet_catch_up(start, end, self._runs)
            self._runs = 0
        self._stale = True

    def before(self, step: int) -> None:
        """Sets what the hooks' ``before_run`` would have at a quiet run from ``step``."""
        for hook in self._hooks:
            hook._quiet_before(step)
