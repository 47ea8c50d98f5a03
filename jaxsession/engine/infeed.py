"""Iterator state in a session: in-memory data on the device, host pipelines prefetched.

A dataset batched over in-memory arrays (``Dataset.batch`` over
``from_tensor_slices``, then any of ``repeat``, ``shuffle``, ``take``,
``skip``: see ``input/slices.py``) keeps its arrays on the device
(``DeviceSlices``): each batch is cut there by one gather of the row
indices the host computes, with the same order, shuffle draws and end of
data as the element path, and without a thread. The gather is part of
the run's own compiled call (one step or K), on one device and on a mesh
of one process, where the arrays are one global array replicated on every
device and each device gathers its rows. Across processes each has its
own data (as each worker of a TF1 job has its own pipeline): the arrays
sit on each of this process's devices and a call of its own gives each
device its part of the batch, which becomes this process's part of the
global batch without a copy. Any other pipeline (files, generators,
Python maps), a string leaf, a process whose devices are not one block of
the mesh, or arrays over ``DEVICE_SLICES_MAX_BYTES`` take the host pipeline
below.

Each initialized iterator owns a background thread that pulls elements from
the dataset's host pipeline and copies them to the device (``jax.device_put``)
a bounded number of blocks ahead, so the device does not wait for the host.
A block is one element, or, once a multi-step run has asked for K elements
at a time, K elements stacked on the host and copied in one transfer. A
dataset batched by indexing whole arrays (``Dataset.batch`` over
``from_tensor_slices``, see ``graph/dataset.py``) has its K batches cut as one
``(K, batch, ...)`` array instead.

On a mesh (a data-parallel session) a block is put ahead of the step as a
global array placed like a feed (``engine/mesh.py``): a leaf whose leading
dimension is unknown is this process's part of the batch, split along
``'data'`` (dimension 1 in a block of K elements), any other leaf is
replicated. A block consumed in other counts than it was cut is re-cut from
its host copy.

An exception raised by the pipeline (a user's map function, say) is re-raised
from ``Session.run`` with its original traceback, after the elements before
it have been consumed; later runs raise it again. No element is dropped or
repeated silently. ``stop()`` (re-initialization, session close) ends the
thread.
"""

from __future__ import annotations

import collections
import functools
import queue
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.engine import mesh as mesh_lib
from jaxsession.engine.context import HostContext
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import Operation
from jaxsession.graph.rules import HOST_OPS, SESSION_CLOSED, add_resource
from jaxsession.input import slices as slices_lib
from jaxsession.input.dataset import Dataset
from jaxsession.input.iterator import _flatten

PREFETCH_DEPTH = 2
# In-memory arrays up to this size (all leaves together) go to the device whole.
DEVICE_SLICES_MAX_BYTES = 1 << 30
# How long stop() waits for the thread; a user generator blocked for longer
# is left to finish on its own (the thread is a daemon).
STOP_TIMEOUT_SECS = 5.0
_POLL_SECS = 0.05
_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error
        # Raising again would append frames to the error: keep the original.
        self.traceback = error.__traceback__


class _Block:
    """``count`` consecutive elements; leaves stacked on axis 0 if ``stacked``.

    ``host`` keeps the host leaves of a block placed on a mesh, to re-cut it.
    """

    __slots__ = ("count", "ends_run", "host", "leaves", "stacked")

    def __init__(
        self,
        leaves: list[Any],
        count: int,
        stacked: bool,
        host: list[Any] | None = None,
    ):
        self.leaves, self.count, self.stacked = leaves, count, stacked
        self.host = host
        # The next element has another shape: a K-step run ends here.
        self.ends_run = False

    def elements(self) -> list[list[Any]]:
        leaves = self.leaves if self.host is None else self.host
        if not self.stacked:
            return [leaves]
        return [[leaf[i] for leaf in leaves] for i in range(self.count)]


def _same_shape_runs(elements: list[Any]) -> list[list[Any]]:
    """``elements`` split where a leaf's shape changes (each run stacks)."""
    runs: list[list[Any]] = []
    last = None
    for element in elements:
        shapes = tuple(np.shape(leaf) for leaf in _flatten(element)[0])
        if shapes != last:
            runs.append([])
            last = shapes
        runs[-1].append(element)
    return runs


