"""Session and InteractiveSession: variable state and ``run``.

A Session owns the variables' values as ``jax.Array``s that stay on device
between runs. Each distinct run signature is planned, lowered and compiled
once; afterwards a ``run`` is one compiled call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxsession import errors
from jaxsession.distributed import health
from jaxsession.engine import mesh as mesh_lib, multistep
from jaxsession.engine.executable import Executable, get_executable, state_layout
from jaxsession.engine.host import run_host_ops, run_host_post_ops
from jaxsession.engine.infeed import close_resources
from jaxsession.engine.packing import StateLayout
from jaxsession.engine.plan import Plan, make_plan
from jaxsession.engine.signature import FeedSpec, RunSignature, tensor_key
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import (
    Graph,
    Operation,
    Tensor,
    default_session,
    get_default_graph,
)
from jaxsession.graph.rules import constant_value
from jaxsession.graph.variables import Variable, get_global_step
from jaxsession.session import config as config_lib, fetches as fetches_lib

# Fetches of these types are their own cache key (no structure to walk).
_LEAF_TYPES = frozenset({Operation, Tensor, str})


class StepValues(NamedTuple):
    """What ``Session.run(..., every_step=...)`` returns.

    Attributes:
        values: The fetches' values, those of the last step.
        every_step: ``every_step``'s values, each stacked on a leading axis
            of the steps made.
        steps: The steps the run made: ``steps_per_run``, or fewer when the
            data ran out.
    """

    values: Any
    every_step: Any
    steps: int


class _Runner:
    """An executable with everything a repeated run needs worked out once.

    A run through a runner picks its packs and loose variables out of the
    session's state, makes one compiled call, stores the written buffers
    back and converts the fetched values; nothing in it depends on the graph
    walk or the fetch structure. ``checked`` and ``marked`` record, per
    session, that the reads were found initialized and that the writes were
    recorded as initialized: both only ever become true, because a variable
    never becomes uninitialized again in a session.
    """

    __slots__ = (
        "call",
        "checked",
        "fast",
        "feeds",
        "fetch_from_host",
        "host",
        "marked",
        "out",
        "packs_rw",
        "plan",
        "random",
        "reads",
        "ro",
        "rw",
        "simple",
        "step_effect",
        "writes",
    )

    def __init__(self, exe: Executable, step_effect: Any = None):
        plan = exe.plan
        state = exe.state
        self.plan = plan
        self.call = exe.call
        self.random = plan.random
        # Keys into the session's ``_state`` (see ``_pack_key``), in the
        # order of the call's ``rw``, ``ro`` and ``written`` tuples.
        self.packs_rw = state.packs_rw
        self.rw = tuple(map(_pack_key, state.packs_rw)) + tuple(
            id(v) for v in state.loose_rw
        )
        self.ro = tuple(map(_pack_key, state.packs_ro)) + tuple(
            id(v) for v in state.loose_ro
        )
        self.out = tuple(map(_pack_key, state.packs_rw)) + tuple(
            id(v) for v in state.loose_out
        )
        self.reads = plan.rw_vars + plan.ro_vars
        self.writes = plan.written_vars
        self.checked = False
        self.marked = False
        # ``_fast_step(self)``, set by BaseSession._call after a first full run
        # shows this runner needs no per-run host work.
        self.fast: Callable[[BaseSession], Any] | None = None
        self.step_effect = step_effect
        self.host = bool(plan.host_ops or plan.constants or plan.host_fetches)
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


class _Prepared:
    """A fetch structure resolved once: the mapper, its signature parts, runners.

    ``runners`` maps the feeds' key (see ``BaseSession.run`` and
    ``make_callable``) to the runner of that signature. ``direct`` is the
    whole run without feeds, fetch structure included, once its runner is
    fast (see ``_fast_step``): what ``run`` and a callable call straight away.
    """

    __slots__ = ("direct", "fetch_keys", "mapper", "runners", "target_keys")

    def __init__(self, graph: Graph, fetches: Any):
        self.mapper = fetches_lib.FetchMapper(graph, fetches)
        self.fetch_keys = tuple(tensor_key(t) for t in self.mapper.tensors)
        self.target_keys = tuple(op.id for op in self.mapper.targets)
        self.runners: dict[tuple, _Runner] = {}
        self.direct: Callable[[BaseSession], Any] | None = None


class BaseSession:
    """The state and ``run`` shared by Session and InteractiveSession."""

    def __init__(
        self, target: str = "", graph: Graph | None = None, config: Any = None
    ):
        config_lib.apply_config(config)
        self.graph = graph if graph is not None else get_default_graph()
        self.sess_str = target
        self._config = config
        # Variable values live packed (engine/packing.py). ``_state`` holds
        # every buffer: a pack under ``_pack_key(index)`` (negative), a loose
        # variable under its id. Ints hash in C (a Variable's __hash__ runs
        # Python), and one dict lets a run pick its buffers in one pass.
        # ``_vars`` maps ids back and keeps those variables alive, so an id
        # is never reused.
        self._state: dict[int, jax.Array] = {}
        self._initialized: set[int] = set()
        self._vars: dict[int, Any] = {}
        # Per pack: (the buffer unpacked, its variables' arrays), so repeated
        # variable_values() calls on unchanged state cost nothing.
        self._views: dict[int, tuple[jax.Array, tuple]] = {}
        # The global step as the host knows it without asking the device
        # (None: unknown); see ``_step_effect``. The counters let tests and
        # benchmarks see which path served a fetch of the global step.
        self._step_var: Any = None
        self._step_host: int | None = None
        self._step_mirror_hits = 0
        self._step_device_reads = 0
        self._rng = jax.random.PRNGKey(0)
        # Data parallel (engine/mesh.py): all state lives replicated on the mesh.
        self._mesh = mesh_lib.active_mesh()
        if self._mesh is not None:
            self._rng = mesh_lib.place_replicated(self._mesh, self._rng)
        self._closed = False
        self._lock = threading.RLock()
        self._prepared: dict[Any, _Prepared] = {}
        self.resources: dict[Any, Any] = {}
        self._default_stack: list[Any] = []

    # -- context and lifecycle -------------------------------------------------

    @property
    def graph_def(self) -> Any:
        """The session's graph as a ``GraphDef`` proto (for FileWriter, write_graph)."""
        from jaxsession.graph.graph_def import graph_to_graph_def

        return graph_to_graph_def(self.graph)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def close(self) -> None:
        """Releases the variable values; later runs raise RuntimeError."""
        self._closed = True
        self._state, self._views = {}, {}
        self._initialized = set()
        self._step_host = None
        close_resources(self.resources)

    def as_default(self) -> contextlib.AbstractContextManager[Any]:
        """Makes this the default session (for ``Tensor.eval``) inside the block."""
        return default_session(self)

    def __enter__(self) -> BaseSession:
        cm = self.graph.as_default()
        cm.__enter__()
        ds = default_session(self)
        ds.__enter__()
        self._default_stack.append((cm, ds))
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        cm, ds = self._default_stack.pop()
        ds.__exit__(exc_type, exc, tb)
        cm.__exit__(exc_type, exc, tb)
        self.close()

    # -- state -------------------------------------------------------------------

    def is_initialized(self, variable: Any) -> bool:
        """Whether ``variable`` holds a value in this session."""
        return id(variable) in self._initialized

    def _layout(self, extra: Any = ()) -> StateLayout:
        layout = state_layout(self.graph)
        if extra:
            layout.cover(self.graph, extra)
        return layout

    def variable_values(self) -> dict[Any, jax.Array]:
        """The current device values of the initialized variables, by Variable.

        Each value is its own array (not an alias of the packed state), so it
        stays valid after later runs. One compiled call per changed pack.
        """
        with self._lock:
            layout, init = self._layout(), self._initialized
            out: dict[Any, jax.Array] = {}
            for key, buf in self._state.items():
                if key >= 0:
                    out[self._vars[key]] = buf
                    continue
                p = _pack_key(key)
                views = self._views.get(p)
                if views is None or views[0] is not buf:
                    views = self._views[p] = (buf, layout.unpack(p, buf))
                for v, value in zip(layout.packs[p].variables, views[1]):
                    if id(v) in init:
                        out[v] = value
            return out

    @property
    def mesh(self) -> Any:
        """The ``jax.sharding.Mesh`` the session runs on, or None (one device)."""
        return self._mesh

    def variable_sharding(self, variable: Any) -> Any:
        """Where ``variable``'s value lives: a ``NamedSharding``, or None without a mesh.

        Args:
            variable: A Variable of the session's graph.

        Returns:
            Its sharding on the session's mesh, or None without a mesh.

        Raises:
            ValueError: its ``sharding`` does not fit the session's mesh.
        """
        if self._mesh is None:
            return None
        return mesh_lib.variable_sharding(self._mesh, variable)

    def set_variable_values(self, values: dict[Any, Any]) -> None:
        """Replaces the values of some variables (restore, broadcast).

        Raises:
            ValueError: a value's shape does not match its variable's.
        """
        for var, value in values.items():
            if tuple(np.shape(value)) != var.shape.as_tuple():
                raise ValueError(
                    f"value of shape {np.shape(value)} does not fit variable "
                    f"'{var.op.name}' of shape {var.shape}"
                )
        # Convert everything before changing anything: a bad value leaves the
        # state as it was.
        converted = {var: _as_value(var, value) for var, value in values.items()}
        if self._mesh is not None:
            converted = {
                v: mesh_lib.place(self.variable_sharding(v), x)
                for v, x in converted.items()
            }
        with self._lock:
            layout = self._layout(values.keys())
            by_pack: dict[int, dict[int, Any]] = {}
            for var, value in converted.items():
                self._vars[id(var)] = var
                slot = layout.slot(var)
                if slot is None:
                    self._state[id(var)] = jax.numpy.asarray(value)
                else:
                    by_pack.setdefault(slot.pack, {})[slot.index] = value
            for p, vals in by_pack.items():
                buf = self._state.get(_pack_key(p))
                if buf is None:
                    buf = self._zeros(layout, p)
                self._state[_pack_key(p)] = layout.update(p, buf, vals)
            self._initialized.update(id(v) for v in values)
            step = self._step_var
            if step is not None and step in converted:
                value = values[step]
                self._step_host = (
                    int(np.asarray(value))
                    if isinstance(value, np.ndarray | np.generic | int)
                    else None
                )

    # -- run -------------------------------------------------------------------

    def run(
        self,
        fetches: Any,
        feed_dict: Any = None,
        options: Any = None,
        run_metadata: Any = None,
        *,
        steps_per_run: int = 1,
        every_step: Any = None,
    ) -> Any:
        """Runs the ops needed for ``fetches`` and returns their values.

        Args:
            fetches: A graph element, its name, or a nested list/tuple/dict/
                namedtuple of them.
            feed_dict: Maps tensors (or names) to values that replace them.
            options: A ``RunOptions``: ``trace_level=FULL_TRACE`` (any level
                above NO_TRACE) times the run into ``run_metadata``;
                ``output_partition_graphs`` adds the compiled graph.
            run_metadata: A ``RunMetadata`` that the run overwrites, as TF1
                does (see ``session/tracing.py``).
            steps_per_run: Run the graph K times in one compiled call
                (TPUEstimator's iterations_per_loop): each iterator gives K
                elements, each fed value needs a leading axis of K, and the
                fetched values are those of the last step (except a global
                step that the run increments by a constant: fetched with the
                train op, it is its value at the start of the run, as TF1's
                hooks expect). Near the end of the data the run is shortened
                to the elements left.
            every_step: A fetch structure whose values the run also returns
                for every step, each stacked on a leading axis of the steps
                made (how hooks' ``EveryStep`` requests are served). Not in
                TF1.

        Returns:
            The fetch structure with NumPy values (None for operations); with
            ``every_step``, a ``StepValues(values, every_step, steps)``.

        Raises:
            RuntimeError: the session is closed.
            TypeError/ValueError: a bad fetch or feed, naming it.
            errors.InvalidArgumentError: a needed placeholder is not fed.
            errors.FailedPreconditionError: an uninitialized variable is read.
            errors.OutOfRangeError: an iterator has no element left.
        """
        if self._closed:
            self._check_open()
        if every_step is not None and steps_per_run == 1:
            # One step is a plain run; its per-step values get a step axis of 1.
            values, each = self.run(
                [fetches, every_step], feed_dict, options, run_metadata
            )
            return StepValues(values, jax.tree_util.tree_map(_one_step, each), 1)
        if run_metadata is not None:
            if _wants_metadata(options):
                from jaxsession.session import tracing

                return tracing.run_with_metadata(
                    self,
                    fetches,
                    feed_dict,
                    options,
                    run_metadata,
                    steps_per_run,
                    every_step,
                )
            # Untraced: TF1 overwrites the metadata with nothing.
            config_lib.clear_run_metadata(run_metadata)
        if steps_per_run != 1:
            values, each, made = self._run_k_steps(
                fetches, feed_dict, steps_per_run, every_step
            )
            return values if every_step is None else StepValues(values, each, made)
        prepared = self._prepared.get(
            fetches if type(fetches) in _LEAF_TYPES else fetches_lib.fetch_key(fetches)
        )
        if prepared is None:
            prepared = self._prepare(fetches)
        if feed_dict:
            feeds = fetches_lib.resolve_feeds(self.graph, feed_dict)
            key = tuple([(t, v.shape) for t, v in feeds.items()])
        else:
            direct = prepared.direct
            if direct is not None:
                with self._lock:
                    return direct(self)
            feeds, key = {}, ()
        with self._lock:
            return self._run_prepared(prepared, feeds, key)

    def _run_prepared(
        self,
        prepared: _Prepared,
        feeds: dict[Tensor, Any],
        key: tuple,
        check_shapes: bool = False,
    ) -> Any:
        """One run of ``prepared`` with ``feeds`` (keyed ``key``); under the lock."""
        runner = prepared.runners.get(key)
        if runner is None:
            if check_shapes:
                # A shape that fitted once always fits: check new ones only.
                for t, v in feeds.items():
                    fetches_lib.check_feed_shape(t, v.shape)
            runner = self._new_runner(prepared, feeds, key)
        values = self._call(runner, feeds)
        if not key and runner.fast is not None:
            prepared.direct = _fast_step(runner, prepared.mapper)
        return prepared.mapper.build(values)

    def run_observed(
        self, fetches: Any, feed_dict: Any, observer: Any
    ) -> tuple[Any, Plan]:
        """One ``run`` of one step whose phases ``observer`` sees (traced runs).

        Not in TF1; ``session/tracing.py`` times runs through it.

        Args:
            fetches: As for ``run``.
            feed_dict: As for ``run``.
            observer: Has ``phase(name)``, a context manager around the
                phases ``_feed_conversion`` and ``_fetch_and_post_ops``;
                ``host_ops(plan, values)``, evaluating the plan's constants
                and host ops into ``values`` (``engine.host.run_host_ops``);
                and ``wrap(call)``, the compiled call to use for this run.

        Returns:
            ``(values, plan)``: what ``run`` returns, and the run's plan.

        Raises:
            As ``run``.
        """
        self._check_open()
        with observer.phase("_feed_conversion"):
            prepared = self._prepare(fetches)
            feeds = (
                fetches_lib.resolve_feeds(self.graph, feed_dict) if feed_dict else {}
            )
        key = tuple([(t, v.shape) for t, v in feeds.items()])
        with self._lock:
            runner = prepared.runners.get(key)
            if runner is None:
                runner = self._new_runner(prepared, feeds, key)
            if not runner.checked:
                self._check(runner)
            values = dict(feeds)
            if runner.host:
                values = observer.host_ops(runner.plan, values)
            saved = runner.call, runner.fast, runner.host
            wrapped = observer.wrap(runner.call)
            runner.call, runner.fast, runner.host = wrapped, None, False
            try:
                with observer.phase("_fetch_and_post_ops"):
                    result = prepared.mapper.build(self._call(runner, values))
            finally:
                # The wrapped call serves this run only (and no fast path).
                runner.call, runner.fast, runner.host = saved
        return result, runner.plan

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")

    def _prepare(self, fetches: Any) -> _Prepared:
        key = (
            fetches if type(fetches) in _LEAF_TYPES else fetches_lib.fetch_key(fetches)
        )
        prepared = self._prepared.get(key) if key is not None else None
        if prepared is None:
            prepared = _Prepared(self.graph, fetches)
            if key is not None:
                self._prepared[key] = prepared
        return prepared

    def _new_runner(
        self,
        prepared: _Prepared,
        feeds: dict[Tensor, Any],
        key: tuple,
        steps: int = 1,
        stacked: tuple = (),
    ) -> _Runner:
        specs = tuple(
            FeedSpec(tensor_key(t), tuple(v.shape), str(getattr(v, "dtype", "object")))
            for t, v in feeds.items()
        )
        signature = RunSignature(
            prepared.fetch_keys, prepared.target_keys, specs, steps, stacked=stacked
        )
        tensors, targets = prepared.mapper.tensors, prepared.mapper.targets
        exe = get_executable(
            self.graph,
            signature,
            lambda: make_plan(tensors, targets, list(feeds)),
            mesh=self._mesh,
        )
        effect = self._step_effect(exe.plan, signature.steps)
        read = self._step_var._snapshot if self._step_var is not None else None
        if (
            effect != "unknown"
            and read in exe.plan.fetches
            and (read.op.id, self._step_var) not in exe.plan.current_reads
        ):
            # The fetched global step is the value at the start of the run,
            # which the host knows: serve it from there, with no device sync.
            signature = dataclasses.replace(signature, host_fetches=(tensor_key(read),))
            exe = get_executable(
                self.graph,
                signature,
                lambda: make_plan(tensors, targets, list(feeds), [read]),
                mesh=self._mesh,
            )
        self._vars.update((id(v), v) for v in exe.plan.written_vars)
        runner = prepared.runners[key] = _Runner(exe, effect)
        return runner

    def _step_effect(self, plan: Plan, steps: int) -> Any:
        """What a run of ``plan`` does to the global step, as the host can know it.

        Returns None (not written), ``("add", n)``, ``("set", n)``,
        ``("feed", tensor)`` or ``"unknown"`` (the host mirror is dropped
        after such a run and the next fetch reads the device).
        """
        try:
            step = get_global_step(self.graph)
        except TypeError:
            step = None
        if isinstance(step, Tensor) and len(step.op.reads) == 1:
            step = step.op.reads[0]
        if not isinstance(step, Variable) or not step.dtype.is_integer:
            step = None
        if step is not self._step_var:
            self._step_var, self._step_host = step, None
        if step is None:
            return None
        effects = []
        feeds = set(plan.feeds)
        for op in plan.ops:
            if not any(v is step for v, _ in op.writes):
                continue
            fed = bool(op.inputs) and op.inputs[0] in feeds
            value = (
                constant_value(op.inputs[0])
                if op.inputs and not _fed_above(op.inputs[0], feeds)
                else None
            )
            if len(op.writes) != 1 or (value is not None and np.size(value) != 1):
                return "unknown"
            if op.type in ("AssignAdd", "AssignSub") and value is not None:
                sign = 1 if op.type == "AssignAdd" else -1
                effects.append(("add", sign * int(np.asarray(value).item())))
            elif op.type == "Assign" and value is not None:
                effects.append(("set", int(np.asarray(value).item())))
            elif op.type == "Assign" and fed:
                effects.append(("feed", op.inputs[0]))
            else:
                return "unknown"
        if not effects:
            return None
        if all(kind == "add" for kind, _ in effects):
            # A K-step run adds K times; the fetched step (served from the
            # host) is its value at the start of the run, as TF1 hooks expect.
            return ("add", steps * sum(n for _, n in effects))
        if steps != 1:
            return "unknown"
        return effects[0] if len(effects) == 1 else "unknown"

    def _call(self, r: _Runner, feeds: dict[Tensor, Any]) -> list[Any]:
        fast = r.fast
        if fast is not None:
            return fast(self)
        if not r.checked:
            self._check(r)
        state = self._state
        keys = r.rw + r.ro
        host = run_host_ops(r.plan, self, feeds) if r.host else feeds
        if r.plan.host_fetches:
            self._serve_step(r, host)
        args = (
            tuple([host[t] if dev else None for t, dev in r.feeds]) if r.feeds else ()
        )
        if self._mesh is not None:
            args = _global_feeds(self._mesh, r, args)
            health.raise_if_job_broken()
        try:
            if r.random:
                fetched, written, self._rng = r.call(
                    *map(state.__getitem__, keys), *args, self._rng
                )
            else:
                fetched, written = r.call(*map(state.__getitem__, keys), *args)
            # The call donated the rw buffers: store the written ones before
            # anything else can fail, so the state never holds deleted arrays.
            state.update(zip(r.out, written))
            if not r.marked:
                self._initialized.update(id(v) for v in r.writes)
                r.marked = True
            if r.step_effect is not None:
                self._apply_step_effect(r.step_effect, feeds)
            if self._mesh is not None:
                fetched = [mesh_lib.to_host(v) for v in fetched]
        except jax.errors.JaxRuntimeError as e:
            # A collective that failed because a peer process died.
            health.raise_if_peer_lost(e)
            raise
        if (
            r.simple
            and not r.feeds
            and not r.host
            and self._mesh is None
            and (r.step_effect is None or _adds(r.step_effect))
        ):
            r.fast = _fast_step(r)
        if r.simple:
            return (
                list(map(fetches_lib.to_host, r.plan.fetches, fetched))
                if fetched
                else []
            )
        return _finish(r, fetched, host)

    def _zeros(self, layout: StateLayout, p: int) -> jax.Array:
        buf = layout.zeros(p)
        return buf if self._mesh is None else mesh_lib.place_replicated(self._mesh, buf)

    def _check(self, r: _Runner) -> None:
        """Checks a runner's reads once, and allocates the packs it writes.

        Raises:
            errors.FailedPreconditionError: some are not initialized.
        """
        init = self._initialized
        reads = r.reads + (self._step_var,) * bool(r.plan.host_fetches)
        missing = [v for v in reads if id(v) not in init]
        if missing:
            raise _uninitialized_error(missing, r.plan)
        layout = self._layout()
        for p in r.packs_rw:
            if _pack_key(p) not in self._state:
                self._state[_pack_key(p)] = self._zeros(layout, p)
        r.checked = True

    def _serve_step(self, r: _Runner, host: dict[Tensor, Any]) -> None:
        """Puts the global step's start value into ``host``, from the mirror if known."""
        step = self._step_var
        if self._step_host is None:
            value = self._variable_value(step)
            self._step_host = int(np.asarray(value))
            self._step_device_reads += 1
        else:
            self._step_mirror_hits += 1
        for t in r.plan.host_fetches:
            host[t] = np.asarray(self._step_host, step.dtype.jax_dtype)

    def _apply_step_effect(self, effect: Any, feeds: dict[Tensor, Any]) -> None:
        kind, n = effect if effect != "unknown" else (effect, None)
        if kind == "add":
            if self._step_host is not None:
                self._step_host += n
        elif kind == "set":
            self._step_host = n
        elif kind == "feed":
            value = feeds.get(n)
            self._step_host = (
                int(np.asarray(value))
                if isinstance(value, np.ndarray | np.generic) and np.size(value) == 1
                else None
            )
        else:
            self._step_host = None

    def _variable_value(self, var: Any) -> jax.Array:
        """One variable's current device value."""
        slot = self._layout().slot(var)
        if slot is None:
            return self._state[id(var)]
        return self.variable_values()[var]

    # -- multi-step runs (engine/multistep.py) -------------------------------------

    def _run_k_steps(
        self, fetches: Any, feed_dict: Any, steps: int, every_step: Any = None
    ) -> tuple[Any, Any, int]:
        """A run of ``steps`` steps that also returns some fetches at every step.

        ``run`` with ``steps_per_run`` (and ``every_step``). On a mesh, a fed
        value (or iterator output) whose tensor is a batch has its batch,
        dimension 1 after the steps, split along ``'data'``.

        Args:
            fetches: Fetched at the last step, as ``run``'s fetches.
            feed_dict: Fed values, each with a leading axis of ``steps``.
            steps: Steps to run (K >= 1).
            every_step: A fetch structure whose values come back stacked on
                a leading axis of the steps made, or None. Only these are
                stacked.

        Returns:
            ``(values, stacked, made)``: ``fetches``' values at the last step,
            ``every_step``'s at every step (None without ``every_step``) and
            the steps made: near the end of the data, those left.

        Raises:
            ValueError: ``steps`` < 1; a fed value lacks the leading K axis;
                an ``every_step`` tensor is computed on the host (a summary).
        """
        if steps < 1:
            raise ValueError(f"steps_per_run must be >= 1, got {steps}")
        each = None if every_step is None else self._prepare(every_step).mapper
        stacked = () if each is None else tuple(map(tensor_key, each.tensors))
        prepared = self._prepare(fetches if each is None else (fetches, every_step))
        feeds = _step_feeds(self.graph, feed_dict, steps)
        with self._lock:
            runner = self._step_runner(prepared, feeds, steps, stacked)
            if each is not None:
                _check_every_step(runner.plan, each.tensors)
            host, count = multistep.host_values(runner.plan, self, feeds, steps)
            if count != steps:
                # The data ran out: run the steps it still has.
                if count == 1:
                    host = {
                        t: v[0] if t in runner.plan.feeds else v
                        for t, v in host.items()
                    }
                runner = self._step_runner(
                    prepared,
                    {t: host[t] for t in feeds},
                    count,
                    stacked if count > 1 else (),
                )
            if self._mesh is not None and count > 1:
                host = _step_mesh_feeds(self._mesh, runner, host)
            values = self._call(runner, host)
            if each is None:
                return prepared.mapper.build(values), None, count
            by_tensor = dict(zip(prepared.mapper.tensors, values))
            last = self._prepare(fetches).mapper
            per_step = self._per_step_values(runner, each, by_tensor, count)
            return last.build([by_tensor[t] for t in last.tensors]), per_step, count

    def _per_step_values(
        self,
        r: _Runner,
        each: fetches_lib.FetchMapper,
        by_tensor: dict[Tensor, Any],
        count: int,
    ) -> Any:
        """``each``'s values stacked over the ``count`` steps just run by ``r``."""
        call = r.call
        stacked: dict[Tensor, Any] = {}
        if isinstance(call, _Peeled):
            mesh = self._mesh
            try:
                for t, v in zip(call.tensors, call.stacked):
                    stacked[t] = fetches_lib.to_host(
                        t, v if mesh is None else mesh_lib.to_host(v)
                    )
            except jax.errors.JaxRuntimeError as e:
                health.raise_if_peer_lost(e)
                raise
        for t in r.plan.host_fetches:
            # The global step served from the host: its start value, plus
            # what each step adds (the step effect is a constant add).
            add = r.step_effect[1] // count if _adds(r.step_effect) else 0
            start = np.asarray(by_tensor[t]).item()
            stacked[t] = fetches_lib.to_host(t, start + add * np.arange(count))
        # One step's values, and constants, repeated on the step axis.
        return each.build(
            [
                stacked[t]
                if t in stacked
                else np.stack([np.asarray(by_tensor[t])] * count)
                for t in each.tensors
            ]
        )

    def _step_runner(
        self,
        prepared: _Prepared,
        feeds: dict[Tensor, Any],
        steps: int,
        stacked: tuple = (),
    ) -> _Runner:
        key = ("steps", steps, stacked, *[(t, np.shape(v)) for t, v in feeds.items()])
        runner = prepared.runners.get(key)
        if runner is None:
            runner = self._new_runner(prepared, feeds, key, steps, stacked)
            # ``_run_k_steps`` evaluates the host ops (a shortened run's too).
            runner.host = False
            if stacked and steps > 1:
                keys = set(stacked)
                per_step = [t for t in runner.plan.fetches if tensor_key(t) in keys]
                runner.call = _Peeled(
                    runner.call, len(runner.plan.fetches), tuple(per_step)
                )
        return runner

    # -- callables ---------------------------------------------------------------

    def make_callable(
        self,
        fetches: Any,
        feed_list: Sequence[Any] | None = None,
        accept_options: bool = False,
    ) -> Callable[..., Any]:
        """A function running ``fetches`` with positional feeds: the fast path.

        Args:
            fetches: As for ``run``.
            feed_list: Tensors (or names) that the callable's arguments feed.
            accept_options: Accept ``options``/``run_metadata`` keywords.

        Returns:
            ``fn(*feed_values)`` returning what ``run`` would.
        """
        self._check_open()
        prepared = _Prepared(self.graph, fetches)
        tensors = [fetches_lib.feed_tensor(self.graph, k) for k in feed_list or ()]
        n, lock = len(tensors), self._lock
        convert = fetches_lib.convert_feed

        if not n:

            def call(*args: Any, options: Any = None, run_metadata: Any = None) -> Any:
                if args:
                    raise TypeError(f"expected 0 feed values, got {len(args)}")
                if run_metadata is not None:
                    return self.run(fetches, None, options, run_metadata)
                if self._closed:
                    self._check_open()
                direct = prepared.direct
                with lock:
                    if direct is not None:
                        return direct(self)
                    return self._run_prepared(prepared, {}, ())

            return call

        def call(*args: Any, options: Any = None, run_metadata: Any = None) -> Any:
            if len(args) != n:
                raise TypeError(f"expected {n} feed values, got {len(args)}")
            if run_metadata is not None:
                return self.run(
                    fetches, dict(zip(tensors, args)), options, run_metadata
                )
            if self._closed:
                self._check_open()
            feeds = {t: convert(t, a) for t, a in zip(tensors, args)}
            key = tuple([v.shape for v in feeds.values()])
            with lock:
                return self._run_prepared(prepared, feeds, key, check_shapes=True)

        return call

    def partial_run_setup(self, *args: Any, **kwargs: Any) -> Any:
        """Unsupported: partial runs have no JAX equivalent."""
        raise errors.UnimplementedError(
            None, None, "partial_run is not supported by jaxsession"
        )

    def list_devices(self) -> list[Any]:
        """The JAX devices the session can use."""
        return list(jax.devices())


