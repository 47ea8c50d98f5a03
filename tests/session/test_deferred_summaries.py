"""Summaries a monitored run finishes in the background (engine/deferred.py)."""

import re
import subprocess
import sys
import textwrap
import threading
import time

import jax
import numpy as np
import pytest
from tensorboardX.proto.summary_pb2 import Summary

import jaxsession as tf
from jaxsession import errors
from jaxsession.engine import deferred
from jaxsession.engine.deferred import DeferredValue
from jaxsession.session.hooks import Deferred
from tests.helpers.events import read_events, scalars


def _counter_graph():
    """A step that adds 1 to ``v`` (float) and ``n`` (int), with summaries of both."""
    step = tf.train.get_or_create_global_step()
    v = tf.Variable(np.zeros(4, np.float32), name="count_v")
    n = tf.Variable(0, name="count_n")
    train = tf.group(
        tf.assign_add(v, tf.ones(4)), tf.assign_add(n, 1), tf.assign_add(step, 1)
    )
    tf.summary.histogram("v", v)  # counted on the device
    tf.summary.scalar("n", n)  # an int read: its value goes to the host
    return train


def _histograms(logdir, tag):
    return [
        (e.step, value.histo)
        for e in read_events(logdir)
        for value in e.summary.value
        if value.tag == tag and value.HasField("histo")
    ]


def test_background_summaries_hold_the_values_of_their_step(tmp_path):
    train = _counter_graph()
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_summaries_steps=3, save_checkpoint_secs=None
    ) as sess:
        for _ in range(10):
            sess.run(train)
    # The summaries fetched with the train op read the values before it,
    # stamped with the step after it.
    assert [(s, v) for s, _, v in scalars(tmp_path, "n")] == [
        (1, 0.0),
        (4, 3.0),
        (7, 6.0),
        (10, 9.0),
    ]
    histos = _histograms(tmp_path, "v")
    assert [(s, h.min, h.max, h.num, h.sum) for s, h in histos] == [
        (1, 0.0, 0.0, 4, 0.0),
        (4, 3.0, 3.0, 4, 12.0),
        (7, 6.0, 6.0, 4, 24.0),
        (10, 9.0, 9.0, 4, 36.0),
    ]


def test_run_deferring_returns_deferred_summaries_equal_to_a_plain_run():
    x = tf.placeholder(tf.float32, [None])
    h = tf.summary.histogram("h", x)
    s = tf.summary.scalar("s", tf.reduce_sum(x))
    total = tf.reduce_sum(x)
    feed = {x: [1.0, 2.0, 4.0]}
    with tf.Session() as sess:
        plain = sess.run([total, h, s], feed)
        got = sess.run_deferring([total, h, s], feed, [h, s])
        assert got[0] == 7.0
        assert all(isinstance(v, DeferredValue) for v in got[1:])
        assert [v.result() for v in got[1:]] == plain[1:]
        # A summary not deferred must be ready when the run returns: none is.
        mixed = sess.run_deferring([h, s], feed, [h])
        assert mixed == plain[1:]


def test_a_nan_in_a_background_histogram_is_raised_by_the_next_run(tmp_path):
    step = tf.train.get_or_create_global_step()
    bad = tf.placeholder_with_default(np.float32(1.0), [], name="bad")
    tf.summary.histogram("w", tf.fill([3], bad))
    train = tf.assign_add(step, 1)
    with pytest.raises(
        errors.InvalidArgumentError, match=re.escape("Nan in summary histogram for: w")
    ):
        with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), save_summaries_steps=20
        ) as sess:
            sess.run(train)  # a summary step: fine
            sess.run(train, {bad: np.nan})  # not a summary step: no histogram
            for _ in range(18):
                sess.run(train)
            sess.run(train, {bad: np.nan})  # a summary step (21): its NaN ...
            # ... once finished (the writer's flush waits for it) ...
            tf.summary.FileWriterCache.get(str(tmp_path)).flush()
            sess.run(train)  # ... is raised by the next run
            pytest.fail("the NaN was not raised")
    assert [s for s, _ in _histograms(tmp_path, "w")] == [1]


def test_a_fed_buffer_refilled_after_the_run_does_not_change_its_summary(tmp_path):
    step = tf.train.get_or_create_global_step()
    x = tf.placeholder(tf.float32, [], name="x")
    img = tf.placeholder(tf.uint8, [1, 2, 2, 1], name="img")
    tf.summary.scalar("s", x)
    tf.summary.image("im", img)
    train = tf.assign_add(step, 1)
    xs, buf = np.zeros((), np.float32), np.zeros((1, 2, 2, 1), np.uint8)
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_summaries_steps=1
    ) as sess:
        for i in range(3):
            xs[()] = i
            buf[:] = 10 * i
            sess.run(train, {x: xs, img: buf})
        buf[:] = 200
    assert [(s, v) for s, _, v in scalars(tmp_path, "s")] == [
        (1, 0.0),
        (2, 1.0),
        (3, 2.0),
    ]


