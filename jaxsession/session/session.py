"""Session and InteractiveSession: a thin front over the engine's run path.

A Session owns a ``VariableStore`` (``engine/state.py``): the variables'
values as ``jax.Array``s that stay on device between runs. Each distinct run
signature gets one ``Runner`` (``engine/runner.py``), planned, lowered and
compiled once; afterwards a ``run`` is one compiled call. This module maps
TF1's arguments (fetch structures, feed dicts, options) onto them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.distributed import health
from jaxsession.engine import feeds as feeds_lib, mesh as mesh_lib, oom
from jaxsession.engine.infeed import close_resources
from jaxsession.engine.multistep import StepValues as StepValues
from jaxsession.engine.runner import Runner, run_steps
from jaxsession.engine.signature import tensor_key
from jaxsession.engine.state import VariableStore
from jaxsession.graph.core import (
    Graph,
    Tensor,
    default_session,
    get_default_graph,
)
from jaxsession.graph.shapes import TensorShape
from jaxsession.session import (
    chief_sync,
    config as config_lib,
    fetches as fetches_lib,
)

_LEAF_TYPES = fetches_lib.LEAF_TYPES


class BaseSession:
    """The state and ``run`` shared by Session and InteractiveSession."""

    def __init__(
        self, target: str = "", graph: Graph | None = None, config: Any = None
    ):
        config_lib.apply_config(config)
        # Unseeded random ops of a multi-process job use the chief's seed.
        chief_sync.share_process_seed()
        self.graph = graph if graph is not None else get_default_graph()
        self.sess_str = target
        self._config = config
        # Data parallel (engine/mesh.py): all state lives on the active mesh.
        self._store = VariableStore(self.graph, mesh_lib.active_mesh())
        self._closed = False
        self._lock = threading.RLock()
        # Host ops that wait (a queue's dequeue) let go of it meanwhile.
        self._store.run_lock = self._lock
        self._prepared: dict[Any, fetches_lib.Prepared] = {}
        # feed_dict keys resolved before (feeds.resolve_known's fast path).
        self._feed_tensors: dict[Any, tuple[Tensor, TensorShape]] = {}
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

    @property
    def resources(self) -> dict[Any, Any]:
        """Host resources of the session (iterators' prefetchers), by key."""
        return self._store.resources

    def close(self) -> None:
        """Releases the variable values; later runs raise RuntimeError."""
        self._closed = True
        self._store.clear()
        close_resources(self._store.resources)

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
        return self._store.is_initialized(variable)

    def variable_values(self) -> dict[Any, jax.Array]:
        """The current device values of the initialized variables, by Variable.

        Each value is its own array (not an alias of the packed state), so it
        stays valid after later runs. One compiled call per changed pack.
        """
        with self._lock:
            return self._store.values()

    def _host_global_step(self, tensor: Any) -> int | None:
        """The global step now, when ``tensor`` reads it and the host knows it; else None.

        What a fetch of ``tensor`` would return, without a run or a device
        read: hooks check their timers with it (``basic_hooks.host_step``).
        """
        store = self._store
        step = store.step_var
        if step is None or getattr(step, "_snapshot", None) is not tensor:
            return None
        return store.step_host

    @property
    def mesh(self) -> Any:
        """The ``jax.sharding.Mesh`` the session runs on, or None (one device)."""
        return self._store.mesh

    def variable_sharding(self, variable: Any) -> Any:
        """Where ``variable``'s value lives: a ``NamedSharding``, or None without a mesh.

        Raises:
            ValueError: its ``sharding`` does not fit the session's mesh.
        """
        return self._store.sharding(variable)

    def set_variable_values(self, values: dict[Any, Any]) -> None:
        """Replaces the values of some variables (restore, broadcast).

        Raises:
            ValueError: a value's shape does not match its variable's.
        """
        with self._lock:
            self._store.set_values(values)

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
                fetched values are those of the last step (except the
                global step's read tensor, which hooks fetch: with the train
                op it is its value at the start of the run, as TF1's hooks
                expect). Near the end of the data the run is shortened to
                the elements left.
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
            return StepValues(values, jax.tree_util.tree_map(_on_step_axis, each), 1)
        if run_metadata is not None:
            if config_lib.wants_metadata(options):
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
        if not feed_dict:
            direct = prepared.direct
            if direct is not None:
                return direct(self._store)  # takes the lock itself
        feeds, key, check = self._resolve(feed_dict)
        with self._lock:
            return self._run_prepared(prepared, feeds, key, check)

    def _resolve(self, feed_dict: Any) -> tuple[dict[Tensor, Any], tuple, bool]:
        """``(feeds, key, check)``: checked values, the run key, whether to check shapes.

        Shapes are left to check (``check``) when the keys were resolved before:
        ``_run_prepared`` checks them for a new signature only.
        """
        if not feed_dict:
            return {}, (), False
        feeds = feeds_lib.resolve_known(self._feed_tensors, feed_dict)
        check = feeds is not None
        if feeds is None:
            feeds = feeds_lib.resolve_feeds(
                self.graph, feed_dict, record=self._feed_tensors
            )
        return feeds, feeds_lib.run_key(feeds), check

    def run_deferring(
        self, fetches: Any, feed_dict: Any, deferred: Any, shared: Any = ()
    ) -> Any:
        """``run``, returning the fetched summaries of ``deferred`` unfinished.

        Not in TF1: how the SummarySaverHook keeps a step from waiting for its
        summaries. When every host post op of the run (summaries) is there
        only for ``deferred``'s tensors, their values are
        ``engine.deferred.DeferredValue``s finished later (when asked for, or
        by ``engine.deferred.finish_ready``);
        otherwise this is ``run``.

        Args:
            fetches: As for ``run``; they include ``deferred``.
            feed_dict: As for ``run``.
            deferred: A fetch structure (summaries) that may be deferred.
            shared: Fetches that must be finished: a tensor of ``deferred``
                among them is not deferred (nor, then, the rest).

        Returns:
            As ``run``.
        """
        if self._closed:
            self._check_open()
        prepared = self._prepare(fetches)
        keep = set(self._prepare(shared).mapper.tensors)
        tensors = tuple(
            t for t in self._prepare(deferred).mapper.tensors if t not in keep
        )
        feeds, key, check = self._resolve(feed_dict)
        with self._lock:
            return self._run_prepared(
                prepared, feeds, (("deferred", tensors), *key), check, tensors
            )

    def _run_prepared(
        self,
        prepared: fetches_lib.Prepared,
        feeds: dict[Tensor, Any],
        key: tuple,
        check_shapes: bool = False,
        deferred: tuple = (),
    ) -> Any:
        """One run of ``prepared`` with ``feeds`` (keyed ``key``); under the lock."""
        runner = prepared.runners.get(key)
        if runner is None:
            if check_shapes:
                # A shape that fitted once always fits: check new ones only.
                feeds_lib.check_shapes(feeds)
            runner = prepared.runner(self._store, feeds, key, deferred=deferred)
        values = self._guarded(runner.run, self._store, feeds)
        if not key and runner.fast is not None:
            prepared.direct = runner.fast_with(prepared.mapper.build, self._lock)
        return prepared.mapper.build(values)

    def run_observed(
        self, fetches: Any, feed_dict: Any, observer: Any
    ) -> tuple[Any, Any]:
        """One ``run`` of one step whose phases ``observer`` sees (traced runs).

        Not in TF1; ``session/tracing.py`` times runs through it.

        Args:
            fetches: As for ``run``.
            feed_dict: As for ``run``.
            observer: Times the phases: ``phase(name)`` around
                ``_feed_conversion`` here, and what ``Runner.run`` uses.

        Returns:
            ``(values, plan)``: what ``run`` returns, and the run's plan.
        """
        self._check_open()
        with observer.phase("_feed_conversion"):
            prepared = self._prepare(fetches)
            feeds = feeds_lib.resolve_feeds(self.graph, feed_dict)
        key = feeds_lib.run_key(feeds)
        with self._lock:
            runner = prepared.runner(self._store, feeds, key)
            values = self._guarded(runner.run, self._store, feeds, observer)
        return prepared.mapper.build(values), runner.plan

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")

    def _prepare(self, fetches: Any) -> fetches_lib.Prepared:
        return fetches_lib.prepare(self._prepared, self.graph, fetches)

    def _guarded(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, a run: a collective failed by a dead peer says so."""
        if self._store.mesh is not None:
            health.raise_if_job_broken()
        try:
            return fn(*args)
        except jax.errors.JaxRuntimeError as e:
            health.raise_if_peer_lost(e)
            if oom.is_out_of_memory(e):
                # fn is a Runner's method, called with (store, feeds, ...).
                plan = getattr(getattr(fn, "__self__", None), "plan", None)
                feeds = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
                raise oom.out_of_memory_error(e, plan, feeds) from e
            raise

    # -- multi-step runs (engine/multistep.py) -------------------------------------

    def _run_k_steps(
        self, fetches: Any, feed_dict: Any, steps: int, every_step: Any = None
    ) -> tuple[Any, Any, int]:
        """``run`` with ``steps_per_run`` (``engine.runner.run_steps``).

        Returns:
            ``fetches``' values at the last step, ``every_step``'s at every
            step (None without ``every_step``) and the steps made.
        """
        if steps < 1:
            raise ValueError(f"steps_per_run must be >= 1, got {steps}")
        each = None if every_step is None else self._prepare(every_step).mapper
        stacked = () if each is None else tuple(map(tensor_key, each.tensors))
        prepared = self._prepare(fetches if each is None else (fetches, every_step))
        feeds = feeds_lib.resolve_feeds(self.graph, feed_dict, steps)

        def runner_for(fed: dict[Tensor, Any], k: int) -> Runner:
            per_step = stacked if k > 1 else ()
            key = ("steps", k, per_step, *feeds_lib.run_key(fed))
            return prepared.runner(self._store, fed, key, k, per_step, host_ops=False)

        each_tensors = None if each is None else each.tensors
        with self._lock:
            values, per_step, made = self._guarded(
                run_steps, self._store, runner_for, feeds, steps, each_tensors
            )
        if each is None:
            return prepared.mapper.build(values), None, made
        by_tensor = dict(zip(prepared.mapper.tensors, values))
        last = self._prepare(fetches).mapper
        values = last.build([by_tensor[t] for t in last.tensors])
        return values, each.build(per_step), made

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
            feed_list: Tensors (or names, or nested tuples of them) that the
                callable's arguments feed; a nested entry takes a value of
                its structure.
            accept_options: Accept ``options``/``run_metadata`` keywords.

        Returns:
            ``fn(*feed_values)`` returning what ``run`` would.
        """
        self._check_open()
        prepared = fetches_lib.Prepared(self.graph, fetches)
        tensors, flatten = feeds_lib.callable_feeds(self.graph, feed_list or ())
        n, lock, store = len(feed_list or ()), self._lock, self._store
        convert = feeds_lib.convert_feeds

        if not n:

            def call(*args: Any, options: Any = None, run_metadata: Any = None) -> Any:
                if args:
                    raise TypeError(f"expected 0 feed values, got {len(args)}")
                if run_metadata is not None:
                    return self.run(fetches, None, options, run_metadata)
                if self._closed:
                    self._check_open()
                direct = prepared.direct
                if direct is not None:
                    return direct(store)  # takes the lock itself
                with lock:
                    return self._run_prepared(prepared, {}, ())

            return call

        def call(*args: Any, options: Any = None, run_metadata: Any = None) -> Any:
            if len(args) != n:
                raise TypeError(f"expected {n} feed values, got {len(args)}")
            if flatten is not None:
                args = flatten(args)
            if run_metadata is not None:
                return self.run(
                    fetches, dict(zip(tensors, args)), options, run_metadata
                )
            if self._closed:
                self._check_open()
            feeds = convert(tensors, args)
            key = feeds_lib.run_key(feeds, shapes_only=True)
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


def _on_step_axis(value: Any) -> Any:
    """A one-step run's value on a step axis of one."""
    return np.expand_dims(value, 0)