def _fast_step(
    r: _Runner, mapper: fetches_lib.FetchMapper | None = None
) -> Callable[[BaseSession], Any]:
    """A run of ``r`` that needs no host work: the fewest Python steps around the call.

    For runners without feeds, host values, post ops or a mesh, whose effect
    on the global step is none or a constant add, and whose reads were
    checked by a first full run. Everything that does not change from run to
    run is looked up here, once.

    Args:
        r: The runner.
        mapper: If given, the function returns the built fetch structure
            (``_Prepared.direct``); else the list of fetched values.

    Returns:
        ``fn(session)`` making one run against the session's state.
    """
    call, keys, out, random = r.call, r.rw + r.ro, r.out, r.random
    fetches, to_host = r.plan.fetches, fetches_lib.to_host
    add = r.step_effect[1] if r.step_effect is not None else None
    build = mapper.build if mapper is not None else None
    # Operations only, one of them: the result is always None.
    none = build is not None and not mapper.tensors and build([]) is None
    if (
        none
        and not fetches
        and not random
        and add is None
        and len(out) == 1
        and r.rw == out
        and not r.ro
    ):
        # One buffer in and out, nothing fetched: a training step on one pack.
        (k,) = out

        def one_buffer(sess: BaseSession) -> None:
            state = sess._state
            state[k] = call(state[k])[1][0]

        return one_buffer

    def step(sess: BaseSession) -> Any:
        state = sess._state
        if random:
            fetched, written, sess._rng = call(*map(state.__getitem__, keys), sess._rng)
        else:
            fetched, written = call(*map(state.__getitem__, keys))
        state.update(zip(out, written))
        if add is not None and sess._step_host is not None:
            sess._step_host += add
        if none:
            return None
        values = list(map(to_host, fetches, fetched)) if fetched else []
        return values if build is None else build(values)

    return step


