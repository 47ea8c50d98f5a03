"""Session and InteractiveSession: variable state and ``run``.

A Session owns the variables' values as ``jax.Array``s that stay on device
between runs. Each distinct run signature is planned, lowered and compiled
once; afterwards a ``run`` is one compiled call.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.engine.executable import Executable, get_executable
from jaxsession.engine.host import run_host_ops, run_host_post_ops
from jaxsession.engine.infeed import close_resources
from jaxsession.engine.plan import make_plan
from jaxsession.engine.signature import FeedSpec, RunSignature, tensor_key
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import (
    Graph,
    Operation,
    Tensor,
    default_session,
    get_default_graph,
)
from jaxsession.session import fetches as fetches_lib

# Fetches of these types are their own cache key (no structure to walk).
_LEAF_TYPES = frozenset({Operation, Tensor, str})


class _Runner:
    """An executable with everything a repeated run needs worked out once.

    A run through a runner looks up the state, makes one compiled call,
    stores the written state and converts the fetched values; nothing in it
    depends on the graph walk or the fetch structure.
    """

    __slots__ = (
        "call", "feeds", "fetch_from_host", "host_ops", "plan", "random", "ro", "rw",
        "rw_is_written", "simple", "written",
    )  # fmt: skip

    def __init__(self, exe: Executable):
        plan = exe.plan
        self.plan = plan
        self.call = exe.call
        self.random = plan.random
        self.rw = tuple(id(v) for v in plan.rw_vars)
        self.ro = tuple(id(v) for v in plan.ro_vars)
        self.written = tuple(id(v) for v in plan.written_vars)
        self.rw_is_written = self.rw == self.written
        self.host_ops = bool(plan.host_ops)
        # String feeds stay on the host: the device call gets None for them.
        self.feeds = tuple((t, t.dtype is not dtypes_lib.string) for t in plan.feeds)
        fed = set(plan.feeds)
        self.fetch_from_host = tuple(t in fed for t in plan.fetches)
        self.simple = (
            not plan.host_post_ops
            and plan.fetches == plan.requested
            and not any(self.fetch_from_host)
        )


class _Prepared:
    """A fetch structure resolved once: the mapper, its signature parts, runners.

    ``runners`` maps the feeds' key (see ``BaseSession.run`` and
    ``make_callable``) to the runner of that signature.
    """

    __slots__ = ("fetch_keys", "mapper", "runners", "target_keys")

    def __init__(self, graph: Graph, fetches: Any):
        self.mapper = fetches_lib.FetchMapper(graph, fetches)
        self.fetch_keys = tuple(tensor_key(t) for t in self.mapper.tensors)
        self.target_keys = tuple(op.id for op in self.mapper.targets)
        self.runners: dict[tuple, _Runner] = {}


class BaseSession:
    """The state and ``run`` shared by Session and InteractiveSession."""

    def __init__(
        self, target: str = "", graph: Graph | None = None, config: Any = None
    ):
        self.graph = graph if graph is not None else get_default_graph()
        self.sess_str = target
        self._config = config
        # Values keyed by id(variable): an int hashes in C, a Variable's
        # __hash__ runs Python, twice per variable per run. ``_vars`` maps the
        # ids back and keeps those variables alive, so an id is never reused.
        self._values: dict[int, jax.Array] = {}
        self._vars: dict[int, Any] = {}
        # A training loop runs one runner again and again: the arrays it wrote
        # last are then exactly the ones it reads next, so they are kept here
        # and only stored into ``_values`` when something else looks (flush).
        self._last: _Runner | None = None
        self._last_rw: tuple = ()
        self._last_ro: tuple = ()
        self._pending: tuple | None = None  # written by ``_last``, not yet stored
        self._rng = jax.random.PRNGKey(0)
        self._closed = False
        self._lock = threading.RLock()
        self._prepared: dict[Any, _Prepared] = {}
        self.resources: dict[Any, Any] = {}
        self._default_stack: list[Any] = []

    # -- context and lifecycle -------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def close(self) -> None:
        """Releases the variable values; later runs raise RuntimeError."""
        self._closed = True
        self._last, self._pending = None, None
        self._values = {}
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
        self._flush()
        return id(variable) in self._values

    def variable_values(self) -> dict[Any, jax.Array]:
        """The current device values, keyed by Variable (a shallow copy)."""
        self._flush()
        return {self._vars[i]: value for i, value in self._values.items()}

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
        with self._lock:
            self._flush()
            self._last = None
            for var, value in values.items():
                self._vars[id(var)] = var
                self._values[id(var)] = jax.numpy.asarray(value, var.dtype.jax_dtype)

    def _flush(self) -> None:
        """Stores the last run's written arrays into ``_values``."""
        with self._lock:
            if self._pending is not None:
                self._values.update(zip(self._last.written, self._pending))
                self._pending = None

    # -- run -------------------------------------------------------------------

    def run(self, fetches: Any, feed_dict: Any = None, options: Any = None,
            run_metadata: Any = None) -> Any:  # fmt: skip
        """Runs the ops needed for ``fetches`` and returns their values.

        Args:
            fetches: A graph element, its name, or a nested list/tuple/dict/
                namedtuple of them.
            feed_dict: Maps tensors (or names) to values that replace them.
            options: Accepted for TF1 compatibility.
            run_metadata: Accepted for TF1 compatibility.

        Returns:
            The fetch structure with NumPy values (None for operations).

        Raises:
            RuntimeError: the session is closed.
            TypeError/ValueError: a bad fetch or feed, naming it.
            errors.InvalidArgumentError: a needed placeholder is not fed.
            errors.FailedPreconditionError: an uninitialized variable is read.
        """
        if self._closed:
            self._check_open()
        prepared = self._prepare(fetches)
        if feed_dict:
            feeds = fetches_lib.resolve_feeds(self.graph, feed_dict)
            key = tuple([(t, v.shape) for t, v in feeds.items()])
        else:
            feeds, key = {}, ()
        with self._lock:
            runner = prepared.runners.get(key)
            if runner is None:
                runner = self._new_runner(prepared, feeds, key)
            return prepared.mapper.build(self._call(runner, feeds))

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
        self, prepared: _Prepared, feeds: dict[Tensor, Any], key: tuple
    ) -> _Runner:
        specs = tuple(
            FeedSpec(tensor_key(t), tuple(v.shape), str(getattr(v, "dtype", "object")))
            for t, v in feeds.items()
        )
        signature = RunSignature(prepared.fetch_keys, prepared.target_keys, specs)
        exe = get_executable(
            self.graph, signature,
            lambda: make_plan(prepared.mapper.tensors, prepared.mapper.targets, list(feeds)),
        )  # fmt: skip
        self._vars.update((id(v), v) for v in exe.plan.written_vars)
        runner = prepared.runners[key] = _Runner(exe)
        return runner

    def _call(self, r: _Runner, feeds: dict[Tensor, Any]) -> list[Any]:
        if self._last is r:
            rw, ro = self._last_rw, self._last_ro
        else:
            rw, ro = self._read_state(r)
        host = run_host_ops(r.plan, self, feeds) if r.host_ops else feeds
        args = (
            tuple([host[t] if dev else None for t, dev in r.feeds]) if r.feeds else ()
        )
        if r.random:
            fetched, written, self._rng = r.call(rw, ro, args, self._rng)
        else:
            fetched, written = r.call(rw, ro, args)
        # written_vars = rw_vars + wo_vars: the next run's rw is a prefix.
        self._last_rw = written if r.rw_is_written else written[: len(rw)]
        self._last, self._last_ro, self._pending = r, ro, written
        if r.simple:
            return (
                list(map(fetches_lib.to_host, r.plan.fetches, fetched))
                if fetched
                else []
            )
        return _finish(r, fetched, host)

    def _read_state(self, r: _Runner) -> tuple[tuple, tuple]:
        """The start values of the runner's variables, from ``_values``.

        Raises:
            errors.FailedPreconditionError: some are not initialized.
        """
        self._flush()
        values = self._values
        try:
            return tuple(map(values.__getitem__, r.rw)), tuple(
                map(values.__getitem__, r.ro)
            )
        except KeyError:
            plan = r.plan
            missing = [v for v in plan.rw_vars + plan.ro_vars if id(v) not in values]
            raise _uninitialized_error(missing, plan) from None

    # -- callables ---------------------------------------------------------------

    def make_callable(self, fetches: Any, feed_list: Sequence[Any] | None = None,
                      accept_options: bool = False) -> Callable[..., Any]:  # fmt: skip
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
        n, runners, build = len(tensors), prepared.runners, prepared.mapper.build
        convert = fetches_lib.convert_feed

        def call(*args: Any, options: Any = None, run_metadata: Any = None) -> Any:
            if len(args) != n:
                raise TypeError(f"expected {n} feed values, got {len(args)}")
            if self._closed:
                self._check_open()
            if n:
                feeds = {t: convert(t, a) for t, a in zip(tensors, args)}
                key = tuple([v.shape for v in feeds.values()])
            else:
                feeds, key = {}, ()
            with self._lock:
                runner = runners.get(key)
                if runner is None:
                    # A shape that fitted once always fits: check new ones only.
                    for t, v in feeds.items():
                        fetches_lib.check_feed_shape(t, v.shape)
                    runner = self._new_runner(prepared, feeds, key)
                return build(self._call(runner, feeds))

        return call

    def partial_run_setup(self, *args: Any, **kwargs: Any) -> Any:
        """Unsupported: partial runs have no JAX equivalent."""
        raise errors.UnimplementedError(
            None, None, "partial_run is not supported by jaxsession"
        )

    def list_devices(self) -> list[Any]:
        """The JAX devices the session can use."""
        return list(jax.devices())


