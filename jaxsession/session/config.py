"""TF1's configuration messages and how they map onto JAX settings.

``ConfigProto``, ``GPUOptions``, ``GraphOptions``, ``OptimizerOptions``,
``RunOptions`` and ``RunMetadata`` behave like the protocol buffers TF1
programs build: keyword construction, attribute assignment
(``config.gpu_options.allow_growth = True``), unknown fields rejected.

``apply_config`` runs when a Session is created with a config:

* ``gpu_options.allow_growth`` -> ``XLA_PYTHON_CLIENT_PREALLOCATE=false``
* ``gpu_options.per_process_gpu_memory_fraction`` -> ``XLA_CLIENT_MEM_FRACTION``
* ``gpu_options.visible_device_list`` -> ``jax_cuda_visible_devices``
* ``device_count={'GPU': 0}`` -> ``jax_platforms='cpu'``;
  ``device_count={'CPU': n}`` -> ``jax_num_cpu_devices=n``

These are read when JAX starts its backend, so they take effect only when the
first Session is made before any JAX computation; afterwards each logs a
warning saying so, once. Settings with no effect under XLA (thread pools,
device placement logging, graph optimizer options) log a one-time warning
naming the field. ``allow_soft_placement`` needs no warning: XLA places every
op.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import jax

from jaxsession.engine.xla_flags import backend_started
from jaxsession.library.wire import field

logger = logging.getLogger("jaxsession")

_warned: set[str] = set()
_warned_lock = threading.Lock()


def warn_once(key: str, message: str) -> None:
    """Logs ``message`` as a warning the first time ``key`` is seen in this process."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    logger.warning(message)


class _Message:
    """A small stand-in for a protocol-buffer message: named fields with defaults."""

    _FIELDS: dict[str, Callable[[], Any]] = {}
    # Per class: the defaults that are immutable values, made once, and the
    # factories of the others (a monitored run makes a RunOptions per step).
    _CONSTANT_DEFAULTS: dict[str, Any] = {}
    _FACTORIES: tuple[tuple[str, Callable[[], Any]], ...] = ()

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        constant: dict[str, Any] = {}
        factories = []
        for name, default in cls._FIELDS.items():
            value = default()
            if value is None or type(value) in (bool, int, float, str):
                constant[name] = value
            else:
                factories.append((name, default))
        cls._CONSTANT_DEFAULTS, cls._FACTORIES = constant, tuple(factories)

    def __init__(self, **kwargs: Any):
        # Straight into __dict__: a monitored run makes one or two per step.
        fields = self.__dict__
        fields.update(self._CONSTANT_DEFAULTS)
        for name, default in self._FACTORIES:
            fields[name] = default()
        if kwargs:
            for name, value in kwargs.items():
                setattr(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._FIELDS:
            raise AttributeError(
                f'Protocol message {type(self).__name__} has no "{name}" field.'
            )
        if isinstance(value, dict) and name == "device_count":
            value = dict(value)
        object.__setattr__(self, name, value)

    def _non_default(self) -> dict[str, Any]:
        return {
            n: getattr(self, n)
            for n, d in self._FIELDS.items()
            if getattr(self, n) != d()
        }

    def ListFields(self) -> list[tuple[str, Any]]:
        """The fields whose value differs from the default, as ``(name, value)``."""
        return list(self._non_default().items())

    def Clear(self) -> None:
        """Resets every field to its default."""
        for name, default in self._FIELDS.items():
            object.__setattr__(self, name, default())

    def CopyFrom(self, other: _Message) -> None:
        """Makes this message equal to ``other``."""
        for name in self._FIELDS:
            object.__setattr__(self, name, getattr(other, name))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, n) == getattr(other, n) for n in self._FIELDS
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as protobuf messages

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._non_default().items())
        return f"{type(self).__name__}({fields})"


class OptimizerOptions(_Message):
    """TF1's graph optimizer options; accepted, with no effect (XLA optimizes)."""

    L1 = 0
    L0 = -1
    DEFAULT = 0
    OFF = -1
    ON_1 = 1
    ON_2 = 2
    _FIELDS = {
        "do_common_subexpression_elimination": bool,
        "do_constant_folding": bool,
        "max_folded_constant_in_bytes": int,
        "do_function_inlining": bool,
        "opt_level": int,
        "global_jit_level": int,
        "cpu_global_jit": bool,
    }


