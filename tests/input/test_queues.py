"""Queue-based input (TF 1.0-1.3 programs), written as a TF1 user wrote it."""

import logging
import re
import threading

import numpy as np
import pytest

import jaxsession as tf

FEATURES = {
    "label": tf.FixedLenFeature([], tf.int64),
    "image_raw": tf.FixedLenFeature([], tf.string),
}


def write_examples(path, labels):
    """A TFRecord file of Examples with a label and a 4-byte image each."""
    with tf.python_io.TFRecordWriter(str(path)) as writer:
        for label in labels:
            image = np.full(4, label, np.uint8).tobytes()
            example = tf.train.Example(
                features=tf.train.Features(
                    feature={
                        "label": tf.train.Feature(
                            int64_list=tf.train.Int64List(value=[label])
                        ),
                        "image_raw": tf.train.Feature(
                            bytes_list=tf.train.BytesList(value=[image])
                        ),
                    }
                )
            )
            writer.write(example.SerializeToString())
    return str(path)


def read_and_decode(filename_queue):
    reader = tf.TFRecordReader()
    _, serialized = reader.read(filename_queue)
    features = tf.parse_single_example(serialized, features=FEATURES)
    image = tf.decode_raw(features["image_raw"], tf.uint8)
    image = tf.cast(tf.reshape(image, [4]), tf.float32) * (1.0 / 255) - 0.5
    return image, tf.cast(features["label"], tf.int32)


def test_monitored_training_session_trains_exactly_two_epochs(tmp_path):
    files = [
        write_examples(tmp_path / "train-0.tfrecords", range(0, 7)),
        write_examples(tmp_path / "train-1.tfrecords", range(7, 12)),
    ]
    filename_queue = tf.train.string_input_producer(files, num_epochs=2)
    image, label = read_and_decode(filename_queue)
    images, labels = tf.train.shuffle_batch(
        [image, label],
        batch_size=4,
        num_threads=2,
        capacity=16,
        min_after_dequeue=4,
        allow_smaller_final_batch=True,
    )
    assert images.shape.as_list() == [None, 4]
    weights = tf.get_variable("w", [4, 1], initializer=tf.zeros_initializer())
    predictions = tf.matmul(images, weights)[:, 0]
    loss = tf.reduce_mean(tf.square(predictions - tf.cast(labels, tf.float32)))
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step)
    seen = []
    with tf.train.MonitoredTrainingSession() as sess:
        while not sess.should_stop():
            _, got = sess.run([train_op, labels])
            seen.extend(got.tolist())
    assert sorted(seen) == sorted(list(range(12)) * 2)
    assert [t.name for t in threading.enumerate() if "QueueRunner" in t.name] == []


def test_coordinator_and_start_queue_runners_in_a_plain_session(tmp_path):
    path = write_examples(tmp_path / "data.tfrecords", range(5))
    filename_queue = tf.train.string_input_producer([path], num_epochs=2, shuffle=False)
    image, label = read_and_decode(filename_queue)
    images, labels = tf.train.batch(
        [image, label], batch_size=3, allow_smaller_final_batch=True
    )
    batches = []
    with tf.Session() as sess:
        sess.run(
            tf.group(
                tf.global_variables_initializer(), tf.local_variables_initializer()
            )
        )
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        assert len(threads) == 4  # two runners: one enqueue thread and one closer each
        try:
            while not coord.should_stop():
                batches.append(sess.run([images, labels]))
        except tf.errors.OutOfRangeError as e:
            assert "'batch/fifo_queue' is closed and has insufficient elements" in str(
                e
            )
        finally:
            coord.request_stop()
        coord.join(threads)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2], [3, 4, 0], [1, 2, 3], [4]]
    np.testing.assert_allclose(batches[0][0][2], np.full(4, 2 / 255 - 0.5), rtol=1e-6)


def test_uninitialized_epoch_counter_is_reported_by_the_coordinator(tmp_path):
    path = write_examples(tmp_path / "data.tfrecords", range(3))
    filename_queue = tf.train.string_input_producer([path], num_epochs=1)
    image, _ = read_and_decode(filename_queue)
    images = tf.train.batch([image], batch_size=2)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        with pytest.raises((tf.errors.CancelledError, tf.errors.OutOfRangeError)):
            sess.run(images)
        with pytest.raises(
            tf.errors.FailedPreconditionError,
            match=re.escape(
                "Attempting to use uninitialized value input_producer/limit_epochs/epochs"
            ),
        ):
            coord.join(threads)


