"""Traced runs: ``RunOptions(trace_level=FULL_TRACE)`` fills ``RunMetadata``.

A traced ``Session.run`` is timed phase by phase and each phase becomes a
``NodeExecStats`` of TF1's ``StepStats``:

* ``_feed_conversion``: checking and converting the ``feed_dict`` on the host;
* one node per host op run before the device (iterator ``get_next``, variable
  status), named after the op, so TensorBoard finds it in the graph;
* ``_xla_compile``: lowering and compiling the run (a cache hit after the
  first traced run of a signature);
* ``_host_to_device``: moving the fed values to the device;
* the compiled computation, named after its XLA module, timed until its
  outputs are ready (``block_until_ready``); its ``memory`` and
  ``memory_stats`` are XLA's static memory analysis and its
  ``timeline_label`` carries XLA's cost analysis (flops, bytes accessed);
* ``_device_to_host``: copying the fetched values back;
* ``_fetch_and_post_ops``: the fetch structure and host post ops (summaries).

When ``jax.profiler`` can capture a trace (no other trace is running), the
computation is also profiled and each XLA operation it ran becomes a node of
``<device>/stream:all``, as TF1 lists GPU kernels.

``partition_graphs`` holds, when ``output_partition_graphs`` is set, one
GraphDef: the pruned ops the run compiled (XLA places them all together);
fed tensors and constants the host supplies appear only as their inputs.
``cost_graph`` stays empty: XLA fuses ops, so there is no honest per-op cost.

Differs from TF1: phases, not TF ops, are timed; a run of K > 1 steps in one
call is one node for the whole call.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxsession.engine.host import run_host_ops
from jaxsession.session import config as config_lib
from jaxsession.session.step_stats import NodeExecStats as NodeExecStats, StepStats

NO_TRACE = 0

# -- recording --------------------------------------------------------------------


def device_name(device: Any) -> str:
    """TF1's full name of a JAX device: ``/job:localhost/replica:0/task:P/device:T:I``."""
    return (
        f"/job:localhost/replica:0/task:{device.process_index}"
        f"/device:{device.platform.upper()}:{device.id}"
    )


class _Recorder:
    """Nodes of one traced run, per device, timed on one monotonic clock."""

    def __init__(self):
        # Wall-clock time of the monotonic clock's zero, for absolute micros.
        self._epoch = time.time_ns() - time.perf_counter_ns()
        self.stats = StepStats()
        self._devices: dict[str, Any] = {}

    def add(
        self, device: str, name: str, start_ns: int, end_ns: int, label: str = ""
    ) -> Any:
        """Adds a node that ran from ``start_ns`` to ``end_ns`` (absolute ns).

        Micros are rounded up, so that a phase that ran shows at least 1 µs.
        """
        dev = self._devices.get(device)
        if dev is None:
            dev = self._devices[device] = self.stats.dev_stats.add(device=device)
        node = dev.node_stats.add(node_name=name, timeline_label=label or name)
        duration = max(end_ns - start_ns, 0)
        micros = math.ceil(duration / 1000)
        node.all_start_micros = start_ns // 1000
        node.all_start_nanos = start_ns
        node.op_end_rel_micros = node.all_end_rel_micros = micros
        node.op_end_rel_nanos = node.all_end_rel_nanos = duration
        node.scheduled_micros, node.scheduled_nanos = start_ns // 1000, start_ns
        return node

    @contextmanager
    def phase(self, device: str, name: str, label: str = "") -> Iterator[list]:
        """Times the block as one node; the yielded list receives the node."""
        out: list[Any] = []
        start = time.perf_counter_ns()
        try:
            yield out
        finally:
            end = time.perf_counter_ns()
            out.append(
                self.add(device, name, self._epoch + start, self._epoch + end, label)
            )


# -- the traced run -----------------------------------------------------------------


def is_traced(options: Any) -> bool:
    """Whether ``options`` asks for a trace (``trace_level`` above NO_TRACE)."""
    return bool(getattr(options, "trace_level", NO_TRACE))