def _wants_metadata(options: Any) -> bool:
    """Whether ``options`` asks for a trace or the partition graphs."""
    return options is not None and bool(
        getattr(options, "trace_level", 0)
        or getattr(options, "output_partition_graphs", False)
    )


def _one_step(value: Any) -> Any:
    """A one-step run's value on a step axis of one."""
    return np.expand_dims(value, 0)


def _adds(effect: Any) -> bool:
    """Whether a step effect (see ``_step_effect``) adds a constant to the step."""
    return type(effect) is tuple and effect[0] == "add"


def _finish(r: _Runner, fetched: tuple, host: dict[Tensor, Any]) -> list[Any]:
    """Fetched values when some come from the host or pass through post ops."""
    plan = r.plan
    values = {
        t: host[t] if on_host else v
        for t, v, on_host in zip(plan.fetches, fetched, r.fetch_from_host)
    }
    values.update((t, host[t]) for t in plan.constants)
    values.update((t, host[t]) for t in plan.host_fetches)
    if plan.host_post_ops:
        values = {t: fetches_lib.to_host(t, v) for t, v in values.items()}
        for t in {t for op in plan.host_post_ops for t in op.inputs}:
            if t not in values and t in host:
                values[t] = fetches_lib.to_host(t, host[t])
        run_host_post_ops(plan, values)
    return [fetches_lib.to_host(t, values[t]) for t in plan.requested]


