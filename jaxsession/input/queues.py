"""TF1's queues and queue runners, run by host threads.

A queue is a graph object whose state lives in each session (as TF1's queue
resources did): ``("queue", queue)`` in the session's resources, created by
the queue's handle op on first use. Its ops are host ops:

- ``dequeue``/``dequeue_many``/``dequeue_up_to``, ``size``, ``is_closed``
  and ``close`` run before the device call (``HOST_OPS``), so a dequeued
  batch enters the step like a feed;
- ``enqueue``/``enqueue_many`` run after it (``HOST_POST_OPS``), so what
  they enqueue may be computed on the device (preprocessing) first.

A queue runner's threads call ``sess.run(enqueue_op)`` in a loop, as TF1's
did. A host op that must wait (a dequeue from an empty queue, an enqueue to
a full one) lets go of the session's run lock while it waits, so the other
threads' runs go on meanwhile. Closing a session cancels its queues: waiting
ops raise ``errors.CancelledError``.

Differs from TF1: ``PriorityQueue``, ``IdentityReader``, ``maybe_batch`` and
``maybe_shuffle_batch`` raise ``errors.UnimplementedError``.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import GraphKeys, Operation, Tensor, get_default_graph
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.random import get_seed
from jaxsession.graph.rules import (
    HOST_OPS,
    HOST_POST_OPS,
    NOT_DIFFERENTIABLE,
    SESSION_CLOSED,
    add_resource,
)

logger = logging.getLogger("jaxsession")

_POLL_SECS = 0.1
# A dequeue waiting longer than this logs a warning (once).
_WARN_SECS = 10
# How long the interpreter's exit waits for runner threads to end.
_EXIT_GRACE_SECS = 2.0
# Live queue states and runner threads, to end them before the interpreter
# exits: a daemon thread killed inside a compiled call aborts the process.
_STATES: weakref.WeakSet[QueueState] = weakref.WeakSet()
_THREADS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


@atexit.register
def _end_runner_threads() -> None:
    for state in list(_STATES):
        state.stop()
    for thread in list(_THREADS):
        thread.join(_EXIT_GRACE_SECS)


def host_seed(seed: int | None) -> int | None:
    """The NumPy seed of a host op's draws; None (fresh draws, as in TF1) unseeded."""
    graph_seed, op_seed = get_seed(seed)
    if graph_seed is None and seed is None:
        return None
    return hash((graph_seed, op_seed)) % 2**32


def _host_only(*_: Any, **__: Any) -> Any:
    raise RuntimeError("queue ops are evaluated on the host by the session")


@contextlib.contextmanager
def released(lock: Any) -> Iterator[None]:
    """Lets go of the session's run lock (an RLock) inside the block, if held.

    A host op that waits must not hold it: the runs that would end the wait
    (a queue runner's enqueue) need it.
    """
    if lock is None or not lock._is_owned():
        yield
        return
    state = lock._release_save()
    try:
        yield
    finally:
        lock._acquire_restore(state)


def wait_for(
    cond: threading.Condition, lock: Any, ready: Any, timeout: float | None = None
) -> None:
    """Waits (``cond`` not held) until ``ready()`` or ``timeout`` seconds pass.

    The session's run lock is released meanwhile.
    """
    end = None if timeout is None else time.monotonic() + timeout
    with released(lock), cond:
        while not ready() and (end is None or time.monotonic() < end):
            cond.wait(_POLL_SECS)