def _stack(column: Sequence[Any]) -> Any:
    if isinstance(column[0], np.ndarray) and column[0].dtype == object:
        return np.stack(column)
    return jax.numpy.stack(column)


class Prefetcher:
    """Runs one pass of a dataset in a thread, keeping device blocks ready.

    Args:
        dataset: The dataset to iterate.
        values: Values of the dataset's graph inputs (fed placeholders).
        dtypes: Declared dtypes of the element's leaves, in flattened order.
        depth: How many blocks to hold ready.
        chunk: Elements per block until the consumer asks for another count.
        mesh: The session's mesh, to place blocks on; None for one device.
        batch: Per leaf, whether it is a batch (split along ``'data'``).
    """

    def __init__(
        self,
        dataset: Dataset,
        values: dict[Any, Any],
        dtypes: Sequence[dtypes_lib.DType],
        depth: int = PREFETCH_DEPTH,
        chunk: int = 1,
        mesh: Any = None,
        batch: Sequence[bool] = (),
    ):
        self._dtypes = list(dtypes)
        self._mesh = mesh
        # Elsewhere than on a CPU mesh (``_serialized``) the copy to the
        # devices overlaps the step; there the consumer places blocks (``take``).
        self._place_ahead = mesh is not None and not _serialized(mesh)
        self._batch = list(batch) or [False] * len(self._dtypes)
        self._parts = mesh_lib.local_batch_devices(mesh) if mesh is not None else 1
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        # Elements per block, set by the consumer; the thread reads it per block.
        self.chunk = chunk
        self._pending: collections.deque[list[Any]] = collections.deque()
        self._terminal: Any = None  # _END or a _Failure, once received
        self._thread = threading.Thread(
            target=self._fill,
            args=(dataset, values),
            name="jaxsession-infeed",
            daemon=True,
        )
        self._thread.start()

    # -- producer thread -----------------------------------------------------------

    def _to_device(self, elements: list[Any], chunk: int) -> _Block:
        columns = zip(*(_flatten(e)[0] for e in elements))
        host = []
        for column, dtype in zip(columns, self._dtypes):
            arrays = [np.asarray(x, dtype=_host_dtype(dtype)) for x in column]
            host.append(arrays[0] if chunk == 1 else np.stack(arrays))
        return self._move(host, len(elements), stacked=chunk != 1)

    def _leaves_to_device(self, leaves: list[Any], count: int, stacked: bool) -> _Block:
        host = [
            np.asarray(x, dtype=_host_dtype(d)) for x, d in zip(leaves, self._dtypes)
        ]
        return self._move(host, count, stacked)

    def _move(self, host: list[Any], count: int, stacked: bool) -> _Block:
        if self._mesh is not None:
            placed = self._place(host, stacked) if self._place_ahead else host
            return _Block(placed, count, stacked, host)
        on_device = [
            i for i, d in enumerate(self._dtypes) if d is not dtypes_lib.string
        ]
        moved = jax.device_put([host[i] for i in on_device])
        for i, array in zip(on_device, moved):
            host[i] = array
        return _Block(host, count, stacked)

    def _place(self, host: list[Any], stacked: bool) -> list[Any]:
        """The leaves as global arrays on the mesh, as the session would feed them."""
        axis = 1 if stacked else 0
        placed = []
        for leaf, dtype, batch in zip(host, self._dtypes, self._batch):
            if dtype is dtypes_lib.string or (
                batch and (leaf.ndim <= axis or leaf.shape[axis] % self._parts)
            ):
                # Strings stay on the host; for a batch that does not split,
                # the session's feed check names the tensor and the problem.
                placed.append(leaf)
            else:
                placed.append(mesh_lib.feed_value(self._mesh, leaf, batch, "", axis))
        return placed

    def _safe(self, fn: Any, *args: Any) -> _Block | _Failure:
        try:
            return fn(*args)
        except BaseException as e:
            return _Failure(e)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECS)
                return True
            except queue.Full:
                continue
        return False

    def _fill_sliced(self, dataset: Dataset, values: dict[Any, Any]) -> None:
        # Batches cut from whole arrays by index; K full batches are cut as
        # one (K, batch, ...) array rather than stacked batch by batch.
        terminal: Any = None
        try:
            batcher = dataset._batches(values)
        except BaseException as e:
            batcher, terminal = None, _Failure(e)
        while terminal is None and not self._stop.is_set():
            chunk = self.chunk
            try:
                stacked, batches = batcher.take(chunk)
            except BaseException as e:
                stacked, batches, terminal = None, [], _Failure(e)
            if stacked is not None:
                block = self._safe(self._leaves_to_device, stacked, chunk, True)
            elif chunk == 1 and batches:
                block = self._safe(self._leaves_to_device, batches[0], 1, False)
            elif batches:
                # A short last batch among K (the end of the data): in runs of
                # one shape, each a run of its own.
                runs = _same_shape_runs([batcher.treedef.unflatten(b) for b in batches])
                if not self._put_runs(runs[:-1], chunk):
                    return
                block = self._run_block(runs[-1], chunk)
            else:
                terminal = terminal or _END
                break
            if len(batches) < chunk and stacked is None:
                terminal = terminal or _END
            if not self._put(block) or isinstance(block, _Failure):
                return
        if terminal is not None:
            self._put(terminal)

    def _fill(self, dataset: Dataset, values: dict[Any, Any]) -> None:
        if dataset._batches is not None:
            self._fill_sliced(dataset, values)
            return
        terminal: Any = None
        try:
            it = iter(dataset._producer(values))
        except BaseException as e:
            it, terminal = iter(()), _Failure(e)
        carry: list[Any] = []
        while terminal is None and not self._stop.is_set():
            chunk, elements, carry = self.chunk, carry, []
            try:
                while len(elements) < chunk:
                    elements.append(next(it))
            except StopIteration:
                terminal = _END
            except BaseException as e:
                terminal = _Failure(e)
            # Elements read before the end or a failure still reach the consumer.
            if not elements:
                continue
            runs = [elements]
            if chunk != 1:
                try:
                    runs = _same_shape_runs(elements)
                except BaseException as e:
                    self._put(_Failure(e))
                    return
            if len(runs) > 1 and terminal is None:
                # K of differing shapes (a short batch inside): the first run
                # goes alone and the rest starts the next block, so blocks
                # keep lining up with the consumer's runs.
                carry = [e for run in runs[1:] for e in run]
                runs = runs[:1]
            last = runs.pop()
            if not self._put_runs(runs, chunk):
                return
            block = self._run_block(last, chunk)
            if carry and isinstance(block, _Block):
                block.ends_run = True
            if not self._put(block) or isinstance(block, _Failure):
                return
        if terminal is not None:
            self._put(terminal)

    def _run_block(self, run: list[Any], chunk: int) -> _Block | _Failure:
        """A block of elements of one shape (stacked unless alone)."""
        return self._safe(self._to_device, run, 1 if len(run) == 1 else chunk)

    def _put_runs(self, runs: list[list[Any]], chunk: int) -> bool:
        """Puts each run as a block that ends a K-step run; False: stop filling."""
        for run in runs:
            block = self._run_block(run, chunk)
            if isinstance(block, _Block):
                block.ends_run = True
            if not self._put(block) or isinstance(block, _Failure):
                return False
        return True

    # -- consumer ----------------------------------------------------------------

    def _get(self) -> Any:
        while True:
            try:
                return self._queue.get(timeout=_POLL_SECS)
            except queue.Empty:
                if self._stop.is_set():
                    return _Failure(RuntimeError("the iterator was stopped"))

    def take(self, op: Operation, count: int) -> tuple[list[Any], int]:
        """Up to ``count`` next elements' leaves, and how many there are.

        With ``count`` > 1 each leaf is stacked on a new leading axis, and
        fewer than ``count`` come back only at the end of the data (or before
        a pipeline error, which the following call raises).

        Raises:
            errors.OutOfRangeError: no element is left.
            Exception: whatever the pipeline raised, with its traceback.
        """
        self.chunk = count
        while len(self._pending) < count and self._terminal is None:
            item = self._get()
            if item is _END or isinstance(item, _Failure):
                self._terminal = item
            elif (
                not self._pending
                and item.count == count
                and item.stacked == (count != 1)
            ):
                if self._mesh is not None and not self._place_ahead:
                    return self._place(item.leaves, item.stacked), count
                return item.leaves, count
            else:
                self._pending.extend(item.elements())
                if item.ends_run:
                    break
        n = min(count, len(self._pending))
        if n == 0:
            _raise_terminal(self._terminal, op)
        elements = [self._pending.popleft() for _ in range(n)]
        if n > 1:
            # Only elements of one shape stack: a short batch inside ends the run.
            first = _same_shape_runs(elements)[0]
            self._pending.extendleft(reversed(elements[len(first) :]))
            elements, n = first, len(first)
        if self._mesh is not None:
            # Re-cut from host copies: placed here, as the session would.
            if count == 1:
                return self._place(elements[0], False), 1
            return self._place([np.stack(c) for c in zip(*elements)], True), n
        if count == 1:
            return elements[0], 1
        return [_stack(column) for column in zip(*elements)], n

    def next(self, op: Operation) -> list[Any]:
        """The next element's leaves (see ``take``)."""
        return self.take(op, 1)[0]

    def stop(self) -> None:
        """Stops the background thread (the iterator was re-initialized or closed)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(STOP_TIMEOUT_SECS)
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break


def _serialized(mesh: Any) -> bool:
    """Whether device work for a batch must end before a step starts on ``mesh``.

    On a CPU mesh: XLA:CPU's in-process all-reduce deadlocked within a few
    hundred steps when batches were copied to, or cut on, some devices while
    a step ran on others (raw JAX does too, far more rarely). Host and
    devices share the cores there anyway.
    """
    return mesh_lib.platform(mesh) == "cpu"


def _cut_rows(arrays: tuple, index: jax.Array, lead: tuple[int, ...]) -> tuple:
    """Rows ``index`` of each array, the rows shaped ``lead`` (one call for all)."""
    return tuple(a[index].reshape(lead + a.shape[1:]) for a in arrays)


_cut = jax.jit(_cut_rows, static_argnums=2)


@functools.cache
def _mesh_cut(local: Any, axis: int, batch: tuple[bool, ...]) -> Any:
    """``_cut`` on the devices of ``local``: batch leaves split along ``'data'``."""
    specs = [_spec(axis, b) for b in batch]
    shardings = tuple(mesh_lib.NamedSharding(local, spec) for spec in specs)
    return jax.jit(_cut_rows, static_argnums=2, out_shardings=shardings)


def _spec(axis: int, batch: bool) -> Any:
    """A leaf's PartitionSpec: a batch split along ``'data'`` on ``axis``."""
    return mesh_lib.batch_spec(axis) if batch else mesh_lib.PartitionSpec()


