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
from jaxsession.engine.plan import make_plan
from jaxsession.engine.signature import FeedSpec, RunSignature, tensor_key
from jaxsession.graph.core import Graph, Tensor, default_session, get_default_graph
from jaxsession.graph.ops import HOST_OPS
from jaxsession.session import fetches as fetches_lib


class _Prepared:
    """A fetch structure resolved once: the mapper and its signature parts."""

    __slots__ = ("fetch_keys", "mapper", "target_keys")

    def __init__(self, graph: Graph, fetches: Any):
        self.mapper = fetches_lib.FetchMapper(graph, fetches)
        self.fetch_keys = tuple(tensor_key(t) for t in self.mapper.tensors)
        self.target_keys = tuple(op.id for op in self.mapper.targets)


class BaseSession:
    """The state and ``run`` shared by Session and InteractiveSession."""

    def __init__(
        self, target: str = "", graph: Graph | None = None, config: Any = None
    ):
        self.graph = graph if graph is not None else get_default_graph()
        self.sess_str = target
        self._config = config
        self._values: dict[Any, jax.Array] = {}
        self._rng = jax.random.PRNGKey(0)
        self._closed = False
        self._lock = threading.RLock()
        self._prepared: dict[Any, _Prepared] = {}
        self._default_stack: list[Any] = []

    # -- context and lifecycle -------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def close(self) -> None:
        """Releases the variable values; later runs raise RuntimeError."""
        self._closed = True
        self._values = {}

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
        return variable in self._values

    def variable_values(self) -> dict[Any, jax.Array]:
        """The current device values, keyed by Variable (a shallow copy)."""
        return dict(self._values)

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
        for var, value in values.items():
            self._values[var] = jax.numpy.asarray(value, var.dtype.jax_dtype)

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
        self._check_open()
        prepared = self._prepare(fetches)
        feeds = fetches_lib.resolve_feeds(self.graph, feed_dict)
        return prepared.mapper.build(self._run(prepared, feeds))

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")

    def _prepare(self, fetches: Any) -> _Prepared:
        try:
            key = (
                (type(fetches), fetches)
                if not isinstance(fetches, list | dict)
                else None
            )
            hash(key)
        except TypeError:
            key = None
        prepared = self._prepared.get(key) if key is not None else None
        if prepared is None:
            prepared = _Prepared(self.graph, fetches)
            if key is not None:
                self._prepared[key] = prepared
        return prepared

    def _signature(self, prepared: _Prepared, feeds: dict[Tensor, Any]) -> RunSignature:
        specs = tuple(
            FeedSpec(
                tensor_key(t), tuple(np.shape(v)), str(getattr(v, "dtype", "object"))
            )
            for t, v in feeds.items()
        )
        return RunSignature(prepared.fetch_keys, prepared.target_keys, specs)

    def _executable(self, prepared: _Prepared, feeds: dict[Tensor, Any]) -> Executable:
        signature = self._signature(prepared, feeds)
        return get_executable(
            self.graph, signature,
            lambda: make_plan(prepared.mapper.tensors, prepared.mapper.targets, list(feeds)),
        )  # fmt: skip

    def _run(self, prepared: _Prepared, feeds: dict[Tensor, Any]) -> list[Any]:
        with self._lock:
            exe = self._executable(prepared, feeds)
            return self._call(exe, feeds)

    def _call(self, exe: Executable, feeds: dict[Tensor, Any]) -> list[Any]:
        plan = exe.plan
        host_values = dict(feeds)
        for op in plan.host_ops:
            host_values[op.outputs[0]] = HOST_OPS[op.type](op, self.is_initialized)
        values = self._values
        missing = [v for v in plan.rw_vars + plan.ro_vars if v not in values]
        if missing:
            raise _uninitialized_error(missing, plan)
        device_feeds = tuple(host_values[t] for t in plan.feeds)
        host_fetch = [t in host_values for t in plan.fetches]
        fetched, written, rng = exe(
            tuple(values[v] for v in plan.rw_vars),
            tuple(values[v] for v in plan.ro_vars),
            _device_only(plan, device_feeds),
            self._rng,
        )
        self._rng = rng
        for var, value in zip(plan.written_vars, written):
            values[var] = value
        return [
            fetches_lib.to_host(t, host_values[t] if on_host else v)
            for t, v, on_host in zip(plan.fetches, fetched, host_fetch)
        ]

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
        by_shapes: dict[tuple, Executable] = {}

        def call(*args: Any, options: Any = None, run_metadata: Any = None) -> Any:
            if len(args) != len(tensors):
                raise TypeError(f"expected {len(tensors)} feed values, got {len(args)}")
            self._check_open()
            feeds = {t: fetches_lib.check_feed(t, a) for t, a in zip(tensors, args)}
            key = tuple(np.shape(v) for v in feeds.values())
            with self._lock:
                exe = by_shapes.get(key)
                if exe is None:
                    exe = by_shapes[key] = self._executable(prepared, feeds)
                return prepared.mapper.build(self._call(exe, feeds))

        return call

    def partial_run_setup(self, *args: Any, **kwargs: Any) -> Any:
        """Unsupported: partial runs have no JAX equivalent."""
        raise errors.UnimplementedError(
            None, None, "partial_run is not supported by jaxsession"
        )

    def list_devices(self) -> list[Any]:
        """The JAX devices the session can use."""
        return list(jax.devices())


def _device_only(plan: Any, values: tuple) -> tuple:
    from jaxsession.graph import dtypes as dtypes_lib

    return tuple(
        None if t.dtype is dtypes_lib.string else v for t, v in zip(plan.feeds, values)
    )


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