def _step_feeds(graph: Graph, feed_dict: Any, steps: int) -> dict[Tensor, Any]:
    """The fed values of a K-step run, each checked for its leading K axis."""
    feeds: dict[Tensor, Any] = {}
    for key, value in (feed_dict or {}).items():
        nested = isinstance(key, tuple) and not isinstance(key, Tensor)
        for k, v in zip(key, value) if nested else [(key, value)]:
            tensor = fetches_lib.feed_tensor(graph, k)
            v = fetches_lib.convert_feed(tensor, v)
            multistep.check_step_feed(tensor, tuple(np.shape(v)), steps)
            feeds[tensor] = v
    return feeds


def _mesh_feed(mesh: Any, tensor: Tensor, value: Any, axis: int = 0) -> Any:
    """A device feed as a global array (engine/mesh.py), its batch on ``axis``."""
    # Values already on the mesh (prefetched batches) pass through.
    if value is None or mesh_lib.on_mesh(mesh, value):
        return value
    batch = mesh_lib.is_batch_feed(tensor)
    return mesh_lib.feed_value(mesh, value, batch, tensor.name, axis)


def _global_feeds(mesh: Any, r: _Runner, args: tuple) -> tuple:
    """A data-parallel run's device feeds as global arrays."""
    return tuple(_mesh_feed(mesh, t, v) for (t, _), v in zip(r.feeds, args))