def test_corrupt_record_stops_the_pipeline_naming_file_and_offset(tmp_path):
    path = write_examples(tmp_path / "data.tfrecords", range(4))
    data = bytearray((tmp_path / "data.tfrecords").read_bytes())
    size = len(data) // 4
    data[size + 20] ^= 0xFF
    (tmp_path / "data.tfrecords").write_bytes(bytes(data))
    filename_queue = tf.train.string_input_producer([path])
    image, _ = read_and_decode(filename_queue)
    images = tf.train.batch([image], batch_size=1, capacity=1)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        sess.run(images)
        with pytest.raises(
            tf.errors.DataLossError,
            match=re.escape(f"corrupted record at {size} in file {path!r}"),
        ):
            coord.join(threads, stop_grace_period_secs=10)


def test_queue_ops_and_their_errors():
    queue = tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2], []])
    x = tf.placeholder(tf.float32, [2])
    enqueue = queue.enqueue([x * 2.0, 7])
    many = queue.enqueue_many([[[0.0, 1.0], [2.0, 3.0]], [1, 2]])
    dequeued = queue.dequeue_many(2)
    assert [t.shape.as_list() for t in dequeued] == [[2, 2], [2]]
    with tf.Session() as sess:
        sess.run(enqueue, {x: [1.0, 2.0]})
        sess.run(many)
        assert sess.run(queue.size()) == 3
        first, second = sess.run(dequeued)
        np.testing.assert_array_equal(first, [[2.0, 4.0], [0.0, 1.0]])
        np.testing.assert_array_equal(second, [7, 1])
        sess.run(queue.close())
        assert sess.run(queue.is_closed())
        with pytest.raises(
            tf.errors.OutOfRangeError,
            match=re.escape(
                "FIFOQueue 'fifo_queue' is closed and has insufficient elements "
                "(requested 2, current size 1)"
            ),
        ):
            sess.run(dequeued)
        with pytest.raises(tf.errors.CancelledError, match="'fifo_queue' is closed"):
            sess.run(enqueue, {x: [1.0, 2.0]})
        assert sess.run(queue.dequeue_up_to(5))[1].tolist() == [2]
    with pytest.raises(ValueError, match="incompatible with the shape"):
        queue.enqueue([[1.0, 2.0, 3.0], 1])


def test_a_full_queue_waits_for_its_consumer_without_blocking_the_session():
    queue = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    value = tf.placeholder(tf.int32, [])
    enqueue = queue.enqueue(value)
    with tf.Session() as sess:

        def produce():
            for i in range(6):
                sess.run(enqueue, {value: i})

        producer = threading.Thread(target=produce)
        producer.start()
        got = [sess.run(queue.dequeue()) for _ in range(6)]
        producer.join(10)
        assert got == list(range(6))
        assert not producer.is_alive()


def test_closing_the_session_cancels_waiting_runners():
    queue = tf.FIFOQueue(1, tf.int32, shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(queue, [queue.enqueue(1)]))
    sess = tf.Session()
    threads = tf.train.start_queue_runners(sess)
    assert sess.run(queue.dequeue()) == 1
    sess.close()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)


def test_stop_then_close_ends_every_runner_of_a_reader_pipeline(tmp_path):
    # A run racing the close once made a fresh queue that nothing stopped:
    # its reader waited forever (seen about once in 15 shutdowns).
    path = write_examples(tmp_path / "data.tfrecord", range(8))
    with tf.Graph().as_default():
        image, label = read_and_decode(tf.train.string_input_producer([path]))
        batch = tf.train.shuffle_batch(
            [image, label], 4, capacity=16, min_after_dequeue=4, num_threads=2
        )
        for _ in range(40):
            sess = tf.Session()
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord)
            assert sess.run(batch)[0].shape == (4, 4)
            coord.request_stop()
            sess.close()
            coord.join(threads, stop_grace_period_secs=5)
            assert not [t.name for t in threads if t.is_alive()]


def test_state_made_by_a_run_racing_the_close_is_stopped():
    from jaxsession.graph.rules import SESSION_CLOSED, add_resource

    class State:
        stopped = False

        def stop(self):
            self.stopped = True

    kept, late = State(), State()
    resources = {}
    assert add_resource(resources, "a", kept)
    resources[SESSION_CLOSED] = True
    assert not add_resource(resources, "b", late)
    assert late.stopped and not kept.stopped
    assert resources == {"a": kept, SESSION_CLOSED: True}


