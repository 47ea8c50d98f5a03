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
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from jaxsession.engine.host import run_host_post_ops, to_host
from jaxsession.engine.plan import Plan
from jaxsession.graph.core import Tensor

# One daemon worker, fed by a queue: values finish in the order of their
# runs, and (unlike a ThreadPoolExecutor, which refuses work once the main
# thread has returned) it serves training threads until the process ends.
_lock = threading.Lock()
_work: queue.SimpleQueue | None = None


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


def _submit(fn: Callable[[], list[Any]]) -> concurrent.futures.Future:
    global _work
    with _lock:
        if _work is None:
            _work = queue.SimpleQueue()
            threading.Thread(
                target=_serve, args=(_work,), name="jaxsession-deferred", daemon=True
            ).start()
        future: concurrent.futures.Future = concurrent.futures.Future()
        _work.put((fn, future))
    return future


def _serve(work: queue.SimpleQueue) -> None:
    while True:
        fn, future = work.get()
        try:
            future.set_result(fn())
        except BaseException as e:
            future.set_exception(e)


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
    inputs = {t for op in plan.host_post_ops for t in op.inputs}
    # Host values (feeds) may be the caller's buffers, refilled by the next
    # step: copied now, as the state buffers a later run may donate.
    snapshot = {
        t: (v.copy() if id(v) in state else v)
        if isinstance(v, jax.Array)
        else np.array(v, copy=True)
        if isinstance(v, np.ndarray)
        else v
        for t, v in values.items()
        if t in inputs
    }

    def finish() -> list[Any]:
        done = {t: to_host(t, v) for t, v in snapshot.items()}
        run_host_post_ops(plan, done)
        return [to_host(t, done[t]) for t in order]

    future = _submit(finish)
    return [DeferredValue(future, i) for i in range(len(order))]


def deferrable(plan: Plan, wanted: Sequence[Tensor]) -> frozenset[Tensor]:
    """The tensors of ``wanted`` a run of ``plan`` can defer: all of them or none.

    All when every host post op of the plan is there only to make them (a
    post op with another purpose, a queue's enqueue, runs before the run
    returns) and no other requested tensor comes from a post op.
    """
    want = frozenset(wanted)
    post = plan.host_post_ops
    made = {t: op for op in post for t in op.outputs}
    if not want or not want <= made.keys():
        return frozenset()
    if any(t in made and t not in want for t in plan.requested):
        return frozenset()
    needed: set[Any] = set()
    todo = [made[t] for t in want]
    while todo:
        op = todo.pop()
        if op not in needed:
            needed.add(op)
            todo.extend(made[t] for t in op.inputs if t in made)
    return want if needed == set(post) else frozenset()
