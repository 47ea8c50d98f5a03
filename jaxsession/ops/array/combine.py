"""Combining ops: concat, stack, unstack, split, tile, pad, reverse, meshgrid.

Importing it registers ``stack`` as the autopacking of nested lists.
"""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import (
    convert_to_tensor,
    make_op,
    register_list_conversion,
)
from jaxsession.graph.rules import CHECK_OPS, EFFECT_OPS
from jaxsession.graph.variables import Variable
from jaxsession.ops.array._common import (
    _int_tensor,
    _ints,
    _norm_axis,
    _op_scope,
    _static,
    _static_int,
    _unknown,
    _value_op,
)
from jaxsession.ops.array.shape import identity

__all__ = [
    "concat",
    "meshgrid",
    "pad",
    "reverse",
    "reverse_sequence",
    "reverse_v2",
    "split",
    "stack",
    "tile",
    "unstack",
]


# -- concat, stack, split -------------------------------------------------------


def _common_tensors(values: Sequence[Any], op_type: str = "Pack") -> list[Tensor]:
    typed = [convert_to_tensor(v) for v in values if isinstance(v, Tensor | Variable)]
    dtypes_ = [t.dtype.name for t in typed]
    if len(set(dtypes_)) > 1:
        # TF1's op_def_library check of a list input with one type attr.
        raise TypeError(
            f"Tensors in list passed to 'values' of '{op_type}' Op have types "
            f"[{', '.join(dtypes_)}] that don't all match."
        )
    dtype = typed[0].dtype if typed else None
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
            raise errors.op_shape_error(
                op_type,
                name,
                xs,
                f"Shapes must be equal rank, but are {len(merged)} and {len(dims)}",
            )
        for i, (a, b) in enumerate(zip(merged, dims)):
            if i == skip:
                continue
            if a is not None and b is not None and a != b:
                raise errors.op_shape_error(
                    op_type,
                    name,
                    xs,
                    f"Dimension {i} in both shapes must be equal, but are {a} and {b}. "
                    f"Shapes are {errors.format_dims(first.shape.as_tuple())} and "
                    f"{errors.format_dims(x.shape.as_tuple())}",
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
    xs = _common_tensors(values, "ConcatV2")
    axis = _static_int(axis, "axis")
    if len(xs) == 1:
        return identity(xs[0], name=name)
    ranked = [x for x in xs if x.shape.ndims is not None]
    rank = ranked[0].shape.ndims if ranked else None
    if rank is not None and not -rank <= axis < rank:
        raise errors.op_shape_error(
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
            raise errors.op_shape_error(
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
        raise errors.op_shape_error(
            "Unpack", name, [x], f"Dimension must be {num} but is {dim}"
        )
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
            raise errors.op_shape_error(
                op_type, name, [x], f"num_split must be positive, got {spec}"
            )
        if dim is None:
            return (-2,) * spec, [None] * spec
        if dim % spec:
            raise errors.op_shape_error(
                op_type,
                name,
                [x],
                f"Dimension size must be evenly divisible by {spec} but is {dim}",
            )
        return (dim // spec,) * spec, [dim // spec] * spec
    sizes = tuple(spec)
    if builtins.sum(s == -1 for s in sizes) > 1 or builtins.any(s < -1 for s in sizes):
        raise errors.op_shape_error(
            op_type,
            name,
            [x],
            f"size_splits {list(sizes)} may hold at most one -1 and no other negative size",
        )
    rest = builtins.sum(s for s in sizes if s != -1)
    if dim is not None and ((-1 not in sizes and rest != dim) or rest > dim):
        raise errors.op_shape_error(
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
        raise errors.op_shape_error(
            "ReverseV2", name, [x], f"axis {list(axes)} specifies a dim more than once"
        )
    return make_op("ReverseV2", _reverse, [x], name=name, attrs={"axis": axes}).outputs[
        0
    ]


reverse_v2 = reverse


def _reverse_sequence(x: Any, lengths: Any, *, seq_axis: int, batch_axis: int) -> Any:
    moved = jnp.moveaxis(x, (batch_axis, seq_axis), (0, 1))
    steps = jnp.arange(moved.shape[1])[None, :]
    lens = lengths.astype(jnp.int32)[:, None]
    index = jnp.where(steps < lens, lens - 1 - steps, steps)
    index = jnp.clip(index, 0, moved.shape[1] - 1)
    index = index.reshape(index.shape + (1,) * (moved.ndim - 2))
    out = jnp.take_along_axis(moved, index, axis=1)
    bad = (lengths > moved.shape[1]) | (lengths < 0)
    size = jnp.asarray(moved.shape[1], jnp.int32)
    out = jnp.moveaxis(out, (0, 1), (batch_axis, seq_axis))
    return out, ~jnp.any(bad), lengths, size


def _reverse_sequence_error(op: Any, reports: list[Any]) -> errors.OpError:
    lengths, size, dim = reports[1], int(reports[2]), op.attrs["seq_axis"]
    i = int(np.flatnonzero((lengths < 0) | (lengths > size))[0])
    reason = (
        f"seq_lens({i}) < 0" if lengths[i] < 0 else f"seq_lens({i}) > input.dims({dim})"
    )
    return errors.InvalidArgumentError(
        None, op, f"{reason}\n\t [[{errors.op_site(op)}]]"
    )


def reverse_sequence(
    input: Any,
    seq_lengths: Any,
    seq_axis: int | None = None,
    batch_axis: int | None = None,
    name: str | None = None,
    seq_dim: int | None = None,
    batch_dim: int | None = None,
) -> Tensor:
    """Reverses the first ``seq_lengths[i]`` steps of each batch entry (``tf.reverse_sequence``).

    Args:
        input: The tensor to reverse.
        seq_lengths: An int32 or int64 vector, one length per batch entry.
        seq_axis: The axis of the steps.
        batch_axis: The axis of the batch entries (default 0).
        name: Op name.
        seq_dim: ``seq_axis``'s deprecated name.
        batch_dim: ``batch_axis``'s deprecated name.

    Returns:
        A tensor of ``input``'s shape and dtype.

    Raises:
        TypeError: ``seq_lengths`` is not an integer type, or no ``seq_axis``.
        ValueError: a negative axis or one past the rank, or ``seq_lengths``
            not a vector as long as the batch axis.
        errors.InvalidArgumentError: at run time, a length below 0 or above the
            steps (``"seq_lens(1) > input.dims(1)"``); the run changes nothing.
    """
    seq = seq_axis if seq_axis is not None else seq_dim
    batch = batch_axis if batch_axis is not None else batch_dim
    if seq is None:
        raise TypeError("Expected int for argument 'seq_dim' not None.")
    batch = 0 if batch is None else batch
    with _op_scope(name, "ReverseSequence", input) as scope:
        name = scope.rstrip("/")
        x = convert_to_tensor(input, name="input")
        lengths = convert_to_tensor(seq_lengths, name="seq_lengths")
        if lengths.dtype.name not in ("int32", "int64"):
            raise TypeError(
                "Value passed to parameter 'seq_lengths' has DataType "
                f"{lengths.dtype.name} not in list of allowed values: int32, int64"
            )
        rank, inputs = x.shape.ndims, [x, lengths]

        def fail(reason: str) -> ValueError:
            return errors.op_shape_error("ReverseSequence", name, inputs, reason)

        for what, axis in (("batch_dim", batch), ("seq_dim", seq)):
            if axis < 0:
                raise fail(f"{what} must be >=0, got {axis}")
            if rank is not None and axis >= rank:
                raise fail(f"{what} must be < input rank: {axis} vs. {rank}")
        if lengths.shape.ndims not in (None, 1):
            raise fail(f"Shape must be rank 1 but is rank {lengths.shape.ndims}")
        n, m = lengths.shape[0].value, x.shape[batch].value if rank else None
        if n is not None and m is not None and n != m:
            raise fail(f"Dimensions must be equal, but are {m} and {n}")
        return _lengths_op(
            "ReverseSequence", _reverse_sequence, x, lengths, scope, seq, batch
        )


def _lengths_op(
    op_type: str, fn: Any, x: Tensor, lengths: Tensor, name: str, seq: int, batch: int
) -> Tensor:
    """An op of ``x`` and ``lengths`` that also reports the lengths check."""
    op = make_op(
        op_type,
        fn,
        [x, lengths],
        name=name,
        attrs={"seq_axis": seq, "batch_axis": batch},
        # Given, not inferred: unknown batch dims of the two inputs agree.
        out_avals=[
            x._aval,
            Aval((), dtypes_lib.bool_),
            lengths._aval,
            Aval((), dtypes_lib.int32),
        ],
    )
    return op.outputs[0]


def _sequence_lengths_check(
    x: Any, lengths: Any, *, seq_axis: int, batch_axis: int
) -> tuple[Any, ...]:
    size = x.shape[seq_axis]
    bad = (lengths > size) | (lengths < 0)
    return x, ~jnp.any(bad), lengths, jnp.asarray(size, jnp.int32)


def check_sequence_lengths(
    x: Tensor, lengths: Tensor, seq_axis: int, batch_axis: int
) -> Tensor:
    """``x`` unchanged; a run fails where a length is below 0 or above the steps.

    The check TF1's ``ReverseSequence`` makes, for drivers that reverse
    sequences without it (the backward pass of ``bidirectional_dynamic_rnn``).
    """
    return _lengths_op(
        "SequenceLengthsCheck",
        _sequence_lengths_check,
        x,
        lengths,
        "ReverseSequence",
        seq_axis,
        batch_axis,
    )


for _type in ("ReverseSequence", "SequenceLengthsCheck"):
    CHECK_OPS[_type] = (1, _reverse_sequence_error)
    # Never folded while building: the run makes the lengths check.
    EFFECT_OPS.add(_type)


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


register_list_conversion(stack)