# Device copies of a dataset's constant arrays, kept across re-initializations
# (an epoch loop re-initializes its iterator): dataset -> (host, where, device).
_ON_DEVICE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _device_arrays(
    dataset: Dataset, host: list[np.ndarray], dtypes: list, where: Any = None
) -> tuple:
    """``host`` on the device, or on every device of the sharding ``where``."""
    kept = _ON_DEVICE.get(dataset)
    if (
        kept is not None
        and kept[1] == where
        and all(a is b for a, b in zip(kept[0], host))
    ):
        return kept[2]
    arrays = tuple(
        jax.device_put(np.asarray(a, dtype=d.np_dtype), where)
        for a, d in zip(host, dtypes)
    )
    _ON_DEVICE[dataset] = (list(host), where, arrays)
    return arrays


def device_slices_fit(
    dataset: Dataset, dtypes: Sequence[dtypes_lib.DType], mesh: Any = None
) -> bool:
    """Whether ``dataset`` may run on the device (``DeviceSlices``) of a session.

    Args:
        dataset: The iterator's dataset.
        dtypes: Declared dtypes of its element's leaves.
        mesh: The session's mesh, or None.
    """
    return (
        dataset._batches is not None
        and all(d is not dtypes_lib.string for d in dtypes)
        and (mesh is None or mesh_lib.local_block(mesh) is not None)
    )


