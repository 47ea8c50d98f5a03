"""A region of graph ops evaluated as one function inside another op.

Control flow (``cond``, ``while_loop``) and ``gradients`` build an op whose
lowering runs a set of other ops. A ``Subgraph`` holds those ops in order, the
tensors given to it as arguments, the tensors it captures from outside (which
become the wrapping op's inputs), and the variables it reads and writes
(which become the wrapping op's reads and writes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from jaxsession import errors
from jaxsession.graph.core import Graph, Operation, Tensor
from jaxsession.graph.make_op import apply_op
from jaxsession.graph.rules import HOST_OPS, replaying


@dataclass(frozen=True, eq=False)
class Subgraph:
    """Ops computing ``outputs`` from ``args``, ``externals`` and state.

    Attributes:
        ops: The ops in execution (creation) order.
        args: Tensors whose values the caller passes in, or Variables: the ops
            that read such a variable see the passed value (so it can be
            differentiated).
        externals: Tensors made outside the region that its ops use.
        outputs: Tensors whose values the evaluation returns.
        reads: Variables some op reads.
        writes: Variables some op writes.
        random: Whether some op draws random numbers.
    """

    ops: tuple[Operation, ...]
    args: tuple[Any, ...]
    externals: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    reads: tuple[Any, ...]
    writes: tuple[Any, ...]
    random: bool

    def evaluate(
        self,
        arg_values: Sequence[Any],
        external_values: Sequence[Any],
        state: dict[Any, Any],
        key: Any = None,
        replay: bool = False,
    ) -> tuple[list[Any], dict[Any, Any]]:
        """Runs the ops; returns output values and the updated state dict.

        Reads inside the region see the latest value in ``state``.
        ``replay`` marks the evaluation as a gradient's re-evaluated forward
        pass (``rules.replaying``).
        """
        env: dict[Tensor, Any] = {}
        state = dict(state)
        for arg, value in zip(self.args, arg_values):
            if isinstance(arg, Tensor):
                env[arg] = value
            else:
                state[arg] = value
        env.update(zip(self.externals, external_values))
        with replaying() if replay else contextlib.nullcontext():
            self._run_ops(env, state, key)
        return [env[t] for t in self.outputs], state

    def _run_ops(self, env: dict, state: dict, key: Any) -> None:
        for op in self.ops:
            outs = apply_op(
                op, [env[t] for t in op.inputs], [state[v] for v in op.reads], key
            )
            env.update(zip(op.outputs, outs))
            for v, index in op.writes:
                state[v] = outs[index]


def _collect(
    ops: Sequence[Operation], args: Sequence[Tensor], outputs: Sequence[Tensor]
) -> Subgraph:
    inside = set(ops)
    arg_set = set(args)
    externals: dict[Tensor, None] = {}
    for op in ops:
        for t in op.inputs:
            if t.op not in inside and t not in arg_set:
                externals.setdefault(t)
    for t in outputs:
        if t.op not in inside and t not in arg_set:
            externals.setdefault(t)
    reads = {v: None for op in ops for v in op.reads}
    writes = {v: None for op in ops for v, _ in op.writes}
    return Subgraph(
        ops=tuple(sorted(ops, key=lambda o: o.id)),
        args=tuple(args),
        externals=tuple(externals),
        outputs=tuple(outputs),
        reads=tuple(reads),
        writes=tuple(writes),
        random=any(op.random for op in ops),
    )


def from_region(
    created: Sequence[Operation],
    args: Sequence[Tensor],
    outputs: Sequence[Tensor],
    allow_host: bool = False,
) -> Subgraph:
    """The ops among ``created`` that ``outputs`` need (by data or control edge).

    Args:
        created: Ops made while building a branch or loop body.
        args: Tensors standing for the region's arguments (loop variables).
        outputs: The region's results.
        allow_host: Accept host ops (a region evaluated op by op on the
            host, such as a ``Dataset.map`` function).
    """
    region = set(created)
    arg_set = set(args)
    needed: set[Operation] = set()
    stack = [t.op for t in outputs if t not in arg_set]
    while stack:
        op = stack.pop()
        if op in needed or op not in region:
            continue
        needed.add(op)
        stack.extend(t.op for t in op.inputs if t not in arg_set)
        stack.extend(op.control_inputs)
    if not allow_host:
        _reject_host_ops(needed)
        _reject_checks(needed)
    return _collect(list(needed), args, outputs)


def from_path(args: Sequence[Any], outputs: Sequence[Tensor]) -> Subgraph:
    """The ops on some path from ``args`` to ``outputs`` (for gradients).

    ``args`` are tensors or Variables; an op that reads a Variable in ``args``
    (a ``cond`` or ``while_loop`` whose branch reads it) is on its path, so
    reads inside regions are arguments rather than captured values. Ops whose
    every output is a written value (assignments, optimizer updates) are left
    out, their outputs captured as values, as TF1 gives them no gradient; a
    ``cond`` or loop that also assigns stays on the path through its results.
    """
    arg_set = set(args)
    graph = (args or outputs)[0].graph
    downstream: set[Operation] = set()
    for op in graph.get_operations():
        if op.writes and len(op.writes) == len(op.outputs):
            continue
        if any(v in arg_set for v in op.reads) or any(
            t in arg_set or t.op in downstream for t in op.inputs
        ):
            downstream.add(op)
    on_path: set[Operation] = set()
    stack = [t.op for t in outputs if t not in arg_set]
    while stack:
        op = stack.pop()
        if op in on_path or op not in downstream:
            continue
        on_path.add(op)
        stack.extend(t.op for t in op.inputs if t not in arg_set)
    _reject_host_ops(on_path)
    return _collect(list(on_path), args, outputs)


# Run-time checks whose failure the engine reads from the run's fetches: from
# inside a loop or branch body no failure could reach them.
_CHECKS = ("Assert", "CheckNumerics")


def _reject_checks(ops: set[Operation]) -> None:
    for op in ops:
        if op.type in _CHECKS:
            raise errors.UnimplementedError(
                None,
                op,
                f"{op.name} ({op.type}) is inside a while_loop, cond or scan body, "
                "where a failed check cannot stop the run (XLA cannot raise from "
                "a loop or branch). Check the loop's or branch's results after it "
                "instead.",
            )


def _reject_host_ops(ops: set[Operation]) -> None:
    for op in ops:
        if op.type in HOST_OPS:
            raise ValueError(
                f"{op!r} is evaluated on the host and cannot be used in {op.type} regions"
            )


@contextlib.contextmanager
def capture(graph: Graph) -> Iterator[list[Operation]]:
    """Collects the ops created on ``graph`` inside the block."""
    created: list[Operation] = []
    start = graph.version
    try:
        yield created
    finally:
        created.extend(graph.get_operations()[start:])