def test_shuffle_queue_keeps_min_after_dequeue_until_closed():
    queue = tf.RandomShuffleQueue(10, 3, tf.int32, shapes=[[]], seed=4)
    fill = queue.enqueue_many([list(range(5))])
    two = queue.dequeue_many(2)
    with tf.Session() as sess:
        sess.run(fill)
        first = sess.run(two).tolist()
        assert sess.run(queue.size()) == 3
        sess.run(queue.close())
        rest = sess.run(queue.dequeue_up_to(10)).tolist()
    assert sorted(first + rest) == list(range(5))
    assert first + rest != list(range(5))


def test_padding_fifo_queue_pads_to_the_longest():
    queue = tf.PaddingFIFOQueue(4, [tf.int64], shapes=[[None]])
    row = tf.placeholder(tf.int64, [None])
    enqueue = queue.enqueue([row])
    batch = queue.dequeue_many(2)
    assert batch.shape.as_list() == [2, None]
    with tf.Session() as sess:
        sess.run(enqueue, {row: [1, 2, 3]})
        sess.run(enqueue, {row: [4]})
        np.testing.assert_array_equal(sess.run(batch), [[1, 2, 3], [4, 0, 0]])


def test_slice_input_producer_gives_each_row_once_per_epoch():
    features = np.arange(12, dtype=np.float32).reshape(6, 2)
    labels = np.array([b"a", b"b", b"c", b"d", b"e", b"f"], dtype=object)
    x, y = tf.train.slice_input_producer([features, labels], num_epochs=2, seed=3)
    assert x.shape.as_list() == [2]
    xs, ys = tf.train.batch({"x": x * 10.0, "y": y}, batch_size=4).values()
    got_x, got_y = [], []
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        with pytest.raises(tf.errors.OutOfRangeError):
            while True:
                a, b = sess.run([xs, ys])
                got_x.extend(a.tolist())
                got_y.extend(b.tolist())
        coord.request_stop()
        coord.join(threads)
    assert len(got_y) == 12  # 2 epochs of 6, in whole batches of 4
    assert sorted(got_y) == sorted(labels.tolist() * 2)
    for row, label in zip(got_x, got_y):
        assert row == (features[labels.tolist().index(label)] * 10).tolist()


def test_other_readers_give_tf1_keys(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"head\n1,2\n3,4\n")
    (tmp_path / "b.bin").write_bytes(b"HHabcdefT")
    names = [str(tmp_path / "a.csv"), str(tmp_path / "b.bin")]

    def queue_of(*files):
        queue = tf.FIFOQueue(10, tf.string, shapes=[[]])
        return queue, queue.enqueue_many([list(files)])

    lines_q, fill_lines = queue_of(names[0], names[0])
    whole_q, fill_whole = queue_of(names[0])
    fixed_q, fill_fixed = queue_of(names[1])
    line = tf.TextLineReader(skip_header_lines=1).read(lines_q)
    whole = tf.WholeFileReader().read(whole_q)
    fixed = tf.FixedLengthRecordReader(3, header_bytes=2, footer_bytes=1).read_up_to(
        fixed_q, 5
    )
    with tf.Session() as sess:
        sess.run([fill_lines, fill_whole, fill_fixed])
        lines = [sess.run(line) for _ in range(3)]
        assert sess.run(whole) == (names[0].encode(), b"head\n1,2\n3,4\n")
        sess.run(fixed_q.close())
        keys, values = sess.run(fixed)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(fixed)
    a = names[0]
    assert lines == [
        (f"{a}:2".encode(), b"1,2"),
        (f"{a}:3".encode(), b"3,4"),
        (f"{a}:2".encode(), b"1,2"),
    ]
    assert values.tolist() == [b"abc", b"def"]
    assert keys.tolist() == [f"{names[1]}:0".encode(), f"{names[1]}:1".encode()]


def test_batch_checks_shapes_and_unwraps_single_tensors():
    x = tf.placeholder(tf.float32, [None])
    with pytest.raises(ValueError, match="All shapes must be fully defined"):
        tf.train.batch([x], 2)
    single = tf.train.batch([tf.constant([1.0, 2.0])], 5)
    assert isinstance(single, tf.Tensor)
    assert single.shape.as_list() == [5, 2]
    join = tf.train.batch_join([[tf.constant(1)], [tf.constant(2)]], 4)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert sorted(set(sess.run(join).tolist()) | set(sess.run(join).tolist())) in (
            [1, 2],
            [1],
            [2],
        )
        coord.request_stop()
        coord.join(threads)