class QueueState:
    """A queue's elements in one session, shared by the threads that run its ops."""

    def __init__(self, queue: QueueBase, lock: Any, seed: int | None):
        self.queue = queue
        self.lock = lock  # the session's run lock
        self.cond = threading.Condition()
        self.items: collections.deque[tuple[Any, ...]] = collections.deque()
        self.closed = False
        self.dead = False  # the session closed: every op is cancelled
        self.rng = np.random.default_rng(seed)
        _STATES.add(self)

    def stop(self) -> None:
        """Cancels the queue (the session is closing): waiting ops raise."""
        with self.cond:
            self.closed = self.dead = True
            self.cond.notify_all()

    # -- enqueue --------------------------------------------------------------------

    def put(self, op: Operation, rows: list[tuple[Any, ...]]) -> None:
        """Appends ``rows``, waiting while the queue is full.

        Raises:
            errors.CancelledError: the queue is (or gets) closed.
        """
        capacity = self.queue.capacity
        for row in rows:
            while True:
                with self.cond:
                    self._check_open(op)
                    if capacity is None or len(self.items) < capacity:
                        self.items.append(row)
                        self.cond.notify_all()
                        break
                wait_for(
                    self.cond,
                    self.lock,
                    lambda: self.closed or len(self.items) < capacity,
                )

    def _check_open(self, op: Operation) -> None:
        if self.closed:
            raise errors.CancelledError(
                None,
                op,
                f"{self.queue.kind} '{self.queue.name}' is closed. (op {op.name!r})",
            )

    # -- dequeue --------------------------------------------------------------------

    def take(self, op: Operation, n: int, up_to: bool) -> list[tuple[Any, ...]]:
        """``n`` rows (fewer for ``up_to`` once closed), waiting for them."""
        start = time.monotonic()
        while True:
            with self.cond:
                rows = self._try_take(op, n, up_to)
                if rows is not None:
                    self.cond.notify_all()
                    return rows
            wait_for(
                self.cond, self.lock, lambda: self.closed or self._ready(n), _WARN_SECS
            )
            if start is not None and time.monotonic() - start > _WARN_SECS:
                start = None  # warn once per dequeue
                # TF1 hangs silently here; the usual cause is a missing call.
                logger.warning(
                    "%s has waited %g s for %d elements of %s (size %d): were its "
                    "queue runners started (tf.train.start_queue_runners)?",
                    op.name,
                    _WARN_SECS,
                    n,
                    self.queue.name,
                    len(self.items),
                )

    def _ready(self, n: int) -> bool:
        return len(self.items) >= n + self.queue.min_after_dequeue

    def _try_take(self, op: Operation, n: int, up_to: bool) -> list | None:
        if self.dead:
            raise errors.CancelledError(
                None, op, f"Dequeue operation was cancelled (queue {self.queue.name!r})"
            )
        if not self.closed and not self._ready(n):
            return None
        if self.closed and (len(self.items) < n and not (up_to and self.items)):
            raise errors.OutOfRangeError(
                None,
                op,
                f"{self.queue.kind} '{self.queue.name}' is closed and has "
                f"insufficient elements (requested {n}, current size "
                f"{len(self.items)}) (op {op.name!r})",
            )
        count = min(n, len(self.items))
        if self.queue.kind != "RandomShuffleQueue":
            return [self.items.popleft() for _ in range(count)]
        rows = []
        for _ in range(count):
            i = int(self.rng.integers(len(self.items)))
            self.items[i], self.items[-1] = self.items[-1], self.items[i]
            rows.append(self.items.pop())
        return rows

    def close(self) -> None:
        """Closes the queue; waiting enqueues raise CancelledError."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()


# -- the graph side ----------------------------------------------------------------


def _queue_state(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[Any]:
    queue = op.attrs["queue"]
    key = ("queue", queue)
    state = ctx.resources.get(key)
    if state is None:
        state = QueueState(queue, getattr(ctx, "run_lock", None), queue.seed)
        if SESSION_CLOSED in ctx.resources or not add_resource(
            ctx.resources, key, state
        ):
            state.stop()
            raise errors.CancelledError(
                None, op, f"Session was closed: queue {queue.name!r} is gone"
            )
    handle = np.empty((), dtype=object)
    handle[()] = state
    return (handle,)


def _state(op: Operation, inputs: Sequence[Any]) -> QueueState:
    """The queue state behind ``op``'s handle input."""
    if not inputs:
        # A multi-step run evaluates host ops once, without their inputs.
        raise errors.UnimplementedError(
            None,
            op,
            f"{errors.op_site(op)} uses a queue, which cannot feed a multi-step "
            "run (steps_per_run > 1); use a tf.data iterator there.",
        )
    return np.asarray(inputs[0], dtype=object)[()]


def _as_rows(op: Operation, values: Sequence[Any], many: bool) -> list[tuple]:
    queue = op.attrs["queue"]
    arrays = [
        np.asarray(v, dtype=object if d is dtypes_lib.string else d.np_dtype)
        for v, d in zip(values, queue.dtypes)
    ]
    if not many:
        return [tuple(arrays)]
    sizes = {len(a) for a in arrays}
    if len(sizes) != 1:
        raise errors.InvalidArgumentError(
            None, op, f"enqueue_many components differ in size: {sorted(sizes)}"
        )
    return list(zip(*arrays))


