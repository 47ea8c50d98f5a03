"""TF1's input producers and batching functions, built on queues and runners.

``string_input_producer`` & co. fill a queue, one epoch per run of their
enqueue op, and close it after ``num_epochs`` (counted, as in TF1, against a
local variable ``limit_epochs/epochs``: ``local_variables_initializer()``
must run first). ``batch``/``shuffle_batch`` & co. enqueue one element (or
a batch, with ``enqueue_many``) per run from their runner's threads and
dequeue ``batch_size`` at a time in the training step.

Differs from TF1: the epoch count lives with the session's queue state, so
running ``local_variables_initializer()`` again does not restart the epochs;
an input producer's input must be constant or fed (it is shuffled on the host).
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from typing import Any

import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.constant import constant
from jaxsession.graph.core import GraphKeys, Operation, Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import (
    HOST_OPS,
    NOT_DIFFERENTIABLE,
    QUEUE_FILL_SUMMARY,
    constant_value,
)
from jaxsession.graph.variables import Variable
from jaxsession.input.queues import (
    FIFOQueue,
    PaddingFIFOQueue,
    QueueBase,
    QueueRunner,
    RandomShuffleQueue,
    _host_only,
    _unimplemented,
    add_queue_runner,
    host_seed,
)

# -- epochs --------------------------------------------------------------------------


class _Epochs:
    def __init__(self, seed: int | None):
        self.count = 0
        self.rng = np.random.default_rng(seed)


def _epoch(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[Any]:
    var, limit = op.attrs["epochs"], op.attrs["num_epochs"]
    if var is not None and not ctx.is_initialized(var):
        raise errors.FailedPreconditionError(
            None,
            op,
            f"Attempting to use uninitialized value {var.name.split(':')[0]} "
            "(run tf.local_variables_initializer() first)",
        )
    state = ctx.resources.get(("epochs", op))
    if state is None:
        state = ctx.resources[("epochs", op)] = _Epochs(op.attrs["seed"])
    if limit is not None and state.count >= limit:
        raise errors.OutOfRangeError(
            None, op, f"Reached limit of {limit} (op {op.name!r})"
        )
    state.count += 1
    value = inputs[0]
    if op.attrs["shuffle"]:
        value = np.asarray(value)[state.rng.permutation(len(value))]
    return (value,)


def _slice_at(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[Any]:
    return (np.asarray(inputs[0])[int(inputs[1])],)


HOST_OPS.update({"InputProducerEpoch": _epoch, "SliceAt": _slice_at})
NOT_DIFFERENTIABLE.update(("InputProducerEpoch", "SliceAt"))


def _epochs(
    tensor: Tensor, num_epochs: int | None, shuffle: bool, seed: int | None
) -> Tensor:
    """``tensor`` once per run, shuffled along axis 0 if asked, ``num_epochs`` times."""
    var = None
    if num_epochs is not None:
        with name_scope("limit_epochs"):
            var = Variable(
                np.int64(0),
                trainable=False,
                collections=[GraphKeys.LOCAL_VARIABLES],
                name="epochs",
            )
    return make_op(
        "InputProducerEpoch",
        _host_only,
        [tensor],
        name="limit_epochs" if num_epochs is not None else "epoch",
        attrs={
            "epochs": var,
            "num_epochs": num_epochs,
            "shuffle": bool(shuffle),
            "seed": host_seed(seed),
        },
        out_avals=[tensor.op.out_avals[tensor.value_index]],
    ).outputs[0]


def limit_epochs(
    tensor: Any, num_epochs: int | None = None, name: str | None = None
) -> Tensor:
    """``tensor``, given ``num_epochs`` times, then OutOfRangeError (``tf.train.limit_epochs``)."""
    with name_scope(name, "limit_epochs"):
        return _epochs(convert_to_tensor(tensor), num_epochs, False, None)


def input_producer(
    input_tensor: Any,
    element_shape: Any = None,
    num_epochs: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    capacity: int = 32,
    shared_name: str | None = None,
    summary_name: str | None = None,
    name: str | None = None,
    cancel_op: Operation | None = None,
) -> QueueBase:
    """A queue filled with the rows of ``input_tensor``, epoch after epoch (``tf.train.input_producer``).

    Returns:
        The FIFOQueue; its runner is in the QUEUE_RUNNERS collection.

    Raises:
        ValueError: the element shape is unknown.
    """
    with name_scope(name, "input_producer"):
        tensor = convert_to_tensor(input_tensor)
        element_shape = shapes.as_shape(
            tensor.shape[1:] if element_shape is None else element_shape
        )
        if not element_shape.is_fully_defined():
            raise ValueError(
                "Either `input_tensor` must have a fully defined shape or "
                "`element_shape` must be specified"
            )
        epoch = _epochs(tensor, num_epochs, shuffle, seed)
        queue = FIFOQueue(capacity, [tensor.dtype], [element_shape], name="fifo_queue")
        enqueue = queue.enqueue_many([epoch])
        add_queue_runner(QueueRunner(queue, [enqueue], cancel_op=cancel_op))
        if summary_name is not None:
            _fill_summary(queue, capacity, 0, summary_name)
        return queue


def _fill_summary(queue: QueueBase, capacity: int, keep: int, name: str) -> None:
    """Adds TF1's summary of how full ``queue`` is (``fraction_of_N_full``)."""
    for build in QUEUE_FILL_SUMMARY:
        build(queue.size(), capacity, keep, name)