def run_with_metadata(
    sess: Any,
    fetches: Any,
    feed_dict: Any,
    options: Any,
    run_metadata: Any,
    steps: int,
    every_step: Any = None,
) -> Any:
    """``sess.run`` that fills ``run_metadata`` as TF1 does.

    The metadata is cleared first, as TF1 overwrites it; an untraced run
    leaves it empty unless ``options.output_partition_graphs`` asks for the
    compiled graph.

    Args:
        sess: The session (a ``BaseSession``).
        fetches: As for ``Session.run``.
        feed_dict: As for ``Session.run``.
        options: The ``RunOptions``: ``trace_level`` and
            ``output_partition_graphs`` say what to record.
        run_metadata: The ``RunMetadata`` (or TF's proto) to fill.
        steps: ``steps_per_run``; a run of K > 1 steps is one node.
        every_step: As for ``Session.run``, with K > 1 steps only.

    Returns:
        What ``sess.run`` returns for the same arguments.
    """
    config_lib.clear_run_metadata(run_metadata)
    partitions = bool(getattr(options, "output_partition_graphs", False))
    extra = {} if every_step is None else {"every_step": every_step}
    if not is_traced(options) and not partitions:
        return sess.run(fetches, feed_dict, steps_per_run=steps, **extra)
    recorder = _Recorder() if is_traced(options) else None
    if steps != 1:
        result = _run_steps_traced(sess, fetches, feed_dict, steps, recorder, extra)
        plan = None
    else:
        result, plan = _run_traced(sess, fetches, feed_dict, recorder)
    if recorder is not None:
        _assign(run_metadata, "step_stats", recorder.stats)
    if partitions and plan is not None:
        run_metadata.partition_graphs.append(_partition_graph(plan))
    return result


def _run_steps_traced(
    sess: Any,
    fetches: Any,
    feed_dict: Any,
    steps: int,
    recorder: _Recorder | None,
    extra: dict,
) -> Any:
    if recorder is None:
        return sess.run(fetches, feed_dict, steps_per_run=steps, **extra)
    host = device_name(jax.devices("cpu")[0])
    with recorder.phase(host, f"_run_{steps}_steps", f"{steps} steps in one call"):
        return sess.run(fetches, feed_dict, steps_per_run=steps, **extra)


def _run_traced(
    sess: Any, fetches: Any, feed_dict: Any, recorder: _Recorder | None
) -> tuple[Any, Any]:
    """One run through the session's own runner, its phases timed."""
    observer = _Observer(sess, recorder)
    result, plan = sess.run_observed(fetches, feed_dict, observer)
    if recorder is not None:
        # The node ran from the call's end to its own: its start moves there.
        _start_after(observer.nodes["_fetch_and_post_ops"], observer.end_ns)
    return result, plan


class _Observer:
    """An ``engine.runner.RunObserver`` timing a run's phases (untimed without a recorder).

    ``BaseSession.run_observed`` passes it to the run's Runner.

    ``nodes`` maps each timed phase to its node; ``end_ns`` is when the
    compiled call returned.
    """

    def __init__(self, sess: Any, recorder: _Recorder | None):
        self.sess, self.rec = sess, recorder
        self.host = device_name(jax.devices("cpu")[0])
        self.nodes: dict[str, Any] = {}
        self.timed: _TimedCall | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Times the block as the node ``name``."""
        if self.rec is None:
            yield
            return
        with self.rec.phase(self.host, name) as node:
            yield
        self.nodes[name] = node[0]

    def host_ops(self, plan: Any, values: dict) -> dict:
        """The plan's constants and host ops, each host op its own node."""
        if self.rec is None:
            return run_host_ops(plan, self.sess, values)
        return _timed_host_ops(self.sess, plan, values, self.rec, self.host)

    def wrap(self, call: Callable[..., Any]) -> Callable[..., Any]:
        """The compiled call, split into timed transfer, compute and copy-back."""
        if self.rec is None:
            return call
        self.timed = _TimedCall(call, self.rec, self.host, self.sess.mesh is None)
        return self.timed

    @property
    def end_ns(self) -> int | None:
        return None if self.timed is None else self.timed.end_ns


