"""Creation, shape, indexing, concat and reshape ops.

Arguments that decide an output's shape (a reshape's ``shape``, ``tile``'s
``multiples``, ``slice``'s ``size``...) are op inputs, as in TF1. Their value
must be known when the graph is traced: a constant, or a value computed from
static shapes (``tf.shape`` returns NumPy at trace time, so
``tf.reshape(x, [tf.shape(x)[0], -1])`` works for any fed batch size). While
building, such an argument's value is also worked out for the two stand-in
sizes ``make_op`` gives unknown dims, so the static output shape is as precise
as TF1's (``(?, 20)`` for the reshape above).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import (
    _SENTINELS,
    Aval,
    _abstract_eval,
    _declared_dtype,
    _merge_runs,
    infer_avals,
)
from jaxsession.graph.constant import constant
from jaxsession.graph.core import Operation, Tensor, get_default_graph
from jaxsession.graph.make_op import (
    _fmt_shape,
    binary_inputs,
    convert_to_tensor,
    make_op,
    register_list_conversion,
)
from jaxsession.graph.rules import (
    HOST_OPS,
    HOST_POST_OPS,
    HOST_STRING_OPS,
    constant_value,
    set_constant,
)
from jaxsession.graph.variables import Variable

__all__ = [
    "boolean_mask",
    "broadcast_to",
    "concat",
    "constant",
    "expand_dims",
    "eye",
    "fill",
    "gather",
    "gather_nd",
    "identity",
    "lin_space",
    "linspace",
    "matrix_transpose",
    "meshgrid",
    "newaxis",
    "one_hot",
    "ones",
    "ones_like",
    "pad",
    "placeholder",
    "placeholder_with_default",
    "range",
    "rank",
    "reshape",
    "reverse",
    "reverse_v2",
    "sequence_mask",
    "shape",
    "shape_n",
    "size",
    "slice",
    "split",
    "squeeze",
    "stack",
    "stop_gradient",
    "strided_slice",
    "tile",
    "transpose",
    "unstack",
    "where_v2",
    "zeros",
    "zeros_like",
]

newaxis = None

# Op types whose lowering only looks at its inputs' shapes.
_SHAPE_OPS = frozenset({"Shape", "ShapeN", "Size", "Rank"})
# Largest value worked out while building to infer a static shape.
_MAX_SHAPE_VALUE = 1024

# -- shared helpers -------------------------------------------------------------


def _op_error(op_type: str, name: str, tensors: Sequence[Any], msg: str) -> ValueError:
    in_shapes = ", ".join(_fmt_shape(t.shape.as_tuple()) for t in tensors)
    return ValueError(
        f"{msg} for '{name}' (op: '{op_type}') with input shapes: {in_shapes}."
    )


@contextlib.contextmanager
def _op_scope(name: str | None, default: str, *values: Any) -> Iterator[str]:
    """TF1's ``name_scope(name, default, values)``: yields the op's exact name."""
    graph = next((v.graph for v in values if isinstance(v, Tensor | Variable)), None)
    graph = graph or get_default_graph()
    with graph.as_default(), graph.name_scope(name or default) as scope:
        yield scope


def _traced_error(what: str) -> TypeError:
    return TypeError(
        f"the {what} argument must be known when the graph is traced (a constant or "
        "a value computed from static shapes such as tf.shape(x)), but it is "
        "computed on the device"
    )


def _is_traced(value: Any) -> bool:
    return isinstance(value, jax.core.Tracer)


def _ints(value: Any, what: str) -> tuple[int, ...]:
    """The ints of a value argument (NumPy or Python); traced values raise."""
    if _is_traced(value):
        raise _traced_error(what)
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


def _to_static(value: Any) -> Any:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return arr.item()
    return tuple(_to_static(a) for a in arr)


def _static(value: Any, what: str) -> Any:
    """A Python value of an argument that must be known while building."""
    if _contains_tensor(value):
        known = constant_value(convert_to_tensor(value))
        if known is None:
            raise TypeError(
                f"the {what} argument must be a constant, got {value!r} whose value "
                "is only known when the graph runs"
            )
        value = known
    return _to_static(value)


def _static_int(value: Any, what: str) -> int:
    out = _static(value, what)
    if isinstance(out, tuple) and len(out) == 1:
        out = out[0]
    if isinstance(out, bool) or not isinstance(out, int):
        raise TypeError(f"the {what} argument must be an integer, got {value!r}")
    return out


def _contains_tensor(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return builtins.any(_contains_tensor(v) for v in value)
    return isinstance(value, Tensor | Variable)


def _int_tensor(value: Any, name: str) -> Tensor:
    """A shape-like argument as an int tensor (a Const unless it holds tensors)."""
    if isinstance(value, shapes.TensorShape):
        if not value.is_fully_defined():
            raise ValueError(
                f"Cannot convert a partially known TensorShape {value} to a Tensor."
            )
        value = value.as_list()
    if _contains_tensor(value):
        return convert_to_tensor(value, name=name)
    # Python ints are int32 (TF1); an int64 array keeps its type.
    wide = isinstance(value, np.ndarray | np.generic) and value.dtype == np.int64
    return constant(
        value, dtype=dtypes_lib.int64 if wide else dtypes_lib.int32, name=name
    )


def _norm_axis(
    axis: int, rank: int | None, op_type: str, name: str, tensors: Sequence[Any]
) -> int:
    if rank is None:
        return axis
    if not -rank <= axis < rank:
        raise _op_error(
            op_type,
            name,
            tensors,
            f"axis {axis} is out of range for a tensor of rank {rank}: expected an "
            f"axis in [{-rank}, {rank})",
        )
    return axis % rank


# -- ops whose value arguments are known only at trace time ---------------------


def _sentinel_value(t: Tensor, sentinel: int, memo: dict[Tensor, Any]) -> Any:
    """``t``'s value when every unknown dim of the graph has size ``sentinel``."""
    if t in memo:
        return memo[t]
    memo[t] = None
    known = constant_value(t)
    if known is not None:
        memo[t] = known
        return known
    op = t.op
    aval = op.out_avals[t.value_index]
    if aval.shape is None or None in aval.shape:
        return None
    if math.prod(aval.shape) > _MAX_SHAPE_VALUE:
        return None
    if op.type in _SHAPE_OPS:
        if builtins.any(i.shape.ndims is None for i in op.inputs):
            return None
        args = [
            jax.ShapeDtypeStruct(
                tuple(sentinel if d is None else d for d in i.shape.as_tuple()),
                np.float32,
            )
            for i in op.inputs
        ]
    elif (
        op.stateful or not op.inputs or op.type in HOST_OPS or op.type in HOST_POST_OPS
    ):
        return None
    else:
        args = [_sentinel_value(i, sentinel, memo) for i in op.inputs]
        if builtins.any(a is None for a in args):
            return None
    try:
        with jax.ensure_compile_time_eval():
            out = np.asarray(op.lower(*args, **op.attrs)[t.value_index])
    except Exception:
        return None
    memo[t] = out
    return out


def _sentinel_avals(
    fn: Callable[..., Any],
    tensors: Sequence[Tensor],
    needs: Sequence[int],
    attrs: dict[str, Any],
    out_dtypes: Sequence[Any] | None,
) -> list[Aval] | None:
    runs = []
    for sentinel in _SENTINELS:
        memo: dict[Tensor, Any] = {}
        consts = [
            _sentinel_value(t, sentinel, memo) if i in needs else constant_value(t)
            for i, t in enumerate(tensors)
        ]
        if builtins.any(consts[i] is None for i in needs):
            return None
        if builtins.any(
            t.shape.ndims is None for t, c in zip(tensors, consts) if c is None
        ):
            return None
        try:
            runs.append(_abstract_eval(fn, tensors, consts, attrs, sentinel, 0))
        except Exception:
            return None
    merged = [_merge_runs(tuple(a.shape), tuple(b.shape)) for a, b in zip(*runs)]
    declared = [t.dtype for t in tensors]
    dts = out_dtypes or [_declared_dtype(o.dtype, declared) for o in runs[0]]
    return [Aval(s, dtypes_lib.as_dtype(d)) for s, d in zip(merged, dts)]


