"""Device placement as TF1 programs write it: recorded on ops, while XLA places the work.

``tf.device(...)`` takes device strings (``'/cpu:0'``, ``'/gpu:0'``,
``'/job:worker/task:0'``), ``DeviceSpec``s and device functions, checks them
as TF1 does and records the merged result on each op created in the scope
(``op.device``, the GraphDef's ``device`` field); none of them changes where
XLA runs the computation. ``replica_device_setter`` returns TF1's device
function (variables round-robin over ps tasks, other ops on the worker
device), so programs that call it or inspect its choices behave as in TF1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger("jaxsession")

STANDARD_PS_OPS = (
    "Variable",
    "VariableV2",
    "AutoReloadVariable",
    "MutableHashTable",
    "MutableHashTableV2",
    "MutableHashTableOfTensors",
    "MutableHashTableOfTensorsV2",
    "MutableDenseHashTable",
    "MutableDenseHashTableV2",
    "VarHandleOp",
    "BoostedTreesEnsembleResourceHandleOp",
    "BoostedTreesQuantileStreamResourceHandleOp",
)

# Device types TF 1.15 accepts in the short form ("/gpu:0"); the long form
# ("/device:NAME:0") accepts any name, as TF1 does.
_SHORT_DEVICE_TYPES = frozenset({"CPU", "GPU", "TPU", "XLA_CPU", "XLA_GPU", "XLA_TPU"})
_FIELDS = ("job", "replica", "task", "device_type", "device_index")


def _as_index(value: str, what: str, spec: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            f"Invalid device specification '{spec}': {what} '{value}' is not an "
            "integer."
        ) from None


def _parse(spec: str) -> tuple[Any, ...]:
    """``spec``'s (job, replica, task, device_type, device_index); None if absent."""
    if not isinstance(spec, str):
        raise TypeError(
            f"A device specification must be a string, got {spec!r} of type "
            f"{type(spec).__name__}."
        )
    job = replica = task = device_type = device_index = None
    for item in spec.split("/"):
        y = item.split(":")
        if y == [""]:
            continue
        if len(y) == 2 and y[0] == "job":
            job = y[1]
        elif len(y) == 2 and y[0] == "replica":
            replica = _as_index(y[1], "replica", spec)
        elif len(y) == 2 and y[0] == "task":
            task = _as_index(y[1], "task", spec)
        elif len(y) in (1, 2) and y[0].upper() in _SHORT_DEVICE_TYPES:
            if device_type is not None:
                raise ValueError(f"Cannot specify multiple device types: {spec}")
            device_type = y[0].upper()
            if len(y) == 2 and y[1] != "*":
                device_index = _as_index(y[1], "device index", spec)
        elif len(y) == 3 and y[0] == "device":
            if device_type is not None:
                raise ValueError(f"Cannot specify multiple device types: {spec}")
            device_type = y[1]
            if y[2] != "*":
                device_index = _as_index(y[2], "device index", spec)
        else:
            raise ValueError(f"Unknown attribute: '{y[0]}' in '{spec}'")
    return job, replica, task, device_type, device_index


class DeviceSpec:
    """A (possibly partial) device: job, replica, task, device type and index.

    ``tf.DeviceSpec`` of TF1: fields left None are unspecified; ``to_string``
    gives the canonical ``/job:j/replica:r/task:t/device:TYPE:i`` form.
    """

    __slots__ = _FIELDS

    def __init__(
        self,
        job: str | None = None,
        replica: int | None = None,
        task: int | None = None,
        device_type: str | None = None,
        device_index: int | None = None,
    ):
        self.job = job
        self.replica = None if replica is None else int(replica)
        self.task = None if task is None else int(task)
        self.device_type = device_type
        self.device_index = None if device_index is None else int(device_index)

    @classmethod
    def from_string(cls, spec: str) -> DeviceSpec:
        """Parses a TF1 device string.

        Raises:
            ValueError: ``spec`` is malformed, naming the bad part.
        """
        return cls(*_parse(spec))

    def parse_from_string(self, spec: str) -> DeviceSpec:
        """Sets the fields ``spec`` names (TF1's in-place parse); returns self."""
        for name, value in zip(_FIELDS, _parse(spec)):
            if value is not None:
                setattr(self, name, value)
        return self

    def _components(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in _FIELDS)

    def merge_from(self, dev: DeviceSpec) -> None:
        """Overwrites this spec's fields with those ``dev`` specifies."""
        for name, value in zip(_FIELDS, dev._components()):
            if value is not None:
                setattr(self, name, value)

    def make_merged_spec(self, dev: DeviceSpec) -> DeviceSpec:
        """A new spec: ``dev``'s specified fields over this one's."""
        merged = DeviceSpec(*self._components())
        merged.merge_from(dev)
        return merged

    def replace(self, **kwargs: Any) -> DeviceSpec:
        """A copy with the given fields replaced."""
        return DeviceSpec(**{**dict(zip(_FIELDS, self._components())), **kwargs})

    def to_string(self) -> str:
        """The canonical device string (``''`` when nothing is specified)."""
        job, replica, task, device_type, index = self._components()
        out = "" if job is None else f"/job:{job}"
        out += "" if replica is None else f"/replica:{replica}"
        out += "" if task is None else f"/task:{task}"
        if device_type is not None:
            out += f"/device:{device_type}:{'*' if index is None else index}"
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self) -> int:
        return hash(self.to_string())

    def __repr__(self) -> str:
        return f"DeviceSpec({self.to_string()!r})"


