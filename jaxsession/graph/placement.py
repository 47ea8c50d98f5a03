"""Device placement as TF1 programs write it: accepted, while XLA places the work.

``tf.device(...)`` takes device strings (``'/cpu:0'``, ``'/gpu:0'``,
``'/job:worker/task:0'``) and device functions; neither changes where XLA
runs the computation. ``replica_device_setter`` returns TF1's device function
(variables round-robin over ps tasks, other ops on the worker device), so
programs that call it or inspect its choices behave as in TF1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger("jaxsession")

STANDARD_PS_OPS = (
    "Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable",
    "MutableHashTableV2", "MutableHashTableOfTensors", "MutableHashTableOfTensorsV2",
    "MutableDenseHashTable", "MutableDenseHashTableV2", "VarHandleOp",
    "BoostedTreesEnsembleResourceHandleOp", "BoostedTreesQuantileStreamResourceHandleOp",
)  # fmt: skip


def parse_device(spec: str | None) -> dict[str, Any]:
    """The parts of a TF1 device string: job, replica, task, device_type, device_index.

    Raises:
        ValueError: ``spec`` is not a TF1 device string.
    """
    parts: dict[str, Any] = {}
    for item in (spec or "").split("/"):
        if not item:
            continue
        fields = item.split(":")
        key = fields[0].lower()
        if len(fields) == 2 and key in ("job", "replica", "task"):
            parts[key] = fields[1] if key == "job" else int(fields[1])
        elif key == "device" and len(fields) == 3:
            parts["device_type"] = fields[1].upper()
            parts["device_index"] = None if fields[2] == "*" else int(fields[2])
        elif key in ("cpu", "gpu", "tpu") and len(fields) <= 2:
            parts["device_type"] = key.upper()
            index = fields[1] if len(fields) == 2 else "*"
            parts["device_index"] = None if index == "*" else int(index)
        else:
            raise ValueError(f"Unknown attribute: '{item}' in '{spec}'")
    return parts


def _merge(base: str, override: str) -> str:
    """``override``'s parts over ``base``'s, written back as a device string."""
    parts = {**parse_device(base), **parse_device(override)}
    out = ""
    for key in ("job", "replica", "task"):
        if key in parts:
            out += f"/{key}:{parts[key]}"
    if "device_type" in parts:
        index = parts.get("device_index")
        out += f"/device:{parts['device_type']}:{'*' if index is None else index}"
    return out


class _RoundRobinStrategy:
    def __init__(self, num_tasks: int):
        self._num_tasks = num_tasks
        self._next = 0

    def __call__(self, unused_op: Any) -> int:
        task = self._next
        self._next = (self._next + 1) % self._num_tasks
        return task


def replica_device_setter(
    ps_tasks: int = 0,
    ps_device: str = "/job:ps",
    worker_device: str = "/job:worker",
    merge_devices: bool = True,
    cluster: Any = None,
    ps_ops: Sequence[str] | None = None,
    ps_strategy: Callable[[Any], int] | None = None,
) -> Callable[[Any], str] | None:
    """TF1's device function for between-graph replication (``tf.train.replica_device_setter``).

    Placement is recorded nowhere: XLA places the computation, and in
    jaxsession variables live with every worker (see the distribution notes).

    Args:
        ps_tasks: Number of ps tasks; taken from ``cluster`` when given.
        ps_device: Device string for variables.
        worker_device: Device string for other ops.
        merge_devices: Merge with the op's own device (deprecated False warns).
        cluster: A ClusterSpec (or dict job -> tasks).
        ps_ops: Op types placed on ps tasks (default: variable ops).
        ps_strategy: Callable op -> ps task index (default: round robin).

    Returns:
        A function op -> device string, or None when there is no ps task.

    Raises:
        TypeError: ``ps_strategy`` is not callable.
    """
    if cluster is not None:
        spec = cluster.as_dict() if hasattr(cluster, "as_dict") else dict(cluster)
        ps_job = parse_device(ps_device).get("job") or "ps"
        if not spec.get(ps_job):
            return None
        ps_tasks = len(spec[ps_job])
    if ps_tasks == 0:
        return None
    ps_ops = tuple(STANDARD_PS_OPS if ps_ops is None else ps_ops)
    if not merge_devices:
        logger.warning(
            "DEPRECATION: It is recommended to set merge_devices=true in "
            "replica_device_setter"
        )
    if ps_strategy is None:
        ps_strategy = _RoundRobinStrategy(ps_tasks)
    if not callable(ps_strategy):
        raise TypeError("ps_strategy must be callable")

    def device_function(op: Any) -> str:
        current = getattr(op, "device", "") or ""
        if op.type in ps_ops:
            device = ps_device
            ps_job, current_job = (
                parse_device(ps_device).get("job"),
                parse_device(current).get("job"),
            )
            if ps_job and (not current_job or current_job == ps_job):
                device = _merge(device, f"/task:{ps_strategy(op)}")
            return _merge(device, current)
        return _merge(worker_device or "", current)

    return device_function