def _value_op(
    op_type: str,
    fn: Callable[..., Any],
    tensors: Sequence[Tensor],
    needs: Sequence[int],
    *,
    name: str,
    fallback: Callable[[], list[Aval]],
    attrs: dict[str, Any] | None = None,
    out_dtypes: Sequence[Any] | None = None,
) -> Operation:
    """An op whose inputs at ``needs`` must be known (NumPy) when traced."""
    attrs = dict(attrs or {})
    if builtins.all(constant_value(tensors[i]) is not None for i in needs):
        try:
            avals = infer_avals(fn, tensors, attrs, out_dtypes)
        except (TypeError, ValueError, IndexError) as e:
            msg = str(e).split("\n")[0]
            raise _op_error(op_type, name.rstrip("/"), tensors, msg) from e
    else:
        avals = _sentinel_avals(fn, tensors, needs, attrs, out_dtypes) or fallback()
    return make_op(op_type, fn, tensors, name=name, attrs=attrs, out_avals=avals)


def _unknown(rank: int | None, dtype: dtypes_lib.DType) -> Callable[[], list[Aval]]:
    return lambda: [Aval(None if rank is None else (None,) * rank, dtype)]


def _length(t: Tensor) -> int | None:
    """The number of elements of a rank-0/1 tensor, or None."""
    dims = t.shape.as_tuple()
    if dims is None:
        return None
    return 1 if not dims else dims[0]


# -- creation -------------------------------------------------------------------


def _fill(value: Any, dims: Any) -> Any:
    shape = _ints(dims, "dims")
    if builtins.any(d < 0 for d in shape):
        raise ValueError(f"dims must be non-negative, got {list(shape)}")
    return jnp.broadcast_to(value, shape)


def _fill_op(dims: Any, value: Any, name: str | None, default: str) -> Tensor:
    with _op_scope(name, default, dims, value) as scope:
        dims_t = _int_tensor(dims, "dims" if default == "Fill" else "shape")
        value_t = convert_to_tensor(value)
        fallback = _unknown(_length(dims_t), value_t.dtype)
        return _value_op(
            "Fill", _fill, [value_t, dims_t], (1,), name=scope, fallback=fallback
        ).outputs[0]


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A tensor of shape ``dims`` with every element ``value`` (``tf.fill``).

    Args:
        dims: The output shape: a list, NumPy array or int tensor.
        value: A scalar; its dtype is the output's.
        name: Op name.

    Returns:
        The filled tensor.
    """
    return _fill_op(dims, value, name, "Fill")


def zeros(
    shape: Any, dtype: Any = dtypes_lib.float32, name: str | None = None
) -> Tensor:
    """A tensor of ``shape`` with all elements zero (``tf.zeros``)."""
    dtype = dtypes_lib.as_dtype(dtype)
    return _fill_op(shape, np.zeros((), dtype.np_dtype), name, "zeros")


def ones(
    shape: Any, dtype: Any = dtypes_lib.float32, name: str | None = None
) -> Tensor:
    """A tensor of ``shape`` with all elements one (``tf.ones``)."""
    dtype = dtypes_lib.as_dtype(dtype)
    return _fill_op(shape, np.ones((), dtype.np_dtype), name, "ones")


def _full_like(x: Any, *, dtype: dtypes_lib.DType, fill_value: int) -> Any:
    return jnp.full(x.shape, fill_value, dtype.jax_dtype)


def _like(
    op_type: str, tensor: Any, dtype: Any, name: str | None, value: int
) -> Tensor:
    x = convert_to_tensor(tensor)
    dtype = x.dtype if dtype is None else dtypes_lib.as_dtype(dtype)
    return make_op(
        op_type,
        _full_like,
        [x],
        name=name or op_type,
        attrs={"dtype": dtype, "fill_value": value},
        out_dtypes=[dtype],
    ).outputs[0]


def zeros_like(
    tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True
) -> Tensor:
    """Zeros with the shape of ``tensor`` (``tf.zeros_like``)."""
    return _like("ZerosLike", tensor, dtype, name, 0)


def ones_like(
    tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True
) -> Tensor:
    """Ones with the shape of ``tensor`` (``tf.ones_like``)."""
    return _like("OnesLike", tensor, dtype, name, 1)


_RANGE_TYPES = (
    dtypes_lib.int32,
    dtypes_lib.int64,
    dtypes_lib.float32,
    dtypes_lib.float64,
)


def _range(start: Any, limit: Any, delta: Any, *, dtype: dtypes_lib.DType) -> Any:
    if builtins.any(_is_traced(v) for v in (start, limit, delta)):
        raise _traced_error("start, limit and delta")
    np_type = dtype.np_dtype
    a, b, d = (np.asarray(v).astype(np_type).item() for v in (start, limit, delta))
    if d == 0:
        raise ValueError("Requires delta != 0")
    if d > 0 and a > b:
        raise ValueError(f"Requires start <= limit when delta > 0: {a}/{b}")
    if d < 0 and a < b:
        raise ValueError(f"Requires start >= limit when delta < 0: {a}/{b}")
    if dtype.is_integer:
        n = (abs(b - a) + abs(d) - 1) // abs(d)
    else:
        n = math.ceil(abs((b - a) / d))
    return (a + np.arange(n) * np.asarray(d, np_type)).astype(dtype.jax_dtype)


def range(
    start: Any,
    limit: Any = None,
    delta: Any = 1,
    dtype: Any = None,
    name: str = "range",
) -> Tensor:
    """The sequence ``start, start + delta, ...`` up to ``limit`` (``tf.range``).

    ``range(n)`` counts from 0. Without ``dtype`` the result has the widest of
    the arguments' dtypes in the order int32, int64, float32, float64 (TF1).

    Args:
        start: First value (or the limit when ``limit`` is None).
        limit: End of the sequence, exclusive.
        delta: Step; not zero.
        dtype: Output dtype.
        name: Op name.

    Returns:
        A 1-D tensor.

    Raises:
        ValueError: ``delta`` is zero or points away from ``limit``.
    """
    if limit is None:
        start, limit = 0, start
    with _op_scope(name, "Range", start, limit, delta) as scope:
        want = None if dtype is None else dtypes_lib.as_dtype(dtype)
        args = [
            convert_to_tensor(v, dtype=want, name=n)
            for v, n in zip((start, limit, delta), ("start", "limit", "delta"))
        ]
        if want is None:
            want = builtins.max(
                (a.dtype for a in args),
                key=lambda d: _RANGE_TYPES.index(d) if d in _RANGE_TYPES else -1,
            )
        return _value_op(
            "Range",
            _range,
            args,
            (0, 1, 2),
            name=scope,
            attrs={"dtype": want},
            out_dtypes=[want],
            fallback=_unknown(1, want),
        ).outputs[0]


def _linspace(start: Any, stop: Any, num: Any) -> Any:
    (n,) = _ints(num, "num")
    return jnp.linspace(start, stop, n, dtype=jnp.result_type(start))


def linspace(start: Any, stop: Any, num: Any, name: str | None = None) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (``tf.linspace``)."""
    with _op_scope(name, "LinSpace", start, stop) as scope:
        start_t = convert_to_tensor(start, name="start")
        stop_t = convert_to_tensor(stop, dtype=start_t.dtype, name="stop")
        num_t = convert_to_tensor(num, dtype=dtypes_lib.int32, name="num")
        return _value_op(
            "LinSpace",
            _linspace,
            [start_t, stop_t, num_t],
            (2,),
            name=scope,
            fallback=_unknown(1, start_t.dtype),
        ).outputs[0]


lin_space = linspace


def _eye(*, rows: int, cols: int, batch: tuple[int, ...], dtype: Any) -> Any:
    return jnp.broadcast_to(
        jnp.eye(rows, cols, dtype=dtype.jax_dtype), (*batch, rows, cols)
    )


def eye(
    num_rows: Any,
    num_columns: Any = None,
    batch_shape: Any = None,
    dtype: Any = dtypes_lib.float32,
    name: str | None = None,
) -> Tensor:
    """An identity matrix, or a batch of them (``tf.eye``).

    Args:
        num_rows: Number of rows (a constant).
        num_columns: Number of columns; default ``num_rows``.
        batch_shape: Leading batch dims of the result.
        dtype: Element type.
        name: Op name.

    Returns:
        A tensor of shape ``batch_shape + [num_rows, num_columns]``.
    """
    rows = _static_int(num_rows, "num_rows")
    cols = rows if num_columns is None else _static_int(num_columns, "num_columns")
    batch = (
        ()
        if batch_shape is None
        else tuple(_ints(_static(batch_shape, "batch_shape"), "batch_shape"))
    )
    dtype = dtypes_lib.as_dtype(dtype)
    attrs = {"rows": rows, "cols": cols, "batch": batch, "dtype": dtype}
    return make_op(
        "Eye", _eye, [], name=name or "eye", attrs=attrs, out_dtypes=[dtype]
    ).outputs[0]


