"""``tf.SparseTensor``, ``tf.sparse_placeholder`` and the ops that densify them.

A SparseTensor is the triple ``(indices, values, dense_shape)`` of tensors.
It feeds and fetches as TF1's does: ``feed_dict={sp: SparseTensorValue(...)}``
(or a plain 3-tuple) and ``sess.run(sp)`` gives a ``SparseTensorValue``.

A dense shape decides the shape of what densifies it, and XLA needs that
shape when it compiles: a sparse placeholder's dense shape is therefore a
static feed (``rules.mark_static_feed``), each fed value its own compiled
run. Differs from TF1: densifying a SparseTensor whose dense shape is
computed on the device raises TypeError.
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor, get_default_session, name_scope
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.graph.rules import NO_GRADIENT_INPUTS, constant_value, mark_static_feed
from jaxsession.ops.array._common import _ints, _value_op
from jaxsession.ops.array.creation import fill, placeholder

__all__ = [
    "SparseTensor",
    "SparseTensorValue",
    "sparse_placeholder",
    "sparse_tensor_dense_matmul",
    "sparse_tensor_to_dense",
    "sparse_to_dense",
]


class SparseTensorValue(NamedTuple):
    """A fetched (or fed) sparse value: NumPy ``indices``, ``values``, ``dense_shape``."""

    indices: Any
    values: Any
    dense_shape: Any


class _Fields(NamedTuple):
    indices: Tensor
    values: Tensor
    dense_shape: Tensor


class SparseTensor(_Fields):
    """A sparse tensor as three dense tensors (``tf.SparseTensor``).

    Args:
        indices: int64 ``[N, rank]`` positions of the values.
        values: ``[N]`` values.
        dense_shape: int64 ``[rank]`` shape of the dense tensor.
    """

    __slots__ = ()

    def __new__(cls, indices: Any, values: Any, dense_shape: Any) -> SparseTensor:
        """Converts the three parts to tensors."""
        with name_scope(None, "SparseTensor"):
            i = convert_to_tensor(indices, dtype=dtypes_lib.int64, name="indices")
            v = convert_to_tensor(values, name="values")
            s = convert_to_tensor(
                dense_shape, dtype=dtypes_lib.int64, name="dense_shape"
            )
        return super().__new__(cls, i, v, s)

    @classmethod
    def from_value(cls, value: Any) -> SparseTensor:
        """A SparseTensor of a ``SparseTensorValue`` (or a SparseTensor itself)."""
        if isinstance(value, SparseTensor):
            return value
        return cls(value.indices, value.values, value.dense_shape)

    @property
    def dtype(self) -> dtypes_lib.DType:
        """The dtype of the values."""
        return self.values.dtype

    @property
    def op(self) -> Any:
        """The op producing the values."""
        return self.values.op

    @property
    def graph(self) -> Any:
        """The graph of the parts."""
        return self.values.graph

    @property
    def shape(self) -> shapes.TensorShape:
        """The static dense shape (unknown dims where it is not known while building)."""
        static = _STATIC_SHAPES.get(self.dense_shape)
        if static is not None:
            return static
        known = constant_value(self.dense_shape)
        if known is not None:
            return shapes.TensorShape([int(d) for d in known])
        rank = self.dense_shape.shape.as_tuple()
        if rank is None or rank[0] is None:
            return shapes.TensorShape(None)
        return shapes.TensorShape([None] * rank[0])

    def get_shape(self) -> shapes.TensorShape:
        """``shape``."""
        return self.shape

    def eval(self, feed_dict: Any = None, session: Any = None) -> SparseTensorValue:
        """The value in ``session`` or the default session."""
        session = session or get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate a SparseTensor without a default session")
        return session.run(self, feed_dict)

    def __repr__(self) -> str:
        return (
            f"SparseTensor(indices={self.indices!r}, values={self.values!r}, "
            f"dense_shape={self.dense_shape!r})"
        )


# A sparse placeholder's declared shape, for ``SparseTensor.shape``.
_STATIC_SHAPES: weakref.WeakKeyDictionary[Tensor, shapes.TensorShape] = (
    weakref.WeakKeyDictionary()
)

# Fetching a SparseTensor gives a SparseTensorValue, as in TF1.
jax.tree_util.register_pytree_node(
    SparseTensor,
    lambda sp: (tuple(sp), None),
    lambda _, parts: SparseTensorValue(*parts),
)


def sparse_placeholder(
    dtype: Any, shape: Any = None, name: str | None = None
) -> SparseTensor:
    """A SparseTensor whose three parts are fed (``tf.sparse_placeholder``).

    Args:
        dtype: The values' dtype.
        shape: The dense shape, partly known (None dims), or None.
        name: Prefix of the placeholders' names.

    Returns:
        A SparseTensor of placeholders ``<name>/indices``, ``<name>/values``
        and ``<name>/shape``.
    """
    static = shapes.as_shape(shape) if shape is not None else shapes.TensorShape(None)
    rank = static.ndims
    prefix = f"{name}/" if name else ""
    values = placeholder(dtype, [None], name=f"{prefix}values" if name else None)
    indices = placeholder(
        dtypes_lib.int64, [None, rank], name=f"{prefix}indices" if name else None
    )
    dense_shape = placeholder(
        dtypes_lib.int64, [rank], name=f"{prefix}shape" if name else None
    )
    mark_static_feed(dense_shape)
    sp = SparseTensor(indices, values, dense_shape)
    if shape is not None:
        _STATIC_SHAPES[dense_shape] = static
    return sp


def _to_dense(indices: Any, shape: Any, values: Any, default: Any) -> Any:
    dims = _ints(shape, "dense_shape")
    out = jnp.full(dims, default, values.dtype)
    idx = tuple(jnp.moveaxis(indices.reshape(-1, len(dims)), -1, 0))
    return out.at[idx].set(values, mode="drop")


def _dense_shape_op(
    op_type: str,
    indices: Tensor,
    dense_shape: Tensor,
    values: Tensor,
    default: Tensor,
    name: str,
    static: shapes.TensorShape,
) -> Tensor:
    op = _value_op(
        op_type,
        _to_dense,
        [indices, dense_shape, values, default],
        [1],
        name=name,
        fallback=lambda: [Aval(static.as_tuple(), values.dtype)],
    )
    return op.outputs[0]


def sparse_tensor_to_dense(
    sp_input: Any,
    default_value: Any = None,
    validate_indices: bool = True,
    name: str | None = None,
) -> Tensor:
    """The dense tensor of ``sp_input``, ``default_value`` elsewhere (``tf.sparse.to_dense``).

    Raises:
        TypeError: the dense shape is computed on the device.
    """
    sp = SparseTensor.from_value(sp_input)
    default = convert_to_tensor(
        0 if default_value is None else default_value, dtype=sp.dtype
    )
    with name_scope(name, "SparseToDense"):
        return _dense_shape_op(
            "SparseToDense",
            sp.indices,
            sp.dense_shape,
            sp.values,
            default,
            "SparseToDense",
            sp.shape,
        )


def sparse_to_dense(
    sparse_indices: Any,
    output_shape: Any,
    sparse_values: Any,
    default_value: Any = 0,
    validate_indices: bool = True,
    name: str | None = None,
) -> Tensor:
    """TF1's ``tf.sparse_to_dense``: values (or one scalar) scattered into a dense tensor."""
    i = convert_to_tensor(sparse_indices)
    s = convert_to_tensor(output_shape, dtype=i.dtype)
    v = convert_to_tensor(sparse_values)
    if v.shape.ndims == 0:
        count = i.shape.as_tuple()
        n = count[0] if count and count[0] is not None else None
        if n is None:
            raise ValueError(
                "tf.sparse_to_dense with a scalar value needs indices of known length"
            )
        v = fill([n], v)
    d = convert_to_tensor(default_value, dtype=v.dtype)
    known = constant_value(s)
    static = (
        shapes.TensorShape([int(x) for x in known.reshape(-1)])
        if known is not None
        else shapes.TensorShape([None] * (s.shape.as_tuple() or (0,))[0])
        if s.shape.ndims == 1 and s.shape.as_tuple()[0] is not None
        else shapes.TensorShape(None)
    )
    return _dense_shape_op("SparseToDense", i, s, v, d, name or "SparseToDense", static)


