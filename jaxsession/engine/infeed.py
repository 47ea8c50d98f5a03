"""Iterator state in a session: host pipelines prefetched onto the device.

Each initialized iterator owns a background thread that pulls elements from
the dataset's host pipeline and copies them to the device (``jax.device_put``)
a bounded number of batches ahead, so the device does not wait for the host.
An exception raised by the pipeline (a user's map function, say) is re-raised
from ``Session.run`` with its original traceback; no element is dropped or
repeated silently.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import Operation
from jaxsession.graph.dataset import Dataset, _flatten
from jaxsession.graph.ops import HOST_OPS

PREFETCH_DEPTH = 2
_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class Prefetcher:
    """Runs one pass of a dataset in a thread, keeping device batches ready.

    Args:
        dataset: The dataset to iterate.
        values: Values of the dataset's graph inputs (fed placeholders).
        dtypes: Declared dtypes of the element's leaves, in flattened order.
        depth: How many elements to hold ready.
    """

    def __init__(self, dataset: Dataset, values: dict[Any, Any],
                 dtypes: Sequence[dtypes_lib.DType], depth: int = PREFETCH_DEPTH):  # fmt: skip
        self._dtypes = list(dtypes)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(
            target=self._fill,
            args=(dataset, values),
            name="jaxsession-infeed",
            daemon=True,
        )
        self._thread.start()

    def _to_device(self, element: Any) -> list[Any]:
        leaves = _flatten(element)[0]
        out = []
        for leaf, dtype in zip(leaves, self._dtypes):
            if dtype is dtypes_lib.string:
                out.append(np.asarray(leaf, dtype=object))
            else:
                out.append(jax.device_put(np.asarray(leaf, dtype=dtype.jax_dtype)))
        return out

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _fill(self, dataset: Dataset, values: dict[Any, Any]) -> None:
        try:
            for element in dataset._producer(values):
                if not self._put(self._to_device(element)):
                    return
            self._put(_END)
        except BaseException as e:
            self._put(_Failure(e))

    def next(self, op: Operation) -> list[Any]:
        """The next element's leaves.

        Raises:
            errors.OutOfRangeError: the dataset is exhausted.
            Exception: whatever the pipeline raised, with its traceback.
        """
        if self._done:
            raise _end_of_sequence(op)
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise _end_of_sequence(op)
        if isinstance(item, _Failure):
            self._done = True
            raise item.error
        return item

    def stop(self) -> None:
        """Stops the background thread (the iterator was re-initialized or closed)."""
        self._stop.set()


def _end_of_sequence(op: Operation) -> errors.OutOfRangeError:
    return errors.OutOfRangeError(None, op, f"End of sequence (iterator {op.name!r})")


def _leaf_dtypes(iterator: Any) -> list[dtypes_lib.DType]:
    return _flatten(iterator.output_types)[0]


def _make_iterator(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[()]:
    iterator, dataset = op.attrs["iterator"], op.attrs["dataset"]
    key = ("iterator", iterator)
    old = ctx.resources.pop(key, None)
    if old is not None:
        old.stop()
    values = dict(zip(dataset._inputs, inputs))
    ctx.resources[key] = Prefetcher(dataset, values, _leaf_dtypes(iterator))
    return ()


def _get_next(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[Any, ...]:
    iterator = op.attrs["iterator"]
    key = ("iterator", iterator)
    state = ctx.resources.get(key)
    if state is None:
        if iterator._one_shot is None:
            raise errors.FailedPreconditionError(
                None, op,
                "GetNext() failed because the iterator has not been initialized. Ensure "
                "that you have run the initializer operation for this iterator before "
                f"getting the next element (iterator op {op.name!r}).",
            )  # fmt: skip
        state = ctx.resources[key] = Prefetcher(
            iterator._one_shot, {}, _leaf_dtypes(iterator)
        )
    return tuple(state.next(op))


def close_resources(resources: dict[Any, Any]) -> None:
    """Stops every prefetch thread among a session's resources."""
    for key, value in list(resources.items()):
        if isinstance(key, tuple) and key[0] == "iterator":
            value.stop()
    resources.clear()


HOST_OPS["MakeIterator"] = _make_iterator
HOST_OPS["IteratorGetNext"] = _get_next