def string_input_producer(
    string_tensor: Any,
    num_epochs: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    capacity: int = 32,
    shared_name: str | None = None,
    name: str | None = None,
    cancel_op: Operation | None = None,
) -> QueueBase:
    """A queue of the strings (filenames), ``num_epochs`` times, shuffled per epoch.

    Raises:
        ValueError: no strings are given.
    """
    t = convert_to_tensor(string_tensor, dtype=dtypes_lib.string)
    if t.shape.ndims == 1 and t.shape[0].value == 0:
        raise ValueError("string_input_producer requires a non-null input tensor")
    return input_producer(
        t,
        [],
        num_epochs,
        shuffle,
        seed,
        capacity,
        shared_name,
        f"fraction_of_{capacity}_full",
        name or "input_producer",
        cancel_op,
    )


def range_input_producer(
    limit: int,
    num_epochs: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    capacity: int = 32,
    shared_name: str | None = None,
    name: str | None = None,
) -> QueueBase:
    """A queue of the integers ``0 .. limit-1`` (int32), epoch after epoch.

    ``limit`` may be a tensor whose value is known while building (computed
    from constants, as PTB's reader computes its epoch size).

    Differs from TF1: a tensor limit's value must be known while building
    (the epochs are made on the host), and a tensor limit below 1 raises
    InvalidArgumentError then, where TF1's queue stays empty.

    Raises:
        errors.UnimplementedError: ``limit`` is a tensor whose value depends
            on a run (a placeholder, a variable).
        errors.InvalidArgumentError: ``limit`` is a tensor whose value is < 1.
    """
    with name_scope(name, "input_producer") as scope:
        values = constant(np.arange(_static_limit(limit), dtype=np.int32), name="range")
        return input_producer(
            values,
            [],
            num_epochs,
            shuffle,
            seed,
            capacity,
            summary_name=f"fraction_of_{capacity}_full",
            name=scope,
        )


def _static_limit(limit: Any) -> int:
    if not isinstance(limit, Tensor):
        return int(limit)
    value = constant_value(limit)
    if value is None:
        raise errors.UnimplementedError(
            None,
            limit.op,
            f"range_input_producer needs a limit known when the graph is built; "
            f"{limit.name!r} depends on a run (a placeholder or a variable). "
            "Compute the limit in Python, or use tf.data.Dataset.range.",
        )
    if value.shape != () or value.dtype.kind not in "iu":
        raise ValueError(
            f"range_input_producer's limit must be an integer scalar, got "
            f"{limit.name!r} of shape {value.shape} and dtype {value.dtype}"
        )
    if value < 1:
        raise errors.InvalidArgumentError(
            None,
            limit.op,
            f"range_input_producer's limit {limit.name!r} is {int(value)}: the "
            "queue would never get an element",
        )
    return int(value)


