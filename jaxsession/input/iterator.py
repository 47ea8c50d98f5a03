"""``tf.data`` iterators as graph ops, and the element structure they share.

``get_next()`` and an iterator's initializer are ops with no lowering: the
session evaluates them on the host (``engine/infeed.py``). ``Dataset`` and
``Iterator`` both describe their elements through ``_ElementStructure``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jax

from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Operation, Tensor, get_default_graph
from jaxsession.graph.make_op import make_op

if TYPE_CHECKING:
    from jaxsession.input.dataset import Dataset

__all__ = [
    "Iterator",
    "get_output_classes",
    "get_output_shapes",
    "get_output_types",
    "make_initializable_iterator",
    "make_one_shot_iterator",
]


def _is_leaf(x: Any) -> bool:
    return not isinstance(x, tuple | list | dict)


def _flatten(structure: Any) -> tuple[list[Any], Any]:
    return jax.tree_util.tree_flatten(structure, is_leaf=_is_leaf)


class _ElementStructure:
    """The TF1 structure properties shared by datasets and iterators."""

    _types: Any
    _shapes: Any

    @property
    def output_types(self) -> Any:
        """Nested structure of the elements' dtypes."""
        return self._types

    @property
    def output_shapes(self) -> Any:
        """Nested structure of the elements' static shapes."""
        return self._shapes

    @property
    def output_classes(self) -> Any:
        """Nested structure of ``Tensor`` (TF1 compatibility)."""
        return jax.tree_util.tree_map(lambda _: Tensor, self._types, is_leaf=_is_leaf)


def _is_shape(x: Any) -> bool:
    return isinstance(x, shapes.TensorShape)


def shapes_like(types: Any, output_shapes: Any) -> Any:
    """``output_shapes`` as TensorShapes in the structure of ``types``.

    As TF1 maps them up to the types' structure, a dtype's shape may be
    given as a list of dims (``[]`` for a scalar, ``[None, 2]``); None
    means unknown shapes.
    """
    leaves, treedef = _flatten(types)
    if output_shapes is None:
        return treedef.unflatten([shapes.as_shape(None) for _ in leaves])
    try:
        given = treedef.flatten_up_to(output_shapes)
    except (ValueError, TypeError):
        # A list where the types have a tuple: mapped leaf by leaf.
        return jax.tree_util.tree_map(
            shapes.as_shape, output_shapes, is_leaf=lambda x: x is None or _is_shape(x)
        )
    return treedef.unflatten([shapes.as_shape(x) for x in given])


# -- iterators as graph ops --------------------------------------------------------


def _host_only(*_: Any, **__: Any) -> Any:
    raise RuntimeError("iterator ops are evaluated on the host by the session")


class Iterator_(_ElementStructure):
    """Produces a dataset's elements as graph tensors (``tf.data.Iterator``).

    Args:
        output_types: Nested structure of dtypes.
        output_shapes: Nested structure of shapes.
    """

    def __init__(self, output_types: Any, output_shapes: Any = None):
        self._types = jax.tree_util.tree_map(
            dtypes_lib.as_dtype, output_types, is_leaf=_is_leaf
        )
        self._shapes = shapes_like(self._types, output_shapes)
        self._one_shot: Dataset | None = None
        self._initializer: Operation | None = None
        self._graph = get_default_graph()

    @staticmethod
    def from_structure(
        output_types: Any,
        output_shapes: Any = None,
        shared_name: str | None = None,
        output_classes: Any = None,
    ) -> Iterator_:
        """An iterator not bound to a dataset; bind one with ``make_initializer``."""
        return Iterator_(output_types, output_shapes)

    @property
    def initializer(self) -> Operation:
        """The op (re)starting the iterator over its dataset.

        Raises:
            ValueError: the iterator was not made by make_initializable_iterator.
        """
        if self._initializer is None:
            raise ValueError(
                "Iterator does not have an initializer: it was not created with "
                "make_initializable_iterator()."
            )
        return self._initializer

    def make_initializer(self, dataset: Dataset, name: str | None = None) -> Operation:
        """An op that (re)starts this iterator over ``dataset``.

        Raises:
            TypeError: the dataset's types do not match the iterator's.
            ValueError: the dataset's shapes are not compatible with the iterator's.
        """
        _check_structure(self, dataset)
        return make_op(
            "MakeIterator",
            _host_only,
            dataset._inputs,
            name=name or "MakeIterator",
            attrs={"iterator": self, "dataset": dataset},
            out_avals=[],
        )

    def get_next(self, name: str | None = None) -> Any:
        """Tensors holding the next element; running them past the end raises OutOfRangeError."""
        type_leaves, treedef = _flatten(self._types)
        shape_leaves = treedef.flatten_up_to(self._shapes)
        avals = [Aval(s.as_tuple(), t) for t, s in zip(type_leaves, shape_leaves)]
        op = make_op(
            "IteratorGetNext",
            _host_only,
            (),
            name=name or "IteratorGetNext",
            attrs={"iterator": self},
            out_avals=avals,
        )
        return treedef.unflatten(list(op.outputs))

    def string_handle(self, name: str | None = None) -> Tensor:
        """Unsupported: feedable iterators are replaced by ``from_structure``."""
        from jaxsession import errors

        raise errors.UnimplementedError(
            None, None, "string_handle is not supported; use Iterator.from_structure"
        )


Iterator = Iterator_


def _check_structure(it: Iterator_, dataset: Dataset) -> None:
    want_types, treedef = _flatten(it.output_types)
    try:
        got_types = treedef.flatten_up_to(dataset.output_types)
    except (ValueError, TypeError):
        raise TypeError(
            f"Expected output types {it.output_types} but got dataset with output types "
            f"{dataset.output_types}."
        ) from None
    if list(want_types) != list(got_types):
        raise TypeError(
            f"Expected output types {it.output_types} but got dataset with output types "
            f"{dataset.output_types}."
        )
    want_shapes = treedef.flatten_up_to(it.output_shapes)
    got_shapes = treedef.flatten_up_to(dataset.output_shapes)
    if not all(w.is_compatible_with(g) for w, g in zip(want_shapes, got_shapes)):
        raise ValueError(
            f"Expected output shapes compatible with {it.output_shapes} but got dataset "
            f"with output shapes {dataset.output_shapes}."
        )


def make_one_shot_iterator(dataset: Dataset) -> Iterator_:
    """``tf.compat.v1.data.make_one_shot_iterator``."""
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(
    dataset: Dataset, shared_name: str | None = None
) -> Iterator_:
    """``tf.compat.v1.data.make_initializable_iterator``."""
    return dataset.make_initializable_iterator(shared_name)


def get_output_types(dataset_or_iterator: Dataset | Iterator_) -> Any:
    """``tf.compat.v1.data.get_output_types``."""
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator: Dataset | Iterator_) -> Any:
    """``tf.compat.v1.data.get_output_shapes``."""
    return dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator: Dataset | Iterator_) -> Any:
    """``tf.compat.v1.data.get_output_classes``."""
    return dataset_or_iterator.output_classes


ITERATOR_OPS = ("MakeIterator", "IteratorGetNext")
