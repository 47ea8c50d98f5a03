"""``tf.data``: input pipelines run on the host, consumed by graph iterators.

A Dataset describes how to produce elements (nested tuples/dicts of NumPy
arrays). Transformations (``map``, ``batch``, ``shuffle``, ...) run in
Python on the host. An iterator's ``get_next()`` is a graph op whose value is
produced on the host before each run and copied to the device ahead of time
by the engine's infeed (``engine/infeed.py``); the end of the data raises
``errors.OutOfRangeError`` from ``Session.run``.

When the elements before a ``batch`` are slices of whole arrays
(``from_tensor_slices`` or ``range``, then any of ``repeat``, ``shuffle``, ``take``,
``skip``, ``prefetch``), the pipeline also tracks them as row indices and
``batch`` cuts each batch with one NumPy indexing per array instead of
stacking elements one by one. Both paths give the same batches in the same
order, with the same shuffle draws; any other pipeline runs element by element.
In a session such a batched pipeline keeps its arrays on the device and
only the row indices are computed on the host (``engine/infeed.py``).

Differs from TF1: ``map`` functions may be plain NumPy functions; a function
built from graph ops (TF1 style) is compiled with JAX and run on the host.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jax
import numpy as np

from jaxsession.graph import (
    dtypes as dtypes_lib,
    random as random_lib,
    shapes,
    subgraph as subgraph_lib,
)
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor, get_default_graph
from jaxsession.graph.make_op import make_op
from jaxsession.graph.rules import HOST_OPS, HOST_POST_OPS, constant_value
from jaxsession.input.iterator import (
    Iterator_,
    _ElementStructure,
    _flatten,
    _is_leaf,
    _is_shape,
    shapes_like,
)
from jaxsession.input.slices import SliceProducer, _Batcher, _shuffle_runs, _Slices

__all__ = [
    "Dataset",
]

# A range up to this length is also tracked as slices of one array.
_RANGE_SLICES_MAX = 1 << 24

# A producer makes a fresh Python iterator of elements, given the values of
# the dataset's graph inputs (placeholders fed to the iterator initializer).
Producer = Callable[[dict[Tensor, Any]], Iterator[Any]]


class Dataset(_ElementStructure):
    """A description of a sequence of elements (``tf.data.Dataset``).

    Args:
        producer: Makes a fresh iterator of elements.
        types: Nested structure of DTypes.
        shapes_: Nested structure of TensorShapes.
        inputs: Graph tensors whose values the producer needs.
    """

    def __init__(
        self,
        producer: Producer,
        types: Any,
        shapes_: Any,
        inputs: tuple[Tensor, ...] = (),
    ):
        self._producer = producer
        self._types = types
        self._shapes = shapes_
        self._inputs = inputs
        # The same elements as index runs into whole arrays, when the
        # pipeline allows it (see _Slices); batch() then cuts batches by
        # NumPy indexing instead of stacking elements one by one.
        self._slices: SliceProducer | None = None
        # Set by batch() over a sliceable pipeline: whole batches by index.
        self._batches: Callable[[dict[Tensor, Any]], _Batcher] | None = None

    # -- structure ----------------------------------------------------------

    @property
    def element_spec(self) -> Any:
        """Nested structure of (shape, dtype) pairs."""
        return jax.tree_util.tree_map(
            lambda s, t: (s, t), self._shapes, self._types, is_leaf=_is_leaf
        )

    def _derive(
        self,
        producer: Producer,
        types: Any = None,
        shapes_: Any = None,
        slices: SliceProducer | None = None,
    ) -> Dataset:
        out = Dataset(
            producer,
            self._types if types is None else types,
            self._shapes if shapes_ is None else shapes_,
            self._inputs,
        )
        out._slices = slices
        return out

    # -- sources ------------------------------------------------------------

    @staticmethod
    def from_tensor_slices(tensors: Any) -> Dataset:
        """Elements are the slices of ``tensors`` along their first axis.

        ``tensors`` may hold NumPy arrays, constants, or placeholders fed to
        the iterator's initializer.

        Raises:
            ValueError: the components have different first dims.
        """
        leaves, treedef = _flatten(tensors)
        sources = [_Source.of(x) for x in leaves]
        firsts = {
            s.shape[0]
            for s in sources
            if s.shape.ndims and s.shape[0].value is not None
        }
        if len({f.value for f in firsts}) > 1:
            raise ValueError(
                "Dimensions of the components of from_tensor_slices must all match: "
                f"got first dims {sorted(f.value for f in firsts)}"
            )
        types = treedef.unflatten([s.dtype for s in sources])
        out_shapes = treedef.unflatten([s.shape[1:] for s in sources])

        def arrays_of(values: dict[Tensor, Any]) -> list[np.ndarray]:
            arrays = [s.value(values) for s in sources]
            n = len(arrays[0])
            if any(len(a) != n for a in arrays):
                raise ValueError("from_tensor_slices components have different lengths")
            return arrays

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            arrays = arrays_of(values)
            for i in range(len(arrays[0])):
                yield treedef.unflatten([a[i] for a in arrays])

        def slices(values: dict[Tensor, Any]) -> _Slices:
            arrays = arrays_of(values)
            n = len(arrays[0])
            return _Slices(arrays, treedef, iter([np.arange(n)] if n else []))

        out = Dataset(produce, types, out_shapes, _inputs_of(sources))
        out._slices = slices
        return out

    @staticmethod
    def from_tensors(tensors: Any) -> Dataset:
        """A dataset of exactly one element, ``tensors``."""
        leaves, treedef = _flatten(tensors)
        sources = [_Source.of(x) for x in leaves]

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            yield treedef.unflatten([s.value(values) for s in sources])

        return Dataset(
            produce,
            treedef.unflatten([s.dtype for s in sources]),
            treedef.unflatten([s.shape for s in sources]),
            _inputs_of(sources),
        )

    @staticmethod
    def range(*args: int) -> Dataset:
        """int64 scalars from ``range(*args)``."""
        spec = tuple(int(a) for a in args)

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            return (np.int64(i) for i in range(*spec))

        out = Dataset(produce, dtypes_lib.int64, shapes.TensorShape([]))
        n = len(range(*spec))
        if n > _RANGE_SLICES_MAX:
            return out
        made: list[np.ndarray] = []

        def slices(values: dict[Tensor, Any]) -> _Slices:
            # One array for every iteration: the device keeps one copy of it.
            if not made:
                made.append(np.arange(*spec, dtype=np.int64))
            return _Slices(made, _flatten(0)[1], iter([np.arange(n)] if n else []))

        out._slices = slices
        return out

    @staticmethod
    def from_generator(
        generator: Callable[..., Iterable[Any]] | Iterable[Any],
        output_types: Any,
        output_shapes: Any = None,
        args: tuple = (),
    ) -> Dataset:
        """Elements produced by calling ``generator(*args)`` anew for each iteration.

        Differs from TF1: ``generator`` may also be an iterable (a list, a
        loader object), iterated anew for each iteration, so any Python
        loader of NumPy structures can feed a graph.

        Raises:
            TypeError: an element does not match ``output_types``.
            ValueError: an element does not match ``output_shapes``.
        """
        if not callable(generator):
            iterable = generator
            generator = lambda *_: iter(iterable)  # noqa: E731
        types = jax.tree_util.tree_map(
            dtypes_lib.as_dtype, output_types, is_leaf=_is_leaf
        )
        out_shapes = shapes_like(types, output_shapes)
        type_leaves, treedef = _flatten(types)
        shape_leaves = treedef.flatten_up_to(out_shapes)

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            for element in generator(*args):
                leaves = treedef.flatten_up_to(element)
                yield treedef.unflatten(
                    [
                        _check_element(x, t, s)
                        for x, t, s in zip(leaves, type_leaves, shape_leaves)
                    ]
                )

        return Dataset(produce, types, out_shapes)

    @staticmethod
    def zip(datasets: Any) -> Dataset:
        """Elements are tuples (or the nesting of ``datasets``) of zipped elements."""
        leaves, treedef = jax.tree_util.tree_flatten(
            datasets, is_leaf=lambda d: isinstance(d, Dataset)
        )

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            its = [d._producer(values) for d in leaves]
            for parts in zip(*its):
                yield treedef.unflatten(list(parts))

        inputs = tuple(dict.fromkeys(t for d in leaves for t in d._inputs))
        return Dataset(
            produce,
            treedef.unflatten([d.output_types for d in leaves]),
            treedef.unflatten([d.output_shapes for d in leaves]),
            inputs,
        )

    # -- transformations ------------------------------------------------------

    def map(
        self, map_func: Callable[..., Any], num_parallel_calls: int | None = None
    ) -> Dataset:
        """Applies ``map_func`` to each element (tuples are unpacked into arguments).

        ``map_func`` may be a NumPy function, or build graph ops from tensors
        as in TF1 (then it is compiled with JAX and run on the host).
        """
        graph_fn = _GraphMapFn.try_build(map_func, self._types, self._shapes)
        if graph_fn is not None:
            return self._derive(
                graph_fn.producer(self._producer), graph_fn.types, graph_fn.shapes
            )
        fn = _call_unpacked(map_func)
        types, out_shapes = _infer_numpy_spec(fn, self._types, self._shapes)
        producer = self._producer

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            return (fn(e) for e in producer(values))

        return self._derive(produce, types, out_shapes)

    def filter(self, predicate: Callable[..., Any]) -> Dataset:
        """Keeps the elements for which ``predicate`` (a NumPy function) is true."""
        fn = _call_unpacked(predicate)
        producer = self._producer

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            return (e for e in producer(values) if bool(np.asarray(fn(e))))

        return self._derive(produce)

    def batch(self, batch_size: int, drop_remainder: bool = False) -> Dataset:
        """Stacks consecutive elements into batches of ``batch_size``.

        Over array slices (see the module docstring) batches are cut by
        indexing the whole arrays, with the same result.
        """
        producer = self._producer
        batch_size = int(batch_size)
        lead = batch_size if drop_remainder else None

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            it = producer(values)
            while True:
                chunk = list(itertools.islice(it, batch_size))
                if not chunk or (drop_remainder and len(chunk) < batch_size):
                    return
                leaves = [_flatten(e)[0] for e in chunk]
                treedef = _flatten(chunk[0])[1]
                yield treedef.unflatten([np.stack(col) for col in zip(*leaves)])

        out_shapes = jax.tree_util.tree_map(
            lambda s: shapes.TensorShape([lead]).concatenate(s),
            self._shapes,
            is_leaf=_is_shape,
        )
        upstream = self._slices
        if upstream is None or batch_size < 1:
            return self._derive(produce, shapes_=out_shapes)

        def batches(values: dict[Tensor, Any]) -> _Batcher:
            return _Batcher(upstream(values), batch_size, drop_remainder)

        def produce_sliced(values: dict[Tensor, Any]) -> Iterator[Any]:
            batcher = batches(values)
            while True:
                _, got = batcher.take(1)
                if not got:
                    return
                yield batcher.treedef.unflatten(got[0])

        out = self._derive(produce_sliced, shapes_=out_shapes)
        out._batches = batches
        return out

    def unbatch(self) -> Dataset:
        """Splits each element along its first axis into separate elements."""
        producer = self._producer

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            for element in producer(values):
                leaves, treedef = _flatten(element)
                for i in range(len(leaves[0])):
                    yield treedef.unflatten([x[i] for x in leaves])

        out_shapes = jax.tree_util.tree_map(
            lambda s: s[1:], self._shapes, is_leaf=_is_shape
        )
        return self._derive(produce, shapes_=out_shapes)

    def shuffle(
        self,
        buffer_size: int,
        seed: int | None = None,
        reshuffle_each_iteration: bool = True,
    ) -> Dataset:
        """Shuffles with a buffer of ``buffer_size`` elements, as TF1 does.

        With a graph or op seed the order is reproducible across program runs
        and, as in TF1, an iterator initialized again starts over with the
        same order (each epoch of a ``repeat`` after it differs when
        ``reshuffle_each_iteration``). With neither seed it follows the
        process's seed (``graph/random.py``) and every pass differs.
        """
        graph_seed, op_seed = random_lib.get_seed(seed)
        resolve = random_lib.resolve_graph_seed
        producer = self._producer
        epochs = itertools.count()
        # Per pass (one iterator initialization: one ``values`` dict), the
        # epochs this shuffle has begun.
        passes = object()

        def next_epoch(values: dict[Any, Any]) -> int:
            if not reshuffle_each_iteration:
                return 0
            if graph_seed is None:
                return next(epochs)
            return next(values.setdefault(passes, itertools.count()))

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            epoch = next_epoch(values)
            rng = np.random.default_rng([resolve(graph_seed), op_seed, epoch])
            buffer: list[Any] = []
            for element in producer(values):
                if len(buffer) < buffer_size:
                    buffer.append(element)
                    continue
                i = int(rng.integers(len(buffer)))
                buffer[i], element = element, buffer[i]
                yield element
            rng.shuffle(buffer)
            yield from buffer

        upstream = self._slices
        if upstream is None or buffer_size < 1:
            return self._derive(produce)

        def slices(values: dict[Tensor, Any]) -> _Slices:
            source = upstream(values)

            def runs() -> Iterator[np.ndarray]:
                # Shares the epoch counter and seeds with ``produce``: both
                # paths give the same order for the same iteration.
                epoch = next_epoch(values)
                rng = np.random.default_rng([resolve(graph_seed), op_seed, epoch])
                yield from _shuffle_runs(source.runs, int(buffer_size), rng)

            return _Slices(source.arrays, source.treedef, runs())

        return self._derive(produce, slices=slices)

    def repeat(self, count: int | None = None) -> Dataset:
        """Repeats the dataset ``count`` times (forever when None or -1)."""
        producer = self._producer
        forever = count is None or count < 0

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            epochs = itertools.count() if forever else range(count)
            for _ in epochs:
                empty = True
                for element in producer(values):
                    empty = False
                    yield element
                if empty:
                    return

        upstream = self._slices
        if upstream is None:
            return self._derive(produce)

        def slices(values: dict[Tensor, Any]) -> _Slices:
            first = upstream(values)

            def runs() -> Iterator[np.ndarray]:
                epochs = itertools.count() if forever else range(count)
                for epoch in epochs:
                    # Each epoch starts the upstream anew, as ``produce`` does.
                    source = first if epoch == 0 else upstream(values)
                    empty = True
                    for run in source.runs:
                        if len(run):
                            empty = False
                            yield run
                    if empty:
                        return

            return _Slices(first.arrays, first.treedef, runs())

        return self._derive(produce, slices=slices)

    def take(self, count: int) -> Dataset:
        """The first ``count`` elements (all when -1)."""
        producer = self._producer

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            it = producer(values)
            return it if count < 0 else itertools.islice(it, count)

        upstream = self._slices
        if upstream is None:
            return self._derive(produce)

        def slices(values: dict[Tensor, Any]) -> _Slices:
            source = upstream(values)
            if count < 0:
                return source

            def runs() -> Iterator[np.ndarray]:
                left = count
                if left == 0:
                    return
                for run in source.runs:
                    if len(run) >= left:
                        yield run[:left]
                        return
                    left -= len(run)
                    yield run

            return _Slices(source.arrays, source.treedef, runs())

        return self._derive(produce, slices=slices)

    def skip(self, count: int) -> Dataset:
        """All but the first ``count`` elements (none when -1)."""
        producer = self._producer

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            it = producer(values)
            return iter(()) if count < 0 else itertools.islice(it, count, None)

        upstream = self._slices
        if upstream is None:
            return self._derive(produce)

        def slices(values: dict[Tensor, Any]) -> _Slices:
            source = upstream(values)

            def runs() -> Iterator[np.ndarray]:
                if count < 0:
                    return
                left = count
                for run in source.runs:
                    if left >= len(run):
                        left -= len(run)
                        continue
                    yield run[left:]
                    left = 0

            return _Slices(source.arrays, source.treedef, runs())

        return self._derive(produce, slices=slices)

    def concatenate(self, dataset: Dataset) -> Dataset:
        """This dataset's elements followed by ``dataset``'s."""
        first, second = self._producer, dataset._producer

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            yield from first(values)
            yield from second(values)

        out = self._derive(produce)
        out._inputs = tuple(dict.fromkeys(self._inputs + dataset._inputs))
        return out

    def cache(self, filename: str = "") -> Dataset:
        """Keeps the elements in memory after the first full pass."""
        producer = self._producer
        store: list[Any] = []
        complete = [False]

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            if complete[0]:
                yield from store
                return
            store.clear()
            for element in producer(values):
                store.append(element)
                yield element
            complete[0] = True

        return self._derive(produce)

    def prefetch(self, buffer_size: int) -> Dataset:
        """Accepted: iterators always prefetch to the device in the background."""
        return self

    def enumerate(self, start: int = 0) -> Dataset:
        """Pairs each element with its int64 index."""
        producer = self._producer

        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            return ((np.int64(i), e) for i, e in enumerate(producer(values), start))

        return self._derive(
            produce,
            (dtypes_lib.int64, self._types),
            (shapes.TensorShape([]), self._shapes),
        )

    # -- iterators -------------------------------------------------------------

    def make_one_shot_iterator(self) -> Iterator_:
        """An iterator that starts on first use and cannot be re-initialized.

        Raises:
            ValueError: the dataset depends on placeholders (use an initializable iterator).
        """
        if self._inputs:
            raise ValueError(
                "Failed to create a one-shot iterator for a dataset that depends on "
                f"placeholders {[t.name for t in self._inputs]}; use "
                "make_initializable_iterator() instead."
            )
        it = Iterator_(self._types, self._shapes)
        it._one_shot = self
        return it

    def make_initializable_iterator(self, shared_name: str | None = None) -> Iterator_:
        """An iterator that must be initialized by running ``iterator.initializer``."""
        it = Iterator_(self._types, self._shapes)
        it._initializer = it.make_initializer(self)
        return it

    def __iter__(self) -> Iterator[Any]:
        return self._producer({})


class _Source:
    """One component of a from_tensor_slices/from_tensors source."""

    def __init__(
        self, array: np.ndarray | None, tensor: Tensor | None, dtype: Any, shape: Any
    ):
        self.array, self.tensor, self.dtype, self.shape = array, tensor, dtype, shape

    @staticmethod
    def of(x: Any) -> _Source:
        if isinstance(x, Tensor):
            known = constant_value(x)
            if known is not None:
                return _Source(known, None, x.dtype, x.shape)
            return _Source(None, x, x.dtype, x.shape)
        if hasattr(x, "_as_tensor"):
            raise TypeError(f"Datasets cannot read variables directly: {x!r}")
        dtype = dtypes_lib.infer_dtype(x)
        array = np.asarray(
            x, dtype=dtype.np_dtype if dtype is not dtypes_lib.string else object
        )
        return _Source(array, None, dtype, shapes.TensorShape(array.shape))

    def value(self, values: dict[Tensor, Any]) -> np.ndarray:
        if self.tensor is None:
            return self.array
        return np.asarray(values[self.tensor])


def _inputs_of(sources: list[_Source]) -> tuple[Tensor, ...]:
    return tuple(s.tensor for s in sources if s.tensor is not None)


def _check_element(
    x: Any, dtype: dtypes_lib.DType, shape: shapes.TensorShape
) -> np.ndarray:
    arr = np.asarray(x)
    if dtype is not dtypes_lib.string and arr.dtype.kind in "OSU":
        raise TypeError(
            f"generator yielded {x!r}, which does not match the expected type {dtype.name}"
        )
    arr = arr.astype(dtype.np_dtype) if dtype is not dtypes_lib.string else arr
    if not shape.is_compatible_with(arr.shape):
        raise ValueError(
            f"generator yielded an element of shape {arr.shape} where an element of "
            f"shape {shape} was expected."
        )
    return arr


def _call_unpacked(fn: Callable[..., Any]) -> Callable[[Any], Any]:
    def call(element: Any) -> Any:
        return fn(*element) if isinstance(element, tuple) else fn(element)

    return call


def _dummy(dtype: dtypes_lib.DType, shape: shapes.TensorShape) -> np.ndarray:
    dims = [
        1 if d is None else d
        for d in (shape.as_list() if shape.ndims is not None else [])
    ]
    return np.zeros(
        dims, dtype=dtype.np_dtype if dtype is not dtypes_lib.string else object
    )


def _infer_numpy_spec(
    fn: Callable[[Any], Any], types: Any, shapes_: Any
) -> tuple[Any, Any]:
    type_leaves, treedef = _flatten(types)
    shape_leaves = treedef.flatten_up_to(shapes_)
    dummy = treedef.unflatten([_dummy(t, s) for t, s in zip(type_leaves, shape_leaves)])
    out = fn(dummy)
    out_leaves, out_def = _flatten(out)
    out_types = [
        dtypes_lib.infer_dtype(np.asarray(x))
        if not hasattr(x, "dtype")
        else dtypes_lib.as_dtype(x.dtype)
        for x in out_leaves
    ]
    # A dim that depends on an unknown input dim cannot be told from one call.
    unknown = any(s.ndims is None or None in s.as_list() for s in shape_leaves)
    out_shapes = [
        shapes.unknown_shape(np.ndim(x)) if unknown else shapes.TensorShape(np.shape(x))
        for x in out_leaves
    ]
    return out_def.unflatten(out_types), out_def.unflatten(out_shapes)


class _GraphMapFn:
    """A TF1-style map function traced into graph ops, run with JAX on the host."""

    def __init__(
        self, sub: subgraph_lib.Subgraph, out_def: Any, types: Any, shapes_: Any
    ):
        self.sub = sub
        self.out_def = out_def
        self.types = types
        self.shapes = shapes_
        # Host ops (parsing, decoding) cannot be traced: run op by op then.
        host = any(op.type in HOST_OPS or op.type in HOST_POST_OPS for op in sub.ops)
        self._jitted = self._run if host else jax.jit(self._run)

    def _run(self, *args: Any) -> list[Any]:
        ext = [constant_value(t) for t in self.sub.externals]
        outs, _ = self.sub.evaluate(args, ext, {})
        return outs

    @staticmethod
    def try_build(
        fn: Callable[..., Any], types: Any, shapes_: Any
    ) -> _GraphMapFn | None:
        graph = get_default_graph()
        if graph.finalized:
            return None
        type_leaves, treedef = _flatten(types)
        shape_leaves = treedef.flatten_up_to(shapes_)
        with subgraph_lib.capture(graph) as created:
            args = [_arg_tensor(t, s) for t, s in zip(type_leaves, shape_leaves)]
            try:
                out = _call_unpacked(fn)(treedef.unflatten(args))
            except (TypeError, AttributeError, ValueError):
                return None
        out_leaves, out_def = _flatten(out)
        if not out_leaves or not all(isinstance(t, Tensor) for t in out_leaves):
            return None
        sub = subgraph_lib.from_region(created, args, out_leaves, allow_host=True)
        if (
            sub.reads
            or sub.writes
            or sub.random
            or any(constant_value(t) is None for t in sub.externals)
        ):
            raise ValueError(
                "A Dataset.map function may only use its arguments and constants; it "
                "reads variables, draws random numbers, or uses other graph tensors."
            )
        return _GraphMapFn(
            sub,
            out_def,
            out_def.unflatten([t.dtype for t in out_leaves]),
            out_def.unflatten([t.shape for t in out_leaves]),
        )

    def producer(self, upstream: Producer) -> Producer:
        def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
            for element in upstream(values):
                leaves = _flatten(element)[0]
                outs = self._jitted(*[np.asarray(x) for x in leaves])
                yield self.out_def.unflatten([np.asarray(o) for o in outs])

        return produce


def _no_lowering(**_: Any) -> Any:
    raise RuntimeError("dataset arguments only exist inside a map function")


def _arg_tensor(dtype: dtypes_lib.DType, shape: shapes.TensorShape) -> Tensor:
    aval = Aval(shape.as_tuple(), dtype)
    return make_op(
        "DatasetArg", _no_lowering, (), name="arg", out_avals=[aval]
    ).outputs[0]
