"""Fetched values finished after the run returns: summaries, off the step's path.

A run may defer the fetches that come out of host post ops (summaries):
``Session.run`` then returns without waiting for the device, and a
``DeferredValue`` stands for each such value until its post ops have run.
They run on the training thread, a run or two later, once the device has
made their inputs (``finish_ready``, which a monitored session calls after
each run with hooks), or on whichever thread asks for the value first. A
monitored run that writes a histogram every N steps then costs the loop only
the post ops' own host time (issue 16). No worker thread: on a host with
few cores, handing each summary to a thread cost the loop several times
the work itself (session 6's timeline in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import collections
import concurrent.futures
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from jaxsession.engine.host import run_host_post_ops, to_host
from jaxsession.engine.plan import Plan
from jaxsession.graph.core import Tensor


class _Work:
    """One run's deferred post ops: what computes them, and their device inputs."""

    __slots__ = ("arrays", "fn", "future")

    def __init__(self, fn: Callable[[], list[Any]], arrays: list[Any]):
        self.fn, self.arrays = fn, arrays
        self.future: concurrent.futures.Future = concurrent.futures.Future()


# The runs' work, oldest first. Whoever holds the lock runs the work it pops,
# so each runs once, in the order of the runs.
_lock = threading.Lock()
_queue: collections.deque[_Work] = collections.deque()


class DeferredValue:
    """One fetched value finished after its run returned.

    Differs from TF1, where every fetched value is ready when ``run`` returns.
    """

    __slots__ = ("_index", "_work")

    def __init__(self, work: _Work, index: int):
        self._work, self._index = work, index

    def done(self) -> bool:
        """Whether the value (or its error) is ready."""
        return self._work.future.done()

    def wait(self, timeout: float | None = None) -> bool:
        """Waits up to ``timeout`` seconds for another thread to finish it; whether done."""
        concurrent.futures.wait([self._work.future], timeout)
        return self.done()

    def result(self, timeout: float | None = None) -> Any:
        """The value, finished on this thread if nobody has yet.

        Raises:
            Whatever evaluating it raised (an InvalidArgumentError for a NaN
            in a histogram summary, ...).
        """
        _finish_through(self._work)
        return self._work.future.result(timeout)[self._index]

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The error the value failed with (None if it did not), finishing it first."""
        _finish_through(self._work)
        return self._work.future.exception(timeout)


def _run(work: _Work) -> None:
    try:
        result = work.fn()
    except Exception as e:
        work.future.set_exception(e)
    except BaseException:
        # A Ctrl-C (or exit) landing on the thread finishing the work is
        # that thread's, not the value's: the work goes back, to run again.
        _queue.appendleft(work)
        raise
    else:
        work.future.set_result(result)


def _finish_through(work: _Work) -> None:
    """Runs the queued work up to ``work`` on this thread, unless it is done."""
    if work.future.done():
        return
    with _lock:
        while not work.future.done() and _queue:
            _run(_queue.popleft())


def finish_ready() -> None:
    """Finishes on this thread the oldest queued work whose device inputs are ready.

    Never waits: it stops at the first work the device has not finished, or
    when another thread is finishing work, and leaves what others queue
    while it runs.
    """
    last = _last()
    if last is None or not _lock.acquire(blocking=False):
        return
    try:
        while (
            not last.future.done()
            and _queue
            and all(a.is_ready() for a in _queue[0].arrays)
        ):
            _run(_queue.popleft())
    finally:
        _lock.release()


def finish_all() -> None:
    """Finishes on this thread the work queued so far (a writer's flush, the end of training).

    Not what other threads queue meanwhile: a thread training on would keep
    a flush (the exit's, with a daemon thread training) from ever returning.
    """
    last = _last()
    if last is not None:
        _finish_through(last)


def _last() -> _Work | None:
    """The newest queued work, or None."""
    if _queue:  # raising IndexError costs an empty queue's check tenfold
        try:
            return _queue[-1]
        except IndexError:  # emptied by another thread meanwhile
            pass
    return None


def finish_later(
    plan: Plan,
    values: Mapping[Tensor, Any],
    order: Sequence[Tensor],
    buffers: Sequence[Any],
) -> list[DeferredValue]:
    """Queues the plan's post ops on ``values``, to run once the device is done.

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

    arrays = [v for v in snapshot.values() if isinstance(v, jax.Array)]
    work = _Work(finish, arrays)
    # Not under the lock, which a thread finishing older work holds.
    _queue.append(work)
    return [DeferredValue(work, i) for i in range(len(order))]


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
