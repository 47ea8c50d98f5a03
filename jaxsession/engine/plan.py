"""Plan: prune the graph to what a run needs, order it, classify state.

Ops only ever depend on ops created before them, so creation order is a
topological order; sorting the needed ops by creation index gives the
deterministic order DESIGN.md promises (ties broken by creation order).

A variable read sees the value the variable had at the start of the run,
unless an op writing that variable is an ancestor of the read (by data or
control edge), in which case it sees the latest write before it. Ops that
write a variable read its latest value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from jaxsession import errors
from jaxsession.engine.infeed import register_host_ops
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.rules import (
    CHECK_OPS,
    HOST_OPS,
    constant_value,
    host_post_function,
)


@dataclass(frozen=True, eq=False)
class Plan:
    """The ordered ops of one run and how they touch state.

    Attributes:
        ops: Ops to run on the device, in order.
        fetches: Tensors the device call returns: the requested ones, then
            the device inputs of ``host_post_ops``.
        requested: The tensors the caller asked for.
        feeds: Tensors whose values are passed in (fed, or host-evaluated).
        host_ops: Host-evaluated ops (variable status) among the feeds' producers.
        host_post_ops: Ops evaluated on the host after the call (summaries).
        host_fetches: Requested tensors the caller supplies on the host.
        constants: Requested tensors and post-op inputs whose value is known
            while building (``constant_value``): served on the host, never
            computed or fetched on the device.
        rw_vars: Variables read at their start value and written (donated).
        ro_vars: Variables read at their start value only.
        wo_vars: Variables written without reading their start value.
        current_reads: ``(op id, variable)`` pairs that read the latest value.
        random: Whether a PRNG key is needed.
        final: The ``EndOfRun`` fetches: Variables fetched as such, whose
            value is the variable's at the end of the run.
        checks: The run-time check ops run (``rules.CHECK_OPS``); their
            report outputs end ``fetches``.
        static_feeds: Fed tensors whose values are compile-time constants
            (``rules.is_static_feed``), with those values; not in ``feeds``.
    """

    ops: tuple[Operation, ...]
    fetches: tuple[Tensor, ...]
    requested: tuple[Tensor, ...]
    feeds: tuple[Tensor, ...]
    host_ops: tuple[Operation, ...]
    host_post_ops: tuple[Operation, ...]
    constants: tuple[Tensor, ...]
    host_fetches: tuple[Tensor, ...]
    rw_vars: tuple[Any, ...]
    ro_vars: tuple[Any, ...]
    wo_vars: tuple[Any, ...]
    current_reads: frozenset[tuple[int, Any]]
    random: bool
    final: frozenset[EndOfRun] = frozenset()
    checks: tuple[Operation, ...] = ()
    static_feeds: tuple[tuple[Tensor, Any], ...] = ()

    @property
    def written_vars(self) -> tuple[Any, ...]:
        """Every variable the run writes: ``rw_vars + wo_vars``."""
        return self.rw_vars + self.wo_vars

    def effect_on(self, var: Any, steps: int = 1) -> StepEffect | None:
        """What a run of ``steps`` steps does to ``var`` (the global step), as the host can know it.

        Derived from the plan's writes of ``var``: each write's new value is
        its op's rule (``STEP_WRITE_RULES``) applied to the op's first input,
        when that input is a constant, or fed directly (an assign).

        Returns:
            None when the run does not write ``var``; else a ``StepEffect``.
        """
        writers = [op for op in self.ops if any(v is var for v, _ in op.writes)]
        if not writers:
            return None
        feeds = set(self.feeds)
        effects = [_write_effect(op, feeds) for op in writers]
        if all(e.kind == "add" for e in effects):
            # A K-step run adds K times; the fetched step (served from the
            # host) is its value at the start of the run, as TF1 hooks expect.
            return StepEffect("add", steps * sum(e.value for e in effects))
        if steps != 1 or len(effects) != 1:
            return UNKNOWN_EFFECT
        return effects[0]

    def check_reports(self) -> list[tuple[Operation, tuple[int, ...]]]:
        """Each check op with the positions of its reports in ``fetches``."""
        where = {t: i for i, t in enumerate(self.fetches)}
        return [
            (op, tuple(where[t] for t in op.outputs[CHECK_OPS[op.type][0] :]))
            for op in self.checks
        ]

    def as_text(self) -> str:
        """One op per line in execution order, feeds and state first."""
        from jaxsession.graph.printing import plan_as_text

        return plan_as_text(self)


class StepEffect(NamedTuple):
    """A run's effect on an integer variable that the host mirrors (the global step).

    ``kind`` is ``"add"`` (``value`` added), ``"set"`` (set to ``value``),
    ``"feed"`` (set to the fed tensor ``value``) or ``"unknown"``.
    """

    kind: str
    value: Any = None


UNKNOWN_EFFECT = StepEffect("unknown")

# The ops whose write of a variable the host can follow: the sign of the
# written input for an update, or None for an assign of it.
STEP_WRITE_RULES: dict[str, int | None] = {
    "AssignAdd": 1,
    "AssignSub": -1,
    "Assign": None,
}


def _write_effect(op: Operation, feeds: set[Tensor]) -> StepEffect:
    """What one op writing a mirrored variable does to it."""
    if len(op.writes) != 1 or not op.inputs or op.type not in STEP_WRITE_RULES:
        return UNKNOWN_EFFECT
    sign, given = STEP_WRITE_RULES[op.type], op.inputs[0]
    value = None if _fed_above(given, feeds) else constant_value(given)
    if value is not None:
        if np.size(value) != 1:
            return UNKNOWN_EFFECT
        n = int(np.asarray(value).item())
        return StepEffect("set", n) if sign is None else StepEffect("add", sign * n)
    if sign is None and given in feeds:
        return StepEffect("feed", given)
    return UNKNOWN_EFFECT


def _fed_above(tensor: Tensor, feeds: set[Tensor]) -> bool:
    """Whether ``tensor`` or a tensor it is computed from is fed."""
    stack, seen = [tensor], set()
    while stack:
        t = stack.pop()
        if t in feeds:
            return True
        if t.op not in seen:
            seen.add(t.op)
            stack.extend(t.op.inputs)
    return False


def _needed_ops(
    fetches: Sequence[Tensor], targets: Sequence[Operation], fed: set[Tensor]
) -> list[Operation]:
    seen: set[Operation] = set()
    stack: list[Operation] = list(targets)
    stack.extend(t.op for t in fetches if t not in fed)
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(t.op for t in op.inputs if t not in fed)
        # A control edge needs its op to have run; an op whose outputs are all
        # fed is replaced by the feeds, as TF1 does, so the edge is cut too.
        stack.extend(
            c
            for c in op.control_inputs
            if not (c.outputs and all(t in fed for t in c.outputs))
        )
    return sorted(seen, key=lambda op: op.id)


def _pure_constant(
    tensor: Tensor, fed: set[Tensor], memo: dict[Operation, bool]
) -> bool:
    """Whether ``tensor``'s known value is what the run would compute.

    It is not when a tensor above it is fed (the feed replaces the value the
    graph knows), and a control edge above it asks for an op to run, so
    such a tensor is computed on the device.
    """
    if tensor in fed or constant_value(tensor) is None:
        return False
    stack, seen = [tensor.op], []
    while stack:
        op = stack.pop()
        known = memo.get(op)
        if known is True:
            continue
        if (
            known is False
            or op.control_inputs
            or any(t in fed for t in (*op.inputs, *op.outputs))
        ):
            memo.update((o, False) for o in seen)
            return False
        seen.append(op)
        stack.extend(t.op for t in op.inputs)
    memo.update((o, True) for o in seen)
    return True


def _unfed_placeholder_error(op: Operation) -> errors.InvalidArgumentError:
    aval = op.out_avals[0]
    shape = "<unknown>" if aval.shape is None else errors.format_dims(aval.shape)
    return errors.InvalidArgumentError(
        None,
        op,
        f"You must feed a value for placeholder tensor '{op.name}' with dtype "
        f"{aval.dtype.name} and shape {shape} (created at {op.source})",
    )


def _string_on_device_error(op: Operation, tensor: Tensor) -> errors.UnimplementedError:
    return errors.UnimplementedError(
        None,
        op,
        f"{errors.op_site(op)} needs the string tensor {tensor.name} on "
        "the device; string values can only be fed, fetched, passed through "
        "tf.identity and given to summaries.",
    )


class EndOfRun(Tensor):
    """A Variable fetched as such: its read tensor, valued at the end of the run.

    TF1's ref variables give a fetched Variable its value after the run's
    writes (``sess.run([train_op, global_step])`` gives the new step), while
    a read op fetched beside them (the hooks' global-step read) keeps the
    value the run started from. A distinct Tensor object for the same output,
    so one run can fetch both.
    """

    __slots__ = ()
    end_of_run = True  # engine.signature.tensor_key tells it from its read

    @property
    def base(self) -> Tensor:
        """The read tensor this stands for."""
        return self.op.outputs[self.value_index]


def make_plan(
    fetches: Sequence[Tensor],
    targets: Sequence[Operation],
    fed: Sequence[Tensor],
    host_fetches: Sequence[Tensor] = (),
    static: Mapping[Tensor, Any] | None = None,
) -> Plan:
    """Builds the Plan for one run signature.

    Args:
        fetches: The requested tensors.
        targets: Ops to run.
        fed: Tensors whose values are fed.
        host_fetches: Requested tensors whose values the caller supplies on
            the host: neither computed for the fetch nor returned.
        static: The values of the fed tensors that are static feeds.

    Raises:
        errors.InvalidArgumentError: a needed placeholder is not fed.
        errors.UnimplementedError: a device op needs a string tensor.
    """
    register_host_ops()
    static = dict(static or {})
    fed_set = set(fed)
    # A fed variable fetched as such gives the fed value, as its read does.
    fetches = [
        t.base if isinstance(t, EndOfRun) and t.base in fed_set else t for t in fetches
    ]
    memo: dict[Operation, bool] = {}
    constants = {t: None for t in fetches if _pure_constant(t, fed_set, memo)}
    host_set = set(host_fetches)
    needed = _needed_ops(
        [t for t in fetches if t not in host_set], targets, fed_set | constants.keys()
    )
    host_ops = tuple(op for op in needed if op.type in HOST_OPS)
    post_ops = tuple(op for op in needed if host_post_function(op) is not None)
    post_made = {t for op in post_ops for t in op.outputs} - fed_set
    ops: list[Operation] = []
    for op in needed:
        if op.type == "Placeholder":
            raise _unfed_placeholder_error(op)
        if op.type in HOST_OPS or op in post_ops:
            continue
        for t in op.inputs:
            if t.dtype is dtypes_lib.string:
                raise _string_on_device_error(op, t)
        ops.append(op)
    for op in post_ops:
        constants.update(
            (t, None)
            for t in op.inputs
            if t not in post_made and _pure_constant(t, fed_set, memo)
        )
    device_fetches = [
        t
        for t in fetches
        if t not in post_made and t not in constants and t not in host_set
    ]
    for op in post_ops:
        device_fetches.extend(
            t for t in op.inputs if t not in post_made and t not in constants
        )
    checks = tuple(op for op in ops if op.type in CHECK_OPS)
    for op in checks:
        device_fetches.extend(op.outputs[CHECK_OPS[op.type][0] :])
    device_fetches = list(dict.fromkeys(device_fetches))
    host_outputs = [t for op in host_ops for t in op.outputs]
    initial, written, current = _classify_state(ops)
    return Plan(
        ops=tuple(ops),
        fetches=tuple(device_fetches),
        requested=tuple(fetches),
        feeds=tuple(t for t in fed if t not in static) + tuple(host_outputs),
        host_ops=host_ops,
        host_post_ops=post_ops,
        constants=tuple(constants),
        host_fetches=tuple(host_fetches),
        rw_vars=tuple(v for v in initial if v in written),
        ro_vars=tuple(v for v in initial if v not in written),
        wo_vars=tuple(v for v in written if v not in initial),
        current_reads=frozenset(current),
        random=any(op.random for op in ops),
        final=frozenset(t for t in device_fetches if isinstance(t, EndOfRun)),
        checks=checks,
        static_feeds=tuple(static.items()),
    )


def _classify_state(
    ops: Sequence[Operation],
) -> tuple[list[Any], list[Any], set[tuple[int, Any]]]:
    """Which variables need start values, which are written, which reads are current."""
    ancestor_writes: dict[Operation, frozenset[Any]] = {}
    initial: dict[Any, None] = {}
    written: dict[Any, None] = {}
    current: set[tuple[int, Any]] = set()
    for op in ops:
        anc: set[Any] = set()
        for dep in (*(t.op for t in op.inputs), *op.control_inputs):
            anc |= ancestor_writes.get(dep, frozenset())
            anc.update(v for v, _ in dep.writes)
        ancestor_writes[op] = frozenset(anc)
        for v in op.reads:
            sees_latest = v in anc if not op.writes else v in written
            if sees_latest:
                current.add((op.id, v))
            else:
                initial.setdefault(v)
        for v, _ in op.writes:
            written.setdefault(v)
    return list(initial), list(written), current
