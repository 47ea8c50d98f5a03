"""State packing: many small variables live in a few flat device buffers.

A jitted call pays host time per argument and per result leaf (about 1 µs
each on CPU), so a run over hundreds of small variables would cost more in
dispatch than in compute. The engine therefore keeps small variables of one
dtype packed into one 1-D buffer ("pack"); a run takes and returns whole
packs (written ones donated) and slices or updates the variables inside XLA.

The layout belongs to the graph, so that every Session on the graph and
every cached executable agree on it. It only grows: variables seen for the
first time form a new pack per dtype, and existing packs never move, so
adding ops or variables to a graph never invalidates compiled runs.

Large variables stay loose (one buffer each): their per-buffer cost is
small next to their compute, and a slice of a large pack would cost a copy
per read. Variables with a sharding annotation or an unknown shape stay
loose too.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession.graph import dtypes as dtypes_lib

# Variables with at most this many elements are packed. At ~1 µs per loose
# buffer and a few GB/s for the in-XLA slice copy on CPU, the two costs
# cross at roughly this size; on accelerators the copy is cheaper still.
PACK_MAX_ELEMENTS = int(os.environ.get("JAXSESSION_PACK_MAX_ELEMENTS", 1 << 14))


@dataclass(frozen=True, slots=True)
class Slot:
    """Where one variable lives inside a pack."""

    pack: int
    index: int
    offset: int
    size: int
    shape: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PackSpec:
    """One flat buffer: its dtype, total size and the variables in it."""

    dtype: Any
    size: int
    variables: tuple[Any, ...]
    slots: tuple[Slot, ...]


def _packable(var: Any) -> bool:
    shape = var.shape.as_tuple() if hasattr(var.shape, "as_tuple") else None
    if shape is None or any(d is None for d in shape):
        return False
    if getattr(var, "sharding", None) is not None:
        return False
    if var.dtype is dtypes_lib.string:
        return False
    return math.prod(shape) <= PACK_MAX_ELEMENTS


class StateLayout:
    """The graph's append-only map from variables to packs.

    Attributes:
        packs: The packs, in creation order.
    """

    def __init__(self) -> None:
        self.packs: list[PackSpec] = []
        self._slots: dict[int, Slot] = {}
        self._seen: set[int] = set()
        self._keep: list[Any] = []  # keeps ids in _seen from being reused
        self._scanned = 0
        self._reshaped: set[int] = set()
        self._unpackers: dict[int, Callable[[Any], tuple]] = {}
        self._updaters: dict[tuple[int, tuple[int, ...]], Callable[..., Any]] = {}

    def slot(self, var: Any) -> Slot | None:
        """The variable's slot, or None if it is loose."""
        return self._slots.get(id(var))

    def cover(self, graph: Any, extra: Iterable[Any] = ()) -> None:
        """Assigns every variable of ``graph`` (and ``extra``) not seen yet.

        Variables met for the first time are packed by dtype into new packs,
        in order of first appearance, so the layout is deterministic.
        """
        ops = graph.get_operations()
        fresh: dict[int, Any] = {}
        for op in ops[self._scanned :]:
            for v in op.reads:
                fresh.setdefault(id(v), v)
            for v, index in op.writes:
                fresh.setdefault(id(v), v)
                if op.out_avals[index].shape != v.shape.as_tuple():
                    # An assign with validate_shape=False may change the
                    # variable's shape: it cannot live in a fixed slot.
                    self._reshaped.add(id(v))
        self._scanned = len(ops)
        for v in extra:
            fresh.setdefault(id(v), v)
        new = [v for i, v in fresh.items() if i not in self._seen]
        if not new:
            return
        self._seen.update(id(v) for v in new)
        self._keep.extend(new)
        groups: dict[Any, list[Any]] = {}
        for v in new:
            if _packable(v) and id(v) not in self._reshaped:
                groups.setdefault(np.dtype(v.dtype.jax_dtype), []).append(v)
        for dtype, vs in groups.items():
            index = len(self.packs)
            slots, offset = [], 0
            for i, v in enumerate(vs):
                shape = v.shape.as_tuple()
                size = math.prod(shape)
                slots.append(Slot(index, i, offset, size, shape))
                offset += size
            self.packs.append(PackSpec(dtype, offset, tuple(vs), tuple(slots)))
            self._slots.update((id(v), s) for v, s in zip(vs, slots))

    # -- whole-pack helpers used by the Session outside runs -------------------

    def zeros(self, pack: int) -> jax.Array:
        """A fresh buffer for ``pack`` (its variables are not initialized)."""
        spec = self.packs[pack]
        return jnp.zeros((spec.size,), spec.dtype)

    def unpack(self, pack: int, buffer: jax.Array) -> tuple[jax.Array, ...]:
        """Every variable of ``pack`` as its own array: one compiled call."""
        fn = self._unpackers.get(pack)
        if fn is None:
            slots = self.packs[pack].slots
            fn = self._unpackers[pack] = jax.jit(
                lambda b: tuple(read_slot(b, s) for s in slots)
            )
        return fn(buffer)

    def update(self, pack: int, buffer: jax.Array, values: dict[int, Any]) -> jax.Array:
        """``buffer`` with the slots in ``values`` (slot index -> value) replaced.

        ``buffer`` is donated.
        """
        key = (pack, tuple(sorted(values)))
        fn = self._updaters.get(key)
        if fn is None:
            slots = [self.packs[pack].slots[i] for i in key[1]]
            fn = self._updaters[key] = jax.jit(
                lambda b, vals: write_slots(
                    b, dict(zip(slots, vals)), self.packs[pack]
                ),
                donate_argnums=0,
            )
        return fn(buffer, tuple(values[i] for i in key[1]))


