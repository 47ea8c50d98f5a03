"""Indexing ops: slice, gather, one_hot, masks, where and strided slicing.

Importing it installs ``Tensor.__getitem__`` and ``Variable.__getitem__``.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import binary_inputs, convert_to_tensor, make_op
from jaxsession.graph.rules import NOT_DIFFERENTIABLE, constant_value
from jaxsession.graph.variables import Variable
from jaxsession.ops.array._common import (
    _int_tensor,
    _ints,
    _is_traced,
    _norm_axis,
    _op_scope,
    _static,
    _static_int,
    _traced_error,
    _unknown,
    _value_op,
)

__all__ = [
    "boolean_mask",
    "gather",
    "gather_nd",
    "newaxis",
    "one_hot",
    "sequence_mask",
    "slice",
    "strided_slice",
    "where_v2",
]

newaxis = None


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
        raise errors.op_shape_error(
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
        raise errors.op_shape_error(
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
            raise errors.op_shape_error(
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
            out_dtypes=[dtype],
        ).outputs[0]


# TF registers OneHot as not differentiable (on_value and off_value get None).
NOT_DIFFERENTIABLE.add("OneHot")


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
            raise errors.op_shape_error(
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


def _strided_slice(
    x: Any,
    *dyn: Any,
    spec: tuple[tuple[Any, ...], ...],
    result: Sequence[Tensor] = (),
) -> Any:
    x, spec = _dynamic_windows(x, dyn, spec, result)
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


def _dynamic_windows(
    x: Any,
    dyn: Sequence[Any],
    spec: tuple[tuple[Any, ...], ...],
    result: Sequence[Tensor],
) -> tuple[Any, tuple[tuple[Any, ...], ...]]:
    """Cuts the slices whose bounds are computed on the device, as windows.

    XLA needs each window's size while compiling: it is the result's static
    dim, which TF1 programs declare with ``set_shape`` (PTB's reader does).
    A window that would pass the end of the input is moved back to fit.
    """
    moving = [
        i
        for i, entry in enumerate(spec)
        if entry[0] == "slice"
        and builtins.any(
            isinstance(p, tuple) and _is_traced(dyn[p[1] - 1]) for p in entry[1:]
        )
    ]
    if not moving:
        return x, spec
    x = jnp.asarray(x)
    dims = result[0].shape.as_tuple() if result else None
    dim_of, out_pos = _dim_map(spec, x.ndim), _out_positions(spec, x.ndim)
    spec_list = list(spec)
    for i in moving:
        start, _, step = (
            dyn[p[1] - 1].reshape(()) if isinstance(p, tuple) else p
            for p in spec[i][1:]
        )
        size = None if dims is None else dims[out_pos[i]]
        if size is None or _is_traced(step) or step not in (None, 1):
            raise errors.UnimplementedError(
                None,
                None,
                f"slice {i} of {result[0].name if result else 'a strided slice'} "
                "has bounds computed on the device and no static size: declare "
                "the result's shape with set_shape(...), or use tf.slice with a "
                "constant size",
            )
        n = x.shape[dim_of[i]]
        start = 0 if start is None else jnp.where(start < 0, start + n, start)
        x = jax.lax.dynamic_slice_in_dim(x, start, size, axis=dim_of[i])
        spec_list[i] = ("slice", None, None, None)
    return x, tuple(spec_list)


def _out_positions(spec: Sequence[tuple[Any, ...]], rank: int) -> dict[int, int]:
    """The result dim of each slice entry of ``spec``."""
    dim_of = _dim_map(spec, rank)
    positions, n, used = {}, 0, 0
    for pos, (entry, d) in enumerate(zip(spec, dim_of)):
        if entry[0] == "...":
            start = _next_dim(dim_of, pos, rank)
            n, used = n + start - used, start
        elif entry[0] == "new":
            n += 1
        elif entry[0] == "slice":
            positions[pos], n, used = n, n + 1, d + 1
        else:
            used = d + 1
    return positions


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
        raise errors.op_shape_error(
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
            raise errors.op_shape_error(
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
    # The lowering reads the result's static shape, which set_shape may refine.
    result: list[Tensor] = []
    fn = functools.partial(_strided_slice, result=result) if dyn else _strided_slice
    result.extend(
        make_op(
            "StridedSlice",
            fn,
            [x, *dyn],
            name=name,
            attrs={"spec": spec},
            out_avals=avals,
        ).outputs
    )
    return result[0]


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

    ``strides`` must be known while building; ``begin`` and ``end`` may hold
    scalar tensors computed in the run where the result's size is known (its
    static shape, declared with ``set_shape`` as TF1 programs do).

    Differs from TF1: such a window that would pass the end of the input is
    moved back to fit (XLA's dynamic slice), where TF1 returns fewer elements.
    """
    b = _bounds(begin, "begin")
    e = _bounds(end, "end")
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


def _bounds(value: Any, what: str) -> Any:
    """``begin``/``end``: Python ints, with scalar tensors left for ``_bound``."""
    if isinstance(value, list | tuple) and builtins.any(
        isinstance(v, Tensor | Variable) for v in value
    ):
        return tuple(v if isinstance(v, Tensor | Variable) else int(v) for v in value)
    return _static(value, what)


def _getitem(self: Any, key: Any) -> Tensor:
    return _slice_helper(self, key)


Tensor.__getitem__ = _getitem
Variable.__getitem__ = _getitem
