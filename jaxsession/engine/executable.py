"""Executable: a jitted run with donated state, and the per-graph cache."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxsession.engine.lower import lower_plan
from jaxsession.engine.multistep import repeat_steps
from jaxsession.engine.packing import StateLayout, StateSpec, packed_run, state_spec
from jaxsession.engine.plan import Plan, make_plan
from jaxsession.engine.signature import RunSignature, tensor_key

logger = logging.getLogger("jaxsession")


class Executable:
    """One compiled run: the plan, the jitted function and its trace count.

    Variables travel packed (see ``engine.packing``): the call takes the
    packs and loose variables ``state`` names and returns the written ones.

    Attributes:
        plan: The plan compiled.
        state: Which packs and loose variables the call takes and returns.
        trace_count: How many times JAX traced the run (1 once it has run).
        call: The jitted function on flat positional arguments,
            ``call(*rw, *ro, *feeds, rng) -> (fetches, written, rng)`` when
            ``plan.random``, else ``call(*rw, *ro, *feeds) -> (fetches,
            written)``, with ``rw = packs_rw + loose_rw`` (donated, as is
            ``rng``), ``ro = packs_ro + loose_ro`` and ``written = packs_rw' +
            loose_out`` (``state`` names them). Flat, because JAX dispatches
            positional arrays faster than nested tuples.

    Args:
        plan: The plan to compile.
        layout: The graph's state layout, covering the plan's variables.
        steps: Steps per call; with K > 1 the call loops K steps of the plan
            (``engine.multistep``) and each feed has a leading K axis.
        mesh: For a run on a mesh (``engine.mesh``): the written state and
            key come out where they live on this mesh (replicated, or a
            variable's own sharding); None for one device.
        stacked: Fetches a K-step run also returns for every step, after
            the last step's fetches (``engine.multistep.repeat_steps``).
    """

    def __init__(
        self,
        plan: Plan,
        layout: StateLayout,
        steps: int = 1,
        mesh: Any = None,
        stacked: tuple = (),
    ):
        self.plan = plan
        self.mesh = mesh
        self.state = state_spec(plan, layout)
        self.steps = steps
        self.trace_count = 0
        state = self.state
        n_rw = len(state.packs_rw) + len(state.loose_rw)
        if steps == 1:
            run = packed_run(lower_plan(plan, self._count_trace), plan, layout, state)
        else:
            keys = set(stacked)
            where = tuple(
                i for i, t in enumerate(plan.fetches) if tensor_key(t) in keys
            )
            # The packs are the loop carry, sliced and rebuilt inside the
            # body: XLA:CPU runs that faster than a carry of every variable
            # sliced once before the loop (benchmarks/RESULTS.md, session 6).
            packed = packed_run(lower_plan(plan), plan, layout, state)
            run = repeat_steps(packed, n_rw, plan, steps, self._count_trace, where)
        if mesh is not None:
            run = _pinned_state(run, mesh, state)
        n_in = n_rw + len(state.packs_ro) + len(state.loose_ro)
        donate = tuple(range(n_rw))
        if plan.random:

            def flat(*args: Any) -> tuple:
                return run(args[:n_rw], args[n_rw:n_in], args[n_in:-1], args[-1])

            self.call = jax.jit(flat, donate_argnums=(*donate, n_in + len(plan.feeds)))
        else:
            # Without random ops the key is neither passed nor returned: one
            # buffer less to donate and hand back on every run.
            def flat(*args: Any) -> tuple:
                return run(args[:n_rw], args[n_rw:n_in], args[n_in:], None)[:2]

            self.call = jax.jit(flat, donate_argnums=donate)

    def _count_trace(self) -> None:
        self.trace_count += 1

    def __call__(self, rw: tuple, ro: tuple, feeds: tuple, rng: Any = None) -> tuple:
        """Runs the compiled call; ``rw`` (and ``rng`` if used) are donated.

        Returns:
            ``(fetches, written, rng)``; ``rng`` is passed through unused
            when the plan has no random ops.
        """
        if self.plan.random:
            return self.call(*rw, *ro, *feeds, rng)
        return (*self.call(*rw, *ro, *feeds), rng)

    def as_text(self, rw: tuple, ro: tuple, feeds: tuple, rng: Any = None) -> str:
        """The StableHLO text JAX lowers this run to, for these call arguments."""
        args = (*rw, *ro, *feeds) + ((rng,) if self.plan.random else ())
        return self.call.lower(*args).as_text()


def _pinned_state(
    run: Callable[..., tuple], mesh: Any, state: StateSpec
) -> Callable[..., tuple]:
    """``run`` with its written state and key pinned where they live on ``mesh``.

    Packs and the key are replicated; a loose variable keeps its own
    sharding (``engine.mesh.variable_sharding``).

    Raises:
        ValueError: a variable's sharding does not fit ``mesh``.
    """
    from jaxsession.engine.mesh import replicated, variable_sharding

    whole = replicated(mesh)
    written = (whole,) * len(state.packs_rw) + tuple(
        variable_sharding(mesh, v) for v in state.loose_out
    )

    def fn(*args: Any) -> tuple:
        fetched, values, rng = run(*args)
        # Without the pin, XLA may leave the state sharded like the batch,
        # and the next run's inputs would no longer be where they live.
        values = jax.lax.with_sharding_constraint(values, written)
        if rng is not None:
            rng = jax.lax.with_sharding_constraint(rng, whole)
        return fetched, values, rng

    return fn


class _GraphCaches:
    """What the engine keeps per graph: its state layout and executables."""

    __slots__ = ("executables", "layout")

    def __init__(self):
        self.layout = StateLayout()
        self.executables: dict[Any, Executable] = {}


def _caches(graph: Any) -> _GraphCaches:
    """The engine's caches of ``graph``, owned by the graph itself.

    Not a module-level ``weakref.WeakKeyDictionary``: its values would reach
    the graph through the plans' ops (``Operation.graph``), and such a
    dictionary holds its values strongly, so no graph would ever be freed.
    Owned by the graph, the caches and the graph form one cycle that the
    collector frees together once the graph is dropped.
    """
    caches = graph.__dict__.get(_CACHES)
    if caches is None:
        caches = graph.__dict__[_CACHES] = _GraphCaches()
    return caches


_CACHES = "_jaxsession_engine_caches"


def state_layout(graph: Any) -> StateLayout:
    """The graph's state layout (created on first use), covering all its variables."""
    layout = _caches(graph).layout
    layout.cover(graph)
    return layout


def executables(graph: Any) -> dict[Any, Executable]:
    """The graph's compiled runs: ``RunSignature`` (or ``(signature, mesh)``) -> Executable."""
    return _caches(graph).executables


COMPILATION_CACHE_ENV = "JAXSESSION_COMPILATION_CACHE_DIR"
COMPILATION_CACHE_SUBDIR = "jax_compilation_cache"


def default_compilation_cache_dir() -> Path:
    """MonitoredTrainingSession's cache: per user, never in a data directory.

    ``$XDG_CACHE_HOME/jaxsession/jax_compilation_cache`` (``~/.cache`` when
    unset). Compiled code is loaded and run as is, so it lives where only
    this user writes, not in a checkpoint directory that several hosts (or
    other people) share.
    """
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "jaxsession", COMPILATION_CACHE_SUBDIR)