def test_a_summary_the_caller_also_fetches_comes_back_finished(tmp_path):
    step = tf.train.get_or_create_global_step()
    tf.summary.scalar("gs", step)
    merged = tf.summary.merge_all()
    train = tf.assign_add(step, 1)
    hook = tf.train.SummarySaverHook(
        save_steps=1, output_dir=str(tmp_path), summary_op=merged
    )
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        _, got = sess.run([train, merged])
    assert Summary.FromString(got).value[0].simple_value == 0.0


def test_an_enqueue_in_a_summary_step_is_done_when_the_run_returns(tmp_path):
    step = tf.train.get_or_create_global_step()
    tf.summary.scalar("gs", step)
    q = tf.FIFOQueue(10, tf.int64, shapes=[[]])
    enqueue = q.enqueue(step)
    size = q.size()
    train = tf.assign_add(step, 1)
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_summaries_steps=1
    ) as sess:
        for want in (1, 2, 3):
            sess.run([train, enqueue])
            assert sess.run(size) == want


def test_training_in_a_thread_outlives_the_main_thread(tmp_path):
    # Summaries are finished by the training thread (and the writer's), so
    # they are written after the main thread returns.
    script = textwrap.dedent(
        f"""
        import threading, time
        import jaxsession as tf

        def train():
            step = tf.train.get_or_create_global_step()
            tf.summary.scalar("gs", step)
            op = tf.assign_add(step, 1)
            # No checkpoints: Orbax's own executors refuse work by then.
            with tf.train.MonitoredTrainingSession(
                checkpoint_dir={str(tmp_path)!r},
                save_summaries_steps=1,
                save_checkpoint_secs=None,
            ) as sess:
                time.sleep(0.5)
                for _ in range(5):
                    sess.run(op)
            print("finished", flush=True)

        threading.Thread(target=train).start()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "finished" in done.stdout
    assert [s for s, _, _ in scalars(tmp_path, "gs")] == [1, 2, 3, 4, 5]


def test_the_training_thread_finishes_ready_summaries_without_waiting():
    x = tf.placeholder(tf.float32, [None])
    h = tf.summary.histogram("h", x)
    with tf.Session() as sess:
        (first,) = sess.run_deferring([h], {x: [1.0, 2.0]}, [h])
        (second,) = sess.run_deferring([h], {x: [3.0]}, [h])
        assert not first.done() and not second.done()
        jax.effects_barrier()
        for value in (first, second):
            value._work.arrays[0].block_until_ready()
        # Their device values are ready: this thread finishes both, in order.
        deferred.finish_ready()
        assert first.done() and second.done()
        assert Summary.FromString(second.result()).value[0].histo.num == 1
    assert not any(
        t.name.startswith("jaxsession-deferred") for t in threading.enumerate()
    )


def test_the_writer_finishes_a_summary_the_training_thread_left(tmp_path):
    x = tf.placeholder(tf.float32, [None])
    h = tf.summary.histogram("h", x)
    writer = tf.summary.FileWriter(str(tmp_path), flush_secs=0.05)
    try:
        with tf.Session() as sess:
            (value,) = sess.run_deferring([h], {x: [1.0, 2.0, 4.0]}, [h])
        writer.add_summary(value, global_step=7)
        # Nobody runs nor flushes: after its wait, the writer thread
        # finishes the summary itself and its timer flushes the file.
        deadline = time.monotonic() + 30
        while not _histograms(tmp_path, "h") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(s, h.num, h.max) for s, h in _histograms(tmp_path, "h")] == [
            (7, 3, 4.0)
        ]
    finally:
        writer.close()


class _Reading(tf.train.SummarySaverHook):
    """A subclass that reads the fetched summaries: it must get bytes."""

    seen: list

    def after_run(self, run_context, run_values):
        results = run_values.results or {}
        self.seen.extend(type(v) for v in results.get("summary", []))
        super().after_run(run_context, run_values)


def test_subclasses_and_foreign_writers_get_finished_values(tmp_path):
    train = _counter_graph()
    reading = _Reading(
        save_steps=1, output_dir=str(tmp_path / "a"), summary_op=tf.summary.merge_all()
    )
    reading.seen = []
    with tf.train.MonitoredSession(hooks=[reading]) as sess:
        sess.run(train)
        sess.run(train)
    assert reading.seen and all(t is not DeferredValue for t in reading.seen)

    class ListWriter:
        def __init__(self):
            self.summaries = []

        def add_summary(self, summary, step):
            self.summaries.append((step, Summary.FromString(summary).value[0].tag))

        def add_session_log(self, log, step):
            pass

        def flush(self):
            pass

    writer = ListWriter()
    hook = tf.train.SummarySaverHook(
        save_steps=1, summary_writer=writer, summary_op=tf.summary.merge_all()
    )
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        sess.run(train)
    assert writer.summaries == [(1, "v")]  # bytes: FromString took them


def test_a_writer_subclass_sees_events_and_finished_summaries(tmp_path):
    class Capturing(tf.summary.FileWriter):
        def __init__(self, logdir):
            super().__init__(logdir)
            self.events = []

        def add_event(self, event):
            self.events.append(event)
            super().add_event(event)

    writer = Capturing(str(tmp_path))
    writer.add_summary(Summary(value=[Summary.Value(tag="a", simple_value=1.0)]), 3)
    (event,) = writer.events
    assert (event.step, event.summary.value[0].tag) == (3, "a")

    step = tf.train.get_or_create_global_step()
    tf.summary.scalar("gs", step)
    train = tf.assign_add(step, 1)
    hook = tf.train.SummarySaverHook(
        save_steps=1, summary_writer=writer, summary_op=tf.summary.merge_all()
    )
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        sess.run(train)
    summaries = [e for e in writer.events[1:] if e.summary.value]
    assert [(e.step, e.summary.value[0].simple_value) for e in summaries] == [(1, 0.0)]
    writer.close()


def test_a_ctrl_c_while_finishing_a_summary_interrupts_the_caller_only(
    tmp_path, monkeypatch
):
    # Summaries are finished on the training thread, where a Ctrl-C lands:
    # it must reach the caller and leave the summary to finish later, not
    # become the summary's error (which killed the writer thread, hanging
    # every later flush).
    x = tf.placeholder(tf.float32, [None])
    h = tf.summary.histogram("h", x)
    real, calls = deferred.run_host_post_ops, []

    def interrupted_once(plan, values):
        calls.append(None)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(plan, values)

    monkeypatch.setattr(deferred, "run_host_post_ops", interrupted_once)
    with tf.Session() as sess:
        (value,) = sess.run_deferring([h], {x: [1.0, 2.0, 4.0]}, [h])
    with pytest.raises(KeyboardInterrupt):
        value.result()
    assert not value.done()
    assert Summary.FromString(value.result()).value[0].histo.num == 3
    writer = tf.summary.FileWriter(str(tmp_path))
    writer.add_summary(value, global_step=5)
    writer.close()
    assert [(s, h.num) for s, h in _histograms(tmp_path, "h")] == [(5, 3)]


def test_a_custom_hooks_deferred_summaries_are_finished_by_later_runs():
    # hooks.Deferred is open to any hook: the monitored session, not only
    # the SummarySaverHook, finishes what its runs deferred (else the writer
    # thread waits _DEFERRED_WAIT_SECS for each, half a second a step).
    train = _counter_graph()
    summary = tf.summary.merge_all()

    class Collecting(tf.train.SessionRunHook):
        def __init__(self):
            self.values = []

        def before_run(self, run_context):
            return tf.train.SessionRunArgs({"s": Deferred(summary)})

        def after_run(self, run_context, run_values):
            self.values.append(run_values.results["s"])

    hook = Collecting()
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        sess.run(train)
        (first,) = hook.values
        assert isinstance(first, DeferredValue)
        for array in first._work.arrays:
            array.block_until_ready()
        sess.run(train)
        assert first.done()
    histo = Summary.FromString(first.result()).value[0].histo
    assert (histo.num, histo.max) == (4, 0.0)


def test_finishing_stops_at_the_work_queued_before_it():
    # Another thread training on queues work while this one finishes the
    # queue: a flush chasing it returned only once that thread stopped (a
    # daemon thread training on kept the exit's flush from returning).
    ran = []

    def a_run_while_another_trains():
        ran.append(None)
        if len(ran) < 5:
            deferred._queue.append(deferred._Work(a_run_while_another_trains, []))
        return []

    for finish in (deferred.finish_all, deferred.finish_ready):
        ran.clear()
        first = deferred._Work(a_run_while_another_trains, [])
        deferred._queue.append(first)
        finish()
        assert first.future.done() and len(ran) == 1
        while deferred._queue:
            deferred.finish_all()
        assert len(ran) == 5