class _Peeled:
    """A K-step call whose per-step fetches (``multistep.repeat_steps``) are set aside.

    The call returns the last step's fetches followed by the per-step ones;
    this passes on the former, as every runner's call does, and keeps the
    latter in ``stacked`` for ``_run_k_steps``, under the session's lock.
    """

    __slots__ = ("call", "n", "stacked", "tensors")

    def __init__(self, call: Callable[..., Any], n: int, tensors: tuple):
        self.call, self.n, self.tensors = call, n, tensors
        self.stacked: tuple = ()

    def __call__(self, *args: Any) -> tuple:
        fetched, *rest = self.call(*args)
        self.stacked = fetched[self.n :]
        return (fetched[: self.n], *rest)


def _check_every_step(plan: Plan, tensors: list[Tensor]) -> None:
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


def _step_mesh_feeds(mesh: Any, r: _Runner, host: dict[Tensor, Any]) -> dict:
    """A K-step run's device feeds as global arrays: batches split on dimension 1."""
    host = dict(host)
    for t, on_device in r.feeds:
        if on_device:
            host[t] = _mesh_feed(mesh, t, host[t], axis=1)
    return host


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


def _pack_key(p: int) -> int:
    """The ``_state`` key of pack ``p`` and back: negative, so never an id."""
    return -1 - p


