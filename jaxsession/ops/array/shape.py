"""Shape ops: identity, reshape, transpose, expand/squeeze, broadcast_to.

Also the shape queries ``shape``, ``shape_n``, ``size`` and ``rank``.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import (
    HOST_STRING_OPS,
    NOT_DIFFERENTIABLE,
    SHAPE_RULES,
    constant_value,
    set_constant,
)
from jaxsession.ops.array._common import (
    _int_tensor,
    _ints,
    _length,
    _norm_axis,
    _op_scope,
    _sentinel_avals,
    _static,
    _static_int,
    _unknown,
    _value_op,
)

__all__ = [
    "broadcast_to",
    "expand_dims",
    "identity",
    "matrix_transpose",
    "rank",
    "reshape",
    "shape",
    "shape_n",
    "size",
    "squeeze",
    "stop_gradient",
    "transpose",
]


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
        raise errors.op_shape_error(
            "Reshape",
            name,
            tensors,
            f"Cannot infer multiple unknown dimensions in shape {list(dims)}",
        )
    if builtins.any(d < -1 for d in dims):
        raise errors.op_shape_error(
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
            raise errors.op_shape_error(
                "Reshape",
                name,
                tensors,
                f"Cannot reshape a tensor with a multiple of {in_known} "
                f"elements to shape {list(dims)} ({known} elements)",
            )
        return out
    if -1 in dims:
        if known == 0 or n % known:
            raise errors.op_shape_error(
                "Reshape",
                name,
                tensors,
                f"Cannot reshape a tensor with {n} elements to shape "
                f"{list(dims)} (the other dimensions hold {known} elements)",
            )
        return tuple(n // known if d == -1 else d for d in dims)
    if n != known:
        raise errors.op_shape_error(
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
            raise errors.op_shape_error(
                "Transpose",
                name,
                [x],
                f"perm {list(perm)} is not a permutation of the {rank} dims",
            )
        if rank is not None:
            perm = tuple(p % rank for p in perm)
    attrs = {"perm": perm, "conjugate": conjugate}
    return make_op("Transpose", _transpose, [x], name=name, attrs=attrs).outputs[0]


def _transpose_shape(
    in_shapes: list[tuple[int | None, ...] | None], attrs: dict[str, Any]
) -> list[tuple[int | None, ...] | None] | None:
    # TF1's Transpose shape function: a perm of length n fixes the rank.
    perm = attrs.get("perm")
    if in_shapes[0] is not None or perm is None:
        return None
    return [(None,) * len(perm)]


SHAPE_RULES["Transpose"] = _transpose_shape


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
            raise errors.op_shape_error(
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
                raise errors.op_shape_error(
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
            raise errors.op_shape_error(
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


# No gradient flows through a tensor's shape, as TF registers them.
NOT_DIFFERENTIABLE.update(("Rank", "Shape", "ShapeN", "Size", "StopGradient"))


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