# The directory this module last gave JAX, to tell it from a user's own.
_cache_dir_set: str | None = None


def enable_compilation_cache(directory: str | os.PathLike | None) -> str | None:
    """Turns on JAX's persistent compilation cache, so a restarted job skips compiling.

    The environment variable ``JAXSESSION_COMPILATION_CACHE_DIR`` wins over
    ``directory`` (``off`` disables the cache). A cache directory the user set
    through ``jax.config`` themselves is left alone. JAX keeps its own
    thresholds (``jax_persistent_cache_min_compile_time_secs``), so only
    programs slow to compile are stored.

    Args:
        directory: Where to keep compiled programs, or None for none.

    Returns:
        The directory in use, or None when the cache stays off.
    """
    global _cache_dir_set
    env = os.environ.get(COMPILATION_CACHE_ENV)
    if env is not None:
        directory = None if env.strip().lower() in ("", "0", "off", "none") else env
    current = jax.config.jax_compilation_cache_dir
    if current and current == _cache_dir_set and not Path(current).is_dir():
        current = None  # ours, and deleted since: JAX would warn on each write
        jax.config.update("jax_compilation_cache_dir", None)
        from jax.experimental.compilation_cache import compilation_cache

        compilation_cache.reset_cache()
    if current and current != _cache_dir_set:
        return current  # the user's own setting
    if directory is None:
        return current
    directory = str(Path(directory).absolute())
    if directory == current:
        return directory
    Path(directory).mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", directory)
    if current:
        # JAX opens its cache once; a new directory needs a fresh start.
        from jax.experimental.compilation_cache import compilation_cache

        compilation_cache.reset_cache()
    _cache_dir_set = directory
    logger.info("Persistent compilation cache in %s", directory)
    return directory


def release_compilation_cache(directory: str | None) -> None:
    """Turns off the cache ``enable_compilation_cache`` turned on at ``directory``.

    A session calls it when it closes: its checkpoint directory may be deleted
    next (a temporary one), and JAX would then warn at every later compile.
    A cache the user set, or another directory, is left alone.
    """
    global _cache_dir_set
    if directory is None or directory != _cache_dir_set:
        return
    if jax.config.jax_compilation_cache_dir == directory:
        from jax.experimental.compilation_cache import compilation_cache

        jax.config.update("jax_compilation_cache_dir", None)
        compilation_cache.reset_cache()
    _cache_dir_set = None


def _debug() -> bool:
    return os.environ.get("JAXSESSION_DEBUG", "") not in ("", "0")


def get_executable(
    graph: Any,
    signature: RunSignature,
    build_plan: Callable[[], Plan] | None = None,
    mesh: Any = None,
) -> Executable:
    """The cached Executable of ``signature`` on ``graph``, built on a miss.

    The cache belongs to the graph (``executables``), so a dropped graph
    frees its executables. ``mesh`` (a data-parallel run's Mesh) is part of
    the key.
    """
    cache = executables(graph)
    key = signature if mesh is None else (signature, mesh)
    exe = cache.get(key)
    if exe is None:
        if _debug():
            logger.info("jaxsession cache miss: %s", signature.describe(graph))
        ops = graph.get_operations()
        plan = (
            build_plan()
            if build_plan is not None
            else make_plan(
                [ops[i].outputs[j] for i, j in signature.fetches],
                [ops[i] for i in signature.targets],
                [ops[f.tensor[0]].outputs[f.tensor[1]] for f in signature.feeds],
                [ops[i].outputs[j] for i, j in signature.host_fetches],
                _static_feeds(ops, signature),
            )
        )
        exe = cache[key] = Executable(
            plan, state_layout(graph), signature.steps, mesh, signature.stacked
        )
    return exe


def _static_feeds(ops: list, signature: RunSignature) -> dict:
    """The static feeds of ``signature`` with their values (``FeedSpec.value``)."""
    return {
        ops[f.tensor[0]].outputs[f.tensor[1]]: np.asarray(f.value, f.dtype).reshape(
            f.shape
        )
        for f in signature.feeds
        if f.value is not None
    }
