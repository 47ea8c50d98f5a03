"""Traced runs: RunOptions(FULL_TRACE) fills RunMetadata's StepStats, as TF1 does."""

import contextlib
import itertools
import time

import jax
import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.compat.proto.config_pb2 import RunMetadata as TBRunMetadata

import jaxsession as tf
from jaxsession.engine import executable as executable_lib
from jaxsession.session import tracing
from jaxsession.session.hooks import SessionRunArgs, SessionRunHook
from jaxsession.session.summary_writer import FileWriterCache

HOST = "/job:localhost/replica:0/task:0/device:CPU:0"
FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


def _model():
    x = tf.placeholder(tf.float32, [None, 16], name="x")
    w = tf.Variable(tf.ones([16, 4]), name="w")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w)), name="loss")
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=step)
    return x, loss, train, step


@contextlib.contextmanager
def _backend_compiles():
    """Counts XLA backend compilations in the block (JAX's monitoring events)."""
    count = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            count.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield count
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def _nodes(step_stats, device=HOST):
    (dev,) = [d for d in step_stats.dev_stats if d.device == device]
    return list(dev.node_stats)


def test_traced_run_times_each_phase_and_the_xla_computation():
    x, loss, train, step = _model()
    feed = {x: np.ones((8, 16), np.float32)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        expected = sess.run(loss, feed)
        md = tf.RunMetadata()
        start = time.perf_counter_ns()
        value, _ = sess.run([loss, train], feed, options=FULL, run_metadata=md)
        wall = time.perf_counter_ns() - start
        assert value == expected and sess.run(step) == 1
    nodes = _nodes(md.step_stats)
    names = [n.node_name for n in nodes]
    assert names[:3] == ["_feed_conversion", "_host_to_device", "_xla_compile"]
    assert names[3].startswith("jit") and names[-2:] == [
        "_device_to_host",
        "_fetch_and_post_ops",
    ]
    for n in nodes:
        assert n.all_end_rel_nanos > 0 and n.all_end_rel_micros >= 1, n.node_name
        assert n.op_end_rel_nanos == n.all_end_rel_nanos and n.op_start_rel_micros == 0
        assert n.all_start_micros == n.all_start_nanos // 1000
    # The phases follow one another and fit in the wall time of the run.
    for a, b in itertools.pairwise(nodes):
        assert b.all_start_nanos >= a.all_start_nanos + a.all_end_rel_nanos - 1000
    assert sum(n.all_end_rel_nanos for n in nodes) <= wall
    assert abs(nodes[0].all_start_micros - time.time() * 1e6) < 60e6
    computation = nodes[3]
    assert "= XLA(argument bytes=" in computation.timeline_label
    assert "flops=" in computation.timeline_label
    (memory,) = computation.memory
    assert memory.allocator_name == HOST and memory.total_bytes >= 16 * 4 * 4
    assert computation.memory_stats.persistent_memory_size >= 16 * 4 * 4
    assert "_host_to_device: 512 bytes" == nodes[1].timeline_label


def test_xla_operations_of_the_computation_come_from_a_device_trace():
    x, loss, train, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        md = tf.RunMetadata()
        sess.run(
            train, {x: np.ones((8, 16), np.float32)}, options=FULL, run_metadata=md
        )
    computation = next(
        n for n in _nodes(md.step_stats) if n.node_name.startswith("jit")
    )
    kernels = _nodes(md.step_stats, HOST + "/stream:all")
    assert kernels
    begin = computation.all_start_nanos
    end = begin + computation.all_end_rel_nanos
    for k in kernels:
        assert k.timeline_label.startswith(computation.node_name + "/")
        assert begin - 1e6 <= k.all_start_nanos <= end + 1e6
    assert "_device_trace_capture" in [n.node_name for n in _nodes(md.step_stats)]


def test_trace_while_another_profiler_trace_runs_keeps_the_phases(tmp_path):
    x, loss, _, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        md = tf.RunMetadata()
        jax.profiler.start_trace(str(tmp_path))
        try:
            sess.run(loss, {x: np.ones((2, 16), np.float32)}, FULL, md)
        finally:
            jax.profiler.stop_trace()
    devices = [d.device for d in md.step_stats.dev_stats]
    assert devices == [HOST]
    assert any(n.node_name.startswith("jit") for n in _nodes(md.step_stats))


def test_untraced_run_leaves_run_metadata_empty_and_clears_it():
    x, loss, _, _ = _model()
    feed = {x: np.ones((2, 16), np.float32)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        md = tf.RunMetadata()
        sess.run(loss, feed, run_metadata=md)
        assert md.step_stats.ByteSize() == 0 and md.SerializeToString() == b""
        sess.run(loss, feed, options=FULL, run_metadata=md)
        assert md.step_stats.ByteSize() > 0
        sess.run(loss, feed, options=tf.RunOptions(), run_metadata=md)
        assert md.step_stats.ByteSize() == 0 and md.SerializeToString() == b""
        # Traced without a RunMetadata: nothing to fill, the run is plain.
        assert sess.run(loss, feed, options=FULL) == sess.run(loss, feed)


def test_untraced_runs_with_run_metadata_take_the_plain_path(monkeypatch):
    v = tf.Variable(0.0, name="v")
    inc = v.assign_add(1.0)

    def refuse(*args, **kwargs):
        raise AssertionError("an untraced run went through tracing")

    with tf.Session() as sess:
        sess.run(v.initializer)
        md = tf.RunMetadata()
        # No StepStats is built until someone looks at it.
        assert md.SerializeToString() == b"" and md.ListFields() == []
        assert sess.run(inc, options=FULL, run_metadata=md) == 1.0
        assert md.step_stats.ByteSize() > 0 and md.ListFields()[0][0] == "step_stats"
        monkeypatch.setattr(tracing, "run_with_metadata", refuse)
        assert sess.run(inc, None, tf.RunOptions(), md) == 2.0
        # Overwritten with nothing, as in TF1.
        assert md.step_stats.ByteSize() == 0 and md.ListFields() == []
        assert sess.run(inc, run_metadata=tf.RunMetadata()) == 3.0


def test_traced_run_neither_retraces_nor_leaves_the_fast_path_timed():
    v = tf.Variable(0.0, name="v")
    inc = v.assign_add(1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with _backend_compiles() as first:
            sess.run(inc)
        assert len(first) == 1  # the counter sees compilations
        sess.run(inc)
        md = tf.RunMetadata()
        assert sess.run(inc, options=FULL, run_metadata=md) == 3.0
        assert sess.run(inc) == 4.0
        executables = list(executable_lib.executables(tf.get_default_graph()).values())
        assert [e.trace_count for e in executables] == [1, 1]
        md2 = tf.RunMetadata()
        with _backend_compiles() as compiles:
            assert sess.run(inc, options=FULL, run_metadata=md2) == 5.0
        # The second trace of the signature finds it compiled.
        assert compiles == []
        assert "_xla_compile" in [n.node_name for n in _nodes(md2.step_stats)]


def test_host_ops_are_nodes_named_after_the_op():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(6, dtype=np.float32)).batch(2)
    batch = ds.make_one_shot_iterator().get_next(name="next_batch")
    total = tf.reduce_sum(batch)
    with tf.Session() as sess:
        md = tf.RunMetadata()
        assert sess.run(total, options=FULL, run_metadata=md) == 1.0
        assert sess.run(total) == 5.0
    node = next(n for n in _nodes(md.step_stats) if n.node_name == "next_batch")
    assert node.timeline_label == "next_batch = IteratorGetNext() on the host"
    assert node.all_end_rel_nanos > 0


def test_output_partition_graphs_gives_the_compiled_ops():
    x, loss, _, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        md = tf.RunMetadata()
        options = tf.RunOptions(output_partition_graphs=True)
        sess.run(loss, {x: np.ones((2, 16), np.float32)}, options, md)
    assert md.step_stats.ByteSize() == 0
    (graph_def,) = md.partition_graphs
    names = [n.name for n in graph_def.node]
    # Fed tensors and constants the host supplies appear as inputs only.
    assert names == ["w", "MatMul", "Square", "loss"]
    assert list(graph_def.node[1].input) == ["x", "w"]
    assert list(graph_def.node[3].input) == ["Square"]
    parsed = TBRunMetadata.FromString(md.SerializeToString())
    assert [n.name for n in parsed.partition_graphs[0].node] == names


def test_multi_step_run_is_one_node():
    _, _, train, step = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        md = tf.RunMetadata()
        feed = {"x:0": np.ones((3, 2, 16), np.float32)}
        sess.run(train, feed, FULL, md, steps_per_run=3)
        assert sess.run(step) == 3
    (node,) = _nodes(md.step_stats)
    assert node.node_name == "_run_3_steps" and node.all_end_rel_nanos > 0


def test_add_run_metadata_is_read_back_by_tensorboard(tmp_path):
    x, loss, train, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        md = tf.RunMetadata()
        sess.run(train, {x: np.ones((4, 16), np.float32)}, FULL, md)
    writer = tf.summary.FileWriter(str(tmp_path))
    writer.add_run_metadata(md, "step7", global_step=7)
    writer.close()
    acc = ea.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert acc.Tags()[ea.RUN_METADATA] == ["step7"]
    parsed = acc.RunMetadata("step7")
    assert parsed.SerializeToString() == md.SerializeToString()
    (host,) = [d for d in parsed.step_stats.dev_stats if d.device == HOST]
    names = [n.node_name for n in host.node_stats]
    assert names[0] == "_feed_conversion" and "_xla_compile" in names
    assert all(n.all_end_rel_micros >= 1 for n in host.node_stats)


class _TraceEveryOtherRun(SessionRunHook):
    def __init__(self):
        self.runs = 0
        self.seen = []

    def before_run(self, run_context):
        traced = self.runs % 2 == 1
        self.runs += 1
        return SessionRunArgs(None, options=FULL if traced else None)

    def after_run(self, run_context, run_values):
        md = run_values.run_metadata
        self.seen.append(
            sorted(
                {n.node_name for d in md.step_stats.dev_stats for n in d.node_stats}
                & {"_feed_conversion"}
            )
        )


def test_monitored_session_hooks_get_filled_run_metadata():
    x, loss, train, _ = _model()
    hook = _TraceEveryOtherRun()
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        for _ in range(3):
            sess.run(train, {x: np.ones((2, 16), np.float32)})
    assert hook.seen == [[], ["_feed_conversion"], []]


def test_step_stats_parse_as_tensorflow_protos():
    x, loss, _, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        md = tf.RunMetadata()
        sess.run(loss, {x: np.ones((2, 16), np.float32)}, FULL, md)
    parsed = TBRunMetadata.FromString(md.SerializeToString())
    assert parsed.step_stats.SerializeToString() == md.step_stats.SerializeToString()
    names = [n.node_name for d in parsed.step_stats.dev_stats for n in d.node_stats]
    assert "_host_to_device" in names


@pytest.mark.parametrize(
    "level", [tf.RunOptions.SOFTWARE_TRACE, tf.RunOptions.HARDWARE_TRACE]
)
def test_any_trace_level_traces(level):
    c = tf.constant(2.0) * tf.placeholder(tf.float32, [], name="p")
    with tf.Session() as sess:
        md = tf.RunMetadata()
        assert sess.run(c, {"p:0": 3.0}, tf.RunOptions(trace_level=level), md) == 6.0
    assert md.step_stats.ByteSize() > 0


def test_profiler_hook_writes_the_step_stats_of_its_profiled_run(tmp_path):
    x, loss, train, _ = _model()
    hook = tf.train.ProfilerHook(save_steps=2, output_dir=str(tmp_path))
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        for _ in range(3):
            sess.run(train, {x: np.ones((2, 16), np.float32)})
    FileWriterCache.clear()
    acc = ea.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert acc.Tags()[ea.RUN_METADATA] == ["step_2"]
    (host,) = acc.RunMetadata("step_2").step_stats.dev_stats
    names = [n.node_name for n in host.node_stats]
    assert names[:3] == ["_feed_conversion", "_host_to_device", "_xla_compile"]
    assert (tmp_path / "timeline-2.json").exists()


def test_callables_accepting_options_are_traced():
    x, loss, _, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        call = sess.make_callable(loss, [x], accept_options=True)
        md = tf.RunMetadata()
        value = call(np.ones((2, 16), np.float32), options=FULL, run_metadata=md)
        assert value == call(np.ones((2, 16), np.float32))
        constant = sess.make_callable(tf.constant(3.0) * 2.0, accept_options=True)
        md2 = tf.RunMetadata()
        assert constant(options=FULL, run_metadata=md2) == 6.0
    assert "_xla_compile" in [n.node_name for n in _nodes(md.step_stats)]
    assert md2.step_stats.ByteSize() > 0


def test_traced_run_with_string_feeds_and_summaries():
    p = tf.placeholder(tf.string, [None])
    x = tf.placeholder(tf.float32, [None])
    text = tf.summary.text("t", tf.identity(p))
    with tf.Session() as sess:
        md = tf.RunMetadata()
        raw, total = sess.run(
            [text, tf.reduce_sum(x)], {p: ["a"], x: [1.0, 2.0]}, FULL, md
        )
    assert total == 3.0 and isinstance(raw, bytes)
    names = [n.node_name for n in _nodes(md.step_stats)]
    assert names[0] == "_feed_conversion" and names[-1] == "_fetch_and_post_ops"