class GraphOptions(_Message):
    """TF1's GraphOptions; accepted, with no effect (every run is XLA-compiled)."""

    _FIELDS = {
        "enable_recv_scheduling": bool,
        "optimizer_options": OptimizerOptions,
        "build_cost_model": int,
        "build_cost_model_after": int,
        "infer_shapes": bool,
        "place_pruned_graph": bool,
        "enable_bfloat16_sendrecv": bool,
        "timeline_step": int,
        "rewrite_options": lambda: None,
    }


class GPUOptions(_Message):
    """TF1's GPUOptions; see the module docstring for what maps to JAX."""

    _FIELDS = {
        "per_process_gpu_memory_fraction": float,
        "allow_growth": bool,
        "allocator_type": str,
        "deferred_deletion_bytes": int,
        "visible_device_list": str,
        "polling_active_delay_usecs": int,
        "polling_inactive_delay_msecs": int,
        "force_gpu_compatible": bool,
        "experimental": lambda: None,
    }


class ConfigProto(_Message):
    """TF1's session configuration; see the module docstring for the mapping."""

    _FIELDS = {
        "device_count": dict,
        "intra_op_parallelism_threads": int,
        "inter_op_parallelism_threads": int,
        "use_per_session_threads": bool,
        "session_inter_op_thread_pool": list,
        "placement_period": int,
        "device_filters": list,
        "gpu_options": GPUOptions,
        "allow_soft_placement": bool,
        "log_device_placement": bool,
        "graph_options": GraphOptions,
        "operation_timeout_in_ms": int,
        "rpc_options": lambda: None,
        "cluster_def": lambda: None,
        "isolate_session_state": bool,
        "share_cluster_devices_in_session": bool,
        "experimental": lambda: None,
    }


class RunOptions(_Message):
    """Options of one ``Session.run``; accepted (tracing: see ``trace_level``)."""

    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3
    _FIELDS = {
        "trace_level": int,
        "timeout_in_ms": int,
        "inter_op_thread_pool": int,
        "output_partition_graphs": bool,
        "debug_options": lambda: None,
        "report_tensor_allocations_upon_oom": bool,
        "experimental": lambda: None,
    }


class RunMetadata(_Message):
    """What a ``Session.run`` with run options fills in (see ``session/tracing.py``).

    ``step_stats`` is a StepStats proto (TF1's fields and numbers), filled
    by a run with ``RunOptions(trace_level=FULL_TRACE)`` (an empty one is
    made on first access, so that untraced runs build none); ``partition_graphs``
    gets the compiled GraphDef with ``output_partition_graphs``.
    ``cost_graph`` and ``function_graphs`` stay empty: XLA fuses ops, so
    there are no honest per-op costs, and there are no function graphs.
    """

    _FIELDS = {
        "step_stats": lambda: None,
        "cost_graph": lambda: None,
        "partition_graphs": list,
        "function_graphs": list,
    }

    def __init__(self, **kwargs: Any):
        fields = self.__dict__
        fields["_step_stats"] = fields["cost_graph"] = None
        fields["partition_graphs"], fields["function_graphs"] = [], []
        if kwargs:
            for name, value in kwargs.items():
                setattr(self, name, value)

    def Clear(self) -> None:
        """Resets every field to its default (nothing to do when all are)."""
        fields = self.__dict__
        if (
            fields["_step_stats"] is not None
            or fields["cost_graph"] is not None
            or fields["partition_graphs"]
            or fields["function_graphs"]
        ):
            self.__init__()

    @property
    def step_stats(self) -> Any:
        """The StepStats proto of the last traced run (empty if none)."""
        stats = self.__dict__["_step_stats"]
        if stats is None:
            stats = self.__dict__["_step_stats"] = _step_stats()
        return stats

    @step_stats.setter
    def step_stats(self, value: Any) -> None:
        self.__dict__["_step_stats"] = value

    def _non_default(self) -> dict[str, Any]:
        out = super()._non_default()
        stats = self.__dict__["_step_stats"]
        if stats is None or not stats.ByteSize():
            out.pop("step_stats", None)
        return out

    def SerializeToString(self) -> bytes:
        """The wire form of TF1's RunMetadata proto, from the parts that are protos.

        Fields holding protocol buffers (``step_stats`` field 1, ``cost_graph``
        field 2, ``partition_graphs`` field 3) are encoded; empty ones and
        others are skipped.
        """
        parts = [(1, self.__dict__["_step_stats"]), (2, self.cost_graph)]
        parts += [(3, g) for g in self.partition_graphs]
        out = bytearray()
        for number, message in parts:
            if message is None or not hasattr(message, "SerializeToString"):
                continue
            payload = message.SerializeToString()
            if number == 1 and not payload:
                continue
            out += field(number, payload)
        return bytes(out)


