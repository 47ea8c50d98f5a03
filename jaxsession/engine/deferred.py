"""Fetched values finished after the run returns: summaries, off the step's path.

A run may defer the fetches that come out of host post ops (summaries):
``Session.run`` then returns without waiting for the device, and one
background thread brings their inputs to the host and runs the post ops in
the order the runs were made. A ``DeferredValue`` stands for each such
value until then; ``FileWriter.add_summary`` takes one and resolves it on
its own writer thread, so a monitored run that writes a histogram every N
steps costs the step loop almost nothing (issue 16).
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import jax

from jaxsession.engine.host import run_host_post_ops, to_host
from jaxsession.engine.plan import Plan
from jaxsession.graph.core import Tensor

_lock = threading.Lock()
_executor: concurrent.futures.ThreadPoolExecutor | None = None


class DeferredValue:
    """One fetched value that a background thread finishes.

    Differs from TF1, where every fetched value is ready when ``run`` returns.
    """

    __slots__ = ("_future", "_index")

    def __init__(self, future: concurrent.futures.Future, index: int):
        self._future, self._index = future, index

    def done(self) -> bool:
        """Whether the value (or its error) is ready."""
        return self._future.done()

    def result(self, timeout: float | None = None) -> Any:
        """The value, waiting for it.

        Raises:
            Whatever evaluating it raised (an InvalidArgumentError for a NaN
            in a histogram summary, ...).
        """
        return self._future.result(timeout)[self._index]

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The error the value failed with (None if it did not), waiting for it."""
        return self._future.exception(timeout)


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            # One worker: values finish in the order of their runs.
            _executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="jaxsession-deferred"
            )
        return _executor


def finish_later(
    plan: Plan,
    values: Mapping[Tensor, Any],
    order: Sequence[Tensor],
    buffers: Sequence[Any],
) -> list[DeferredValue]:
    """Runs the plan's post ops on ``values`` in the background.

    Args:
        plan: The run's plan.
        values: The run's device and host values the post ops read.
        order: The deferred tensors, in the order of the returned values.
        buffers: The session's state buffers: a value that is one of them
            is copied first, as a later run may donate (delete) it.

    Returns:
        One ``DeferredValue`` per tensor of ``order``.
    """
    state = {id(b) for b in buffers}
    snapshot = {
        t: v.copy() if isinstance(v, jax.Array) and id(v) in state else v
        for t, v in values.items()
    }

    def finish() -> list[Any]:
        done = {t: to_host(t, v) for t, v in snapshot.items()}
        run_host_post_ops(plan, done)
        return [to_host(t, done[t]) for t in order]

    future = _pool().submit(finish)
    return [DeferredValue(future, i) for i in range(len(order))]


def deferrable(plan: Plan, wanted: Sequence[Tensor]) -> frozenset[Tensor]:
    """The tensors of ``wanted`` a run of ``plan`` can defer: all of them or none.

    All when each is made by a host post op and no other requested tensor
    is (those must be ready when the run returns).
    """
    made = {t for op in plan.host_post_ops for t in op.outputs}
    want = frozenset(wanted)
    if not want or not want <= made:
        return frozenset()
    if any(t in made and t not in want for t in plan.requested):
        return frozenset()
    return want


def resolve(value: Any) -> Any:
    """``value`` itself, or the result of a ``DeferredValue``."""
    return value.result() if isinstance(value, DeferredValue) else value
