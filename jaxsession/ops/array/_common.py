"""Helpers shared by the array op families.

Op scopes and errors, static values of shape-deciding arguments, and the
sentinel evaluation that gives ops with trace-time value arguments a static
shape while the graph is built.
"""

from __future__ import annotations

import builtins
import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
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
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import HOST_OPS, HOST_POST_OPS, constant_value
from jaxsession.graph.variables import Variable

# Op types whose lowering only looks at its inputs' shapes.
_SHAPE_OPS = frozenset({"Shape", "ShapeN", "Size", "Rank"})
# Largest value worked out while building to infer a static shape.
_MAX_SHAPE_VALUE = 1024

# -- shared helpers -------------------------------------------------------------


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


def _beyond_int32(value: Any) -> bool:
    """Whether a (nested) list of Python ints holds one outside int32."""
    if isinstance(value, list | tuple):
        return any(_beyond_int32(v) for v in value)
    return isinstance(value, int) and not -(2**31) <= value < 2**31


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
    # Python ints are int32 (TF1) unless one does not fit, as TF1 infers;
    # an int64 array keeps its type.
    wide = (
        isinstance(value, np.ndarray | np.generic) and value.dtype == np.int64
    ) or _beyond_int32(value)
    return constant(
        value, dtype=dtypes_lib.int64 if wide else dtypes_lib.int32, name=name
    )


def _norm_axis(
    axis: int, rank: int | None, op_type: str, name: str, tensors: Sequence[Any]
) -> int:
    if rank is None:
        return axis
    if not -rank <= axis < rank:
        raise errors.op_shape_error(
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


def partial_shape_value(t: Tensor) -> tuple[int | None, ...] | None:
    """The shape that the 1-D int tensor ``t`` holds, as far as it is known.

    TF1's ``constant_value_as_shape``: a shape computed from ``tf.shape(x)``
    (and packs, slices or arithmetic of it) keeps the known dims of ``x``.
    ``t`` is evaluated with every unknown dim of the graph at each stand-in
    size; entries that agree between the two runs are known. None when the
    length of ``t`` is unknown.
    """
    n = _length(t) if t.shape.ndims == 1 else None
    if n is None:
        return None
    runs = [_sentinel_value(t, s, {}) for s in _SENTINELS]
    if builtins.any(r is None for r in runs):
        return (None,) * n
    a, b = (np.asarray(r).reshape(-1) for r in runs)
    return tuple(
        int(x) if x == y and x >= 0 else None for x, y in zip(a.tolist(), b.tolist())
    )


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
            raise errors.op_shape_error(op_type, name.rstrip("/"), tensors, msg) from e
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
