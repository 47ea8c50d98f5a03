"""Nested fetches <-> flat unique graph elements, and feed resolution.

Fetches may be Tensors, Operations, Variables, names, or nested
lists/tuples/dicts/namedtuples of them; results mirror the structure, with
``None`` for operations. Duplicate fetches are computed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import Graph, Operation, Tensor
from jaxsession.graph.shapes import TensorShape


def is_leaf(x: Any) -> bool:
    """Whether ``x`` is one fetch (a graph element, its name, None), not a structure."""
    return (
        x is None
        or isinstance(x, Tensor | Operation | str)
        or hasattr(x, "_as_graph_element")
    )


class FetchMapper:
    """The flat, deduplicated tensors and ops of one fetch structure.

    Args:
        graph: The graph the fetches belong to.
        fetches: The nested fetch structure.

    Raises:
        TypeError: a leaf is not a graph element, naming it and its type.
        ValueError: a leaf belongs to another graph or names nothing.
    """

    def __init__(self, graph: Graph, fetches: Any):
        leaves, self._treedef = jax.tree_util.tree_flatten(fetches, is_leaf=is_leaf)
        # An empty list is a treedef "leaf" too, with no leaf to return.
        self._single = len(leaves) == 1 and jax.tree_util.treedef_is_leaf(self._treedef)
        self.tensors: list[Tensor] = []
        self.targets: list[Operation] = []
        self._slots: list[int | None] = []
        index: dict[Tensor, int] = {}
        for leaf in leaves:
            element = _element(graph, leaf)
            if isinstance(element, Operation):
                if element not in self.targets:
                    self.targets.append(element)
                self._slots.append(None)
            else:
                if element not in index:
                    index[element] = len(self.tensors)
                    self.tensors.append(element)
                self._slots.append(index[element])

    def build(self, values: list[Any]) -> Any:
        """The fetch structure with each tensor replaced by its value."""
        if self._single:
            slot = self._slots[0]
            return None if slot is None else values[slot]
        leaves = [None if s is None else values[s] for s in self._slots]
        return jax.tree_util.tree_unflatten(self._treedef, leaves)


def fetch_key(fetches: Any) -> Any:
    """A hashable key equal for equal fetch structures, or None if there is none.

    Containers are tagged with their type, so a list and a tuple of the same
    elements (whose results differ in type) get different keys.
    """
    try:
        key = _key(fetches)
        hash(key)
    except TypeError:
        return None
    return key


def _key(x: Any) -> Any:
    if isinstance(x, list | tuple):
        return (type(x), *(_key(v) for v in x))
    if isinstance(x, dict):
        return (type(x), *((k, _key(v)) for k, v in x.items()))
    return x


def _element(graph: Graph, leaf: Any) -> Tensor | Operation:
    if leaf is None or not (
        isinstance(leaf, Tensor | Operation | str) or hasattr(leaf, "_as_graph_element")
    ):
        raise TypeError(
            f"Fetch argument {leaf!r} has invalid type {type(leaf)}, must be a string "
            "or Tensor. (Can not convert a "
            f"{type(leaf).__name__} into a Tensor or Operation.)"
        )
    try:
        return graph.as_graph_element(leaf)
    except (KeyError, ValueError) as e:
        raise ValueError(
            f"Fetch argument {leaf!r} cannot be interpreted as a Tensor. ({e})"
        ) from None


def feed_tensor(graph: Graph, key: Any) -> Tensor:
    """The Tensor a feed_dict key names.

    Raises:
        TypeError: the key cannot be interpreted as a Tensor.
    """
    try:
        element = graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
    except (TypeError, KeyError, ValueError) as e:
        raise TypeError(
            f"Cannot interpret feed_dict key as Tensor: {key!r} ({e})"
        ) from None
    return element


def check_feed(tensor: Tensor, value: Any) -> Any:
    """Converts a fed value to the tensor's dtype after checking its shape.

    Returns:
        A NumPy array (or the same jax.Array when fed one of the right dtype).

    Raises:
        ValueError: the shape cannot fit the tensor's static shape.
        TypeError: the value cannot be converted to the tensor's dtype.
    """
    value = convert_feed(tensor, value)
    check_feed_shape(tensor, value.shape)
    return value


def convert_feed(tensor: Tensor, value: Any) -> Any:
    """A fed value in the tensor's dtype, its shape not yet checked.

    Raises:
        TypeError: the value cannot be converted to the tensor's dtype.
    """
    dtype = tensor.dtype
    if isinstance(value, jax.Array):
        if value.dtype != dtype.jax_dtype:
            value = value.astype(dtype.jax_dtype)
        return value
    if dtype is dtypes_lib.string:
        return np.asarray(value, dtype=object)
    if type(value) is np.ndarray and value.dtype == dtype.jax_dtype:
        return value
    return _to_numpy(tensor, value, dtype)


def check_feed_shape(tensor: Tensor, shape: tuple[int, ...]) -> None:
    """Checks that a fed value of ``shape`` fits the tensor's static shape.

    Raises:
        ValueError: it does not, naming the tensor and the first mismatch.
    """
    if not tensor.shape.is_compatible_with(TensorShape(shape)):
        raise ValueError(
            f"Cannot feed value of shape {TensorShape(shape)} for Tensor "
            f"{tensor.name!r}, which has shape {tensor.shape}"
            + _first_mismatch(tensor.shape, shape)
        )


def _to_numpy(tensor: Tensor, value: Any, dtype: dtypes_lib.DType) -> np.ndarray:
    if dtype is dtypes_lib.string:
        return np.asarray(value, dtype=object)
    arr = np.asarray(value)
    if arr.dtype.kind in "OSU":
        raise TypeError(
            f"Cannot feed value {value!r} of dtype {arr.dtype} for Tensor "
            f"{tensor.name!r} of dtype {dtype.name}"
        )
    if dtype.is_integer and arr.dtype.kind == "f":
        raise TypeError(
            f"Cannot feed value of dtype {arr.dtype} for Tensor {tensor.name!r} of "
            f"dtype {dtype.name}: converting floats to integers would lose data"
        )
    return arr.astype(dtype.jax_dtype, copy=False)


def _first_mismatch(want: TensorShape, shape: tuple[int, ...]) -> str:
    if want.ndims is not None and want.ndims != len(shape):
        return f": rank must be {want.ndims}, got {len(shape)}."
    for i, (w, g) in enumerate(zip(want.as_list(), shape)):
        if w is not None and w != g:
            return f": dimension {i} must be {w}, got {g}."
    return "."


def resolve_feeds(
    graph: Graph, feed_dict: Mapping[Any, Any] | None
) -> dict[Tensor, Any]:
    """Tensors and checked values of a feed_dict (nested tuple keys allowed)."""
    out: dict[Tensor, Any] = {}
    if not feed_dict:
        return out
    for key, value in feed_dict.items():
        if isinstance(key, tuple) and not isinstance(key, Tensor):
            for k, v in zip(key, value):
                tensor = feed_tensor(graph, k)
                out[tensor] = check_feed(tensor, v)
            continue
        tensor = feed_tensor(graph, key)
        out[tensor] = check_feed(tensor, value)
    return out


def to_host(tensor: Tensor, value: Any) -> Any:
    """A fetched value as TF1 returns it: NumPy, in the tensor's declared dtype."""
    if tensor.dtype is dtypes_lib.string:
        arr = _as_bytes(np.asarray(value, dtype=object))
        return arr[()] if arr.ndim == 0 else arr
    arr = np.asarray(value)
    np_dtype = tensor.dtype.np_dtype
    if arr.dtype != np_dtype:
        arr = arr.astype(np_dtype)
    return arr[()] if arr.ndim == 0 else arr


def _as_bytes(arr: np.ndarray) -> np.ndarray:
    """String values as TF1 fetches them: ``bytes``, Python strings UTF-8 encoded."""
    if not any(isinstance(x, str) for x in arr.flat):
        return arr
    out = np.empty(arr.shape, dtype=object)
    out.flat[:] = [x.encode() if isinstance(x, str) else x for x in arr.flat]
    return out
