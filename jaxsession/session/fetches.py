"""Nested fetches <-> flat unique graph elements (feeds: ``engine/feeds.py``).

Fetches may be Tensors, Operations, Variables, names, or nested
lists/tuples/dicts/namedtuples of them; results mirror the structure, with
``None`` for operations. Duplicate fetches are computed once. A Variable
fetched as such gives its value at the end of the run, as TF1's ref
variables do (``sess.run([train_op, global_step])`` gives the new step);
its read tensor (``v.value()``, the hooks' global-step read) gives the value
at the start of the run unless ordered after a write; one run may fetch
both. Differs from TF1: there, fetching ``v.value()`` beside a write races;
here it is always the start value.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import jax

from jaxsession.engine.plan import EndOfRun
from jaxsession.engine.runner import Runner, build_runner
from jaxsession.engine.state import VariableStore
from jaxsession.graph.core import Graph, Operation, Tensor
from jaxsession.graph.variables import Variable

# Fetches of these types are their own cache key (no structure to walk).
LEAF_TYPES = frozenset({Operation, Tensor, str})


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
        # JAX flattens a dict in sorted key order and rebuilds it so; TF1 keeps
        # the fetch's order, and allows keys that do not sort ({"a": x, 1: y}).
        if _unsorted_dict(fetches):
            fetches = _sortable(fetches)
            self._restore = True
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
                if isinstance(leaf, Variable):
                    element = _end_of_run(leaf, element)
                if element not in index:
                    index[element] = len(self.tensors)
                    self.tensors.append(element)
                self._slots.append(index[element])

    _restore = False

    def build(self, values: list[Any]) -> Any:
        """The fetch structure with each tensor replaced by its value."""
        if self._single:
            slot = self._slots[0]
            return None if slot is None else values[slot]
        leaves = [None if s is None else values[s] for s in self._slots]
        built = jax.tree_util.tree_unflatten(self._treedef, leaves)
        return _unsortable(built) if self._restore else built


class _Keyed(dict):
    """A dict whose keys do not sort, flattened in insertion order."""

    def __init__(self, items: Any, original: type = dict):
        super().__init__(items)
        self.original = original


jax.tree_util.register_pytree_node(
    _Keyed,
    lambda d: (list(d.values()), (d.original, tuple(d.keys()))),
    lambda aux, values: _Keyed(zip(aux[1], values), aux[0]),
)


def _unsorted_dict(x: Any) -> bool:
    """Whether ``x`` holds a dict whose keys are not in sorted order (or do not sort)."""
    if is_leaf(x):
        return False
    if isinstance(x, dict):
        keys = list(x)
        try:
            if keys != sorted(keys):
                return True
        except TypeError:
            return True
        return any(_unsorted_dict(v) for v in x.values())
    if isinstance(x, list | tuple):
        return any(_unsorted_dict(v) for v in x)
    return False


def _sortable(x: Any) -> Any:
    """``x`` with every dict replaced by a pytree that needs no key order."""
    if is_leaf(x):
        return x
    if isinstance(x, dict):
        return _Keyed(((k, _sortable(v)) for k, v in x.items()), type(x))
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(_sortable(v) for v in x))
    if isinstance(x, list | tuple):
        return type(x)(_sortable(v) for v in x)
    return x


def _unsortable(x: Any) -> Any:
    """Undoes ``_sortable``: each ``_Keyed`` back to a dict of its type."""
    if isinstance(x, _Keyed):
        return x.original((k, _unsortable(v)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(_unsortable(v) for v in x))
    if isinstance(x, list | tuple):
        return type(x)(_unsortable(v) for v in x)
    return x


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


# One EndOfRun per Variable, so equal fetches key equal signatures.
_END_OF_RUN: weakref.WeakKeyDictionary[Variable, EndOfRun] = weakref.WeakKeyDictionary()


def _end_of_run(variable: Variable, read: Tensor) -> EndOfRun:
    alias = _END_OF_RUN.get(variable)
    if alias is None:
        alias = _END_OF_RUN[variable] = EndOfRun(read.op, read.value_index)
    return alias


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


class Prepared:
    """A fetch structure resolved once: its mapper and a session's runners for it.

    ``runners`` maps a feed key (``Session.run``, ``make_callable``) to the
    ``engine.runner.Runner`` of that signature. ``direct`` is the whole run
    without feeds, fetch structure included, once its runner has a fast path
    and made a first full run (``Runner.fast_with``).
    """

    __slots__ = ("direct", "mapper", "runners")

    def __init__(self, graph: Graph, fetches: Any):
        self.mapper = FetchMapper(graph, fetches)
        self.runners: dict[tuple, Runner] = {}
        self.direct: Callable[[VariableStore], Any] | None = None

    def runner(
        self,
        store: VariableStore,
        feeds: dict[Tensor, Any],
        key: tuple,
        steps: int = 1,
        stacked: tuple = (),
        host_ops: bool = True,
        deferred: tuple = (),
    ) -> Runner:
        """The runner for ``feeds`` (keyed ``key``), built on first use.

        The rest of the arguments are ``engine.runner.build_runner``'s.
        """
        runner = self.runners.get(key)
        if runner is None:
            m = self.mapper
            runner = self.runners[key] = build_runner(
                store, m.tensors, m.targets, feeds, steps, stacked, host_ops, deferred
            )
        return runner


def prepare(cache: dict[Any, Prepared], graph: Graph, fetches: Any) -> Prepared:
    """The ``Prepared`` of ``fetches`` from ``cache``, made and kept on a miss.

    A structure without a hashable key (``fetch_key``) is prepared anew.
    """
    key = fetches if type(fetches) in LEAF_TYPES else fetch_key(fetches)
    prepared = cache.get(key) if key is not None else None
    if prepared is None:
        prepared = Prepared(graph, fetches)
        if key is not None:
            cache[key] = prepared
    return prepared