def _placeholder_lowering(*_: Any) -> Any:
    raise RuntimeError("a placeholder must be fed; the engine checks this first")


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> Tensor:
    """A tensor whose value must be fed (``tf.placeholder``).

    Args:
        dtype: Element type.
        shape: Static shape; None for an unknown rank, None dims unknown.
        name: Op name.

    Returns:
        The placeholder's output tensor.
    """
    dtype = dtypes_lib.as_dtype(dtype)
    aval = Aval(shapes.as_shape(shape).as_tuple(), dtype)
    op = make_op(
        "Placeholder",
        _placeholder_lowering,
        (),
        name=name or "Placeholder",
        attrs={"dtype": dtype, "shape": aval.shape},
        out_avals=[aval],
    )
    return op.outputs[0]


def placeholder_with_default(input: Any, shape: Any, name: str | None = None) -> Tensor:
    """A tensor that is ``input`` unless fed (``tf.placeholder_with_default``).

    Raises:
        ValueError: ``shape`` is not compatible with the default's shape.
    """
    default = convert_to_tensor(input)
    want = shapes.as_shape(shape)
    if not want.is_compatible_with(default.shape):
        raise ValueError(
            f"Incompatible shapes: default value of shape {default.shape} for "
            f"placeholder_with_default of shape {want}"
        )
    op = make_op(
        "PlaceholderWithDefault",
        _identity,
        [default],
        name=name or "PlaceholderWithDefault",
        out_avals=[Aval(want.as_tuple(), default.dtype)],
    )
    return op.outputs[0]


def _identity(x: Any) -> Any:
    return x


def identity(input: Any, name: str | None = None) -> Tensor:
    """Returns a tensor with the same value as ``input`` (``tf.identity``).

    A string ``input`` is passed on by the host after the device call.
    """
    x = convert_to_tensor(input)
    avals = None
    if x.dtype is dtypes_lib.string:
        avals = [Aval(x.shape.as_tuple(), x.dtype)]
    op = make_op("Identity", _identity, [x], name=name or "Identity", out_avals=avals)
    return op.outputs[0]


def _host_identity(op: Operation, inputs: list[Any]) -> Any:
    return inputs[0]


HOST_STRING_OPS["Identity"] = _host_identity


def stop_gradient(input: Any, name: str | None = None) -> Tensor:
    """``input``, with no gradient flowing through it (``tf.stop_gradient``)."""
    x = convert_to_tensor(input)
    return make_op(
        "StopGradient", jax.lax.stop_gradient, [x], name=name or "StopGradient"
    ).outputs[0]


# -- reshape and friends --------------------------------------------------------


def _reshape(x: Any, shape: Any) -> Any:
    dims = _ints(shape, "shape")
    if isinstance(x, np.ndarray):
        return x.reshape(dims)
    return jnp.reshape(x, dims)


def _reshape_static(
    x: Tensor, dims: tuple[int, ...], name: str, tensors: Sequence[Tensor]
) -> tuple[int | None, ...]:
    if builtins.sum(d == -1 for d in dims) > 1:
        raise _op_error(
            "Reshape",
            name,
            tensors,
            f"Cannot infer multiple unknown dimensions in shape {list(dims)}",
        )
    if builtins.any(d < -1 for d in dims):
        raise _op_error(
            "Reshape",
            name,
            tensors,
            f"Size of a dimension must be >= -1, got shape {list(dims)}",
        )
    known = math.prod(d for d in dims if d != -1)
    n = x.shape.num_elements()
    out = tuple(None if d == -1 else d for d in dims)
    if n is None:
        in_known = (
            math.prod(d for d in x.shape.as_list() if d is not None)
            if x.shape.ndims is not None
            else 1
        )
        if -1 not in dims and in_known and known % in_known:
            raise _op_error(
                "Reshape",
                name,
                tensors,
                f"Cannot reshape a tensor with a multiple of {in_known} "
                f"elements to shape {list(dims)} ({known} elements)",
            )
        return out
    if -1 in dims:
        if known == 0 or n % known:
            raise _op_error(
                "Reshape",
                name,
                tensors,
                f"Cannot reshape a tensor with {n} elements to shape "
                f"{list(dims)} (the other dimensions hold {known} elements)",
            )
        return tuple(n // known if d == -1 else d for d in dims)
    if n != known:
        raise _op_error(
            "Reshape",
            name,
            tensors,
            f"Cannot reshape a tensor with {n} elements to shape "
            f"{list(dims)} ({known} elements)",
        )
    return out


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """Gives ``tensor`` a new shape with the same elements (``tf.reshape``).

    Args:
        tensor: The input.
        shape: The new shape; one dim may be -1 (inferred). A list (which may
            hold scalar tensors), NumPy array or int tensor.
        name: Op name.

    Returns:
        The reshaped tensor.

    Raises:
        ValueError: the element counts cannot match, naming the op and shapes.
    """
    with _op_scope(name, "Reshape", tensor) as scope:
        x = convert_to_tensor(tensor, name="tensor")
        shape_t = _int_tensor(shape, "shape")
        known = constant_value(shape_t)
        tensors = [x, shape_t]
        if known is not None:
            out = _reshape_static(
                x, tuple(int(d) for d in known.reshape(-1)), scope[:-1], tensors
            )
            avals = [Aval(out, x.dtype)]
        else:
            avals = _sentinel_avals(_reshape, tensors, (1,), {}, None)
            avals = avals or _unknown(_length(shape_t), x.dtype)()
        return make_op(
            "Reshape", _reshape, tensors, name=scope, out_avals=avals
        ).outputs[0]


def _transpose(x: Any, *, perm: tuple[int, ...] | None, conjugate: bool) -> Any:
    out = jnp.transpose(x, perm)
    return jnp.conj(out) if conjugate else out


def transpose(
    a: Any, perm: Any = None, name: str = "transpose", conjugate: bool = False
) -> Tensor:
    """Permutes the dims of ``a``; by default reverses them (``tf.transpose``).

    Raises:
        ValueError: ``perm`` is not a permutation of the dims.
    """
    x = convert_to_tensor(a)
    if perm is not None:
        perm = tuple(_ints(_static(perm, "perm"), "perm"))
        rank = x.shape.ndims
        if rank is not None and sorted(
            p % rank if -rank <= p < rank else p for p in perm
        ) != list(builtins.range(rank)):
            raise _op_error(
                "Transpose",
                name,
                [x],
                f"perm {list(perm)} is not a permutation of the {rank} dims",
            )
        if rank is not None:
            perm = tuple(p % rank for p in perm)
    attrs = {"perm": perm, "conjugate": conjugate}
    return make_op("Transpose", _transpose, [x], name=name, attrs=attrs).outputs[0]


def _swap_last(x: Any, *, conjugate: bool) -> Any:
    out = jnp.swapaxes(x, -1, -2)
    return jnp.conj(out) if conjugate else out


def matrix_transpose(
    a: Any, name: str = "matrix_transpose", conjugate: bool = False
) -> Tensor:
    """Swaps the last two dims (``tf.matrix_transpose``).

    Raises:
        ValueError: ``a`` has rank below 2.
    """
    x = convert_to_tensor(a)
    if x.shape.ndims is not None and x.shape.ndims < 2:
        raise ValueError(
            f"Argument 'a' should be a (batch) matrix, with rank >= 2.  Found: {x.shape}"
        )
    attrs = {"conjugate": conjugate}
    return make_op("Transpose", _swap_last, [x], name=name, attrs=attrs).outputs[0]


def _expand_dims(x: Any, *, axis: int) -> Any:
    return jnp.expand_dims(x, axis)


def expand_dims(
    input: Any, axis: Any = None, name: str | None = None, dim: Any = None
) -> Tensor:
    """Inserts a dim of size 1 at ``axis`` (``tf.expand_dims``; ``dim`` is TF1's alias).

    Raises:
        ValueError: both or neither of ``axis`` and ``dim`` are given, or
            ``axis`` is outside ``[-rank-1, rank]``.
    """
    if (axis is None) == (dim is None):
        raise ValueError("Exactly one of 'axis' and 'dim' must be given to expand_dims")
    x = convert_to_tensor(input)
    axis = _static_int(axis if dim is None else dim, "axis")
    name = name or "ExpandDims"
    rank = x.shape.ndims
    if rank is not None:
        if not -rank - 1 <= axis <= rank:
            raise _op_error(
                "ExpandDims",
                name,
                [x],
                f"Tried to expand dim index {axis} for tensor with {rank} dimensions",
            )
        axis %= rank + 1
    return make_op(
        "ExpandDims", _expand_dims, [x], name=name, attrs={"axis": axis}
    ).outputs[0]


def _squeeze(x: Any, *, axis: tuple[int, ...] | None) -> Any:
    if axis is None:
        return x.reshape(tuple(d for d in x.shape if d != 1))
    return x.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axis))