def slice_input_producer(
    tensor_list: Sequence[Any],
    num_epochs: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    capacity: int = 32,
    shared_name: str | None = None,
    name: str | None = None,
) -> list[Tensor]:
    """One row of each tensor per run: rows in the same (shuffled) order for all.

    Raises:
        ValueError: the tensors differ in their first dimension.
    """
    with name_scope(name, "input_producer"):
        tensors = [convert_to_tensor(t) for t in tensor_list]
        sizes = {t.shape[0].value for t in tensors if t.shape.ndims}
        if not tensors or len(sizes) != 1 or None in sizes:
            raise ValueError(
                f"slice_input_producer needs tensors of one known first dimension, got {sizes}"
            )
        queue = range_input_producer(sizes.pop(), num_epochs, shuffle, seed, capacity)
        index = queue.dequeue()
        return [
            make_op(
                "SliceAt",
                _host_only,
                [t, index],
                name="SliceAt",
                out_avals=[Aval(t.shape.as_tuple()[1:], t.dtype)],
            ).outputs[0]
            for t in tensors
        ]


def match_filenames_once(pattern: Any, name: str | None = None) -> Tensor:
    """The sorted files matching the glob ``pattern`` (or patterns).

    Differs from TF1: matched while building and given as a constant, not a
    local variable filled by ``local_variables_initializer()``.
    """
    patterns = [pattern] if isinstance(pattern, str | bytes) else list(pattern)
    found = sorted(
        {
            f
            for p in patterns
            for f in glob.glob(p.decode() if isinstance(p, bytes) else p)  # noqa: PTH207 - a pattern, not a folder
        }
    )
    return constant(
        np.asarray(found, dtype=object).reshape(len(found)),
        dtypes_lib.string,
        name=name or "matching_filenames",
    )


# -- batching ------------------------------------------------------------------------


def _flat(tensors: Any) -> tuple[list[Any], Any]:
    if isinstance(tensors, dict):
        keys = sorted(tensors, key=str)
        return [tensors[k] for k in keys], keys
    if isinstance(tensors, list | tuple):
        return list(tensors), None
    return [tensors], None


def _shapes(
    tensors: list[Tensor], given: Any, enqueue_many: bool, dynamic_pad: bool
) -> list[shapes.TensorShape]:
    if given is not None:
        return [shapes.as_shape(s) for s in given]
    out = [t.shape[1:] if enqueue_many else t.shape for t in tensors]
    if not dynamic_pad and not all(s.is_fully_defined() for s in out):
        raise ValueError(f"All shapes must be fully defined: {out}")
    return out


def _batch(
    tensors_list: list[Any],
    batch_size: int,
    capacity: int,
    num_threads: int,
    enqueue_many: bool,
    shapes_: Any,
    allow_smaller_final_batch: bool,
    name: str,
    make_queue: Any,
    dynamic_pad: bool = False,
    min_after_dequeue: int = 0,
) -> Any:
    _, keys = _flat(tensors_list[0])
    with name_scope(None, name):
        rows = [[convert_to_tensor(t) for t in _flat(ts)[0]] for ts in tensors_list]
        dtypes = [t.dtype for t in rows[0]]
        queue = make_queue(
            capacity, dtypes, _shapes(rows[0], shapes_, enqueue_many, dynamic_pad)
        )
        enqueues = [
            queue.enqueue_many(r) if enqueue_many else queue.enqueue(r) for r in rows
        ]
        if len(enqueues) == 1:
            enqueues = enqueues * num_threads
        add_queue_runner(QueueRunner(queue, enqueues))
        keep = min_after_dequeue
        _fill_summary(
            queue,
            capacity,
            keep,
            f"fraction_over_{keep}_of_{capacity - keep}_full"
            if keep
            else f"fraction_of_{capacity}_full",
        )
        take = queue.dequeue_up_to if allow_smaller_final_batch else queue.dequeue_many
        out = take(batch_size)
    if keys is not None:
        out = [out] if len(keys) == 1 else out
        return dict(zip(keys, out))
    return out