def _as_value(var: Any, value: Any) -> Any:
    """``value`` in the variable's device dtype, kept on device if it is there."""
    dtype = var.dtype.jax_dtype
    if isinstance(value, jax.Array):
        return value if value.dtype == dtype else value.astype(dtype)
    return np.asarray(value, dtype)


def _uninitialized_error(
    missing: list[Any], plan: Any
) -> errors.FailedPreconditionError:
    names = [v.op.name for v in missing]
    readers = [op for op in plan.ops if any(v in missing for v in op.reads)]
    where = (
        f" (read by {readers[0]!r} created at {readers[0].source})" if readers else ""
    )
    return errors.FailedPreconditionError(
        None,
        readers[0] if readers else None,
        f"Attempting to use uninitialized value {errors.format_list(names)}{where}",
    )


class Session(BaseSession):
    """A TF1 session (``tf.Session``): runs a graph with its variable state.

    Args:
        target: '' for in-process; a ``host:port`` string is accepted for
            TF1 compatibility (distribution goes through ``jax.distributed``).
        graph: The graph to run (the default graph if None).
        config: A ConfigProto, mapped to JAX settings (see ``session/config.py``).
    """

    @staticmethod
    def reset(target: str, containers: Any = None, config: Any = None) -> None:
        """Accepted for TF1 compatibility; there are no server resources."""


class InteractiveSession(BaseSession):
    """A Session that installs itself as the default session on creation."""

    def __init__(
        self, target: str = "", graph: Graph | None = None, config: Any = None
    ):
        super().__init__(target, graph, config)
        self._cm = default_session(self)
        self._cm.__enter__()
        self._graph_cm = self.graph.as_default()
        self._graph_cm.__enter__()

    def close(self) -> None:
        """Closes and stops being the default session."""
        if not self._closed:
            super().close()
            with contextlib.suppress(IndexError, ValueError):
                self._graph_cm.__exit__(None, None, None)
                self._cm.__exit__(None, None, None)