def _int32(index: np.ndarray) -> np.ndarray:
    """Row indices as int32, the type a jitted call takes them in.

    An int64 argument is converted at every call when JAX runs without
    x64; an array on the device has far fewer than 2**31 rows.
    """
    return index.astype(np.int32)


class DeviceSlices:
    """A batched in-memory dataset whose batches are cut on the device.

    The host tracks which rows come next (``input/slices.py``'s index runs,
    so epochs, shuffle draws, ``take``/``skip`` and the end of the data are
    those of the element path); the arrays stay on the device and each
    batch, or each block of K batches, is one gather there. The interface
    is ``Prefetcher``'s.

    On a mesh the arrays are copied to each of this process's devices and
    ``take`` returns global arrays placed as ``Prefetcher`` places them:
    each device gathers its part of this process's batch.

    Args:
        dataset: A dataset with ``_batches`` (see ``device_slices_fit``).
        values: Values of the dataset's graph inputs (fed placeholders).
        dtypes: Declared dtypes of the element's leaves, in flattened order.
        chunk: Accepted for ``Prefetcher``'s interface.
        mesh: The session's mesh, or None for one device.
        batch: Per leaf, whether it is a batch (split along ``'data'``).
    """

    def __init__(
        self,
        dataset: Dataset,
        values: dict[Any, Any],
        dtypes: Sequence[dtypes_lib.DType],
        chunk: int = 1,
        mesh: Any = None,
        batch: Sequence[bool] = (),
    ):
        self.chunk = chunk
        self._terminal: Any = None
        self._short: np.ndarray | None = None
        self._size = 0
        self._mesh, self._batch = mesh, tuple(batch) or (False,) * len(dtypes)
        where = None
        if mesh is not None:
            self._local = mesh_lib.local_block(mesh)
            self._parts = mesh_lib.local_batch_devices(mesh)
            where = mesh_lib.replicated(self._local)
            self._wait = _serialized(mesh)
        try:
            self._batcher = dataset._batches(values)
            host = self._batcher.arrays
            self._size = self._batcher._size
            if sum(np.asarray(a).nbytes for a in host) > DEVICE_SLICES_MAX_BYTES:
                raise _TooBig
            self._arrays = _device_arrays(dataset, host, list(dtypes), where)
        except _TooBig:
            raise
        except BaseException as e:
            self._terminal = _Failure(e)

    def rows(self, op: Operation, count: int) -> tuple[np.ndarray, tuple, int]:
        """The row indices of up to ``count`` next batches: ``(index, lead, n)``.

        ``index`` cut from each array and shaped ``lead + row shape`` gives
        the ``n`` batches (stacked when ``count`` > 1). A short last batch
        among K comes alone, in the next call.

        Raises:
            errors.OutOfRangeError: no batch is left.
            Exception: what computing the indices raised, with its traceback.
        """
        self.chunk = count
        index = None
        if self._short is not None:
            cuts, self._short = [self._short], None
        elif self._terminal is not None:
            _raise_terminal(self._terminal, op)
        else:
            try:
                index, cuts = self._batcher.take_index(count)
            except BaseException as e:
                self._terminal = _Failure(e)
                raise
        if index is not None:
            return _int32(index), (count, self._size), count
        if not cuts:
            self._terminal = _END
            _raise_terminal(self._terminal, op)
        if len(cuts) > 1 and len(cuts[-1]) != len(cuts[0]):
            self._short = cuts.pop()
        if count == 1:
            return _int32(cuts[0]), (len(cuts[0]),), 1
        index = np.concatenate(cuts) if len(cuts) > 1 else cuts[0]
        return _int32(index), (len(cuts), len(cuts[0])), len(cuts)

    def take(self, op: Operation, count: int) -> tuple[list[Any], int]:
        """As ``Prefetcher.take``: up to ``count`` batches, stacked when ``count`` > 1.

        A short last batch among K comes alone, in the next call.
        """
        index, lead, n = self.rows(op, count)
        if self._mesh is None:
            return list(_cut(self._arrays, index, lead)), n
        return self._placed(index, lead), n

    @property
    def cuts_in_call(self) -> bool:
        """Whether a run may take ``(arrays, index)`` and cut inside its own call.

        On one device, and on a mesh of one process, where the arrays are
        one global array replicated on every device. Not across processes:
        each has its own data, so each cuts its part of the global batch
        in a call of its own (``_placed``).
        """
        return self._mesh is None or self._local is self._mesh

    def next_uncut(self, op: Operation) -> tuple[Any, bool]:
        """As ``rows_or_leaves``: ``((arrays, index), True)``, or ``(leaves, False)``.

        On a mesh, a batch that does not split over this process's devices
        comes cut (``_placed``), for the session's feed check to name it.
        """
        index, lead, _ = self.rows(op, 1)
        if not self.splits(lead[0]):
            return self._placed(index, lead), False
        return (self._arrays, index), True

    def splits(self, batch: int) -> bool:
        """Whether ``batch`` rows split over this process's devices, where they must."""
        return self._mesh is None or not any(self._batch) or batch % self._parts == 0

    def _placed(self, index: np.ndarray, lead: tuple[int, ...]) -> list[Any]:
        """The batch(es) at ``index`` as global arrays on the mesh."""
        axis = len(lead) - 1
        if any(self._batch) and lead[axis] % self._parts:
            # A batch that does not split: the session's feed check names
            # the tensor and the problem, as for a prefetched batch.
            return [
                slices_lib.gather(a, index).reshape(lead + a.shape[1:])
                for a in self._batcher.arrays
            ]
        cut = _mesh_cut(self._local, axis, self._batch)
        leaves = cut(self._arrays, index, lead)
        if self._wait:
            jax.block_until_ready(leaves)
        placed = []
        for leaf, batch in zip(leaves, self._batch):
            shape = leaf.shape
            if batch:
                shape = mesh_lib.global_batch_shape(self._mesh, shape, axis)
            spec = _spec(axis, batch)
            placed.append(mesh_lib.from_local_block(self._mesh, leaf, spec, shape))
        return placed

    def next(self, op: Operation) -> list[Any]:
        """The next batch's leaves (see ``take``)."""
        return self.take(op, 1)[0]

    def stop(self) -> None:
        """Nothing runs in the background."""