def test_csv_files_through_text_line_reader_and_decode_csv(tmp_path):
    for shard in range(2):
        rows = [f"{shard * 3 + i},{i * 0.5},{'ab'[i % 2]}" for i in range(3)]
        (tmp_path / f"part-{shard}.csv").write_text(
            "id,x,tag\n" + "\n".join(rows) + "\n"
        )
    files = tf.train.match_filenames_once(str(tmp_path / "part-*.csv"))
    filename_queue = tf.train.string_input_producer(files, num_epochs=1, shuffle=False)
    _, line = tf.TextLineReader(skip_header_lines=1).read(filename_queue)
    ident, x, tag = tf.decode_csv(line, record_defaults=[[0], [0.0], [""]])
    batch = tf.train.batch([ident, x * 2.0, tag], batch_size=6)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        ids, xs, tags = sess.run(batch)
        coord.request_stop()
        coord.join(threads)
    assert ids.tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(xs, [0.0, 1.0, 2.0] * 2)
    assert tags.tolist() == [b"a", b"b", b"a"] * 2


def test_decode_csv_errors_name_record_and_field():
    line = tf.placeholder(tf.string, [None])
    columns = tf.decode_csv(line, [[0], tf.constant([], tf.float32)])
    with tf.Session() as sess:
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape("Field 1 is required but missing in record 1!"),
        ):
            sess.run(columns, {line: ["1,2", "3,"]})
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape("Field 0 in record 0 is not a valid int32: x"),
        ):
            sess.run(columns, {line: ["x,2"]})


def test_read_up_to_parse_example_and_enqueue_many_in_a_monitored_session(tmp_path):
    path = write_examples(tmp_path / "data.tfrecords", range(5))
    queue = tf.train.string_input_producer([path], num_epochs=3, shuffle=False)
    _, records = tf.TFRecordReader().read_up_to(queue, 4)
    parsed = tf.parse_example(records, FEATURES)
    batch = tf.train.batch(
        parsed, batch_size=6, enqueue_many=True, allow_smaller_final_batch=True
    )
    assert batch["label"].shape.as_list() == [None]
    labels = []
    with tf.train.MonitoredSession() as sess:
        while not sess.should_stop():
            labels.append(sess.run(batch)["label"].tolist())
    assert labels == [[0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 1], [2, 3, 4]]


def test_a_long_wait_for_elements_warns_about_queue_runners(monkeypatch, caplog):
    from jaxsession.input import queues

    monkeypatch.setattr(queues, "_WARN_SECS", 0.3)
    queue = tf.FIFOQueue(2, tf.int32, shapes=[[]], name="lonely")
    dequeued = queue.dequeue()
    got = []
    # The element is enqueued once the consumer has warned, however long its
    # thread took to start waiting (a fixed join(1.0) raced a slow start).
    warned = threading.Event()

    class Signal(logging.Handler):
        def emit(self, record):
            if "has waited" in record.getMessage():
                warned.set()

    signal = Signal()
    queues.logger.addHandler(signal)
    try:
        with tf.Session() as sess:
            consumer = threading.Thread(target=lambda: got.append(sess.run(dequeued)))
            with caplog.at_level("WARNING", logger="jaxsession"):
                consumer.start()
                assert warned.wait(60)
                assert consumer.is_alive()
                sess.run(queue.enqueue(5))
                consumer.join(60)
    finally:
        queues.logger.removeHandler(signal)
    assert got == [5]
    assert (
        "lonely_Dequeue has waited 0.3 s for 1 elements of lonely (size 0): were its "
        "queue runners started (tf.train.start_queue_runners)?"
    ) in caplog.text


def test_batch_with_dynamic_pad_pads_var_len_features(tmp_path):
    path = str(tmp_path / "seqs.tfrecords")
    with tf.python_io.TFRecordWriter(path) as writer:
        for n in (1, 3, 2):
            example = tf.train.Example()
            example.features.feature["ids"].int64_list.value.extend(range(1, n + 1))
            writer.write(example.SerializeToString())
    queue = tf.train.string_input_producer([path], num_epochs=1, shuffle=False)
    _, record = tf.TFRecordReader().read(queue)
    ids = tf.parse_single_example(record, {"ids": tf.VarLenFeature(tf.int64)})["ids"]
    padded = tf.train.batch([ids], 3, dynamic_pad=True)
    assert padded.shape.as_list() == [3, None]
    with tf.train.MonitoredSession() as sess:
        got = sess.run(padded)
    np.testing.assert_array_equal(got, [[1, 0, 0], [1, 2, 3], [1, 2, 0]])