def _fifo(dynamic_pad: bool) -> Any:
    def make(cap: int, dtypes: list, shp: list) -> QueueBase:
        if dynamic_pad:
            return PaddingFIFOQueue(cap, dtypes, shp)
        return FIFOQueue(cap, dtypes, shp)

    return make


def batch(
    tensors: Any,
    batch_size: int,
    num_threads: int = 1,
    capacity: int = 32,
    enqueue_many: bool = False,
    shapes: Any = None,
    dynamic_pad: bool = False,
    allow_smaller_final_batch: bool = False,
    shared_name: str | None = None,
    name: str | None = None,
) -> Any:
    """Batches of ``batch_size`` elements in order, filled by ``num_threads`` threads (``tf.train.batch``).

    Returns:
        The batched tensors in ``tensors``' structure (a lone Tensor for a
        one-element list); the first dimension is ``batch_size``, or None
        with ``allow_smaller_final_batch``.

    Raises:
        ValueError: a shape is not fully defined (without ``dynamic_pad``).
    """
    return _batch(
        [tensors],
        batch_size,
        capacity,
        num_threads,
        enqueue_many,
        shapes,
        allow_smaller_final_batch,
        name or "batch",
        _fifo(dynamic_pad),
        dynamic_pad,
    )


def batch_join(
    tensors_list: list[Any],
    batch_size: int,
    capacity: int = 32,
    enqueue_many: bool = False,
    shapes: Any = None,
    dynamic_pad: bool = False,
    allow_smaller_final_batch: bool = False,
    shared_name: str | None = None,
    name: str | None = None,
) -> Any:
    """``batch`` over several lists of tensors, one enqueue thread each (``tf.train.batch_join``)."""
    return _batch(
        list(tensors_list),
        batch_size,
        capacity,
        1,
        enqueue_many,
        shapes,
        allow_smaller_final_batch,
        name or "batch_join",
        _fifo(dynamic_pad),
        dynamic_pad,
    )


def _shuffled(min_after_dequeue: int, seed: int | None) -> Any:
    def make(cap: int, dtypes: list, shp: list) -> QueueBase:
        return RandomShuffleQueue(cap, min_after_dequeue, dtypes, shp, seed=seed)

    return make


def shuffle_batch(
    tensors: Any,
    batch_size: int,
    capacity: int,
    min_after_dequeue: int,
    num_threads: int = 1,
    seed: int | None = None,
    enqueue_many: bool = False,
    shapes: Any = None,
    allow_smaller_final_batch: bool = False,
    shared_name: str | None = None,
    name: str | None = None,
) -> Any:
    """Batches drawn at random from a RandomShuffleQueue (``tf.train.shuffle_batch``).

    A dequeue waits until ``min_after_dequeue`` elements would remain, except
    once the input has ended and the queue is closed.
    """
    return _batch(
        [tensors],
        batch_size,
        capacity,
        num_threads,
        enqueue_many,
        shapes,
        allow_smaller_final_batch,
        name or "shuffle_batch",
        _shuffled(min_after_dequeue, seed),
        min_after_dequeue=min_after_dequeue,
    )


def shuffle_batch_join(
    tensors_list: list[Any],
    batch_size: int,
    capacity: int,
    min_after_dequeue: int,
    seed: int | None = None,
    enqueue_many: bool = False,
    shapes: Any = None,
    allow_smaller_final_batch: bool = False,
    shared_name: str | None = None,
    name: str | None = None,
) -> Any:
    """``shuffle_batch`` over several lists of tensors (``tf.train.shuffle_batch_join``)."""
    return _batch(
        list(tensors_list),
        batch_size,
        capacity,
        1,
        enqueue_many,
        shapes,
        allow_smaller_final_batch,
        name or "shuffle_batch_join",
        _shuffled(min_after_dequeue, seed),
        min_after_dequeue=min_after_dequeue,
    )


maybe_batch = _unimplemented("maybe_batch", "tf.train.batch")
maybe_shuffle_batch = _unimplemented("maybe_shuffle_batch", "tf.train.shuffle_batch")
