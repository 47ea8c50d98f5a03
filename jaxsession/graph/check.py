"""check_graph: structural and type validation of a whole graph.

Cheap enough to run on every ``finalize()`` when ``JAXSESSION_CHECKS=1`` (the
test suite sets it). It verifies that inputs belong to the graph and were
created before their consumers (so there are no cycles), names are unique,
and each op's declared output types match what ``jax.eval_shape`` gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax

from jaxsession.graph.avals import infer_avals
from jaxsession.graph.printing import window
from jaxsession.graph.rules import HOST_OPS, constant_value

if TYPE_CHECKING:
    from jaxsession.graph.core import Graph, Operation

# Op types whose declared avals are set on purpose, not inferred.
_DECLARED = {"Placeholder", "PlaceholderWithDefault", "Const"}


class GraphCheckError(ValueError):
    """A graph fails ``check_graph``; the message shows the ops around the culprit."""


def _fail(graph: Graph, op: Operation, message: str) -> GraphCheckError:
    return GraphCheckError(f"{message}\n{window(graph, op)}")


def _check_structure(graph: Graph, op: Operation, index: int, names: set[str]) -> None:
    if op.name in names:
        raise _fail(graph, op, f"duplicate op name {op.name!r}")
    names.add(op.name)
    if op.id != index:
        raise _fail(graph, op, f"{op!r} has id {op.id}, expected {index}")
    for dep in (*(t.op for t in op.inputs), *op.control_inputs):
        if dep.graph is not graph:
            raise _fail(graph, op, f"{op!r} uses {dep!r} from another graph")
        if dep.id >= op.id:
            raise _fail(
                graph, op, f"{op!r} depends on {dep!r}, created after it (a cycle)"
            )


def _check_types(graph: Graph, op: Operation) -> None:
    if op.type in _DECLARED or op.type in HOST_OPS or op.writes:
        return
    if any(constant_value(t) is None and t.shape.ndims is None for t in op.inputs):
        return
    kwargs = dict(op.attrs)
    if op.random:
        kwargs["key"] = jax.random.PRNGKey(0)
    try:
        inferred = infer_avals(op.lower, [*op.inputs, *op.reads], kwargs, None)
    except Exception:
        # Ops built with declared avals (shapes known only at trace time) may
        # not be inferable while building; their lowering is checked when run.
        return
    for i, (want, got) in enumerate(zip(op.out_avals, inferred)):
        if want.dtype.jax_dtype != got.dtype.jax_dtype:
            raise _fail(
                graph,
                op,
                f"{op!r} output {i}: declared {want.dtype.name}, computes {got.dtype.name}",
            )
        if not _shape_compatible(want.shape, got.shape):
            raise _fail(
                graph,
                op,
                f"{op!r} output {i}: declared shape {want.shape}, computes {got.shape}",
            )


def _shape_compatible(a: tuple | None, b: tuple | None) -> bool:
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b)
    )


def check_graph(graph: Graph) -> None:
    """Validates every op of ``graph``.

    Raises:
        GraphCheckError: naming the first bad op, with a window of the listing.
    """
    names: set[str] = set()
    for index, op in enumerate(graph.get_operations()):
        _check_structure(graph, op, index, names)
        _check_types(graph, op)
