"""VariableStore: a session's variable values, packed on device, and what they need.

Variable values live packed (``engine/packing.py``): ``buffers`` holds every
device buffer under a ``StateKey``, a pack under ``StateKey.pack(index)``,
a loose variable under ``StateKey.loose(variable)``. The keys are tuples, so
they hash in C, and one dict lets a run pick its buffers in one pass.

The store also keeps the set of initialized variables, the PRNG key, the
host resources of a session (iterators' prefetchers) and the host mirror
of the global step: its value as the host knows it without asking the
device, kept up to date from each run's ``StepEffect`` (``engine/plan.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxsession import errors
from jaxsession.engine import mesh as mesh_lib
from jaxsession.engine.executable import state_layout
from jaxsession.engine.packing import StateLayout
from jaxsession.engine.plan import Plan, StepEffect
from jaxsession.graph.core import Tensor
from jaxsession.graph.variables import Variable, get_global_step


class StateKey(NamedTuple):
    """Where a buffer lives in ``VariableStore.buffers``: a pack or a loose variable.

    Keys are interned: a run looks its buffers up with the very objects the
    store holds, so the dict's identity check settles each lookup.
    """

    kind: str
    index: int

    @classmethod
    def pack(cls, index: int) -> StateKey:
        """The key of pack ``index``."""
        return _interned(cls("pack", index))

    @classmethod
    def loose(cls, variable: Any) -> StateKey:
        """The key of a loose (unpacked) variable."""
        return _interned(cls("loose", id(variable)))


_KEYS: dict[StateKey, StateKey] = {}


def _interned(key: StateKey) -> StateKey:
    return _KEYS.setdefault(key, key)


class VariableStore:
    """A session's variable values on device, and the host state around them.

    Args:
        graph: The graph whose variables the store holds.
        mesh: The session's mesh (values placed on it), or None.

    Attributes:
        buffers: Every device buffer, by ``StateKey``.
        initialized: Ids of the variables that hold a value.
        rng: The PRNG key random ops draw from (donated by each random run).
        resources: Host resources of the session (iterators' prefetchers).
        step_host: The global step as the host knows it (None: unknown).
        step_mirror_hits: Fetches of the global step served from the mirror.
        step_device_reads: Fetches of the global step that read the device.
    """

    def __init__(self, graph: Any, mesh: Any = None):
        self.graph, self.mesh = graph, mesh
        self.buffers: dict[StateKey, jax.Array] = {}
        self.initialized: set[int] = set()
        # Maps ids back to variables and keeps them alive: an id is never reused.
        self._vars: dict[int, Any] = {}
        # Per pack: (the buffer unpacked, its variables' arrays), so repeated
        # values() calls on unchanged state cost nothing.
        self._views: dict[int, tuple[jax.Array, tuple]] = {}
        self.rng = jax.random.PRNGKey(0)
        if mesh is not None:
            self.rng = mesh_lib.place_replicated(mesh, self.rng)
        self.resources: dict[Any, Any] = {}
        # Runs (engine/runner.py) whose reads were found initialized, and
        # whose writes were recorded: a variable never becomes uninitialized.
        self.checked: set[Any] = set()
        self.marked: set[Any] = set()
        self.step_var: Any = None
        self.step_host: int | None = None
        self.step_mirror_hits = 0
        self.step_device_reads = 0

    # -- values ----------------------------------------------------------------

    def layout(self, extra: Iterable[Any] = ()) -> StateLayout:
        """The graph's state layout, covering ``extra`` variables too."""
        layout = state_layout(self.graph)
        if extra:
            layout.cover(self.graph, extra)
        return layout

    def is_initialized(self, variable: Any) -> bool:
        """Whether ``variable`` holds a value."""
        return id(variable) in self.initialized

    def sharding(self, variable: Any) -> Any:
        """Where ``variable``'s value lives on the mesh, or None without one."""
        if self.mesh is None:
            return None
        return mesh_lib.variable_sharding(self.mesh, variable)

    def values(self) -> dict[Any, jax.Array]:
        """The initialized variables' device values, each its own array.

        A value is not an alias of its pack, so it stays valid after later
        runs donate the pack. One compiled call per changed pack.
        """
        layout, init = self.layout(), self.initialized
        out: dict[Any, jax.Array] = {}
        for key, buf in self.buffers.items():
            if key.kind == "loose":
                out[self._vars[key.index]] = buf
                continue
            p = key.index
            views = self._views.get(p)
            if views is None or views[0] is not buf:
                views = self._views[p] = (buf, layout.unpack(p, buf))
            for v, value in zip(layout.packs[p].variables, views[1]):
                if id(v) in init:
                    out[v] = value
        return out

    def value(self, variable: Any) -> jax.Array:
        """One variable's current device value."""
        if self.layout().slot(variable) is None:
            return self.buffers[StateKey.loose(variable)]
        return self.values()[variable]

    def set_values(self, values: Mapping[Any, Any]) -> None:
        """Replaces some variables' values; a bad value changes nothing.

        Raises:
            ValueError: a value's shape does not match its variable's.
            TypeError: a value cannot take its variable's dtype.
        """
        for var, value in values.items():
            if tuple(np.shape(value)) != var.shape.as_tuple():
                raise ValueError(
                    f"value of shape {np.shape(value)} does not fit variable "
                    f"'{var.op.name}' of shape {var.shape}"
                )
        # Convert everything before changing anything.
        converted = {var: _as_value(var, value) for var, value in values.items()}
        if self.mesh is not None:
            converted = {
                v: mesh_lib.place(self.sharding(v), x) for v, x in converted.items()
            }
        layout = self.layout(values.keys())
        by_pack: dict[int, dict[int, Any]] = {}
        for var, value in converted.items():
            self._vars[id(var)] = var
            slot = layout.slot(var)
            if slot is None:
                self.buffers[StateKey.loose(var)] = jax.numpy.asarray(value)
            else:
                by_pack.setdefault(slot.pack, {})[slot.index] = value
        for p, vals in by_pack.items():
            buf = self.buffers.get(StateKey.pack(p))
            if buf is None:
                buf = self._zeros(layout, p)
            self.buffers[StateKey.pack(p)] = layout.update(p, buf, vals)
        self.initialized.update(id(v) for v in values)
        if self.step_var is not None and self.step_var in converted:
            self.step_host = _host_int(values[self.step_var])

    def clear(self) -> None:
        """Drops every value (a closed session)."""
        self.buffers, self._views = {}, {}
        self.initialized = set()
        self.checked, self.marked = set(), set()
        self.step_host = None

    def _zeros(self, layout: StateLayout, p: int) -> jax.Array:
        buf = layout.zeros(p)
        return buf if self.mesh is None else mesh_lib.place_replicated(self.mesh, buf)

    # -- runs ------------------------------------------------------------------

    def check(self, run: Any) -> None:
        """Checks a run's reads once, and allocates the packs it writes.

        Args:
            run: A ``Runner`` (its ``plan``, ``reads`` and ``packs_rw``).

        Raises:
            errors.FailedPreconditionError: some reads are not initialized.
        """
        reads = run.reads + (self.step_var,) * bool(run.plan.host_fetches)
        missing = [v for v in reads if id(v) not in self.initialized]
        if missing:
            raise uninitialized_error(missing, run.plan)
        layout = self.layout()
        for p in run.packs_rw:
            if StateKey.pack(p) not in self.buffers:
                self.buffers[StateKey.pack(p)] = self._zeros(layout, p)
        self._vars.update((id(v), v) for v in run.plan.written_vars)
        self.checked.add(run)

    def mark_written(self, run: Any) -> None:
        """Records a run's written variables as initialized (after its first call)."""
        self.initialized.update(id(v) for v in run.writes)
        self.marked.add(run)

    # -- the global step mirror --------------------------------------------------

    def global_step(self) -> Variable | None:
        """The graph's integer global step Variable (mirrored), or None.

        A new global step (or none) drops the mirror of the old one.
        """
        try:
            step = get_global_step(self.graph)
        except TypeError:
            step = None
        if isinstance(step, Tensor) and len(step.op.reads) == 1:
            step = step.op.reads[0]
        if not isinstance(step, Variable) or not step.dtype.is_integer:
            step = None
        if step is not self.step_var:
            self.step_var, self.step_host = step, None
        return step

    def serve_step(self, tensors: tuple[Tensor, ...], host: dict[Tensor, Any]) -> None:
        """Puts the global step's start value into ``host`` for ``tensors``."""
        step = self.step_var
        if self.step_host is None:
            self.step_host = int(np.asarray(self.value(step)))
            self.step_device_reads += 1
        else:
            self.step_mirror_hits += 1
        for t in tensors:
            host[t] = np.asarray(self.step_host, step.dtype.jax_dtype)

    def apply_step_effect(
        self, effect: StepEffect, feeds: Mapping[Tensor, Any]
    ) -> None:
        """Follows a run's effect on the global step (see ``Plan.effect_on``)."""
        kind, n = effect
        if kind == "add":
            if self.step_host is not None:
                self.step_host += n
        elif kind == "set":
            self.step_host = n
        elif kind == "feed":
            value = feeds.get(n)
            self.step_host = (
                int(np.asarray(value))
                if isinstance(value, np.ndarray | np.generic) and np.size(value) == 1
                else None
            )
        else:
            self.step_host = None


def _host_int(value: Any) -> int | None:
    """A value the host knows without a device read, as an int, else None."""
    if isinstance(value, np.ndarray | np.generic | int):
        return int(np.asarray(value))
    return None


def _as_value(var: Any, value: Any) -> Any:
    """``value`` in the variable's device dtype, kept on device if it is there."""
    dtype = var.dtype.jax_dtype
    if isinstance(value, jax.Array):
        return value if value.dtype == dtype else value.astype(dtype)
    return np.asarray(value, dtype)


def uninitialized_error(
    missing: list[Any], plan: Plan
) -> errors.FailedPreconditionError:
    """The error for a run reading ``missing`` variables, naming them and a reader."""
    names = [v.op.name for v in missing]
    readers = [op for op in plan.ops if any(v in missing for v in op.reads)]
    where = f" (read by {errors.op_site(readers[0])})" if readers else ""
    return errors.FailedPreconditionError(
        None,
        readers[0] if readers else None,
        f"Attempting to use uninitialized value {errors.format_list(names)}{where}",
    )