def canonical_device(device: str | DeviceSpec | None) -> str:
    """The canonical string of a device string or spec; None gives ``''``.

    Raises:
        ValueError: a malformed device string.
        TypeError: neither a string, a DeviceSpec nor None.
    """
    if device is None:
        return ""
    if isinstance(device, DeviceSpec):
        return device.to_string()
    return DeviceSpec.from_string(device).to_string()


def parse_device(spec: str | None) -> dict[str, Any]:
    """The parts ``spec`` specifies: job, replica, task, device_type, device_index.

    A device type without an index gives ``device_index: None``.

    Raises:
        ValueError: ``spec`` is not a TF1 device string.
    """
    parts = dict(zip(_FIELDS, _parse(spec or "")))
    keep = {k: v for k, v in parts.items() if v is not None}
    if "device_type" in keep:
        keep["device_index"] = parts["device_index"]
    return keep


class MergeDevice:
    """A device-scope entry of a string or spec: fills what an op leaves unset.

    Fields an op already has (from an inner scope) win, as in TF1.
    """

    __slots__ = ("_cache", "spec")

    def __init__(self, spec: str | DeviceSpec):
        self.spec = (
            spec if isinstance(spec, DeviceSpec) else DeviceSpec.from_string(spec)
        )
        self._cache: dict[str, str] = {}

    def merge(self, current: str) -> str:
        """``current`` with the unset fields taken from this entry's spec."""
        out = self._cache.get(current)
        if out is None:
            out = self.spec.make_merged_spec(
                DeviceSpec.from_string(current)
            ).to_string()
            self._cache[current] = out
        return out


class Colocation:
    """A device-scope entry of ``colocate_with``: the op's device, and a stop."""

    __slots__ = ("op",)

    def __init__(self, op: Any):
        self.op = op


def scope_entry(device_name_or_function: Any) -> Any:
    """The device-stack entry of a ``tf.device`` argument, checked.

    Returns:
        None (clears the outer scopes), a ``MergeDevice``, or the function.

    Raises:
        ValueError: a malformed device string.
        TypeError: not a string, DeviceSpec, function or None.
    """
    x = device_name_or_function
    if x is None or callable(x):
        return x
    if isinstance(x, str | DeviceSpec):
        return MergeDevice(x)
    raise TypeError(
        "tf.device expects a device string, a DeviceSpec, a function or None, got "
        f"{x!r} of type {type(x).__name__}."
    )


def device_for(
    stack: Sequence[Any], op: Any, set_device: Callable[[str], None]
) -> None:
    """Applies a device stack to a new op, innermost scope first, as TF1 does.

    A function's result replaces the op's device (None gives ``''``); a string
    scope fills the fields the op does not have yet; None stops the walk.
    """
    for entry in reversed(stack):
        if entry is None:
            return
        if isinstance(entry, MergeDevice):
            set_device(entry.merge(op.device))
        elif isinstance(entry, Colocation):
            if entry.op is not None and entry.op.device:
                set_device(entry.op.device)
            return
        else:
            set_device(canonical_device(entry(op)))


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

    The devices it picks are recorded on the ops (``op.device``), but XLA
    places the computation, and in jaxsession variables live with every
    worker (see the distribution notes).

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
        if not merge_devices and op.device:
            return op.device
        current = DeviceSpec.from_string(op.device or "")
        if ps_device and op.type in ps_ops:
            spec = DeviceSpec.from_string(ps_device)
            if spec.job and (not current.job or current.job == spec.job):
                spec = spec.replace(task=ps_strategy(op))
            return spec.make_merged_spec(current).to_string()
        return (
            DeviceSpec.from_string(worker_device or "")
            .make_merged_spec(current)
            .to_string()
        )

    return device_function