def read_slot(buffer: Any, slot: Slot) -> Any:
    """The variable in ``slot`` as a traced array."""
    return buffer[slot.offset : slot.offset + slot.size].reshape(slot.shape)


def write_slots(buffer: Any, values: dict[Slot, Any], spec: PackSpec) -> Any:
    """``buffer`` with ``values`` written into their slots, traced.

    Raises:
        ValueError: a value's shape is not its slot's.
    """
    for slot, v in values.items():
        if tuple(v.shape) != slot.shape:
            var = spec.variables[slot.index]
            raise ValueError(
                f"cannot store a value of shape {tuple(v.shape)} in variable "
                f"'{var.op.name}' of shape {slot.shape}: a variable packed at the "
                "session's first run keeps its shape (create the assign with "
                "validate_shape=False before that run instead)"
            )
    flat = {s: jnp.ravel(jnp.asarray(v, spec.dtype)) for s, v in values.items()}
    if len(flat) == len(spec.slots):
        # Every slot is new: one concatenate instead of a chain of updates.
        ordered = sorted(flat.items(), key=lambda kv: kv[0].offset)
        return jnp.concatenate([v for _, v in ordered]) if ordered else buffer
    for slot, v in flat.items():
        buffer = jax.lax.dynamic_update_slice(buffer, v, (slot.offset,))
    return buffer


@dataclass(frozen=True, eq=False)
class StateSpec:
    """How one plan's variables travel in and out of its compiled call.

    Attributes:
        packs_rw: Packs holding a variable the run writes (donated, returned).
        packs_ro: Packs the run only reads.
        loose_rw: Loose variables read at their start value and written (donated).
        loose_ro: Loose variables only read.
        loose_out: Loose variables returned: ``loose_rw`` then write-only ones.
    """

    packs_rw: tuple[int, ...]
    packs_ro: tuple[int, ...]
    loose_rw: tuple[Any, ...]
    loose_ro: tuple[Any, ...]
    loose_out: tuple[Any, ...]


def state_spec(plan: Any, layout: StateLayout) -> StateSpec:
    """Which packs and loose variables ``plan`` takes and returns."""
    written = {layout.slot(v).pack for v in plan.written_vars if layout.slot(v)}
    read = {layout.slot(v).pack for v in plan.rw_vars + plan.ro_vars if layout.slot(v)}
    loose = [v for v in plan.written_vars if layout.slot(v) is None]
    rw_ids = {id(v) for v in plan.rw_vars}
    return StateSpec(
        packs_rw=tuple(sorted(written)),
        packs_ro=tuple(sorted(read - written)),
        loose_rw=tuple(v for v in plan.rw_vars if layout.slot(v) is None),
        loose_ro=tuple(v for v in plan.ro_vars if layout.slot(v) is None),
        loose_out=tuple(v for v in loose if id(v) in rw_ids)
        + tuple(v for v in loose if id(v) not in rw_ids),
    )


def packed_run(
    run: Callable[..., tuple], plan: Any, layout: StateLayout, spec: StateSpec
) -> Callable[..., tuple]:
    """Wraps ``run(rw, ro, feeds, rng)`` (per-variable state) to take packs.

    Returns ``fn(rw, ro, feeds, rng) -> (fetches, written, rng)`` where
    ``rw = packs_rw + loose_rw`` (donated), ``ro = packs_ro + loose_ro`` and
    ``written = packs_rw' + loose_out``: few buffers, whatever the number of
    variables.
    """
    n_prw, n_pro = len(spec.packs_rw), len(spec.packs_ro)
    slots = {id(v): layout.slot(v) for v in plan.rw_vars + plan.ro_vars}
    by_pack: dict[int, list[tuple[int, Slot]]] = {p: [] for p in spec.packs_rw}
    for i, v in enumerate(plan.written_vars):
        s = layout.slot(v)
        if s is not None:
            by_pack[s.pack].append((i, s))
    position = {id(v): i for i, v in enumerate(plan.written_vars)}
    loose_out_index = [position[id(v)] for v in spec.loose_out]
    loose_ids = [id(v) for v in spec.loose_rw + spec.loose_ro]

    def fn(rw: tuple, ro: tuple, feeds: tuple, rng: Any) -> tuple:
        packs = dict(zip(spec.packs_rw + spec.packs_ro, rw[:n_prw] + ro[:n_pro]))
        loose = dict(zip(loose_ids, rw[n_prw:] + ro[n_pro:]))

        def start(v: Any) -> Any:
            s = slots[id(v)]
            return loose[id(v)] if s is None else read_slot(packs[s.pack], s)

        fetched, written, rng = run(
            tuple(map(start, plan.rw_vars)), tuple(map(start, plan.ro_vars)), feeds, rng
        )
        new_packs = tuple(
            write_slots(
                packs[p], {s: written[i] for i, s in by_pack[p]}, layout.packs[p]
            )
            for p in spec.packs_rw
        )
        return fetched, new_packs + tuple(written[i] for i in loose_out_index), rng

    return fn