def _sparse_matmul(
    indices: Any, values: Any, shape: Any, b: Any, *, adjoint_a: bool, adjoint_b: bool
) -> Any:
    rows, cols = _ints(shape, "dense_shape")
    r, c = indices[:, 0], indices[:, 1]
    if adjoint_a:
        r, c, rows = c, r, cols
        values = jnp.conj(values)
    if adjoint_b:
        b = jnp.conj(b.T)
    return jax.ops.segment_sum(values[:, None] * jnp.asarray(b)[c], r, rows)


def sparse_tensor_dense_matmul(
    sp_a: Any,
    b: Any,
    adjoint_a: bool = False,
    adjoint_b: bool = False,
    name: str | None = None,
) -> Tensor:
    """``sp_a @ b`` for a 2-D SparseTensor and a dense matrix (``tf.sparse.matmul``).

    Raises:
        TypeError: the dense shape is computed on the device.
    """
    sp = SparseTensor.from_value(sp_a)
    dense = convert_to_tensor(b, dtype=sp.dtype)
    attrs = {"adjoint_a": adjoint_a, "adjoint_b": adjoint_b}
    out_cols = dense.shape.as_tuple()
    cols = None if out_cols is None else out_cols[0 if adjoint_b else 1]
    with name_scope(name, "SparseTensorDenseMatMul"):
        op = _value_op(
            "SparseTensorDenseMatMul",
            _sparse_matmul,
            [sp.indices, sp.values, sp.dense_shape, dense],
            [2],
            name="SparseTensorDenseMatMul",
            attrs=attrs,
            fallback=lambda: [_matmul_aval(sp, cols, adjoint_a)],
        )
    return op.outputs[0]


def _matmul_aval(sp: SparseTensor, cols: int | None, adjoint_a: bool) -> Any:
    dims = sp.shape.as_tuple()
    rows = None if dims is None else dims[1 if adjoint_a else 0]
    return Aval((rows, cols), sp.dtype)


NO_GRADIENT_INPUTS["SparseToDense"] = lambda op: (0, 1)
NO_GRADIENT_INPUTS["SparseTensorDenseMatMul"] = lambda op: (0, 2)