def wants_metadata(options: Any) -> bool:
    """Whether run ``options`` ask for a trace or the partition graphs."""
    return options is not None and bool(
        getattr(options, "trace_level", 0)
        or getattr(options, "output_partition_graphs", False)
    )


def clear_run_metadata(run_metadata: Any) -> None:
    """Empties ``run_metadata`` (a RunMetadata, or TF's proto) as a run overwrites it."""
    clear = getattr(run_metadata, "Clear", None)
    if clear is not None:
        clear()


def _step_stats() -> Any:
    from jaxsession.session.step_stats import StepStats

    return StepStats()


# -- mapping onto JAX ---------------------------------------------------------


def plan_settings(
    config: ConfigProto,
) -> tuple[dict[str, str], dict[str, Any], list[str]]:
    """What ``config`` asks of JAX: environment, ``jax.config`` values, no-effect fields.

    Returns:
        ``(env, jax_config, no_effect)``: environment variables and
        ``jax.config`` options to set before the backend starts, and the
        names of the fields that have no effect.
    """
    env: dict[str, str] = {}
    jax_config: dict[str, Any] = {}
    gpu = config.gpu_options
    if gpu.allow_growth:
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    if gpu.per_process_gpu_memory_fraction:
        env["XLA_CLIENT_MEM_FRACTION"] = repr(
            float(gpu.per_process_gpu_memory_fraction)
        )
    if gpu.visible_device_list:
        jax_config["jax_cuda_visible_devices"] = gpu.visible_device_list
    counts = {k.upper(): int(v) for k, v in config.device_count.items()}
    if counts.get("GPU") == 0:
        jax_config["jax_platforms"] = "cpu"
    if counts.get("CPU", 1) > 1:
        jax_config["jax_num_cpu_devices"] = counts["CPU"]
    mapped = {"device_count", "gpu_options", "allow_soft_placement"}
    no_effect = [f for f in config._non_default() if f not in mapped]
    no_effect += [
        f"gpu_options.{f}"
        for f in gpu._non_default()
        if f
        not in (
            "allow_growth",
            "per_process_gpu_memory_fraction",
            "visible_device_list",
        )
    ]
    return env, jax_config, no_effect


def apply_config(config: Any) -> None:
    """Applies what ``config`` (a ConfigProto or None) can mean for JAX.

    Raises:
        TypeError: ``config`` is not a ConfigProto.
    """
    if config is None:
        return
    if not isinstance(config, ConfigProto):
        raise TypeError(f"config must be a tf.ConfigProto, but got {type(config)}")
    env, jax_config, no_effect = plan_settings(config)
    for name in no_effect:
        warn_once(
            f"no_effect:{name}",
            f"ConfigProto.{name}={_field(config, name)!r} has no effect in jaxsession: "
            "XLA compiles and places the whole computation.",
        )
    started = backend_started()
    for name, value in env.items():
        if started:
            warn_once(
                f"late:{name}", _too_late(f"{name}={value}", "environment variable")
            )
        elif name in os.environ or (
            name == "XLA_CLIENT_MEM_FRACTION"
            and "XLA_PYTHON_CLIENT_MEM_FRACTION" in os.environ
        ):
            logger.info(
                "ConfigProto asks %s=%s; the environment already sets it.", name, value
            )
        else:
            os.environ[name] = value
    for name, value in jax_config.items():
        if started:
            if not _already(name, value):
                warn_once(
                    f"late:{name}", _too_late(f"{name}={value!r}", "jax.config option")
                )
        else:
            jax.config.update(name, value)


def _field(config: ConfigProto, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _already(name: str, value: Any) -> bool:
    if name == "jax_platforms":
        return all(d.platform == "cpu" for d in jax.devices())
    if name == "jax_num_cpu_devices":
        return len(jax.devices("cpu")) == value
    return False


def _too_late(setting: str, kind: str) -> str:
    return (
        f"ConfigProto maps to the {kind} {setting}, but the JAX backend has already "
        "started, so it has no effect; create the Session before any JAX "
        "computation, or set it before starting the program."
    )
