"""Event files read back with TensorBoard's own readers (TF1_BEHAVIOUR §4.3, §4.5, §4.11).

``EventAccumulator`` is what TensorBoard's scalar/histogram/image/text
dashboards load; ``EventFileLoader`` gives the raw events (SessionLogs).
"""

import numpy as np
from tensorboard.backend.event_processing import event_accumulator as ea

import jaxsession as tf
from jaxsession import summary as tf_summary
from jaxsession.session import basic_hooks
from jaxsession.session._global_step import increment_global_step
from tests.helpers.clock import FakeClock
from tests.helpers.recording_hook import HookDriver
from tests.helpers.tensorboard import flush_cached_writers, scalar_values, session_logs


def test_summary_saver_hook_x52_in_tensorboard(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    var = tf.Variable(0.0)
    # Counts its own evaluations, so the values say which runs were summarized.
    summary = tf_summary.scalar("my_summary", var.assign_add(1.0))
    hook = basic_hooks.SummarySaverHook(
        save_steps=8, output_dir=str(tmp_path), summary_op=summary
    )
    driver = HookDriver([hook])
    for _ in range(30):
        driver.run(train)
    driver.end()
    assert scalar_values(tmp_path) == {
        "my_summary": [(1, 1.0), (9, 2.0), (17, 3.0), (25, 4.0)]
    }
    assert session_logs(tmp_path) == [("START", 1, "")]


def test_step_counter_hook_rate_in_tensorboard(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    clock = FakeClock()
    hook = basic_hooks.StepCounterHook(
        every_n_steps=None, every_n_secs=0.1, output_dir=str(tmp_path), clock=clock
    )
    driver = HookDriver([hook])
    for _ in range(3):
        driver.run(train)
        clock.now += 0.25
    driver.end()
    values = scalar_values(tmp_path)
    assert list(values) == ["global_step/sec"]
    steps = [s for s, _ in values["global_step/sec"]]
    rates = [v for _, v in values["global_step/sec"]]
    # Armed after run 1; one step per 0.25 s afterwards.
    assert steps == [2, 3]
    np.testing.assert_allclose(rates, [4.0, 4.0], rtol=1e-6)


def test_step_counter_hook_steps_per_run_in_tensorboard(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(5)
    clock = FakeClock()
    hook = basic_hooks.StepCounterHook(
        every_n_steps=10, output_dir=str(tmp_path), clock=clock
    )
    hook._set_steps_per_run(5)
    driver = HookDriver([hook])
    for _ in range(5):
        driver.run(train)
        clock.now += 1.0
    values = scalar_values(tmp_path)["global_step/sec"]
    assert values == [(15, 5.0), (25, 5.0)]


def test_mts_histogram_image_and_text_summaries_in_tensorboard(tmp_path):
    gs = tf.train.get_or_create_global_step()
    inc = gs.assign_add(1)
    x = tf.cast(gs, tf.float32)
    tf.summary.histogram("weights", tf.stack([x, x + 1.0, x + 2.0]))
    tf.summary.image("picture", tf.zeros([1, 4, 6, 3], tf.uint8))
    tf.summary.text("note", tf.constant("hello"))
    tf.summary.scalar("x", x)
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_summaries_steps=2, log_step_count_steps=None
    ) as sess:
        for _ in range(3):
            sess.run(inc)
    flush_cached_writers()
    acc = ea.EventAccumulator(
        str(tmp_path),
        size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.TENSORS: 0},
    )
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["x"]
    assert tags["histograms"] == ["weights"]
    assert tags["images"] == ["picture/image/0"]
    assert tags["tensors"] == ["note"]
    # Summaries are evaluated before the step's increment, stamped after it.
    assert [(e.step, e.value) for e in acc.Scalars("x")] == [(1, 0.0), (3, 2.0)]
    histograms = [
        (e.step, e.histogram_value.min, e.histogram_value.max, e.histogram_value.num)
        for e in acc.Histograms("weights")
    ]
    assert histograms == [(1, 0.0, 2.0, 3.0), (3, 2.0, 4.0, 3.0)]
    assert [(e.step, e.width, e.height) for e in acc.Images("picture/image/0")] == [
        (1, 6, 4),
        (3, 6, 4),
    ]
    assert acc.SummaryMetadata("note").plugin_data.plugin_name == "text"
    assert [(e.step, list(e.tensor_proto.string_val)) for e in acc.Tensors("note")] == [
        (1, [b"hello"]),
        (3, [b"hello"]),
    ]
    # The chief's default event file: START, then CHECKPOINTs at creation and end.
    prefix = str(tmp_path / "model.ckpt")
    assert session_logs(tmp_path) == [
        ("CHECKPOINT", 0, prefix),
        ("START", 1, ""),
        ("CHECKPOINT", 3, prefix),
    ]


def test_event_records_carry_tfs_masked_crc32c(tmp_path):
    # tensorboardX's pure-Python CRC32C is an implementation independent of
    # the native one the writer uses.
    import struct

    from tensorboardX.record_writer import masked_crc32c

    with tf.summary.FileWriter(str(tmp_path)) as writer:
        writer.add_summary(
            tf_summary.Summary(
                value=[tf_summary.Summary.Value(tag="loss", simple_value=0.5)]
            ),
            global_step=3,
        )
    (path,) = tmp_path.glob("events.out.tfevents.*")
    data, records = path.read_bytes(), []
    while data:
        header, (header_crc,) = data[:8], struct.unpack("<I", data[8:12])
        (length,) = struct.unpack("<Q", header)
        body = data[12 : 12 + length]
        (body_crc,) = struct.unpack("<I", data[12 + length : 16 + length])
        assert header_crc == masked_crc32c(header)
        assert body_crc == masked_crc32c(body)
        records.append(tf.Event.FromString(body))
        data = data[16 + length :]
    assert records[0].file_version == "brain.Event:2"
    assert [(e.step, e.summary.value[0].simple_value) for e in records[1:]] == [
        (3, 0.5)
    ]


def test_a_flush_with_nothing_new_written_does_not_sync_again(tmp_path, monkeypatch):
    from jaxsession.session import summary_writer

    synced = []
    real = summary_writer.os.fsync
    monkeypatch.setattr(
        summary_writer.os, "fsync", lambda fd: synced.append(fd) or real(fd)
    )
    writer = tf.summary.FileWriter(str(tmp_path))
    writer.flush()
    assert len(synced) == 1  # the file version record
    writer.flush()
    assert len(synced) == 1
    writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 1)
    writer.flush()
    assert len(synced) == 2
    writer.close()
    assert len(synced) == 2
    assert session_logs(tmp_path) == [("START", 1, "")]


def test_events_added_from_several_threads_are_all_written_in_order(tmp_path):
    import threading

    writer = tf.summary.FileWriter(str(tmp_path), max_queue=3, flush_secs=1000)

    def add(thread):
        for i in range(40):
            value = tf_summary.Summary.Value(tag=f"t{thread}", simple_value=float(i))
            writer.add_summary(tf_summary.Summary(value=[value]), global_step=i)
            if i == 20 and thread == 0:
                writer.flush()

    threads = [threading.Thread(target=add, args=(t,)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    seen = {}
    for event in tf.train.summary_iterator(str(path)):
        for value in event.summary.value:
            seen.setdefault(value.tag, []).append((event.step, value.simple_value))
    assert seen == {f"t{t}": [(i, float(i)) for i in range(40)] for t in range(3)}


def test_events_wait_for_a_batch_or_the_timer_and_a_flush_writes_them(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path), max_queue=100, flush_secs=1000)
    writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 1)
    # Neither a batch of 100 nor the timer: the event still waits ...
    assert session_logs(tmp_path) == []
    writer.flush()
    # ... and a flush writes it to disk.
    assert session_logs(tmp_path) == [("START", 1, "")]
    writer.close()
