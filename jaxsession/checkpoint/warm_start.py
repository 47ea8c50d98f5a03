"""init_from_checkpoint: initialize variables from a checkpoint (``tf.train.init_from_checkpoint``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from jaxsession.checkpoint import _format, sources, state as state_lib
from jaxsession.graph import variable_ops, variables as variables_lib
from jaxsession.graph.core import get_default_graph
from jaxsession.graph.make_op import convert_to_tensor

__all__ = ["init_from_checkpoint"]

logger = logging.getLogger("jaxsession")


def init_from_checkpoint(
    ckpt_dir_or_file: str, assignment_map: Mapping[str, Any]
) -> None:
    """Replaces the initializers of mapped variables so they load checkpoint values.

    ``assignment_map`` follows TF1: ``'ckpt/scope/': 'graph/scope/'`` maps every
    variable under the graph scope (made with ``get_variable``) to the same
    relative name under the checkpoint scope; ``'name': 'graph/name'`` or
    ``'name': variable`` maps one variable; ``'/'`` stands for the root scope on
    either side. Call it before building the init op.

    Differs from TF1: the values are read now and held as constants in the
    graph, not read from disk when the initializer runs.

    Args:
        ckpt_dir_or_file: A checkpoint prefix, or a directory (its latest).
        assignment_map: Checkpoint name or scope -> graph variable, name or scope.

    Raises:
        ValueError: a mapped name is not in the checkpoint, shapes differ, or a
            scope maps to a non-scope.
    """
    path, source = state_lib.resolve(ckpt_dir_or_file)
    store = _store_vars()
    pairs: list[tuple[Any, str]] = []
    for ckpt_name, current in sorted(assignment_map.items(), key=lambda kv: kv[0]):
        var = current if _is_variable(current) else store.get(current)
        if var is not None:
            pairs.append((var, _checked_name(ckpt_name, var, source, ckpt_dir_or_file)))
        else:
            pairs += _scope_pairs(ckpt_name, current, store, source, ckpt_dir_or_file)
    values = source.read({name: source.variables[name] for _, name in pairs})
    for var, name in pairs:
        _set_initializer(var, values[name])
        logger.debug(
            "Initialize variable %s from checkpoint %s with %s", var.name, path, name
        )


def _is_variable(x: Any) -> bool:
    return isinstance(x, variables_lib.Variable)


def _store_vars() -> dict[str, Any]:
    # TF1 maps names through the variable store: variables made by get_variable.
    state = get_default_graph().variable_store.get("state")
    return dict(state.vars) if state is not None else {}


def _checked_name(ckpt_name: str, var: Any, source: sources.Source, ckpt: str) -> str:
    stored = source.variables
    if ckpt_name not in stored:
        raise ValueError(
            f"Tensor {ckpt_name} is not found in {ckpt} checkpoint {_shapes(stored)}"
        )
    shape = stored[ckpt_name].shape
    if not var.shape.is_compatible_with(shape):
        raise ValueError(
            f"Shape of variable {var.name} ({var.shape}) doesn't match with shape of "
            f"tensor {ckpt_name} ({list(shape)}) from checkpoint reader."
        )
    return ckpt_name


def _shapes(stored: Mapping[str, _format.VarSpec]) -> dict[str, list[int]]:
    return {name: list(spec.shape) for name, spec in sorted(stored.items())}


def _scope_pairs(
    ckpt_name: str,
    current: str,
    store: Mapping[str, Any],
    source: sources.Source,
    ckpt: str,
) -> list[tuple[Any, str]]:
    scopes = current[: current.rindex("/")] if "/" in current else ""
    if not ckpt_name.endswith("/"):
        raise ValueError(
            f"Assignment map with scope only name {scopes} should map to scope only "
            f"{ckpt_name}. Should be 'scope/': 'other_scope/'."
        )
    pairs = []
    for var_name in sorted(
        n for n in store if not scopes or n.startswith(scopes + "/")
    ):
        full = var_name[len(scopes) :]
        if current != "/":
            full = full[1:]
        if ckpt_name != "/":
            full = ckpt_name + full
        full = full.removesuffix("/")
        if full not in source.variables:
            raise ValueError(
                f"Tensor {full} ({var_name[len(scopes) + 1 :]} in {ckpt_name}) is not "
                f"found in {ckpt} checkpoint"
            )
        pairs.append(
            (store[var_name], _checked_name(full, store[var_name], source, ckpt))
        )
    return pairs


def _set_initializer(var: Any, value: np.ndarray) -> None:
    graph = var.graph
    with graph.name_scope(var.op.name + "/"), graph.control_dependencies(None):
        initial = convert_to_tensor(
            np.asarray(value).reshape(var.shape.as_tuple()),
            dtype=var.dtype,
            name="checkpoint_initializer",
        )
        init_op = variable_ops.assign_op(var, initial, "Assign")
    # The Variable exposes no setter: TF1 itself replaces these two private
    # attributes (checkpoint_utils._set_checkpoint_initializer), and
    # ``initializer``/``initialized_value()``/global_variables_initializer read them.
    var._initializer_op = init_op
    var._initial_value = initial