def _finish(r: _Runner, fetched: tuple, host: dict[Tensor, Any]) -> list[Any]:
    """Fetched values when some come from the host or pass through post ops."""
    plan = r.plan
    values = {
        t: host[t] if on_host else v
        for t, v, on_host in zip(plan.fetches, fetched, r.fetch_from_host)
    }
    if plan.host_post_ops:
        values = {t: fetches_lib.to_host(t, v) for t, v in values.items()}
        for t in {t for op in plan.host_post_ops for t in op.inputs}:
            if t not in values and t in host:
                values[t] = fetches_lib.to_host(t, host[t])
        run_host_post_ops(plan, values)
    return [fetches_lib.to_host(t, values[t]) for t in plan.requested]


def _uninitialized_error(
    missing: list[Any], plan: Any
) -> errors.FailedPreconditionError:
    names = [v.op.name for v in missing]
    readers = [op for op in plan.ops if any(v in missing for v in op.reads)]
    where = (
        f" (read by {readers[0]!r} created at {readers[0].source})" if readers else ""
    )
    return errors.FailedPreconditionError(
        None, readers[0] if readers else None,
        f"Attempting to use uninitialized value {errors.format_list(names)}{where}",
    )  # fmt: skip


class Session(BaseSession):
    """A TF1 session (``tf.Session``): runs a graph with its variable state.

    Args:
        target: '' for in-process; a ``host:port`` string is accepted for
            TF1 compatibility (distribution goes through ``jax.distributed``).
        graph: The graph to run (the default graph if None).
        config: A ConfigProto; accepted for TF1 compatibility.
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