class _TooBig(Exception):
    """The arrays are over ``DEVICE_SLICES_MAX_BYTES``: the host pipeline takes them."""


def _feeder(
    dataset: Dataset,
    values: dict[Any, Any],
    dtypes: list[dtypes_lib.DType],
    chunk: int,
    placement: dict[str, Any],
) -> Prefetcher | DeviceSlices:
    """The device path for a batched in-memory dataset, else a host Prefetcher."""
    if device_slices_fit(dataset, dtypes, placement.get("mesh")):
        try:
            return DeviceSlices(dataset, values, dtypes, chunk, **placement)
        except _TooBig:
            pass
    return Prefetcher(dataset, values, dtypes, chunk=chunk, **placement)


def _raise_terminal(terminal: Any, op: Operation) -> None:
    """Raises the pipeline's failure (its original traceback), else the end of data."""
    if isinstance(terminal, _Failure):
        raise terminal.error.with_traceback(terminal.traceback)
    raise _end_of_sequence(op)


def _host_dtype(dtype: dtypes_lib.DType) -> Any:
    return object if dtype is dtypes_lib.string else dtype.np_dtype


def _end_of_sequence(op: Operation) -> errors.OutOfRangeError:
    return errors.OutOfRangeError(None, op, f"End of sequence (iterator {op.name!r})")


