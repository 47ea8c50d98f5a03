"""``tf.TensorArray``: a fixed-size array of tensors written and read by index.

XLA needs static shapes, so a TensorArray here is one dense buffer
``[size, *element_shape]``; ``write`` returns a new TensorArray whose buffer
has one row replaced (``lax.dynamic_update_index_in_dim``), ``read`` slices a
row, ``stack`` is the buffer. A TensorArray is a JAX pytree whose leaf is the
buffer, so it passes through ``tf.while_loop`` and ``tf.scan`` as a loop
variable and gradients flow through it.

Differs from TF1: ``size`` must be known while building and
``dynamic_size=True`` is not supported; the element shape must be known when
the array enters a loop (give ``element_shape``, or write or ``unstack``
before the loop); ``split`` needs equal static lengths.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.core import Tensor, get_default_graph
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import constant_value
from jaxsession.ops.array.creation import constant, zeros
from jaxsession.ops.array.shape import identity, reshape
from jaxsession.ops.control_flow import no_op

__all__ = ["TensorArray"]


def _write(buf: Any, index: Any, value: Any) -> Any:
    return lax.dynamic_update_index_in_dim(buf, value.astype(buf.dtype), index, 0)


def _read(buf: Any, index: Any) -> Any:
    return lax.dynamic_index_in_dim(buf, index, 0, keepdims=False)


def _gather(buf: Any, indices: Any) -> Any:
    return jnp.take(buf, indices, axis=0)


def _scatter(buf: Any, indices: Any, value: Any) -> Any:
    return jnp.asarray(buf).at[indices].set(value.astype(buf.dtype))


class TensorArray:
    """A fixed-size array of same-shaped tensors (``tf.TensorArray``).

    Args:
        dtype: The elements' dtype.
        size: The number of elements, known while building (an int or a
            constant tensor); from ``unstack`` if None.
        dynamic_size: Must be False (XLA).
        clear_after_read: Ignored: elements may be read many times.
        tensor_array_name: Name of the array (default ``name``).
        handle: Not supported; must be None.
        flow: Not supported; must be None.
        infer_shape: Ignored: every element has the first write's shape.
        element_shape: The elements' shape, if known.
        colocate_with_first_write_call: Ignored.
        name: Name scope of the array's ops (default "TensorArray").

    Raises:
        errors.UnimplementedError: a size not known while building,
            ``dynamic_size``, ``handle`` or ``flow``.
    """

    def __init__(
        self,
        dtype: Any,
        size: Any = None,
        dynamic_size: bool | None = None,
        clear_after_read: bool | None = None,
        tensor_array_name: str | None = None,
        handle: Any = None,
        flow: Any = None,
        infer_shape: bool = True,
        element_shape: Any = None,
        colocate_with_first_write_call: bool = True,
        name: str | None = None,
    ):
        if dynamic_size or handle is not None or flow is not None:
            raise errors.UnimplementedError(
                None,
                None,
                "TensorArray(dynamic_size=True, handle=, flow=) is not supported: "
                "XLA arrays have a size known while building",
            )
        self._dtype = dtypes_lib.as_dtype(dtype)
        self._size = None if size is None else _static_size(size)
        self._element_shape = shapes.as_shape(element_shape)
        self._name = tensor_array_name or name or "TensorArray"
        self._buffer: Tensor | None = None

    @classmethod
    def _with_buffer(cls, like: TensorArray, buffer: Any) -> TensorArray:
        ta = cls.__new__(cls)
        ta._dtype, ta._size, ta._name = like._dtype, like._size, like._name
        ta._buffer = buffer
        shape = getattr(buffer, "shape", None)
        if isinstance(shape, shapes.TensorShape) and shape.ndims is not None:
            ta._element_shape = shapes.TensorShape(shape.as_list()[1:])
        else:
            ta._element_shape = like._element_shape
        return ta

    @property
    def dtype(self) -> dtypes_lib.DType:
        """The elements' dtype."""
        return self._dtype

    @property
    def element_shape(self) -> shapes.TensorShape:
        """The elements' static shape (unknown before the first write)."""
        return self._element_shape

    @property
    def flow(self) -> Tensor:
        """The buffer standing for the array's state (TF1's flow tensor)."""
        return self._materialized("flow")

    @property
    def handle(self) -> Tensor:
        """The buffer (TF1's resource handle)."""
        return self.flow

    def _scope(self, op: str) -> Any:
        return get_default_graph().name_scope(f"{self._name}{op}")

    def _need_size(self, what: str) -> int:
        if self._size is None:
            raise ValueError(
                f"TensorArray {self._name} cannot {what}: its size is unknown; give "
                "size= or unstack a tensor first"
            )
        return self._size

    def _materialized(self, what: str) -> Tensor:
        """The buffer, made of zeros when nothing was written yet."""
        if self._buffer is None:
            size = self._need_size(what)
            if not self._element_shape.is_fully_defined():
                raise ValueError(
                    f"TensorArray {self._name} cannot {what}: its element shape "
                    f"{self._element_shape} is not fully known before the first "
                    "write, and XLA needs it; pass element_shape= (or write before "
                    "the loop)"
                )
            with self._scope("/zeros"):
                self._buffer = zeros(
                    [size, *self._element_shape.as_list()], dtype=self._dtype
                )
        return self._buffer

    def _value(self, value: Any, what: str) -> Tensor:
        value = convert_to_tensor(value, preferred_dtype=self._dtype)
        if value.dtype is not self._dtype:
            raise TypeError(
                f"TensorArray dtype is {self._dtype.name} but Op is trying to {what} "
                f"dtype {value.dtype.name}: {value!r}"
            )
        return value

    def _check_element(self, shape: shapes.TensorShape, value: Tensor) -> None:
        if not self._element_shape.is_compatible_with(shape):
            raise ValueError(
                f"Inconsistent shapes: saw {shape} but expected {self._element_shape} "
                f"(and infer_shape=True) writing {value!r} to TensorArray {self._name}"
            )

    def write(self, index: Any, value: Any, name: str | None = None) -> TensorArray:
        """A new TensorArray with element ``index`` set to ``value``.

        Raises:
            TypeError: ``value`` has another dtype.
            ValueError: ``value``'s shape differs from the elements'.
        """
        value = self._value(value, "write")
        self._check_element(value.shape, value)
        if self._buffer is None:
            self._element_shape = self._element_shape.merge_with(value.shape)
        buf = self._materialized("write")
        with self._scope("/write"):
            index = _index(index)
            out = make_op("TensorArrayWriteV3", _write, [buf, index, value]).outputs[0]
        return TensorArray._with_buffer(self, out)

    def read(self, index: Any, name: str | None = None) -> Tensor:
        """Element ``index``."""
        buf = self._materialized("read")
        with self._scope("/read"):
            return make_op(
                "TensorArrayReadV3", _read, [buf, _index(index)], name=name
            ).outputs[0]

    def stack(self, name: str | None = None) -> Tensor:
        """All elements stacked on a new first axis."""
        with self._scope("/stack"):
            return identity(self._materialized("stack"), name=name or "stack")

    def gather(self, indices: Any, name: str | None = None) -> Tensor:
        """The elements at ``indices``, stacked."""
        buf = self._materialized("gather")
        with self._scope("/gather"):
            return make_op(
                "TensorArrayGatherV3",
                _gather,
                [buf, convert_to_tensor(indices, dtype=dtypes_lib.int32)],
                name=name,
            ).outputs[0]

    def concat(self, name: str | None = None) -> Tensor:
        """All elements concatenated along their first axis."""
        buf = self._materialized("concat")
        shape = buf.shape.as_list()
        if len(shape) < 2:
            raise ValueError(f"TensorArray {self._name}.concat: elements are scalars")
        with self._scope("/concat"):
            return reshape(buf, [-1, *shape[2:]], name=name or "concat")

    def unstack(self, value: Any, name: str | None = None) -> TensorArray:
        """A new TensorArray holding the slices of ``value`` along axis 0.

        Raises:
            ValueError: ``value``'s first dimension differs from the size.
        """
        value = self._value(value, "unstack")
        if value.shape.ndims is None or value.shape.ndims == 0:
            raise ValueError(
                f"TensorArray.unstack needs a tensor of rank >= 1: {value!r}"
            )
        n = value.shape[0].value
        if n is None or (self._size is not None and n != self._size):
            raise ValueError(
                f"TensorArray {self._name} has size {self._size} but unstack was given "
                f"{value!r}"
            )
        self._check_element(shapes.TensorShape(value.shape.as_list()[1:]), value)
        out = TensorArray._with_buffer(self, value)
        out._size = n
        return out

    def scatter(self, indices: Any, value: Any, name: str | None = None) -> TensorArray:
        """A new TensorArray with the elements at ``indices`` set to ``value``'s rows."""
        value = self._value(value, "scatter")
        rows = shapes.TensorShape(value.shape.as_list()[1:])
        self._check_element(rows, value)
        if self._buffer is None:
            self._element_shape = self._element_shape.merge_with(rows)
        buf = self._materialized("scatter")
        idx = convert_to_tensor(indices, dtype=dtypes_lib.int32)
        with self._scope("/scatter"):
            out = make_op("TensorArrayScatterV3", _scatter, [buf, idx, value]).outputs[
                0
            ]
        return TensorArray._with_buffer(self, out)

    def split(self, value: Any, lengths: Any, name: str | None = None) -> TensorArray:
        """A new TensorArray of ``value`` split along axis 0 into equal ``lengths``.

        Raises:
            errors.UnimplementedError: lengths unknown while building or unequal.
        """
        value = self._value(value, "split")
        known = constant_value(convert_to_tensor(lengths))
        if known is None or len(set(known.tolist())) > 1:
            raise errors.UnimplementedError(
                None, None, "TensorArray.split needs equal lengths known while building"
            )
        n, k = len(known), int(known[0])
        rows = reshape(value, [n, k, *value.shape.as_list()[1:]])
        return self.unstack(rows, name=name)

    def size(self, name: str | None = None) -> Tensor:
        """The number of elements, an int32 scalar."""
        return constant(self._need_size("size"), dtypes_lib.int32, name=name or "size")

    def identity(self) -> TensorArray:
        """This array (its elements are values, not references)."""
        return self

    def close(self, name: str | None = None) -> Any:
        """Does nothing (a no-op, as nothing needs freeing)."""
        return no_op(name=name)


def _index(index: Any) -> Tensor:
    """``index`` as an int32 scalar tensor."""
    return convert_to_tensor(index, dtype=dtypes_lib.int32)


def _static_size(size: Any) -> int:
    if isinstance(size, int):
        return size
    value = constant_value(convert_to_tensor(size))
    if value is None:
        raise errors.UnimplementedError(
            None,
            None,
            f"TensorArray size must be known while building (XLA), got {size!r}",
        )
    return int(value)


def _flatten(ta: TensorArray) -> tuple[tuple[Any], tuple[Any, ...]]:
    return (ta._materialized("enter a loop"),), (ta._dtype, ta._size, ta._name)


def _unflatten(aux: tuple[Any, ...], children: Any) -> TensorArray:
    ta = TensorArray.__new__(TensorArray)
    ta._dtype, ta._size, ta._name = aux
    ta._element_shape = shapes.TensorShape(None)
    return TensorArray._with_buffer(ta, children[0])


jax.tree_util.register_pytree_node(TensorArray, _flatten, _unflatten)
