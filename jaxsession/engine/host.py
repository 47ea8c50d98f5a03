"""The host side of a run: ops evaluated before and after the device call.

Before the call, HOST_OPS (variable status, iterator get-next/initialize)
produce values that enter the call like feeds. After it, HOST_POST_OPS
(summaries) turn fetched device values into host values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from jaxsession import errors
from jaxsession.engine.context import HostContext
from jaxsession.engine.plan import Plan
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.rules import (
    HOST_OPS,
    HOST_POST_BATCHES,
    constant_value,
    host_post_function,
)


def _host_input(op: Operation, t: Tensor, values: dict[Tensor, Any]) -> Any:
    if t in values:
        return values[t]
    known = constant_value(t)
    if known is None:
        raise errors.UnimplementedError(
            None,
            op,
            f"{errors.op_site(op)} runs on the host before the device and "
            f"needs {t.name} to be fed or constant.",
        )
    return known


def constant_on_host(tensor: Tensor) -> Any:
    """The known value of ``tensor`` in the dtype the device would give it."""
    value = np.asarray(constant_value(tensor))
    if tensor.dtype is dtypes_lib.string:
        return value
    return value.astype(tensor.dtype.jax_dtype, copy=False)


def unfed(
    op: Operation, values: Iterable[Any], feeds: Mapping[Tensor, Any]
) -> Iterator[tuple[Tensor, Any]]:
    """``op``'s outputs with ``values``, less those the run feeds.

    A fed output keeps its fed value, as in TF1, while the op still runs for
    its other outputs (an iterator still moves on).
    """
    return ((t, v) for t, v in zip(op.outputs, values) if t not in feeds)


def run_host_ops(
    plan: Plan, ctx: HostContext, feeds: dict[Tensor, Any]
) -> dict[Tensor, Any]:
    """Feeds, the plan's constants and the outputs of its host ops, in order."""
    values = dict(feeds)
    for t in plan.constants:
        values[t] = constant_on_host(t)
    for op in plan.host_ops:
        inputs = [_host_input(op, t, values) for t in op.inputs]
        values.update(unfed(op, HOST_OPS[op.type](op, ctx, inputs), feeds))
    return values


def run_host_post_ops(plan: Plan, values: dict[Tensor, Any]) -> dict[Tensor, Any]:
    """Adds the outputs of the plan's post ops (summaries) to ``values``.

    Ops of a type in ``HOST_POST_BATCHES`` whose inputs are all at hand are
    evaluated together; an error of one is raised where that op comes in
    the plan's order, as if each ran alone.
    """
    batched = _batched_post_ops(plan.host_post_ops, values)
    for op in plan.host_post_ops:
        out = batched.pop(op, None) if batched else None
        if out is None:
            args = [_post_input(t, values) for t in op.inputs]
            out = host_post_function(op)(op, args)
        elif isinstance(out, BaseException):
            raise out
        values[op.outputs[0]] = out
    return values


def _post_input(t: Tensor, values: dict[Tensor, Any]) -> Any:
    return values[t] if t in values else constant_on_host(t)


def _batched_post_ops(
    ops: tuple[Operation, ...], values: dict[Tensor, Any]
) -> dict[Operation, Any]:
    """Values (or errors) of the post ops evaluated together, by op."""
    groups: dict[str, list[Operation]] = {}
    for op in ops:
        if op.type in HOST_POST_BATCHES and all(
            t in values or constant_value(t) is not None for t in op.inputs
        ):
            groups.setdefault(op.type, []).append(op)
    done: dict[Operation, Any] = {}
    for kind, group in groups.items():
        args = [[_post_input(t, values) for t in op.inputs] for op in group]
        done.update(zip(group, HOST_POST_BATCHES[kind](group, args)))
    return done


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