def _timed_host_ops(
    sess: Any, plan: Any, values: dict, rec: _Recorder, device: str
) -> dict:
    """The plan's constants and host ops evaluated as the session would, timed."""
    values = run_host_ops(
        dataclasses.replace(plan, host_ops=()), sess, values
    )  # constants only
    for op in plan.host_ops:
        one = dataclasses.replace(plan, constants=(), host_ops=(op,))
        with rec.phase(device, op.name, f"{op.name} = {op.type}() on the host"):
            values = run_host_ops(one, sess, values)
    return values


def _start_after(node: Any, start: int | None) -> None:
    """Moves ``node``'s start to ``start`` (absolute ns), keeping its end."""
    if start is None or start <= node.all_start_nanos:
        return
    end = node.all_start_nanos + node.all_end_rel_nanos
    duration = max(end - start, 0)
    node.all_start_nanos = node.scheduled_nanos = start
    node.all_start_micros = node.scheduled_micros = start // 1000
    node.op_end_rel_nanos = node.all_end_rel_nanos = duration
    node.op_end_rel_micros = node.all_end_rel_micros = math.ceil(duration / 1000)


class _TimedCall:
    """The runner's compiled call, split into transfer, compute and copy-back.

    ``end_ns`` is when the last call returned (absolute ns), or None.
    """

    def __init__(
        self, call: Callable[..., Any], rec: _Recorder, host: str, to_numpy: bool
    ):
        self.call, self.rec, self.host, self.to_numpy = call, rec, host, to_numpy
        self.end_ns: int | None = None

    def __call__(self, *args: Any) -> tuple:
        rec, host = self.rec, self.host
        with rec.phase(host, "_host_to_device") as node:
            moved = tuple(_to_device(a) for a in args)
            jax.block_until_ready(moved)
        node[0].timeline_label = f"_host_to_device: {_nbytes(args, np.ndarray)} bytes"
        compiled = None
        lower = getattr(self.call, "lower", None)
        if lower is not None:
            with rec.phase(host, "_xla_compile", "lower and compile (cached)"):
                compiled = lower(*moved).compile()
        device = _device_of(moved)
        name = _module_name(compiled) if compiled is not None else "_compiled_call"
        with _DeviceTrace(rec) as trace, rec.phase(device, name) as node:
            out = (compiled or self.call)(*moved)
            jax.block_until_ready(out)
        _describe_computation(node[0], compiled, device)
        if trace.stop_ns is not None:
            rec.add(host, "_device_trace_capture", *trace.stop_ns, "jax.profiler")
        _add_hlo_nodes(rec, device, name, trace)
        fetched, *rest = out
        if self.to_numpy and fetched:
            with rec.phase(host, "_device_to_host") as node:
                fetched = [
                    np.asarray(v) if isinstance(v, jax.Array) else v for v in fetched
                ]
            node[0].timeline_label = f"_device_to_host: {_nbytes(fetched)} bytes"
        self.end_ns = rec._epoch + time.perf_counter_ns()
        return (fetched, *rest)


def _to_device(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic) and value.dtype != object:
        return jax.device_put(value)
    return value


def _nbytes(values: Any, kind: type = object) -> int:
    return sum(
        int(v.nbytes)
        for v in values
        if isinstance(v, kind) and hasattr(v, "nbytes") and v is not None
    )


def _device_of(args: tuple) -> str:
    for a in args:
        if isinstance(a, jax.Array):
            devices = list(a.devices())
            if devices:
                return device_name(min(devices, key=lambda d: d.id))
    return device_name(jax.devices()[0])


def _module_name(compiled: Any) -> str:
    try:
        return compiled.runtime_executable().hlo_modules()[0].name
    except Exception:  # an internal API: the name is only a label
        return "_compiled_call"


