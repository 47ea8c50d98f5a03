"""THE run path: one immutable Runner per run signature.

``build_runner`` plans, lowers and compiles a signature once (through the
graph's executable cache) and works out everything a repeated run needs:
which buffers of the ``VariableStore`` go in and come out, which feeds go to
the device, whether fetched values need host work after the call, and what
the run does to the global step. ``Runner.run(store, feeds, observer=None)``
then makes one run; an observer (``session/tracing.py``) sees its phases and
may wrap the compiled call, without changing the Runner.

A run without feeds, host ops, post ops or a mesh has a fast path:
``Runner.fast`` (and ``fast_with``, which also builds the fetch structure),
closures with everything that does not change between runs looked up once.

The compiled call donates the written buffers; ``_swapper`` builds the only
code that calls it and stores the written buffers back, directly after the
call, before anything else can fail, so the store never holds a deleted
buffer; a Ctrl-C that lands between the call and the run's bookkeeping is
raised once they are done (``_commit``, ``engine/interrupts.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import weakref
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jax
import numpy as np

from jaxsession.distributed import health
from jaxsession.engine import (
    deferred as deferred_lib,
    infeed,
    mesh as mesh_lib,
    multistep,
)
from jaxsession.engine.executable import Executable, executables, get_executable
from jaxsession.engine.host import run_host_ops, run_host_post_ops, to_host, unfed
from jaxsession.engine.interrupts import (
    SIGINT,
    STATE,
    getsignal,
    guarded,
    handler,
    install,
    raise_pending,
)
from jaxsession.engine.plan import Plan, StepEffect, make_plan
from jaxsession.engine.signature import FeedSpec, RunSignature, tensor_key
from jaxsession.engine.state import StateKey, VariableStore
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.rules import AFTER_RUN, CHECK_OPS, EFFECT_OPS, is_static_feed

Swap = Callable[[VariableStore, tuple], Any]

# A child of "jaxsession": its compile notices can be silenced on their own.
logger = logging.getLogger("jaxsession.compile")

# Compiles of one run (same fetches, targets and steps) for differing input
# shapes after which a warning says how to avoid them.
RECOMPILE_WARN_AFTER = 3
# Per graph: (fetches, targets, steps) -> executables compiled for differing
# fed shapes, and the runs already warned about.
_SHAPE_VARIANTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class RunObserver(Protocol):
    """What sees a run's phases (a traced run, ``session/tracing.py``)."""

    def phase(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """A context manager around the phase ``name``."""

    def host_ops(self, plan: Plan, values: dict[Tensor, Any]) -> dict[Tensor, Any]:
        """``values`` with the plan's constants and host ops evaluated."""

    def wrap(self, call: Callable[..., Any]) -> Callable[..., Any]:
        """The compiled call to use for this run instead of ``call``."""


def _swapper(call: Callable[..., Any], r: Runner) -> Swap:
    """``swap(store, args)``: runs ``call`` on the store's buffers and stores the written ones.

    The only place where donated buffers are swapped for the new ones.
    Returns the fetched values (None when the run fetches nothing).
    """
    keys, out = r.keys, r.out
    if len(out) == 1 and keys == out and not (r.random or r.feeds or r.plan.fetches):
        # One buffer in and out, nothing fetched: a training step on one pack.
        (k,) = out

        def one_buffer(store: VariableStore, args: tuple = ()) -> None:
            buffers = store.buffers
            # engine/interrupts.py's guard, inlined: this is the cheapest run.
            if getsignal(SIGINT) is not handler and not install():
                buffers[k] = call(buffers[k])[1][0]
                return
            STATE.active += 1
            try:
                buffers[k] = call(buffers[k])[1][0]
            finally:
                STATE.active -= 1
            if STATE.pending is not None:
                raise_pending()

        return one_buffer
    if r.random:

        def swap_random(store: VariableStore, args: tuple = ()) -> Any:
            buffers = store.buffers
            fetched, written, store.rng = call(
                *map(buffers.__getitem__, keys), *args, store.rng
            )
            buffers.update(zip(out, written))
            return fetched

        return swap_random

    def swap(store: VariableStore, args: tuple = ()) -> Any:
        buffers = store.buffers
        fetched, written = call(*map(buffers.__getitem__, keys), *args)
        buffers.update(zip(out, written))
        return fetched

    return swap


class Runner:
    """An executable with everything a repeated run needs worked out once.

    Immutable once built; what a run changes lives in the ``VariableStore``.

    Attributes:
        plan: The run's plan.
        call: The compiled call (``Executable.call``).
        steps: Steps per call (K > 1: ``engine/multistep.py``).
        stacked: Tensors a K-step run also returns for every step.
        effect: What a run does to the global step (``Plan.effect_on``).
        fast: ``fast(store) -> values`` for runs that need no host work, or
            None; use it only once a full run made the store ready
            (``store.marked``).
    """

    __slots__ = (
        "call",
        "checks",
        "cut_swaps",
        "deferred",
        "effect",
        "effects",
        "exe",
        "fast",
        "feeds",
        "fetch_from_host",
        "fused",
        "host",
        "keys",
        "mesh",
        "out",
        "packs_rw",
        "plan",
        "random",
        "reads",
        "simple",
        "stacked",
        "steps",
        "swap",
        "traced",
        "writes",
    )

    def __init__(
        self,
        exe: Executable,
        effect: StepEffect | None,
        stacked: tuple = (),
        host_ops: bool = True,
        deferred: tuple = (),
    ):
        plan, state = exe.plan, exe.state
        self.plan, self.call, self.steps, self.mesh = (
            plan,
            exe.call,
            exe.steps,
            exe.mesh,
        )
        # The executable's traces seen so far: one more means it compiled
        # again for new input shapes (an iterator's ragged batch).
        self.exe, self.traced = exe, [exe.trace_count or 1]
        self.random = plan.random
        self.effect = effect
        self.stacked = stacked
        # Keys into ``store.buffers``, in the order of the call's ``rw``,
        # ``ro`` and ``written`` tuples.
        packs = tuple(map(StateKey.pack, state.packs_rw))
        self.packs_rw = state.packs_rw
        self.keys = (
            packs
            + tuple(map(StateKey.loose, state.loose_rw))
            + tuple(map(StateKey.pack, state.packs_ro))
            + tuple(map(StateKey.loose, state.loose_ro))
        )
        self.out = packs + tuple(map(StateKey.loose, state.loose_out))
        self.reads = plan.rw_vars + plan.ro_vars
        self.writes = plan.written_vars
        # Without ``host_ops`` (a K-step run) the host values come with the
        # feeds (``multistep.host_values``).
        self.host = host_ops and bool(
            plan.host_ops or plan.constants or plan.host_fetches
        )
        # String feeds stay on the host: the device call gets None for them.
        self.feeds = tuple((t, t.dtype is not dtypes_lib.string) for t in plan.feeds)
        fed = set(plan.feeds)
        if exe.steps != 1:
            # Fetched feeds of a K-step run come from the device: the last step's.
            fed = {t for t in fed if t.dtype is dtypes_lib.string}
        self.fetch_from_host = tuple(t in fed for t in plan.fetches)
        self.simple = (
            not plan.host_post_ops
            and plan.fetches == plan.requested
            and not any(self.fetch_from_host)
        )
        # Post-op fetches finished after the run returns (engine/deferred.py).
        self.deferred = deferred_lib.deferrable(plan, deferred)
        self.checks = tuple(plan.check_reports())
        # A K-step call that gathers its batches (``_call``), per cut feed set.
        self.cut_swaps: dict[tuple[int, ...], Swap] = {}
        # Host effects (printing) are done when the run returns, as in TF1;
        # they may hide in regions (a gradient's forward pass), so the graph
        # is asked.
        self.effects = any(op.type in EFFECT_OPS for op in exe_graph_ops(plan))
        self.swap = _swapper(self.call, self)
        fast = (
            self.simple
            and not self.feeds
            and not self.host
            and not stacked
            and self.mesh is None
            and (effect is None or effect.kind == "add")
            and not self.effects
        )
        self.fast = self.fast_with() if fast else None
        # A one-step run whose only host work before the call is iterators:
        # batches of data on the device are cut inside the compiled call
        # (``_run_fused``). Its post ops (summaries) may not read a batch,
        # which never comes to the host. Per set of cut feeds: the swap of
        # that call and its calls so far.
        batches = {t for op in plan.host_ops for t in op.outputs}
        self.fused: dict[tuple[int, ...], list] | None = (
            {}
            if (
                exe.steps == 1
                and host_ops
                and plan.host_ops
                and not plan.constants
                and not plan.host_fetches
                and not any(self.fetch_from_host)
                and all(op.type == "IteratorGetNext" for op in plan.host_ops)
                and not any(
                    t in batches for op in plan.host_post_ops for t in op.inputs
                )
            )
            else None
        )

    def run(
        self,
        store: VariableStore,
        feeds: Mapping[Tensor, Any],
        observer: RunObserver | None = None,
    ) -> list[Any]:
        """One run against ``store``: host ops, the compiled call, fetched values.

        Args:
            store: The session's variables.
            feeds: The checked fed values (a K-step run's host values too).
            observer: None, or what sees the run's phases (a traced run):
                it evaluates the host ops, may wrap the compiled call, and
                times the call and fetches as ``_fetch_and_post_ops``.

        Returns:
            The values of ``plan.requested`` as NumPy, followed in a K-step
            run by the per-step values of ``stacked``.

        Raises:
            errors.FailedPreconditionError: an uninitialized variable is read.
            errors.OutOfRangeError: an iterator has no element left.
        """
        ready = self in store.marked
        if not ready and self not in store.checked:
            store.check(self)
        if observer is not None:
            return self._observed(store, feeds, observer)
        if ready and self.fast is not None:
            return self.fast(store)
        if self.fused is not None:
            return self._run_fused(store, feeds, ready)
        host = run_host_ops(self.plan, store, feeds) if self.host else feeds
        if self.plan.host_fetches:
            host = self._serve_step(store, host)
        return self._call(store, self.swap, host, ready)

    def _observed(
        self, store: VariableStore, feeds: Mapping[Tensor, Any], observer: RunObserver
    ) -> list[Any]:
        """``run`` with its host ops and compiled call seen by ``observer``."""
        host = observer.host_ops(self.plan, dict(feeds)) if self.host else feeds
        if self.plan.host_fetches:
            host = self._serve_step(store, host)
        swap = _swapper(observer.wrap(self.call), self)
        with observer.phase("_fetch_and_post_ops"):
            return self._call(store, swap, host, self in store.marked)

    def _run_fused(
        self, store: VariableStore, feeds: Mapping[Tensor, Any], ready: bool
    ) -> list[Any]:
        """``run`` with each device-resident batch cut inside the compiled call.

        The call gets the dataset's arrays and the batch's row indices in
        place of the batch: no separate gather, no batch-sized transfer.
        """
        host, cuts = dict(feeds), {}
        for op in self.plan.host_ops:
            value, uncut = infeed.rows_or_leaves(op, store)
            if uncut:
                arrays, index = value
                cuts.update((t, (a, index)) for t, a in unfed(op, arrays, feeds))
            else:
                host.update(unfed(op, value, feeds))
        if not cuts:
            return self._call(store, self.swap, host, ready)
        args = tuple(
            [
                cuts[t] if t in cuts else host[t] if dev else None
                for t, dev in self.feeds
            ]
        )
        where = tuple(i for i, (t, _) in enumerate(self.feeds) if t in cuts)
        if self.mesh is not None:
            args = self._mesh_args(args, where)
        entry = self.fused.get(where)
        if entry is None:
            entry = self.fused[where] = [_fused_swap(self, where), 0]
        fetched = _commit(self, store, entry[0], args, host, ready) or ()
        entry[1] += 1
        if self.exe.trace_count > self.traced[0]:
            # Its first call traces the step once more, inside the cut.
            self.traced[0] = self.exe.trace_count
            if entry[1] > 1:
                _note_retrace(self, args)
        return self._values(fetched, host, store)

    def _serve_step(self, store: VariableStore, host: Mapping) -> dict:
        host = dict(host)
        store.serve_step(self.plan.host_fetches, host)
        return host

    def _call(
        self, store: VariableStore, swap: Swap, host: Mapping[Tensor, Any], ready: bool
    ) -> list[Any]:
        args = tuple([host[t] if dev else None for t, dev in self.feeds])
        # K batches of device data may come uncut: the call gathers them.
        where = ()
        if self.steps != 1:
            where = tuple(i for i, a in enumerate(args) if type(a) is tuple)
        if self.mesh is not None:
            args = self._mesh_args(args, where)
        if where:
            swap = self.cut_swaps.get(where)
            if swap is None:
                swap = self.cut_swaps[where] = _fused_swap(self, where)
        fetched = _commit(self, store, swap, args, host, ready) or ()
        if self.exe.trace_count > self.traced[0]:
            self.traced[0] = self.exe.trace_count
            _note_retrace(self, args)
        return self._values(fetched, host, store)

    def _values(
        self, fetched: Any, host: Mapping[Tensor, Any], store: VariableStore
    ) -> list[Any]:
        """The run's values from the call's fetched arrays (see ``run``)."""
        if self.mesh is not None:
            health.wait_ready(fetched)  # a dead peer: raise, not hang in to_host
            fetched = [mesh_lib.to_host(v) for v in fetched]
        fetches = self.plan.fetches
        if self.simple:
            values = list(map(to_host, fetches, fetched)) if fetches else []
        else:
            values = _finish(self, fetched[: len(fetches)], host, store)
        if self.stacked:
            values += fetched[len(fetches) :]
        return values

    def _mesh_args(self, args: tuple, uncut: tuple[int, ...] = ()) -> tuple:
        """A data-parallel run's device feeds as global arrays, but those at ``uncut``.

        A batch is split along ``'data'``: its dimension 0, or 1 after the
        steps of a K-step run.
        """
        axis = 0 if self.steps == 1 else 1
        return tuple(
            v if i in uncut else _mesh_feed(self.mesh, t, v, axis)
            for i, ((t, _), v) in enumerate(zip(self.feeds, args))
        )

    def fast_with(
        self, build: Callable[[list], Any] | None = None, lock: Any = None
    ) -> Callable:
        """A run needing no host work, with the fewest Python steps around the call.

        Only for a runner with a ``fast`` path. Everything that does not
        change from run to run is looked up here, once.

        Args:
            build: If given, the function returns ``build(values)`` (the
                fetch structure); else the list of fetched values.
            lock: If given, the function holds it around the swap (a
                session's run lock), inside the same Ctrl-C guard: one
                guard, and ``acquire``/``release`` rather than a ``with``
                block, which costs a few tenths of a µs more per run.

        Returns:
            ``fn(store)`` making one run against the store.
        """
        swap, fetches = self.swap, self.plan.fetches
        add = self.effect.value if self.effect is not None else None
        # Operations only: the result is always None.
        none = build is not None and not fetches and build([]) is None
        one = none and add is None and swap.__name__ == "one_buffer"
        if one and lock is None:
            return swap  # guarded within
        if lock is None:
            lock = contextlib.nullcontext()
            acquire = release = _nothing
        else:
            acquire, release = lock.acquire, lock.release
        if one:
            call, (k,) = self.call, self.out

            def one_buffer(store: VariableStore) -> None:
                if getsignal(SIGINT) is not handler and not install():
                    with lock:
                        buffers = store.buffers
                        buffers[k] = call(buffers[k])[1][0]
                    return
                # engine/interrupts.py's guard, inlined, around the lock too:
                # an interrupt after acquire() cannot leave the lock held.
                STATE.active += 1
                acquire()
                try:
                    buffers = store.buffers
                    buffers[k] = call(buffers[k])[1][0]
                finally:
                    release()
                    STATE.active -= 1
                if STATE.pending is not None:
                    raise_pending()

            return one_buffer

        def finish(fetched: Any) -> Any:
            if none:
                return None
            values = list(map(to_host, fetches, fetched)) if fetched else []
            return values if build is None else build(values)

        def step(store: VariableStore) -> Any:
            if getsignal(SIGINT) is not handler and not install():
                with lock:
                    fetched = swap(store)
                    if add is not None and store.step_host is not None:
                        store.step_host += add
                return finish(fetched)
            # engine/interrupts.py's guard, inlined around the lock, the swap
            # and the global-step mirror.
            STATE.active += 1
            acquire()
            try:
                fetched = swap(store)
                if add is not None and store.step_host is not None:
                    store.step_host += add
            finally:
                release()
                STATE.active -= 1
            if STATE.pending is not None:
                raise_pending()
            return finish(fetched)

        return step


def _nothing() -> None:
    return None


def _fused_swap(r: Runner, where: tuple[int, ...]) -> Swap:
    """The swap of ``r``'s step with the feeds at ``where`` cut from whole arrays.

    Those feeds are passed as ``(array, row indices)``; the rows are taken
    inside the compiled call, which otherwise is ``r.call``'s (same
    donations: the written state, and the key of a random run).
    """
    call, n = r.call, len(r.keys)
    state = r.exe.state
    donate = tuple(range(len(state.packs_rw) + len(state.loose_rw)))
    if r.random:
        donate += (n + len(r.feeds),)

    # On a mesh each cut batch is placed as its feed would be (``_mesh_feed``):
    # split along 'data', or replicated. The arrays are replicated, so each
    # device gathers its own rows: no data crosses devices.
    axis = 0 if r.steps == 1 else 1
    places = [
        None if r.mesh is None else mesh_lib.feed_sharding(r.mesh, r.feeds[i][0], axis)
        for i in where
    ]

    def cut(*args: Any) -> Any:
        args = list(args)
        for i, place in zip(where, places):
            array, index = args[n + i]
            value = array[index]
            if place is not None:
                value = jax.lax.with_sharding_constraint(value, place)
            args[n + i] = value
        return call(*args)

    return _swapper(jax.jit(cut, donate_argnums=donate), r)


@guarded
def _commit(
    r: Runner,
    store: VariableStore,
    swap: Swap,
    args: tuple,
    host: Mapping[Tensor, Any],
    ready: bool,
) -> Any:
    """The compiled call, the store of its buffers and the run's bookkeeping.

    One step for Ctrl-C (``engine/interrupts.py``): an interrupt that lands
    in it is raised once the store, the initialized set and the global-step
    mirror all agree with the device.
    """
    fetched = swap(store, args)
    if r.effects:
        jax.effects_barrier()
        for flush in AFTER_RUN:
            flush()
    if r.checks:
        raise_failed_check(r.checks, fetched, r.mesh)
    if not ready:
        store.mark_written(r)
    if r.effect is not None:
        store.apply_step_effect(r.effect, host)
    return fetched


def exe_graph_ops(plan: Plan) -> list[Operation]:
    """The ops of the graph ``plan`` belongs to (none for an empty plan)."""
    op = next(iter(plan.ops), None) or next(
        (t.op for t in (*plan.fetches, *plan.feeds)), None
    )
    return [] if op is None or op.graph is None else op.graph.get_operations()


def raise_failed_check(
    checks: tuple[tuple[Operation, tuple[int, ...]], ...], fetched: Any, mesh: Any
) -> None:
    """Raises the error of the first failed check of a run, if one failed.

    Args:
        checks: Each check op and the positions of its reports in ``fetched``.
        fetched: The compiled call's fetched values.
        mesh: The run's mesh, or None.
    """
    for op, where in checks:
        reports = [fetched[i] for i in where]
        if mesh is not None:
            reports = [mesh_lib.to_host(v) for v in reports]
        if not bool(np.asarray(reports[0])):
            raise CHECK_OPS[op.type][1](op, [np.asarray(v) for v in reports])


def build_runner(
    store: VariableStore,
    tensors: list[Tensor],
    targets: list[Operation],
    feeds: Mapping[Tensor, Any],
    steps: int = 1,
    stacked: tuple = (),
    host_ops: bool = True,
    deferred: tuple = (),
) -> Runner:
    """The Runner of one run signature, compiling it on a cache miss.

    Args:
        store: The session's variables (its graph, mesh and global step).
        tensors: The fetched tensors.
        targets: The operations to run.
        feeds: Fed tensors with example values (their shapes and dtypes).
        steps: Steps per call.
        stacked: Keys (``tensor_key``) of fetches a K-step run returns for
            every step.
        host_ops: Whether the runner evaluates the plan's host ops; without,
            the caller passes their values with the feeds.
        deferred: Fetched tensors whose values may come back as
            ``engine.deferred.DeferredValue``s (``deferred.deferrable``).
    """
    static = {t: v for t, v in feeds.items() if is_static_feed(t)}
    specs = tuple(
        FeedSpec(
            tensor_key(t),
            tuple(v.shape),
            str(getattr(v, "dtype", "object")),
            tuple(np.asarray(v).ravel().tolist()) if t in static else None,
        )
        for t, v in feeds.items()
    )
    signature = RunSignature(
        tuple(map(tensor_key, tensors)),
        tuple(op.id for op in targets),
        specs,
        steps,
        stacked=stacked,
    )
    graph, mesh = store.graph, store.mesh
    cache = executables(graph)
    known = len(cache)
    exe = get_executable(
        graph,
        signature,
        lambda: make_plan(tensors, targets, list(feeds), static=static),
        mesh=mesh,
    )
    step = store.global_step()
    effect = exe.plan.effect_on(step, steps) if step is not None else None
    read = step._snapshot if step is not None else None
    if (
        (effect is None or effect.kind != "unknown")
        and read in exe.plan.fetches
        and (read.op.id, step) not in exe.plan.current_reads
    ):
        # The fetched global step is the value at the start of the run,
        # which the host knows: serve it from there, with no device sync.
        signature = dataclasses.replace(signature, host_fetches=(tensor_key(read),))
        exe = get_executable(
            graph,
            signature,
            lambda: make_plan(tensors, targets, list(feeds), [read], static),
            mesh=mesh,
        )
    if len(cache) > known:
        _note_compile(graph, signature)
    keys = set(stacked)
    per_step = tuple(t for t in exe.plan.fetches if tensor_key(t) in keys)
    return Runner(
        exe, effect, per_step if steps > 1 else (), host_ops and steps == 1, deferred
    )


_AVOID = (
    "Each new input shape compiles the run again; a ragged last batch does "
    "this: use Dataset.batch(..., drop_remainder=True) or feed a fixed batch size."
)


def _note_compile(graph: Any, signature: RunSignature) -> None:
    """Logs a new run signature once; warns when its fed shapes keep changing."""
    logger.info("compiling %s", signature.describe(graph))
    if not signature.feeds:
        return
    variants, warned = _SHAPE_VARIANTS.setdefault(graph, (Counter(), set()))
    run = (signature.fetches, signature.targets, signature.steps)
    variants[run] += 1
    if variants[run] > RECOMPILE_WARN_AFTER and run not in warned:
        warned.add(run)
        logger.warning(
            "the run %s has been compiled for %d different feed shapes. %s",
            signature.describe(graph),
            variants[run],
            _AVOID,
        )


def _shape_of(value: Any) -> list[int]:
    if isinstance(value, tuple):  # (array, row indices): cut in the call
        array, index = value
        return [*np.shape(index), *array.shape[1:]]
    return list(getattr(value, "shape", ()))


def _note_retrace(r: Runner, args: tuple) -> None:
    """Logs a compile of a run for new iterator shapes; warns after a few."""
    shapes = ", ".join(
        f"{t.name}={_shape_of(v)}" for (t, _), v in zip(r.feeds, args) if v is not None
    )
    count = r.exe.trace_count
    if count == RECOMPILE_WARN_AFTER + 1:
        logger.warning(
            "a run has been compiled %d times for different input shapes (now %s). %s",
            count,
            shapes,
            _AVOID,
        )
    else:
        logger.info("compiling a run again for new input shapes: %s", shapes)


def _finish(
    r: Runner, fetched: Any, host: Mapping[Tensor, Any], store: VariableStore
) -> list[Any]:
    """Fetched values when some come from the host or pass through post ops."""
    plan = r.plan
    values = {
        t: host[t] if on_host else v
        for t, v, on_host in zip(plan.fetches, fetched, r.fetch_from_host)
    }
    values.update((t, host[t]) for t in plan.constants)
    values.update((t, host[t]) for t in plan.host_fetches)
    if plan.host_post_ops:
        for t in {t for op in plan.host_post_ops for t in op.inputs}:
            if t not in values and t in host:
                values[t] = host[t]
        if r.deferred:
            return _finish_later(r, values, store)
        values = {t: to_host(t, v) for t, v in values.items()}
        run_host_post_ops(plan, values)
    return [to_host(t, values[t]) for t in plan.requested]


def _finish_later(
    r: Runner, values: dict[Tensor, Any], store: VariableStore
) -> list[Any]:
    """The requested values, the deferred ones as ``DeferredValue``s."""
    requested, deferred = r.plan.requested, r.deferred
    order = [t for t in requested if t in deferred]
    buffers = list(store.buffers.values())
    later = iter(deferred_lib.finish_later(r.plan, values, order, buffers))
    return [next(later) if t in deferred else to_host(t, values[t]) for t in requested]


def _mesh_feed(mesh: Any, tensor: Tensor, value: Any, axis: int = 0) -> Any:
    """A device feed as a global array (engine/mesh.py), its batch on ``axis``."""
    # Values already on the mesh (prefetched batches) pass through.
    if value is None or mesh_lib.on_mesh(mesh, value):
        return value
    batch = mesh_lib.is_batch_feed(tensor)
    return mesh_lib.feed_value(mesh, value, batch, tensor.name, axis)


def run_steps(
    store: VariableStore,
    runner_for: Callable[[dict[Tensor, Any], int], Runner],
    feeds: dict[Tensor, Any],
    steps: int,
    every_step: list[Tensor] | None = None,
) -> tuple[list[Any], list[Any] | None, int]:
    """A run of ``steps`` steps in one call, shortened to the data left.

    On a mesh, a fed value (or iterator output) whose tensor is a batch has
    its batch, dimension 1 after the steps, split along ``'data'``.

    Args:
        store: The session's variables.
        runner_for: ``(feeds, k)`` -> the runner of ``k`` steps with these
            feeds, its host values given with the feeds (``host_ops=False``).
        feeds: Checked fed values, each with a leading axis of ``steps``.
        steps: Steps to run (K >= 1).
        every_step: Tensors whose values come back for every step, or None.

    Returns:
        ``(values, per_step, made)``: the requested tensors' values at the
        last step, ``every_step``'s stacked over the steps made (None
        without it) and the steps made.

    Raises:
        ValueError: an ``every_step`` tensor is computed on the host.
        errors.OutOfRangeError: an iterator has no element left.
    """
    runner = runner_for(feeds, steps)
    if every_step is not None:
        check_every_step(runner.plan, every_step)
    host, made = multistep.host_values(runner.plan, store, feeds, steps)
    if made != steps:
        # The data ran out: run the steps it still has.
        if made == 1:
            fed = set(runner.plan.feeds)
            host = {t: v[0] if t in fed else v for t, v in host.items()}
        runner = runner_for({t: host[t] for t in feeds}, made)
    values = runner.run(store, host)
    n = len(runner.plan.requested)
    if every_step is None:
        return values[:n], None, made
    last = dict(zip(runner.plan.requested, values[:n]))
    return values[:n], per_step_values(runner, every_step, last, values[n:], made), made


def check_every_step(plan: Plan, tensors: list[Tensor]) -> None:
    """Checks that per-step fetches are computed on the device (or constant).

    Raises:
        ValueError: one is computed on the host, naming it.
    """
    device = {t for t in plan.fetches if t.dtype is not dtypes_lib.string}
    host = set(plan.constants) | set(plan.host_fetches)
    for t in tensors:
        if t not in device and t not in host:
            raise ValueError(
                f"Cannot fetch {t.name!r} at every step of a multi-step run: it is "
                "computed on the host (a summary, a string or a host-served value); "
                "fetch it for the last step instead."
            )


def per_step_values(
    r: Runner,
    tensors: list[Tensor],
    last: Mapping[Tensor, Any],
    stacked: list[Any],
    count: int,
) -> list[Any]:
    """``tensors``' values over the ``count`` steps just run by ``r``, stacked.

    Args:
        r: The runner that made the run.
        tensors: The tensors asked for at every step.
        last: The last step's values of the run's requested tensors.
        stacked: The per-step values ``r.run`` returned after those.
        count: The steps made.
    """
    by_tensor = {t: to_host(t, v) for t, v in zip(r.stacked, stacked)}
    for t in r.plan.host_fetches:
        # The global step served from the host: its start value, plus
        # what each step adds (the step effect is a constant add).
        adds = r.effect is not None and r.effect.kind == "add"
        add = r.effect.value // count if adds else 0
        start = np.asarray(last[t]).item()
        by_tensor[t] = to_host(t, start + add * np.arange(count))
    # One step's values, and constants, repeated on the step axis.
    return [
        by_tensor[t] if t in by_tensor else np.stack([np.asarray(last[t])] * count)
        for t in tensors
    ]