def squeeze(
    input: Any, axis: Any = None, name: str | None = None, squeeze_dims: Any = None
) -> Tensor:
    """Removes dims of size 1 (``tf.squeeze``; ``squeeze_dims`` is TF1's alias).

    Args:
        input: The tensor.
        axis: Dims to remove (int or list); default all dims of size 1.
        name: Op name.
        squeeze_dims: Deprecated alias of ``axis``.

    Returns:
        The squeezed tensor. With ``axis`` None and some dim unknown, the
        static rank is unknown, as in TF1.

    Raises:
        ValueError: a listed dim is known and not 1, or is out of range.
    """
    if squeeze_dims is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'squeeze_dims'")
        axis = squeeze_dims
    x = convert_to_tensor(input)
    name = name or "Squeeze"
    dims = x.shape.as_tuple()
    if axis is not None:
        axis = _static(axis, "axis")
        axis = axis if isinstance(axis, tuple) else (axis,)
        axis = tuple(
            _norm_axis(a, None if dims is None else len(dims), "Squeeze", name, [x])
            for a in axis
        )
        if dims is None and builtins.any(a < 0 for a in axis):
            raise ValueError(
                f"squeeze of a tensor of unknown rank needs non-negative axes, got {axis}"
            )
        for a in axis:
            if dims is not None and dims[a] not in (None, 1):
                raise _op_error(
                    "Squeeze",
                    name,
                    [x],
                    f"Can not squeeze dim[{a}], expected a dimension of 1, got {dims[a]}",
                )
    if dims is None or (axis is None and None in dims):
        out = None
    elif axis is None:
        out = tuple(d for d in dims if d != 1)
    else:
        out = tuple(d for i, d in enumerate(dims) if i not in axis)
    return make_op(
        "Squeeze",
        _squeeze,
        [x],
        name=name,
        attrs={"axis": axis},
        out_avals=[Aval(out, x.dtype)],
    ).outputs[0]


# -- concat, stack, split -------------------------------------------------------


def _common_tensors(values: Sequence[Any]) -> list[Tensor]:
    typed = [v for v in values if isinstance(v, Tensor | Variable)]
    dtype = convert_to_tensor(typed[0]).dtype if typed else None
    return [convert_to_tensor(v, dtype=dtype) for v in values]


def _merged_shape(
    xs: Sequence[Tensor], skip: int | None, op_type: str, name: str
) -> list[int | None] | None:
    """The shape all of ``xs`` share (dim ``skip`` excluded), TF1-merged."""
    known = [x for x in xs if x.shape.ndims is not None]
    if not known:
        return None
    first = known[0]
    merged = first.shape.as_list()
    for x in known[1:]:
        dims = x.shape.as_list()
        if len(dims) != len(merged):
            raise _op_error(
                op_type,
                name,
                xs,
                f"Shapes must be equal rank, but are {len(merged)} and {len(dims)}",
            )
        for i, (a, b) in enumerate(zip(merged, dims)):
            if i == skip:
                continue
            if a is not None and b is not None and a != b:
                raise _op_error(
                    op_type,
                    name,
                    xs,
                    f"Dimension {i} in both shapes must be equal, but are {a} and {b}. "
                    f"Shapes are {_fmt_shape(first.shape.as_tuple())} and {_fmt_shape(x.shape.as_tuple())}",
                )
            merged[i] = a if a is not None else b
    return merged


def _concat(*xs: Any, axis: int) -> Any:
    return jnp.concatenate(xs, axis=axis)


def concat(values: Sequence[Any], axis: Any, name: str = "concat") -> Tensor:
    """Joins tensors along ``axis`` (``tf.concat``, TF1 argument order).

    Raises:
        ValueError: ranks differ, other dims differ, or ``axis`` is out of
            range; naming the op and the input shapes.
    """
    if not isinstance(values, list | tuple):
        values = [values]
    xs = _common_tensors(values)
    axis = _static_int(axis, "axis")
    if len(xs) == 1:
        return identity(xs[0], name=name)
    ranked = [x for x in xs if x.shape.ndims is not None]
    rank = ranked[0].shape.ndims if ranked else None
    if rank is not None and not -rank <= axis < rank:
        raise _op_error(
            "ConcatV2",
            name,
            xs,
            f"ConcatOp : Expected concatenating dimensions in the range [{-rank}, {rank}), but got {axis}",
        )
    axis = axis if rank is None else axis % rank
    merged = _merged_shape(xs, axis, "ConcatV2", name)
    if merged is not None:
        sizes = [
            x.shape.as_list()[axis] if x.shape.ndims is not None else None for x in xs
        ]
        merged[axis] = None if None in sizes else builtins.sum(sizes)
    out = Aval(None if merged is None else tuple(merged), xs[0].dtype)
    return make_op(
        "ConcatV2", _concat, xs, name=name, attrs={"axis": axis}, out_avals=[out]
    ).outputs[0]


def _stack(*xs: Any, axis: int) -> Any:
    return jnp.stack(xs, axis=axis)


def stack(values: Sequence[Any], axis: int = 0, name: str = "stack") -> Tensor:
    """Stacks rank-R tensors into one rank-(R+1) tensor (``tf.stack``).

    Raises:
        ValueError: the values' shapes differ or ``axis`` is out of range.
    """
    xs = _common_tensors(values)
    if not xs:
        raise ValueError("stack needs at least one value")
    merged = _merged_shape(xs, None, "Pack", name)
    axis = _static_int(axis, "axis")
    if merged is not None:
        r = len(merged) + 1
        if not -r <= axis < r:
            raise _op_error(
                "Pack", name, xs, f"Argument 'axis' = {axis} not in range [{-r}, {r})"
            )
        axis %= r
        merged.insert(axis, len(xs))
    out = Aval(None if merged is None else tuple(merged), xs[0].dtype)
    return make_op(
        "Pack", _stack, xs, name=name, attrs={"axis": axis}, out_avals=[out]
    ).outputs[0]


def _unstack(x: Any, *, axis: int, num: int) -> tuple[Any, ...]:
    return tuple(jnp.moveaxis(jnp.asarray(x), axis, 0)[i] for i in builtins.range(num))


def unstack(
    value: Any, num: int | None = None, axis: int = 0, name: str = "unstack"
) -> list[Tensor]:
    """Splits ``value`` along ``axis`` into rank-(R-1) tensors (``tf.unstack``).

    Raises:
        ValueError: ``num`` is None and the dim is unknown, or ``axis`` is out
            of range.
    """
    x = convert_to_tensor(value)
    rank = x.shape.ndims
    if rank is None:
        raise ValueError(f"Cannot infer num from shape {x.shape} of {x!r}")
    axis = _norm_axis(axis, rank, "Unpack", name, [x])
    dim = x.shape.as_list()[axis]
    if num is None:
        if dim is None:
            raise ValueError(f"Cannot infer num from shape {x.shape} of {x!r}")
        num = dim
    elif dim is not None and num != dim:
        raise _op_error("Unpack", name, [x], f"Dimension must be {num} but is {dim}")
    attrs = {"axis": axis, "num": num}
    return list(make_op("Unpack", _unstack, [x], name=name, attrs=attrs).outputs)


def _split(x: Any, *, axis: int, sizes: tuple[int, ...]) -> tuple[Any, ...]:
    sizes = list(sizes)
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[axis] - (builtins.sum(sizes) + 1)
    offsets = np.cumsum([0, *sizes])
    return tuple(
        jax.lax.slice_in_dim(jnp.asarray(x), int(a), int(b), axis=axis)
        for a, b in itertools.pairwise(offsets)
    )


