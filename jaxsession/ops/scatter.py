"""Scatters and segment reductions: ``tf.scatter_*``, ``tf.scatter_nd*``, ``tf.unsorted_segment_*``.

The ``ref`` forms write a variable, as TF1's ref ops do, and return its new
value. Sizes that decide an output shape (``scatter_nd``'s ``shape``,
``num_segments``) must be known when the run is compiled: constants or
values computed from static shapes (``tf.shape(x)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import NO_GRADIENT_INPUTS
from jaxsession.ops.array._common import _int_tensor, _ints, _unknown, _value_op

__all__ = [
    "scatter_add",
    "scatter_div",
    "scatter_max",
    "scatter_min",
    "scatter_mul",
    "scatter_nd",
    "scatter_nd_add",
    "scatter_nd_sub",
    "scatter_nd_update",
    "scatter_sub",
    "scatter_update",
    "tensor_scatter_nd_add",
    "tensor_scatter_nd_sub",
    "tensor_scatter_nd_update",
    "unsorted_segment_max",
    "unsorted_segment_mean",
    "unsorted_segment_min",
    "unsorted_segment_prod",
    "unsorted_segment_sqrt_n",
    "unsorted_segment_sum",
]

# How each scatter combines: ``ref.at[idx]`` method names.
_MODES = {
    "update": "set",
    "add": "add",
    "sub": "add",
    "mul": "multiply",
    "div": "divide",
    "max": "max",
    "min": "min",
}


def _apply(ref: Any, idx: Any, updates: Any, kind: str) -> Any:
    if kind == "sub":
        updates = -updates
    if kind == "div":
        return ref.at[idx].divide(updates, mode="drop")
    return getattr(ref.at[idx], _MODES[kind])(updates, mode="drop")


def _scatter_lowering(kind: str) -> Callable[..., Any]:
    def lower(indices: Any, updates: Any, ref: Any) -> Any:
        return _apply(ref, indices, updates.astype(ref.dtype), kind)

    return lower


def _nd_lowering(kind: str) -> Callable[..., Any]:
    def lower(indices: Any, updates: Any, ref: Any) -> Any:
        idx = tuple(jnp.moveaxis(indices, -1, 0))
        return _apply(ref, idx, updates.astype(ref.dtype), kind)

    return lower


def _ref_scatter(op_type: str, kind: str, nd: bool) -> Callable[..., Tensor]:
    lowering = _nd_lowering(kind) if nd else _scatter_lowering(kind)
    tf_name = f"scatter_nd_{kind}" if nd else f"scatter_{kind}"

    def scatter(
        ref: Any,
        indices: Any,
        updates: Any,
        use_locking: bool | None = None,
        name: str | None = None,
    ) -> Tensor:
        if not hasattr(ref, "initializer"):
            raise TypeError(
                f"tf.{tf_name} writes a variable; got {type(ref).__name__}: {ref!r}"
            )
        i = convert_to_tensor(indices)
        u = convert_to_tensor(updates, dtype=ref.dtype)
        op = make_op(
            op_type,
            lowering,
            [i, u],
            name=name or op_type,
            reads=(ref,),
            writes=[(ref, 0)],
            out_avals=[ref._aval],
        )
        return op.outputs[0]

    scatter.__name__ = scatter.__qualname__ = tf_name
    scatter.__doc__ = (
        f"Writes ``updates`` into the variable ``ref`` at ``indices`` ({kind}; "
        f"``tf.{tf_name}``, op {op_type}).\n\n"
        "Out-of-range indices are skipped (TF1 raises on CPU).\n\n"
        "Returns:\n    The variable's new value.\n\n"
        "Raises:\n    TypeError: ``ref`` is not a variable.\n"
    )
    return scatter


scatter_update = _ref_scatter("ScatterUpdate", "update", False)
scatter_add = _ref_scatter("ScatterAdd", "add", False)
scatter_sub = _ref_scatter("ScatterSub", "sub", False)
scatter_mul = _ref_scatter("ScatterMul", "mul", False)
scatter_div = _ref_scatter("ScatterDiv", "div", False)
scatter_max = _ref_scatter("ScatterMax", "max", False)
scatter_min = _ref_scatter("ScatterMin", "min", False)
scatter_nd_update = _ref_scatter("ScatterNdUpdate", "update", True)
scatter_nd_add = _ref_scatter("ScatterNdAdd", "add", True)
scatter_nd_sub = _ref_scatter("ScatterNdSub", "sub", True)


def _scatter_nd(indices: Any, updates: Any, shape: Any) -> Any:
    dims = _ints(shape, "shape")
    out = jnp.zeros(dims, updates.dtype)
    return out.at[tuple(jnp.moveaxis(indices, -1, 0))].add(updates, mode="drop")


def scatter_nd(
    indices: Any, updates: Any, shape: Any, name: str | None = None
) -> Tensor:
    """A zero tensor of ``shape`` with ``updates`` added at ``indices`` (``tf.scatter_nd``).

    Duplicate indices add up, as in TF1.

    Raises:
        TypeError: ``shape`` is computed on the device.
    """
    i = convert_to_tensor(indices)
    u = convert_to_tensor(updates)
    s = _int_tensor(shape, "shape")
    rank = s.shape.as_tuple()[0] if s.shape.ndims == 1 else None
    op = _value_op(
        "ScatterNd",
        _scatter_nd,
        [i, u, s],
        [2],
        name=name or "ScatterNd",
        fallback=_unknown(rank, u.dtype),
    )
    return op.outputs[0]


def _tensor_scatter(op_type: str, kind: str) -> Callable[..., Tensor]:
    lowering = _nd_lowering(kind)
    tf_name = f"tensor_scatter_nd_{kind}"

    def scatter(tensor: Any, indices: Any, updates: Any, name: str | None = None):
        t = convert_to_tensor(tensor)
        i = convert_to_tensor(indices)
        u = convert_to_tensor(updates, dtype=t.dtype)

        def lower(t: Any, i: Any, u: Any) -> Any:
            return lowering(i, u, t)

        return make_op(op_type, lower, [t, i, u], name=name or op_type).outputs[0]

    scatter.__name__ = scatter.__qualname__ = tf_name
    scatter.__doc__ = (
        f"``tensor`` with ``updates`` scattered in at ``indices`` ({kind}; "
        f"``tf.{tf_name}``)."
    )
    return scatter


tensor_scatter_nd_update = _tensor_scatter("TensorScatterUpdate", "update")
tensor_scatter_nd_add = _tensor_scatter("TensorScatterAdd", "add")
tensor_scatter_nd_sub = _tensor_scatter("TensorScatterSub", "sub")


# -- segment reductions ----------------------------------------------------------


def _segment_lowering(kind: str) -> Callable[..., Any]:
    def lower(data: Any, ids: Any, num: Any) -> Any:
        (n,) = _ints(num, "num_segments")
        # Segment ids span the leading dims of ``data``: flatten them.
        flat = data.reshape((-1, *data.shape[ids.ndim :]))
        seg = ids.reshape(-1)
        if kind in ("mean", "sqrt_n"):
            total = jax.ops.segment_sum(flat, seg, n)
            count = jax.ops.segment_sum(jnp.ones_like(seg, flat.dtype), seg, n)
            count = jnp.maximum(count, 1)
            if kind == "sqrt_n":
                count = jnp.sqrt(count)
            return total / count.reshape((n,) + (1,) * (flat.ndim - 1))
        if kind == "sum":
            return jax.ops.segment_sum(flat, seg, n)
        if kind == "prod":
            # A masked product, which JAX differentiates (segment_prod's
            # gradient needs unique ids).
            mine = seg[None, :] == jnp.arange(n)[:, None]
            mine = mine.reshape(mine.shape + (1,) * (flat.ndim - 1))
            return jnp.prod(
                jnp.where(mine, flat[None], jnp.ones((), flat.dtype)), axis=1
            )
        fn = jax.ops.segment_max if kind == "max" else jax.ops.segment_min
        out = fn(flat, seg, n)
        # TF1 fills an empty segment with the dtype's lowest (max) or
        # highest (min) finite value, not an infinity.
        if jnp.issubdtype(flat.dtype, jnp.floating):
            info = jnp.finfo(flat.dtype)
            fill = info.min if kind == "max" else info.max
            count = jax.ops.segment_sum(jnp.ones_like(seg), seg, n)
            empty = (count == 0).reshape((n,) + (1,) * (flat.ndim - 1))
            out = jnp.where(empty, jnp.asarray(fill, flat.dtype), out)
        return out

    return lower


def _segment_op(op_type: str, kind: str) -> Callable[..., Tensor]:
    tf_name = f"unsorted_segment_{kind}"
    lowering = _segment_lowering(kind)

    def segment(
        data: Any, segment_ids: Any, num_segments: Any, name: str | None = None
    ) -> Tensor:
        d = convert_to_tensor(data)
        ids = convert_to_tensor(segment_ids)
        n = _int_tensor(num_segments, "num_segments")
        inner = d.shape.as_tuple()
        rank = ids.shape.ndims
        fallback_rank = None if inner is None or rank is None else len(inner) - rank + 1
        op = _value_op(
            op_type,
            lowering,
            [d, ids, n],
            [2],
            name=name or op_type,
            fallback=_unknown(fallback_rank, d.dtype),
        )
        return op.outputs[0]

    segment.__name__ = segment.__qualname__ = tf_name
    segment.__doc__ = (
        f"The {kind} of ``data``'s slices per segment id (``tf.{tf_name}``; op "
        f"{op_type}).\n\n"
        "Returns:\n    A tensor of shape ``[num_segments] + data.shape[ids.ndim:]``; "
        "empty segments hold the reduction's identity, ids out of range are "
        "dropped.\n\n"
        "Raises:\n    TypeError: ``num_segments`` is computed on the device.\n"
    )
    return segment


unsorted_segment_sum = _segment_op("UnsortedSegmentSum", "sum")
unsorted_segment_max = _segment_op("UnsortedSegmentMax", "max")
unsorted_segment_min = _segment_op("UnsortedSegmentMin", "min")
unsorted_segment_prod = _segment_op("UnsortedSegmentProd", "prod")
unsorted_segment_mean = _segment_op("UnsortedSegmentMean", "mean")
unsorted_segment_sqrt_n = _segment_op("UnsortedSegmentSqrtN", "sqrt_n")

for _type in (
    "UnsortedSegmentSum",
    "UnsortedSegmentMax",
    "UnsortedSegmentMin",
    "UnsortedSegmentProd",
    "UnsortedSegmentMean",
    "UnsortedSegmentSqrtN",
):
    NO_GRADIENT_INPUTS[_type] = lambda op: (1, 2)
NO_GRADIENT_INPUTS["ScatterNd"] = lambda op: (0, 2)
