"""Checkpoints written by plain Orbax, read by variable name.

Accepted: a ``StandardCheckpointer``/``PyTreeCheckpointer`` directory (it holds
Orbax's ``_METADATA``), a ``CheckpointManager`` step directory (its items are
subdirectories) or a ``CheckpointManager`` root (its latest step: the largest
all-digit subdirectory that Orbax committed).

A nested tree's keys join with ``/`` (``{'params': {'dense': {'kernel': k}}}``
gives ``params/dense/kernel``; list items give their index), so a TF1 graph's
``params/dense/kernel`` variable restores from it. A step's items are named by
their item name first (``state/params/...``), except the item Orbax calls
``default`` (a step saved with one unnamed item). Shapes and dtypes come from
Orbax's metadata; no data is read until a variable is. String leaves are
left out (no TF1 variable holds one here).
"""

# Paths are strings, as the rest of checkpoint/ keeps them (see _format.py).
# ruff: noqa: PTH100, PTH113, PTH118, PTH208

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.checkpoint import _format
from jaxsession.checkpoint._format import VarSpec

ITEM_METADATA = "_METADATA"
_STEP_METADATA = "_CHECKPOINT_METADATA"
_DEFAULT_ITEM = "default"


def is_item(path: str) -> bool:
    """Whether ``path`` is an Orbax pytree checkpoint directory."""
    return os.path.isfile(os.path.join(path, ITEM_METADATA))


def _is_step(path: str) -> bool:
    return os.path.isfile(os.path.join(path, _STEP_METADATA))


def _items(step: str) -> dict[str, str]:
    """Item name -> directory, for the pytree items of a step directory."""
    return {
        name: os.path.join(step, name)
        for name in sorted(os.listdir(step))
        if is_item(os.path.join(step, name))
    }


def latest_step(root: str) -> str | None:
    """The newest committed step directory of a CheckpointManager root, or None."""
    try:
        names = os.listdir(root)
    except OSError:
        return None
    steps = [int(n) for n in names if n.isdigit() and _is_step(os.path.join(root, n))]
    return os.path.join(root, str(max(steps))) if steps else None


def find(path: str) -> str | None:
    """The Orbax checkpoint ``path`` names (a root: its latest step), or None."""
    if is_item(path) or (_is_step(path) and _items(path)):
        return path
    step = latest_step(path)
    return step if step is not None and _items(step) else None


def _key_name(key: Any) -> str:
    for attr in ("key", "idx", "name"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


class OrbaxSource:
    """The arrays of a plain Orbax checkpoint, by ``/``-joined name.

    Args:
        path: An item directory or a step directory (see ``find``).

    Raises:
        errors.DataLossError: Orbax cannot read the metadata.
    """

    def __init__(self, path: str):
        self.path = path
        items = {"": path} if is_item(path) else _items(path)
        self._trees: dict[str, Any] = {}
        self._where: dict[str, tuple[str, tuple[Any, ...]]] = {}
        self.variables: dict[str, VarSpec] = {}
        for item, directory in items.items():
            tree = self._trees[item] = _metadata(directory)
            prefix = "" if item in ("", _DEFAULT_ITEM) else item + "/"
            for keys, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
                if not hasattr(leaf, "shape"):
                    continue  # a string leaf: not a variable's value
                name = prefix + "/".join(_key_name(k) for k in keys)
                self._where[name] = (item, keys)
                self.variables[name] = VarSpec(
                    tuple(int(d) for d in leaf.shape), _format._dtype(leaf.dtype)
                )
        self._dirs = items

    def verify(self, checksums: bool = False) -> None:
        """Nothing to check ahead: Orbax keeps no sizes or checksums to compare."""

    def read(
        self, specs: Mapping[str, VarSpec], shardings: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        """The named arrays as NumPy arrays in the specs' dtypes (shardings unused).

        Raises:
            errors.DataLossError: Orbax/TensorStore could not read the data.
        """
        import orbax.checkpoint as ocp

        out: dict[str, np.ndarray] = {}
        for item, directory in self._dirs.items():
            wanted = {n: s for n, s in specs.items() if self._where[n][0] == item}
            if not wanted:
                continue
            by_keys = {self._where[n][1]: s for n, s in wanted.items()}
            item_tree = _select(self._trees[item], (), by_keys, _struct)
            restore_args = _select(
                self._trees[item],
                (),
                by_keys,
                lambda _: ocp.RestoreArgs(restore_type=np.ndarray),
            )
            args = ocp.args.PyTreeRestore(
                item=item_tree, restore_args=restore_args, partial_restore=True
            )
            try:
                options = _format._this_process_only()
                handler = ocp.PyTreeCheckpointHandler(multiprocessing_options=options)
                with ocp.Checkpointer(
                    handler, multiprocessing_options=options
                ) as checkpointer:
                    tree = checkpointer.restore(os.path.abspath(directory), args=args)
            except Exception as e:
                raise _format._data_loss(
                    self.path, f"reading failed ({type(e).__name__}: {e})"
                ) from e
            for name, spec in wanted.items():
                value = _lookup(tree, self._where[name][1])
                out[name] = _format._checked(self.path, name, value, spec)
        return out


def _struct(spec: VarSpec) -> Any:
    return jax.ShapeDtypeStruct(spec.shape, spec.dtype)


def _select(tree: Any, keys: tuple[Any, ...], wanted: Mapping[tuple, VarSpec], leaf):
    """``tree`` cut down to the wanted leaves (``leaf(spec)`` each); None if none.

    Lists keep their length (None for the leaves not read): Orbax's partial
    restore matches list items by position.
    """
    if isinstance(tree, Mapping):
        out = {}
        for k, v in tree.items():
            sub = _select(v, (*keys, jax.tree_util.DictKey(k)), wanted, leaf)
            if sub is not None:
                out[k] = sub
        return out or None
    if isinstance(tree, (list, tuple)):
        out = [
            _select(v, (*keys, jax.tree_util.SequenceKey(i)), wanted, leaf)
            for i, v in enumerate(tree)
        ]
        return type(tree)(out) if any(x is not None for x in out) else None
    return leaf(wanted[keys]) if keys in wanted else None


def _lookup(tree: Any, keys: tuple[Any, ...]) -> Any:
    for key in keys:
        if tree is None:
            return None
        tree = tree[key.key] if hasattr(key, "key") else tree[key.idx]
    return tree


def _metadata(directory: str) -> Any:
    import orbax.checkpoint as ocp
    from etils import epath

    try:
        handler = ocp.PyTreeCheckpointHandler(
            multiprocessing_options=_format._this_process_only()
        )
        return handler.metadata(epath.Path(os.path.abspath(directory))).tree
    except Exception as e:
        raise errors.DataLossError(
            None,
            None,
            f"Orbax checkpoint {directory}: cannot read its metadata "
            f"({type(e).__name__}: {e})",
        ) from e