def _enqueue(op: Operation, values: list[Any]) -> Any:
    rows = _as_rows(op, values[1:], op.attrs["many"])
    _state(op, values).put(op, rows)
    return np.zeros((), np.int32)


def _stack(queue: QueueBase, rows: list[tuple], i: int) -> np.ndarray:
    column = [np.asarray(r[i]) for r in rows]
    dtype = queue.dtypes[i]
    np_dtype = object if dtype is dtypes_lib.string else dtype.np_dtype
    if not column:
        shape = queue.shapes[i].as_list() if queue.shapes[i].ndims is not None else []
        return np.zeros([0, *[d or 0 for d in shape]], np_dtype)
    if queue.kind == "PaddingFIFOQueue":
        width = np.max([c.shape for c in column], axis=0)
        fill = b"" if dtype is dtypes_lib.string else 0
        out = np.full((len(column), *width), fill, dtype=np_dtype)
        for j, c in enumerate(column):
            out[(j, *(slice(0, d) for d in c.shape))] = c
        return out
    return np.stack(column).astype(np_dtype, copy=False)


def _dequeue(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[Any, ...]:
    queue, n = op.attrs["queue"], op.attrs["n"]
    rows = _state(op, inputs).take(op, 1 if n is None else n, op.attrs["up_to"])
    if n is None:
        return rows[0]
    return tuple(_stack(queue, rows, i) for i in range(len(queue.dtypes)))


def _close(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[()]:
    # Pending enqueues wake up to a closed queue and raise CancelledError
    # whether or not cancel_pending_enqueues is set.
    _state(op, inputs).close()
    return ()


def _size(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[Any]:
    return (np.int32(len(_state(op, inputs).items)),)


def _is_closed(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[Any]:
    return (np.bool_(_state(op, inputs).closed),)


HOST_OPS.update(
    {
        "QueueHandle": _queue_state,
        "QueueDequeueV2": _dequeue,
        "QueueCloseV2": _close,
        "QueueSizeV2": _size,
        "QueueIsClosedV2": _is_closed,
    }
)
HOST_POST_OPS["QueueEnqueueV2"] = _enqueue
NOT_DIFFERENTIABLE.update(("QueueHandle", "QueueDequeueV2", "QueueEnqueueV2"))


def _dtypes(value: Any) -> list[dtypes_lib.DType]:
    if not isinstance(value, list | tuple):
        value = [value]
    return [dtypes_lib.as_dtype(d) for d in value]


class QueueBase:
    """A queue of tuples of tensors (``tf.QueueBase``); see the module docstring.

    Args:
        kind: ``"FIFOQueue"``, ``"RandomShuffleQueue"`` or ``"PaddingFIFOQueue"``.
        capacity: The most elements it holds; enqueues wait beyond it.
        dtypes: The dtype of each component.
        shapes: The shape of each component (optional for a FIFOQueue;
            ``None`` dims allowed for a PaddingFIFOQueue).
        names: Optional component names: elements are then dicts.
        min_after_dequeue: Elements a dequeue leaves (RandomShuffleQueue).
        seed: Op seed of a RandomShuffleQueue's draws.
        name: The queue's op name.
    """

    def __init__(
        self,
        kind: str,
        capacity: int,
        dtypes: Any,
        shapes_: Any = None,
        names: Any = None,
        min_after_dequeue: int = 0,
        seed: int | None = None,
        name: str | None = None,
    ):
        self.kind, self.capacity = kind, int(capacity)
        self.dtypes = _dtypes(dtypes)
        if shapes_ is None:
            shapes_ = [None] * len(self.dtypes)
        elif not isinstance(shapes_, list | tuple) or (
            shapes_
            and not isinstance(shapes_[0], list | tuple | shapes.TensorShape)
            and shapes_[0] is not None
        ):
            shapes_ = [shapes_]
        self.shapes = [shapes.as_shape(s) for s in shapes_]
        if len(self.shapes) != len(self.dtypes):
            raise ValueError(
                f"Queue shapes must have the same length as dtypes: "
                f"{len(self.shapes)} shapes for {len(self.dtypes)} dtypes"
            )
        self.names = list(names) if names is not None else None
        self.min_after_dequeue = int(min_after_dequeue)
        self.seed = host_seed(seed)
        self._handle_op = make_op(
            "QueueHandle",
            _host_only,
            (),
            name=name or kind.replace("Queue", "_queue").lower(),
            attrs={"queue": self},
            out_avals=[Aval((), dtypes_lib.string)],
        )
        self.name = self._handle_op.name
        self.graph = self._handle_op.graph

    def __repr__(self) -> str:
        return f"<{self.kind} '{self.name}' capacity={self.capacity}>"

    @property
    def queue_ref(self) -> Tensor:
        """The queue's handle tensor."""
        return self._handle_op.outputs[0]

    @property
    def op(self) -> Operation:
        """The op making the queue's handle."""
        return self._handle_op

    # -- enqueue ------------------------------------------------------------------

    def _components(self, vals: Any, many: bool) -> list[Tensor]:
        if isinstance(vals, dict):
            if self.names is None:
                raise ValueError("Queue must have names to enqueue a dictionary")
            vals = [vals[n] for n in self.names]
        elif not isinstance(vals, list | tuple):
            vals = [vals]
        if len(vals) != len(self.dtypes):
            raise ValueError(
                f"Expected {len(self.dtypes)} components for {self.name!r}, got {len(vals)}"
            )
        tensors = [convert_to_tensor(v, dtype=d) for v, d in zip(vals, self.dtypes)]
        for t, s in zip(tensors, self.shapes):
            got = t.shape[1:] if many and t.shape.ndims else t.shape
            if not s.is_compatible_with(got):
                raise ValueError(
                    f"Shape {t.shape} of {t.name} is incompatible with the shape "
                    f"{s} of queue {self.name!r}"
                )
        return tensors

    def _enqueue(self, vals: Any, many: bool, name: str | None) -> Operation:
        tensors = self._components(vals, many)
        return make_op(
            "QueueEnqueueV2",
            _host_only,
            [self.queue_ref, *tensors],
            name=name or f"{self._base()}_{'EnqueueMany' if many else 'enqueue'}",
            attrs={"queue": self, "many": many},
            out_avals=[Aval((), dtypes_lib.int32)],
        )

    def _base(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    def enqueue(self, vals: Any, name: str | None = None) -> Operation:
        """An op adding one element; it waits while the queue is full.

        Raises:
            ValueError: the components do not fit the queue's dtypes or shapes.
        """
        return self._enqueue(vals, False, name)

    def enqueue_many(self, vals: Any, name: str | None = None) -> Operation:
        """An op adding the slices of ``vals`` along dimension 0 as elements."""
        return self._enqueue(vals, True, name)

    # -- dequeue ------------------------------------------------------------------

    def _dequeue(self, n: int | None, up_to: bool, name: str | None) -> Any:
        avals = []
        for d, s in zip(self.dtypes, self.shapes):
            dims = s.as_tuple()
            if n is not None:
                lead = None if up_to else n
                dims = None if dims is None else (lead, *dims)
            avals.append(Aval(dims, d))
        op = make_op(
            "QueueDequeueV2",
            _host_only,
            [self.queue_ref],
            name=name or f"{self._base()}_Dequeue",
            attrs={"queue": self, "n": n, "up_to": up_to},
            out_avals=avals,
        )
        outs = list(op.outputs)
        if self.names is not None:
            return dict(zip(self.names, outs))
        return outs[0] if len(outs) == 1 else outs

    def dequeue(self, name: str | None = None) -> Any:
        """The next element: one Tensor per component (a single one alone)."""
        return self._dequeue(None, False, name)

    def dequeue_many(self, n: int, name: str | None = None) -> Any:
        """``n`` elements stacked; past the end of a closed queue, OutOfRangeError."""
        return self._dequeue(int(n), False, name)

    def dequeue_up_to(self, n: int, name: str | None = None) -> Any:
        """Up to ``n`` elements: fewer once the queue is closed with fewer left."""
        return self._dequeue(int(n), True, name)

    # -- state --------------------------------------------------------------------

    def close(
        self, cancel_pending_enqueues: bool = False, name: str | None = None
    ) -> Operation:
        """An op closing the queue: later enqueues fail, dequeues drain it."""
        return make_op(
            "QueueCloseV2",
            _host_only,
            [self.queue_ref],
            name=name or f"{self._base()}_Close",
            attrs={"cancel": bool(cancel_pending_enqueues)},
            out_avals=[],
        )

    def size(self, name: str | None = None) -> Tensor:
        """The number of elements in the queue (int32)."""
        return make_op(
            "QueueSizeV2",
            _host_only,
            [self.queue_ref],
            name=name or f"{self._base()}_Size",
            out_avals=[Aval((), dtypes_lib.int32)],
        ).outputs[0]

    def is_closed(self, name: str | None = None) -> Tensor:
        """Whether the queue is closed (bool)."""
        return make_op(
            "QueueIsClosedV2",
            _host_only,
            [self.queue_ref],
            name=name or f"{self._base()}_IsClosed",
            out_avals=[Aval((), dtypes_lib.bool_)],
        ).outputs[0]


class FIFOQueue(QueueBase):
    """A first-in first-out queue (``tf.FIFOQueue``)."""

    def __init__(
        self,
        capacity: int,
        dtypes: Any,
        shapes: Any = None,
        names: Any = None,
        shared_name: str | None = None,
        name: str = "fifo_queue",
    ):
        super().__init__("FIFOQueue", capacity, dtypes, shapes, names, name=name)


class PaddingFIFOQueue(QueueBase):
    """A FIFO queue whose ``dequeue_many`` pads ``None`` dims with zeros (``tf.PaddingFIFOQueue``)."""

    def __init__(
        self,
        capacity: int,
        dtypes: Any,
        shapes: Any,
        names: Any = None,
        shared_name: str | None = None,
        name: str = "padding_fifo_queue",
    ):
        super().__init__("PaddingFIFOQueue", capacity, dtypes, shapes, names, name=name)


class RandomShuffleQueue(QueueBase):
    """A queue dequeuing elements at random, keeping ``min_after_dequeue`` (``tf.RandomShuffleQueue``)."""

    def __init__(
        self,
        capacity: int,
        min_after_dequeue: int,
        dtypes: Any,
        shapes: Any = None,
        names: Any = None,
        seed: int | None = None,
        shared_name: str | None = None,
        name: str = "random_shuffle_queue",
    ):
        super().__init__(
            "RandomShuffleQueue",
            capacity,
            dtypes,
            shapes,
            names,
            min_after_dequeue=min_after_dequeue,
            seed=seed,
            name=name,
        )


# -- queue runners -----------------------------------------------------------------

_CLOSED = (errors.OutOfRangeError, errors.CancelledError)


class QueueRunner:
    """Threads that run a queue's enqueue ops until its input ends (``tf.train.QueueRunner``).

    Args:
        queue: The queue the ops fill.
        enqueue_ops: The ops, each run in a loop by its own thread.
        close_op: Run when the last thread ends (default ``queue.close()``).
        cancel_op: Run when the coordinator asks to stop (default
            ``queue.close(cancel_pending_enqueues=True)``).
        queue_closed_exception_types: Errors that end a thread quietly
            (default ``OutOfRangeError`` and ``CancelledError``).
    """

    def __init__(
        self,
        queue: QueueBase | None = None,
        enqueue_ops: Sequence[Operation] | None = None,
        close_op: Operation | None = None,
        cancel_op: Operation | None = None,
        queue_closed_exception_types: Any = None,
        queue_runner_def: Any = None,
        import_scope: str | None = None,
    ):
        if queue is None or not enqueue_ops:
            raise ValueError("QueueRunner needs a queue and enqueue ops")
        self.queue = queue
        self.enqueue_ops = list(enqueue_ops)
        self.close_op = close_op if close_op is not None else queue.close()
        self.cancel_op = (
            cancel_op
            if cancel_op is not None
            else queue.close(cancel_pending_enqueues=True)
        )
        self.queue_closed_exception_types = tuple(
            queue_closed_exception_types or _CLOSED
        )
        self._lock = threading.Lock()
        self._runs: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._exceptions_raised: list[BaseException] = []

    @property
    def name(self) -> str:
        """The queue's name."""
        return self.queue.name

    @property
    def exceptions_raised(self) -> list[BaseException]:
        """Errors of threads that ran without a coordinator."""
        return list(self._exceptions_raised)

    def _run(self, sess: Any, enqueue_op: Operation, coord: Any) -> None:
        decremented = False
        try:
            while not (coord is not None and coord.should_stop()):
                try:
                    sess.run(enqueue_op)
                except self.queue_closed_exception_types:
                    with self._lock:
                        self._runs[sess] -= 1
                        decremented = True
                        last = self._runs[sess] == 0
                    if last:
                        _quietly(sess, self.close_op)
                    return
        except Exception as e:
            if getattr(sess, "closed", False):
                return  # the session closed under the thread: nothing to report
            if coord is not None:
                coord.request_stop(e)
            else:
                logger.error("Exception in QueueRunner %s: %s", self.name, e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            if not decremented:
                with self._lock:
                    self._runs[sess] -= 1

    def _close_on_stop(self, sess: Any, coord: Any) -> None:
        coord.wait_for_stop()
        _quietly(sess, self.cancel_op)

    def create_threads(
        self, sess: Any, coord: Any = None, daemon: bool = False, start: bool = False
    ) -> list[threading.Thread]:
        """Threads running the enqueue ops in ``sess`` (and one cancelling on stop).

        Returns:
            The threads, started if ``start``; none if this runner already
            runs in ``sess``.
        """
        with self._lock:
            if self._runs.get(sess, 0) > 0:
                return []
            self._runs[sess] = len(self.enqueue_ops)
            self._exceptions_raised = []
        threads = [
            threading.Thread(
                target=self._run,
                args=(sess, op, coord),
                name=f"QueueRunnerThread-{self.name}-{op.name}",
                daemon=daemon,
            )
            for op in self.enqueue_ops
        ]
        if coord is not None:
            threads.append(
                threading.Thread(
                    target=self._close_on_stop,
                    args=(sess, coord),
                    name=f"QueueRunnerThread-{self.name}-close_on_stop",
                    daemon=True,
                )
            )
        for t in threads:
            _THREADS.add(t)
            if coord is not None:
                coord.register_thread(t)
            if start:
                t.start()
        return threads


def _quietly(sess: Any, op: Operation) -> None:
    try:
        sess.run(op)
    except Exception as e:  # the session may be closing
        logger.debug("Ignored exception running %s: %s", op.name, e)


def add_queue_runner(
    qr: QueueRunner, collection: str = GraphKeys.QUEUE_RUNNERS
) -> None:
    """Adds ``qr`` to the graph's queue runners (``tf.train.add_queue_runner``)."""
    get_default_graph().add_to_collection(collection, qr)


def start_queue_runners(
    sess: Any = None,
    coord: Any = None,
    daemon: bool = True,
    start: bool = True,
    collection: str = GraphKeys.QUEUE_RUNNERS,
) -> list[threading.Thread]:
    """Starts the threads of every queue runner of the session's graph.

    Args:
        sess: The session (default: the default session).
        coord: A ``Coordinator`` that the threads report to and stop on.
        daemon: Whether the threads are daemons.
        start: Whether to start them.
        collection: The collection holding the queue runners.

    Returns:
        The threads.

    Raises:
        ValueError: no session is given and none is the default.
    """
    from jaxsession.graph.core import get_default_session

    if sess is None:
        sess = get_default_session()
        if sess is None:
            raise ValueError(
                "Cannot start queue runners: No default session is registered. Use "
                "`with sess.as_default()` or pass an explicit session to "
                "tf.start_queue_runners(sess=sess)"
            )
    if type(sess).__name__ in ("MonitoredSession", "SingularMonitoredSession"):
        return []  # it started them itself
    threads: list[threading.Thread] = []
    for qr in sess.graph.get_collection(collection):
        threads.extend(qr.create_threads(sess, coord, daemon, start))
    return threads


def _unimplemented(name: str, hint: str) -> Any:
    def raise_unimplemented(*args: Any, **kwargs: Any) -> Any:
        raise errors.UnimplementedError(
            None, None, f"{name} is not supported by jaxsession; use {hint}."
        )

    raise_unimplemented.__name__ = raise_unimplemented.__qualname__ = name
    raise_unimplemented.__doc__ = f"Raises errors.UnimplementedError: use {hint}."
    return raise_unimplemented


PriorityQueue = _unimplemented("PriorityQueue", "tf.FIFOQueue")