def _split_sizes(
    x: Tensor, spec: Any, dim: int | None, op_type: str, name: str
) -> tuple[tuple[int, ...], list[int | None]]:
    """Static sizes for the lowering (maybe one -1) and per-output dims."""
    if isinstance(spec, int):
        if spec <= 0:
            raise _op_error(
                op_type, name, [x], f"num_split must be positive, got {spec}"
            )
        if dim is None:
            return (-2,) * spec, [None] * spec
        if dim % spec:
            raise _op_error(
                op_type,
                name,
                [x],
                f"Dimension size must be evenly divisible by {spec} but is {dim}",
            )
        return (dim // spec,) * spec, [dim // spec] * spec
    sizes = tuple(spec)
    if builtins.sum(s == -1 for s in sizes) > 1 or builtins.any(s < -1 for s in sizes):
        raise _op_error(
            op_type,
            name,
            [x],
            f"size_splits {list(sizes)} may hold at most one -1 and no other negative size",
        )
    rest = builtins.sum(s for s in sizes if s != -1)
    if dim is not None and ((-1 not in sizes and rest != dim) or rest > dim):
        raise _op_error(
            op_type,
            name,
            [x],
            "Determined shape must either match input shape along split_dim exactly if "
            f"fully specified, or be less than the size of the input along split_dim if not fully specified. "
            f"Got size_splits {list(sizes)} for a dim of size {dim}",
        )
    dims = [(None if dim is None else dim - rest) if s == -1 else s for s in sizes]
    return sizes, dims


def split(
    value: Any,
    num_or_size_splits: Any,
    axis: Any = 0,
    num: int | None = None,
    name: str = "split",
) -> list[Tensor]:
    """Splits ``value`` along ``axis`` (``tf.split``).

    Args:
        value: The tensor.
        num_or_size_splits: A number of equal parts, or a list of sizes (one
            may be -1, the rest).
        axis: The dim to split.
        num: Unused: the number of outputs is known from the sizes.
        name: Op name.

    Returns:
        The list of parts.

    Raises:
        ValueError: the sizes do not fit the dim, or ``axis`` is out of range.
    """
    x = convert_to_tensor(value)
    spec = _static(num_or_size_splits, "num_or_size_splits")
    op_type = "Split" if isinstance(spec, int) else "SplitV"
    rank = x.shape.ndims
    axis = _norm_axis(_static_int(axis, "axis"), rank, op_type, name, [x])
    if rank is None or axis < 0:
        raise ValueError(
            f"split needs a tensor of known rank and a non-negative axis: {x!r}"
        )
    dims = x.shape.as_list()
    sizes, out_dims = _split_sizes(x, spec, dims[axis], op_type, name)
    if sizes and sizes[0] == -2:  # equal parts of an unknown dim
        attrs = {"axis": axis, "num": len(sizes)}
        fn = _split_equal
    else:
        attrs = {"axis": axis, "sizes": sizes}
        fn = _split
    avals = [
        Aval(tuple([*dims[:axis], d, *dims[axis + 1 :]]), x.dtype) for d in out_dims
    ]
    return list(
        make_op(op_type, fn, [x], name=name, attrs=attrs, out_avals=avals).outputs
    )


def _split_equal(x: Any, *, axis: int, num: int) -> tuple[Any, ...]:
    return tuple(jnp.split(jnp.asarray(x), num, axis=axis))


# -- slicing and indexing -------------------------------------------------------


def _slice(x: Any, begin: Any, size: Any) -> Any:
    sizes = _ints(size, "size")
    if _is_traced(begin):
        if -1 in sizes:
            raise _traced_error("begin (with a size of -1)")
        return jax.lax.dynamic_slice(jnp.asarray(x), list(begin.reshape(-1)), sizes)
    starts = _ints(begin, "begin")
    if len(starts) != x.ndim or len(sizes) != x.ndim:
        raise ValueError(
            f"Expected begin and size arguments to be 1-D tensors of size {x.ndim}, but got "
            f"shapes [{len(starts)}] and [{len(sizes)}] instead"
        )
    key = []
    for i, (b, s, d) in enumerate(zip(starts, sizes, x.shape)):
        s = d - b if s == -1 else s
        if not (0 <= b <= d and 0 <= s <= d - b):
            raise ValueError(f"Expected size[{i}] in [0, {d - b}], but got {s}")
        key.append(builtins.slice(b, b + s))
    return x[tuple(key)]


def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:
    """The block of ``input_`` starting at ``begin`` of extent ``size`` (``tf.slice``).

    A size of -1 takes everything to the end of that dim. ``begin`` may be a
    value computed on the device when no size is -1.

    Raises:
        ValueError: the block does not fit in the input.
    """
    with _op_scope(name, "Slice", input_) as scope:
        x = convert_to_tensor(input_, name="input")
        begin_t = _int_tensor(begin, "begin")
        size_t = _int_tensor(size, "size")
        tensors = [x, begin_t, size_t]
        fallback = _unknown(x.shape.ndims, x.dtype)
        return _value_op(
            "Slice", _slice, tensors, (2,), name=scope, fallback=fallback
        ).outputs[0]


def _take(p: Any, i: Any, axis: int) -> Any:
    return jnp.take(p, i, axis=axis, mode="fill", fill_value=0)


def _gather(params: Any, indices: Any, *, axis: int, batch_dims: int) -> Any:
    fn = functools.partial(_take, axis=axis - batch_dims)
    for _ in builtins.range(batch_dims):
        fn = jax.vmap(fn)
    return fn(params, indices)


def gather(
    params: Any,
    indices: Any,
    validate_indices: Any = None,
    name: str | None = None,
    axis: Any = None,
    batch_dims: int = 0,
) -> Tensor:
    """Slices of ``params`` at ``indices`` along ``axis`` (``tf.gather``).

    Differs from TF1: out-of-range indices give zeros (TF1 on GPU) instead of an error.

    Raises:
        ValueError: ``axis`` or ``batch_dims`` are out of range.
    """
    p = convert_to_tensor(params)
    i = convert_to_tensor(indices)
    name = name or "GatherV2"
    i_rank, p_rank = i.shape.ndims, p.shape.ndims
    if batch_dims < 0:
        if i_rank is None:
            raise ValueError("negative batch_dims needs indices of known rank")
        batch_dims += i_rank
    axis = batch_dims if axis is None else _static_int(axis, "axis")
    axis = _norm_axis(axis, p_rank, "GatherV2", name, [p, i])
    if axis < batch_dims or (i_rank is not None and batch_dims > i_rank):
        raise _op_error(
            "GatherV2",
            name,
            [p, i],
            f"batch_dims ({batch_dims}) must be <= axis ({axis}) and <= rank(indices)",
        )
    attrs = {"axis": axis, "batch_dims": batch_dims}
    return make_op("GatherV2", _gather, [p, i], name=name, attrs=attrs).outputs[0]


def _gather_nd_one(p: Any, i: Any) -> Any:
    idx = tuple(jnp.moveaxis(jnp.asarray(i), -1, 0))
    return jnp.asarray(p).at[idx].get(mode="fill", fill_value=0)


def _gather_nd(params: Any, indices: Any, *, batch_dims: int) -> Any:
    fn = _gather_nd_one
    for _ in builtins.range(batch_dims):
        fn = jax.vmap(fn)
    return fn(params, indices)


def gather_nd(
    params: Any, indices: Any, name: str | None = None, batch_dims: int = 0
) -> Tensor:
    """Gathers slices of ``params`` addressed by the last dim of ``indices`` (``tf.gather_nd``).

    Differs from TF1: out-of-range indices give zeros instead of an error.

    Raises:
        ValueError: the index depth exceeds the rank of ``params``.
    """
    p = convert_to_tensor(params)
    i = convert_to_tensor(indices)
    name = name or "GatherNd"
    depth = i.shape.as_tuple()[-1] if i.shape.ndims else None
    if (
        depth is not None
        and p.shape.ndims is not None
        and depth > p.shape.ndims - batch_dims
    ):
        raise _op_error(
            "GatherNd",
            name,
            [p, i],
            f"index innermost dimension length must be <= params rank; saw: {depth} vs. {p.shape.ndims}",
        )
    return make_op(
        "GatherNd", _gather_nd, [p, i], name=name, attrs={"batch_dims": batch_dims}
    ).outputs[0]


def _one_hot(indices: Any, depth: Any, on: Any, off: Any, *, axis: int) -> Any:
    (n,) = _ints(depth, "depth")
    hot = jax.nn.one_hot(indices, n, axis=axis, dtype=jnp.bool_)
    return jnp.where(hot, on, off)


def one_hot(
    indices: Any,
    depth: Any,
    on_value: Any = None,
    off_value: Any = None,
    axis: int | None = None,
    dtype: Any = None,
    name: str | None = None,
) -> Tensor:
    """One-hot encoding of ``indices`` (``tf.one_hot``).

    Indices outside ``[0, depth)`` give a row of ``off_value``.

    Args:
        indices: Integer tensor.
        depth: Number of classes (known when traced).
        on_value: Value at the index (default 1).
        off_value: Value elsewhere (default 0).
        axis: Where the new dim goes (default -1, last).
        dtype: Output dtype; default that of ``on_value``/``off_value``, else float32.
        name: Op name.

    Returns:
        A tensor with one more dim than ``indices``.

    Raises:
        ValueError: ``axis`` is out of range.
    """
    with _op_scope(name, "one_hot", indices) as scope:
        idx = convert_to_tensor(indices, name="indices")
        if dtype is None:
            given = [v for v in (on_value, off_value) if v is not None]
            dtype = dtypes_lib.float32
            if given:
                v = given[0]
                typed = isinstance(v, Tensor | Variable)
                dtype = v.dtype if typed else dtypes_lib.infer_dtype(v)
        dtype = dtypes_lib.as_dtype(dtype)
        on = convert_to_tensor(
            1 if on_value is None else on_value, dtype=dtype, name="on_value"
        )
        off = convert_to_tensor(
            0 if off_value is None else off_value, dtype=dtype, name="off_value"
        )
        depth_t = convert_to_tensor(depth, dtype=dtypes_lib.int32, name="depth")
        rank = idx.shape.ndims
        axis = -1 if axis is None else axis
        if rank is not None and not -1 <= axis <= rank:
            raise _op_error(
                "OneHot",
                scope[:-1],
                [idx],
                f"Expected axis to be -1 or between [0, {rank}].  But received: {axis}",
            )
        out = None if rank is None else rank + 1
        return _value_op(
            "OneHot",
            _one_hot,
            [idx, depth_t, on, off],
            (1,),
            name=scope,
            attrs={"axis": axis},
            fallback=_unknown(out, dtype),
        ).outputs[0]


def _tile(x: Any, multiples: Any) -> Any:
    reps = _ints(multiples, "multiples")
    if len(reps) != x.ndim:
        raise ValueError(
            f"Expected multiples argument to be a vector of length {x.ndim} but got length {len(reps)}"
        )
    return jnp.tile(x, reps)


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:
    """Repeats ``input`` ``multiples[i]`` times along dim i (``tf.tile``).

    Raises:
        ValueError: ``multiples`` does not have one entry per dim.
    """
    with _op_scope(name, "Tile", input) as scope:
        x = convert_to_tensor(input, name="input")
        m = _int_tensor(multiples, "multiples")
        fallback = _unknown(x.shape.ndims, x.dtype)
        return _value_op(
            "Tile", _tile, [x, m], (1,), name=scope, fallback=fallback
        ).outputs[0]


def _pad(x: Any, paddings: Any, value: Any, *, mode: str) -> Any:
    flat = _ints(paddings, "paddings")
    if len(flat) != 2 * x.ndim:
        raise ValueError(
            f"The first dimension of paddings must be the rank of inputs [{x.ndim}], got "
            f"{len(flat) // 2} pairs"
        )
    pairs = [(flat[2 * i], flat[2 * i + 1]) for i in builtins.range(x.ndim)]
    if builtins.any(p < 0 for p in flat):
        raise ValueError(f"paddings must be non-negative: {pairs}")
    if mode != "constant":
        limit = 0 if mode == "reflect" else 1
        for (a, b), d in zip(pairs, x.shape):
            if builtins.max(a, b) > d - 1 + limit:
                raise ValueError(
                    f"paddings must be less than{'' if limit == 0 else ' or equal to'} the "
                    f"dimension size: {a}, {b} not {'less than' if limit == 0 else 'at most'} {d}"
                )
        return jnp.pad(x, pairs, mode=mode)
    return jnp.pad(x, pairs, mode="constant", constant_values=value)


def pad(
    tensor: Any,
    paddings: Any,
    mode: str = "CONSTANT",
    name: str | None = None,
    constant_values: Any = 0,
) -> Tensor:
    """Pads ``tensor`` by ``paddings[i] = [before, after]`` along each dim (``tf.pad``).

    Args:
        tensor: The input.
        paddings: An ``[rank, 2]`` list, array or int tensor.
        mode: "CONSTANT", "REFLECT" or "SYMMETRIC" (any case).
        name: Op name.
        constant_values: The fill value for "CONSTANT".

    Returns:
        The padded tensor.

    Raises:
        ValueError: unknown mode, or paddings that do not fit.
    """
    mode_l = mode.lower()
    if mode_l not in ("constant", "reflect", "symmetric"):
        raise ValueError(f"Unknown padding mode: {mode}")
    op_type = (
        "MirrorPad"
        if mode_l != "constant"
        else ("Pad" if np.all(np.asarray(constant_values) == 0) else "PadV2")
    )
    with _op_scope(name, "Pad", tensor) as scope:
        x = convert_to_tensor(tensor, name="tensor")
        p = _int_tensor(paddings, "paddings")
        value = convert_to_tensor(
            constant_values, dtype=x.dtype, name="constant_values"
        )
        fallback = _unknown(x.shape.ndims, x.dtype)
        return _value_op(
            op_type,
            _pad,
            [x, p, value],
            (1,),
            name=scope,
            attrs={"mode": mode_l},
            fallback=fallback,
        ).outputs[0]


def _reverse(x: Any, *, axis: tuple[int, ...]) -> Any:
    return jnp.flip(x, axis=axis)


def reverse(tensor: Any, axis: Any, name: str | None = None) -> Tensor:
    """Reverses ``tensor`` along each dim in ``axis`` (``tf.reverse``, ``reverse_v2``).

    Raises:
        ValueError: an axis is out of range or repeated.
    """
    x = convert_to_tensor(tensor)
    name = name or "ReverseV2"
    axes = _static(axis, "axis")
    axes = axes if isinstance(axes, tuple) else (axes,)
    axes = tuple(_norm_axis(a, x.shape.ndims, "ReverseV2", name, [x]) for a in axes)
    if len(set(axes)) != len(axes):
        raise _op_error(
            "ReverseV2", name, [x], f"axis {list(axes)} specifies a dim more than once"
        )
    return make_op("ReverseV2", _reverse, [x], name=name, attrs={"axis": axes}).outputs[
        0
    ]


reverse_v2 = reverse


def _broadcast_to(x: Any, shape: Any) -> Any:
    return jnp.broadcast_to(x, _ints(shape, "shape"))


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:
    """Broadcasts ``input`` to ``shape`` (``tf.broadcast_to``).

    Raises:
        ValueError: the shapes cannot broadcast.
    """
    with _op_scope(name, "BroadcastTo", input) as scope:
        x = convert_to_tensor(input, name="input")
        s = _int_tensor(shape, "shape")
        known = constant_value(s)
        if known is None:
            fallback = _unknown(_length(s), x.dtype)
            return _value_op(
                "BroadcastTo",
                _broadcast_to,
                [x, s],
                (1,),
                name=scope,
                fallback=fallback,
            ).outputs[0]
        want = tuple(int(d) for d in known.reshape(-1))
        try:
            out = shapes.broadcast_static_shape(x.shape, want)
        except ValueError:
            out = None
        if out is None or (
            out.ndims is not None
            and out.as_tuple() != want
            and x.shape.is_fully_defined()
        ):
            raise _op_error(
                "BroadcastTo",
                scope[:-1],
                [x, s],
                f"Incompatible shapes: {x.shape} cannot broadcast to {list(want)}",
            )
        avals = [Aval(want, x.dtype)]
        return make_op(
            "BroadcastTo", _broadcast_to, [x, s], name=scope, out_avals=avals
        ).outputs[0]


# -- shapes ---------------------------------------------------------------------


def _shape(x: Any, *, dtype: dtypes_lib.DType) -> np.ndarray:
    # NumPy, never traced: shape arithmetic stays static under jit.
    return np.array(x.shape, dtype=dtype.jax_dtype)


def _shape_n(*xs: Any, dtype: dtypes_lib.DType) -> tuple[np.ndarray, ...]:
    return tuple(_shape(x, dtype=dtype) for x in xs)


def _size(x: Any, *, dtype: dtypes_lib.DType) -> np.ndarray:
    return np.array(math.prod(x.shape), dtype=dtype.jax_dtype)


def _rank(x: Any) -> np.ndarray:
    return np.array(len(x.shape), dtype=np.int32)


def _shape_op(
    op_type: str,
    fn: Callable[..., Any],
    xs: Sequence[Tensor],
    name: str,
    attrs: dict[str, Any],
    avals: list[Aval],
    values: list[Any],
) -> Operation:
    op = make_op(op_type, fn, xs, name=name, attrs=attrs, out_avals=avals)
    for t, v in zip(op.outputs, values):
        if v is not None:
            set_constant(t, v)
    return op


def shape(
    input: Any, name: str | None = None, out_type: Any = dtypes_lib.int32
) -> Tensor:
    """The shape of ``input`` as a 1-D int tensor (``tf.shape``).

    Its value is NumPy when traced (shapes are static under jit), and known
    while building when ``input``'s shape is fully defined.
    """
    return _shapes("Shape", _shape, [input], out_type, name)[0]


def shape_n(
    input: Sequence[Any], out_type: Any = dtypes_lib.int32, name: str | None = None
) -> list[Tensor]:
    """The shapes of several tensors (``tf.shape_n``)."""
    return _shapes("ShapeN", _shape_n, input, out_type, name)


def _shapes(
    op_type: str,
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    out_type: Any,
    name: str | None,
) -> list[Tensor]:
    dtype = dtypes_lib.as_dtype(out_type)
    xs = [convert_to_tensor(x) for x in inputs]
    avals = [Aval((x.shape.ndims,), dtype) for x in xs]
    values = [
        np.array(x.shape.as_list(), dtype.np_dtype)
        if x.shape.is_fully_defined()
        else None
        for x in xs
    ]
    op = _shape_op(op_type, fn, xs, name or op_type, {"dtype": dtype}, avals, values)
    return list(op.outputs)


def size(
    input: Any, name: str | None = None, out_type: Any = dtypes_lib.int32
) -> Tensor:
    """The number of elements of ``input`` as a scalar (``tf.size``)."""
    dtype = dtypes_lib.as_dtype(out_type)
    x = convert_to_tensor(input)
    n = x.shape.num_elements()
    value = None if n is None else np.array(n, dtype.np_dtype)
    return _shape_op(
        "Size", _size, [x], name or "Size", {"dtype": dtype}, [Aval((), dtype)], [value]
    ).outputs[0]


def rank(input: Any, name: str | None = None) -> Tensor:
    """The rank of ``input`` as an int32 scalar (``tf.rank``)."""
    x = convert_to_tensor(input)
    r = x.shape.ndims
    value = None if r is None else np.array(r, np.int32)
    return _shape_op(
        "Rank", _rank, [x], name or "Rank", {}, [Aval((), dtypes_lib.int32)], [value]
    ).outputs[0]


# -- data-dependent output sizes ------------------------------------------------


def _data_dependent(op_name: str, what: str, hint: str) -> errors.UnimplementedError:
    return errors.UnimplementedError(
        None,
        None,
        f"{op_name}: the output size depends on the values of {what}, which are "
        f"computed on the device; XLA needs static shapes. {hint}",
    )


def _boolean_mask(x: Any, mask: Any, *, axis: int, op_name: str) -> Any:
    if _is_traced(mask):
        raise _data_dependent(
            op_name,
            "the mask",
            "Make the mask a constant or NumPy-computable value, or keep the shape with "
            "tf.where(mask, x, tf.zeros_like(x)) or by multiplying by the mask cast to x's dtype.",
        )
    m = np.asarray(mask)
    keep = np.nonzero(m.reshape(-1))[0]
    flat = x.reshape((*x.shape[:axis], -1, *x.shape[axis + m.ndim :]))
    if isinstance(x, np.ndarray):
        return np.take(flat, keep, axis=axis)
    return jnp.take(flat, keep, axis=axis)


def boolean_mask(
    tensor: Any, mask: Any, name: str = "boolean_mask", axis: Any = None
) -> Tensor:
    """The entries of ``tensor`` where ``mask`` is True (``tf.boolean_mask``).

    Differs from TF1: the mask's value must be known when the graph is traced
    (a constant, or computed from constants and shapes); otherwise running
    raises errors.UnimplementedError, since XLA needs static output sizes.

    Args:
        tensor: The data, of rank >= rank(mask) + axis.
        mask: Boolean tensor of known rank matching ``tensor.shape[axis:axis+k]``.
        name: Op name.
        axis: First dim the mask covers (default 0).

    Returns:
        ``tensor`` with the masked dims replaced by one dim of the kept entries.

    Raises:
        ValueError: the mask's rank is unknown or zero, or its shape does not fit.
    """
    with _op_scope(name, "boolean_mask", tensor, mask) as scope:
        x = convert_to_tensor(tensor, name="tensor")
        m = convert_to_tensor(mask, name="mask")
        k = m.shape.ndims
        if k is None:
            raise ValueError(
                "Number of mask dimensions must be specified, even if some dimensions are None.  "
                "E.g. shape=[None] is ok, but shape=None is not."
            )
        if k == 0:
            raise ValueError("mask cannot be scalar.")
        axis = 0 if axis is None else _static_int(axis, "axis")
        dims = x.shape.as_tuple()
        if dims is None:
            raise ValueError(f"boolean_mask needs a tensor of known rank: {x!r}")
        axis = _norm_axis(axis, len(dims), "BooleanMask", scope[:-1], [x, m])
        covered = shapes.TensorShape(dims[axis : axis + k])
        if len(covered) != k or not covered.is_compatible_with(m.shape):
            raise _op_error(
                "BooleanMask",
                scope[:-1],
                [x, m],
                f"Shapes {covered} and {m.shape} are incompatible",
            )
        fn = functools.partial(_boolean_mask, op_name=scope[:-1])
        out = (*dims[:axis], None, *dims[axis + k :])
        return _value_op(
            "BooleanMask",
            fn,
            [x, m],
            (1,),
            name=scope,
            attrs={"axis": axis},
            fallback=lambda: [Aval(out, x.dtype)],
        ).outputs[0]


def _sequence_mask(
    lengths: Any, *maxlen: Any, dtype: dtypes_lib.DType, op_name: str
) -> Any:
    traced = _is_traced(lengths)
    if maxlen:
        (n,) = _ints(maxlen[0], "maxlen")
    elif traced:
        raise _data_dependent(
            op_name, "lengths (maxlen is their maximum)", "Pass maxlen."
        )
    else:
        n = int(np.max(lengths)) if np.size(lengths) else 0
    xp = jnp if traced else np
    out = xp.arange(n) < xp.asarray(lengths)[..., None]
    return out.astype(dtype.jax_dtype)


def sequence_mask(
    lengths: Any,
    maxlen: Any = None,
    dtype: Any = dtypes_lib.bool_,
    name: str | None = None,
) -> Tensor:
    """``mask[..., j] = j < lengths[...]`` (``tf.sequence_mask``).

    Differs from TF1: with ``maxlen`` None the lengths' value must be known
    when the graph is traced; otherwise running raises errors.UnimplementedError.

    Returns:
        A tensor of shape ``lengths.shape + [maxlen]``.
    """
    with _op_scope(name, "SequenceMask", lengths) as scope:
        lens = convert_to_tensor(lengths, name="lengths")
        dtype = dtypes_lib.as_dtype(dtype)
        fn = functools.partial(_sequence_mask, op_name=scope[:-1])
        tensors = [lens]
        if maxlen is not None:
            tensors.append(convert_to_tensor(maxlen, dtype=lens.dtype, name="maxlen"))
        needs = (1,) if maxlen is not None else (0,)
        dims = lens.shape.as_tuple()
        out = None if dims is None else (*dims, None)
        return _value_op(
            "SequenceMask",
            fn,
            tensors,
            needs,
            name=scope,
            attrs={"dtype": dtype},
            out_dtypes=[dtype],
            fallback=lambda: [Aval(out, dtype)],
        ).outputs[0]


def _where(cond: Any, *, op_name: str) -> Any:
    if _is_traced(cond):
        raise _data_dependent(
            op_name, "the condition", "Pass x and y to select elementwise instead."
        )
    return np.argwhere(np.asarray(cond)).astype(np.int32)


def _select(cond: Any, x: Any, y: Any) -> Any:
    return jnp.where(cond, x, y)


def where_v2(
    condition: Any, x: Any = None, y: Any = None, name: str | None = None
) -> Tensor:
    """Elementwise ``x if condition else y`` with broadcasting (``tf.where_v2``).

    With ``x`` and ``y`` None: the coordinates of True entries, as int64
    ``[n, rank]``.

    Differs from TF1: the coordinate form needs the condition's value known
    when the graph is traced; otherwise running raises errors.UnimplementedError.

    Raises:
        ValueError: only one of ``x`` and ``y`` is given, or shapes do not broadcast.
    """
    cond = convert_to_tensor(condition)
    if (x is None) != (y is None):
        raise ValueError("x and y must both be non-None or both be None.")
    if x is None:
        with _op_scope(name, "Where", cond) as scope:
            fn = functools.partial(_where, op_name=scope[:-1])
            r = cond.shape.ndims
            return _value_op(
                "Where",
                fn,
                [cond],
                (0,),
                name=scope,
                out_dtypes=[dtypes_lib.int64],
                fallback=lambda: [Aval((None, r), dtypes_lib.int64)],
            ).outputs[0]
    xt, yt = binary_inputs(x, y)
    return make_op(
        "SelectV2", _select, [cond, xt, yt], name=name or "SelectV2"
    ).outputs[0]


def _meshgrid(*xs: Any, indexing: str) -> tuple[Any, ...]:
    return tuple(jnp.meshgrid(*xs, indexing=indexing))


def meshgrid(*args: Any, **kwargs: Any) -> list[Tensor]:
    """Coordinate grids from 1-D tensors (``tf.meshgrid``; kwargs ``indexing``, ``name``).

    Raises:
        TypeError: an unknown keyword argument.
        ValueError: ``indexing`` is not "xy" or "ij".
    """
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(
            f"'{next(iter(kwargs))}' is an invalid keyword argument for this function"
        )
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    xs = _common_tensors(list(args))
    return list(
        make_op(
            "Meshgrid", _meshgrid, xs, name=name, attrs={"indexing": indexing}
        ).outputs
    )


# -- Tensor.__getitem__ ---------------------------------------------------------

_INDEX_HELP = (
    "Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
    "tf.int32/tf.int64 tensors are valid indices, got {!r}"
)


def _bound(value: Any, tensors: list[Tensor]) -> Any:
    if value is None or (
        isinstance(value, int | np.integer) and not isinstance(value, bool)
    ):
        return None if value is None else int(value)
    t = _index_tensor(value)
    known = constant_value(t)
    if known is not None:
        return int(known)
    tensors.append(t)
    return ("t", len(tensors))


def _index_tensor(value: Any) -> Tensor:
    if not isinstance(value, Tensor | Variable):
        raise TypeError(_INDEX_HELP.format(value))
    t = convert_to_tensor(value)
    if not t.dtype.is_integer or t.shape.ndims != 0:
        raise TypeError(_INDEX_HELP.format(value))
    return t


def _index_entry(key: Any, tensors: list[Tensor]) -> tuple[Any, ...]:
    if key is None:
        return ("new",)
    if key is Ellipsis:
        return ("...",)
    if isinstance(key, builtins.slice):
        parts = tuple(_bound(v, tensors) for v in (key.start, key.stop, key.step))
        if parts[2] == 0:
            raise ValueError("slice step cannot be zero")
        return ("slice", *parts)
    if isinstance(key, int | np.integer) and not isinstance(key, bool):
        return ("int", int(key))
    t = _index_tensor(key)
    known = constant_value(t)
    if known is not None:
        return ("int", int(known))
    tensors.append(t)
    return ("tensor", len(tensors))


def _key_value(part: Any, dyn: Sequence[Any]) -> Any:
    if isinstance(part, tuple):
        (i,) = _ints(dyn[part[1] - 1], "slice bound")
        return i
    return part


def _strided_slice(x: Any, *dyn: Any, spec: tuple[tuple[Any, ...], ...]) -> Any:
    key = []
    for entry in spec:
        kind = entry[0]
        if kind == "new":
            key.append(None)
        elif kind == "...":
            key.append(Ellipsis)
        elif kind == "int":
            key.append(entry[1])
        elif kind == "tensor":
            key.append(dyn[entry[1] - 1])
        else:
            key.append(builtins.slice(*(_key_value(p, dyn) for p in entry[1:])))
    if builtins.any(_is_traced(d) for d in dyn):
        x = jnp.asarray(x)
    return x[tuple(key)]


def _dim_map(spec: Sequence[tuple[Any, ...]], rank: int) -> list[int | None]:
    """The input dim each entry of ``spec`` indexes (None for newaxis/ellipsis)."""
    consuming = [e[0] in ("int", "tensor", "slice") for e in spec]
    out, dim = [], 0
    for pos, entry in enumerate(spec):
        if entry[0] == "...":
            dim = rank - builtins.sum(consuming[pos + 1 :])
        out.append(dim if consuming[pos] else None)
        dim += consuming[pos]
    return out


def _slice_out_shape(
    dims: tuple[int | None, ...], spec: Sequence[tuple[Any, ...]]
) -> tuple[int | None, ...]:
    dim_of = _dim_map(spec, len(dims))
    out: list[int | None] = []
    used = 0
    for pos, (entry, d) in enumerate(zip(spec, dim_of)):
        if entry[0] == "...":
            start = _next_dim(dim_of, pos, len(dims))
            out.extend(dims[used:start])
            used = start
        elif entry[0] == "new":
            out.append(1)
        elif entry[0] == "slice":
            out.append(_slice_len(dims[d], entry[1:]))
            used = d + 1
        else:
            used = d + 1
    out.extend(dims[used:])
    return tuple(out)


def _next_dim(dim_of: Sequence[int | None], pos: int, rank: int) -> int:
    later = [d for d in dim_of[pos + 1 :] if d is not None]
    return later[0] if later else rank


def _slice_len(dim: int | None, parts: tuple[Any, ...]) -> int | None:
    if builtins.any(isinstance(p, tuple) for p in parts):
        return None
    if dim is None:
        full = parts[0] is None and parts[1] is None and parts[2] in (None, 1)
        return None if not full else dim
    return len(builtins.range(*builtins.slice(*parts).indices(dim)))


def _check_spec(x: Tensor, spec: Sequence[tuple[Any, ...]], name: str) -> None:
    if builtins.sum(e[0] == "..." for e in spec) > 1:
        raise ValueError("Multiple ellipses in slice spec not allowed")
    dims = x.shape.as_tuple()
    if dims is None:
        return
    n = builtins.sum(e[0] in ("int", "tensor", "slice") for e in spec)
    if n > len(dims):
        raise _op_error(
            "StridedSlice",
            name,
            [x],
            f"Index out of range using input dim {len(dims)}; input has only {len(dims)} dims",
        )
    for entry, d in zip(spec, _dim_map(spec, len(dims))):
        if (
            entry[0] == "int"
            and dims[d] is not None
            and not -dims[d] <= entry[1] < dims[d]
        ):
            raise _op_error(
                "StridedSlice",
                name,
                [x],
                f"slice index {entry[1]} of dimension {d} out of bounds",
            )


def _slice_helper(tensor: Any, key: Any, name: str = "strided_slice") -> Tensor:
    x = convert_to_tensor(tensor)
    key = key if isinstance(key, tuple) else (key,)
    dyn: list[Tensor] = []
    spec = tuple(_index_entry(k, dyn) for k in key)
    _check_spec(x, spec, name)
    dims = x.shape.as_tuple()
    out = None if dims is None else _slice_out_shape(dims, spec)
    avals = [Aval(out, x.dtype)]
    return make_op(
        "StridedSlice",
        _strided_slice,
        [x, *dyn],
        name=name,
        attrs={"spec": spec},
        out_avals=avals,
    ).outputs[0]


def strided_slice(
    input_: Any,
    begin: Any,
    end: Any,
    strides: Any = None,
    begin_mask: int = 0,
    end_mask: int = 0,
    ellipsis_mask: int = 0,
    new_axis_mask: int = 0,
    shrink_axis_mask: int = 0,
    var: Any = None,
    name: str | None = None,
) -> Tensor:
    """TF1's ``tf.strided_slice``; ``tensor[...]`` is the usual way to call it.

    ``begin``, ``end`` and ``strides`` must be known while building.
    """
    b = _static(begin, "begin")
    e = _static(end, "end")
    s = (1,) * len(b) if strides is None else _static(strides, "strides")
    key = []
    for i, (bi, ei, si) in enumerate(zip(b, e, s)):
        if ellipsis_mask >> i & 1:
            key.append(Ellipsis)
        elif new_axis_mask >> i & 1:
            key.append(None)
        elif shrink_axis_mask >> i & 1:
            key.append(bi)
        else:
            key.append(
                builtins.slice(
                    None if begin_mask >> i & 1 else bi,
                    None if end_mask >> i & 1 else ei,
                    si,
                )
            )
    return _slice_helper(input_, tuple(key), name=name or "StridedSlice")


def _getitem(self: Any, key: Any) -> Tensor:
    return _slice_helper(self, key)


Tensor.__getitem__ = _getitem
Variable.__getitem__ = _getitem

register_list_conversion(stack)