def _leaf_dtypes(iterator: Any) -> list[dtypes_lib.DType]:
    return _flatten(iterator.output_types)[0]


def _placement(ctx: HostContext, iterator: Any) -> dict[str, Any]:
    """The Prefetcher's ``mesh`` and ``batch`` arguments for a session ``ctx``."""
    mesh = getattr(ctx, "mesh", None)
    if mesh is None:
        return {}
    _, treedef = _flatten(iterator.output_types)
    shapes = treedef.flatten_up_to(iterator.output_shapes)
    # The rule of feeds: an unknown leading dimension makes a batch.
    return {"mesh": mesh, "batch": [mesh_lib.is_batch_shape(s) for s in shapes]}


def _make_iterator(op: Operation, ctx: HostContext, inputs: Sequence[Any]) -> tuple[()]:
    iterator, dataset = op.attrs["iterator"], op.attrs["dataset"]
    key = ("iterator", iterator)
    old = ctx.resources.pop(key, None)
    if old is not None:
        old.stop()
    values = dict(zip(dataset._inputs, inputs))
    # A new epoch is likely consumed as the last one was: K at a time.
    chunk = old.chunk if old is not None else 1
    feeder = _feeder(
        dataset, values, _leaf_dtypes(iterator), chunk, _placement(ctx, iterator)
    )
    if not add_resource(ctx.resources, key, feeder):
        raise _closed_error(op)
    return ()