def _describe_computation(node: Any, compiled: Any, device: str) -> None:
    """XLA's memory and cost analysis of ``compiled`` on the computation's node."""
    if compiled is None:
        return
    parts = []
    try:
        mem = compiled.memory_analysis()
    except Exception:  # not every backend analyses memory
        mem = None
    if mem is not None:
        args = int(mem.argument_size_in_bytes)
        new = int(mem.output_size_in_bytes) - int(mem.alias_size_in_bytes)
        temp = int(mem.temp_size_in_bytes)
        node.memory.add(
            allocator_name=device,
            total_bytes=args + new + temp,
            peak_bytes=args + new + temp,
            live_bytes=args + new,
        )
        node.memory_stats.temp_memory_size = temp
        node.memory_stats.persistent_memory_size = args
        parts.append(f"argument bytes={args}, output bytes={new}, temp bytes={temp}")
    cost = _cost(compiled)
    parts += [f"{k}={cost[k]:.6g}" for k in ("flops", "bytes accessed") if k in cost]
    node.timeline_label = f"{node.node_name} = XLA({', '.join(parts)})"


def _cost(compiled: Any) -> dict[str, float]:
    try:
        cost = compiled.cost_analysis()
    except Exception:  # not every backend estimates costs
        return {}
    if isinstance(cost, list | tuple):
        cost = cost[0] if cost else {}
    return dict(cost or {})


# -- device trace (jax.profiler) -------------------------------------------------


class _DeviceTrace:
    """A jax.profiler trace of a block, parsed into ``data`` on exit.

    Nothing is captured when another trace is running or the profiler
    fails; the trace files go to a temporary directory that is removed.
    ``stop_ns`` is the (start, end) of stopping and parsing, in absolute ns.
    """

    def __init__(self, rec: _Recorder):
        self.rec = rec
        self.data: list[Any] = []
        self.stop_ns: tuple[int, int] | None = None
        self._dir: str | None = None

    def __enter__(self) -> _DeviceTrace:
        directory = tempfile.mkdtemp(prefix="jaxsession-trace-")
        try:
            options = jax.profiler.ProfileOptions()
            options.python_tracer_level = 0
            jax.profiler.start_trace(directory, profiler_options=options)
        except Exception:  # another trace is active: time the run without one
            shutil.rmtree(directory, ignore_errors=True)
            return self
        self._dir = directory
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._dir is None:
            return
        start = time.perf_counter_ns()
        try:
            jax.profiler.stop_trace()
            files = sorted(Path(self._dir).rglob("*.xplane.pb"))
            self.data = [jax.profiler.ProfileData.from_file(str(f)) for f in files[-1:]]
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
            epoch = self.rec._epoch
            self.stop_ns = (epoch + start, epoch + time.perf_counter_ns())


def _add_hlo_nodes(
    rec: _Recorder, device: str, module: str, trace: _DeviceTrace
) -> None:
    """One node per XLA operation of ``module`` the trace saw, on ``device/stream:all``."""
    for data in trace.data:
        env = data.find_plane_with_name("Task Environment")
        origin = dict(env.stats).get("profile_start_time") if env is not None else None
        if origin is None:
            continue  # event times are relative to it
        for plane in data.planes:
            for line in plane.lines:
                for event in line.events:
                    stats = dict(event.stats)
                    if stats.get("hlo_module") != module or "hlo_op" not in stats:
                        continue
                    start = int(origin) + int(event.start_ns)
                    rec.add(
                        f"{device}/stream:all",
                        str(stats["hlo_op"]),
                        start,
                        start + int(event.duration_ns),
                        f"{module}/{event.name}",
                    )


# -- metadata fields ---------------------------------------------------------------


def _assign(run_metadata: Any, field: str, message: Any) -> None:
    try:
        setattr(run_metadata, field, message)
    except AttributeError:  # a real protobuf message: composite fields are copied
        getattr(run_metadata, field).ParseFromString(message.SerializeToString())


def _partition_graph(plan: Any) -> Any:
    from jaxsession.graph.graph_def import GraphDef, node_def

    graph_def = GraphDef()
    for op in plan.ops:
        node_def(op, graph_def.node.add())
    return graph_def
