"""How hooks read and increment the global step (TF1's private training_util helpers).

Differs from TF1: the cached read is the global step's own snapshot tensor
(``global_step:0``), not ``initialized_value() + 0``. The engine orders reads
before writes unless a write is an ancestor of the read, so fetched together
with a train op it is the value at the start of the run (TF1's "stale" step,
here always the pre-step value). Reading it needs the variable initialized.
"""

from __future__ import annotations

from typing import Any

from jaxsession.graph.core import Graph, Tensor, get_default_graph
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.graph.variables import Variable, get_global_step

GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"


def get_global_step_read(graph: Graph | None = None) -> Tensor | None:
    graph = graph or get_default_graph()
    cached = graph.get_collection(GLOBAL_STEP_READ_KEY)
    if len(cached) > 1:
        raise RuntimeError(
            f"There are multiple items in collection {GLOBAL_STEP_READ_KEY}. "
            "There should be only one."
        )
    return cached[0] if cached else None


def get_or_create_global_step_read(graph: Graph | None = None) -> Tensor | None:
    """The tensor hooks fetch to learn the global step; None without a global step."""
    graph = graph or get_default_graph()
    read = get_global_step_read(graph)
    if read is not None:
        return read
    step = get_global_step(graph)
    if step is None:
        return None
    with graph.as_default():
        read = step._snapshot if isinstance(step, Variable) else convert_to_tensor(step)
    graph.add_to_collection(GLOBAL_STEP_READ_KEY, read)
    return read


def require_global_step_read(hook_name: str) -> Tensor:
    read = get_or_create_global_step_read()
    if read is None:
        raise RuntimeError(f"Global step should be created to use {hook_name}.")
    return read


def increment_global_step(increment: Any, graph: Graph | None = None) -> Any:
    """``assign_add(global_step, increment)`` ordered after the cached read."""
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    if step is None:
        raise ValueError(
            "Global step tensor should be created by "
            "tf.train.get_or_create_global_step before calling increment."
        )
    read = get_or_create_global_step_read(graph)
    with graph.as_default(), graph.name_scope(None):
        with graph.name_scope(step.op.name + "/"), graph.control_dependencies([read]):
            return step.assign_add(increment)


def global_step(sess: Any, global_step_tensor: Any) -> int:
    """The value of the global step as a Python int (``tf.train.global_step``).

    Hooks call it with the cached read (``get_or_create_global_step_read``).

    Args:
        sess: The session to run the read in.
        global_step_tensor: The global step Variable or Tensor, or its name.

    Returns:
        The global step.
    """
    return int(sess.run(global_step_tensor))