def _closed_error(op: Operation) -> errors.CancelledError:
    return errors.CancelledError(
        None, op, f"Session was closed while {op.name!r} ran: its iterator is gone"
    )


def _prefetcher(
    op: Operation, ctx: HostContext, count: int = 1
) -> Prefetcher | DeviceSlices:
    iterator = op.attrs["iterator"]
    key = ("iterator", iterator)
    state = ctx.resources.get(key)
    if state is None:
        if iterator._one_shot is None:
            raise errors.FailedPreconditionError(
                None,
                op,
                "GetNext() failed because the iterator has not been initialized. Ensure "
                "that you have run the initializer operation for this iterator before "
                f"getting the next element (iterator op {op.name!r}).",
            )
        state = _feeder(
            iterator._one_shot,
            {},
            _leaf_dtypes(iterator),
            count,
            _placement(ctx, iterator),
        )
        if not add_resource(ctx.resources, key, state):
            raise _closed_error(op)
    return state


def take_elements(op: Operation, ctx: HostContext, count: int) -> tuple[list[Any], int]:
    """Up to ``count`` elements of an IteratorGetNext op, stacked (multi-step runs).

    Raises:
        errors.FailedPreconditionError: the iterator is not initialized.
        errors.OutOfRangeError: no element is left.
    """
    return _prefetcher(op, ctx, count).take(op, count)


def take_uncut(op: Operation, ctx: HostContext, count: int) -> tuple[list[Any], int]:
    """As ``take_elements``, leaving K full batches of device data for the run to cut.

    Returns:
        ``(leaves, n)``; when ``count`` > 1 full batches of a device-resident
        dataset are left, each leaf is ``(array, index)``: the whole array
        and the ``[count, batch]`` row indices, which the compiled K-step
        call gathers itself (no separate gather, no stacked copy).
    """
    feeder = _prefetcher(op, ctx, count)
    if not isinstance(feeder, DeviceSlices) or count == 1 or not feeder.cuts_in_call:
        return feeder.take(op, count)
    index, lead, n = feeder.rows(op, count)
    if n == count and len(lead) == 2 and feeder.splits(lead[1]):
        rows = np.asarray(index).reshape(lead)
        return [(a, rows) for a in feeder._arrays], n
    if feeder._mesh is not None:
        return feeder._placed(index, lead), n
    return list(_cut(feeder._arrays, index, lead)), n


def rows_or_leaves(op: Operation, ctx: HostContext) -> tuple[Any, bool]:
    """An IteratorGetNext's next element, uncut when its data is on the device.

    Returns:
        ``((arrays, index), True)``: the device arrays and the row indices
        of the next batch (``DeviceSlices``), for a run that cuts the batch
        inside its own compiled call; or ``(leaves, False)``.

    Raises:
        errors.FailedPreconditionError: the iterator is not initialized.
        errors.OutOfRangeError: no element is left.
    """
    feeder = _prefetcher(op, ctx)
    if isinstance(feeder, DeviceSlices) and feeder.cuts_in_call:
        return feeder.next_uncut(op)
    return feeder.next(op), False


def _get_next(
    op: Operation, ctx: HostContext, inputs: Sequence[Any]
) -> tuple[Any, ...]:
    return tuple(_prefetcher(op, ctx).next(op))


def close_resources(resources: dict[Any, Any]) -> None:
    """Stops every prefetch thread and cancels every queue among a session's resources."""
    # The mark goes first: a host op storing new state after the snapshot
    # below sees it (``rules.add_resource``) and stops that state itself.
    resources[SESSION_CLOSED] = True
    for key, value in list(resources.items()):
        if isinstance(key, tuple) and key[0] in ("iterator", "queue"):
            value.stop()
    for key in list(resources):
        if key != SESSION_CLOSED:
            resources.pop(key, None)


def register_host_ops() -> None:
    """Registers the iterator ops' host functions in ``HOST_OPS``.

    Planning calls it (``engine.plan.make_plan``) before it sorts ops into
    host and device ops, so no import order decides where an iterator runs.
    """
    HOST_OPS["MakeIterator"] = _make_iterator
    HOST_OPS["IteratorGetNext"] = _get_next
