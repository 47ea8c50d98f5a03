"""Slices whose bounds are computed in the run, with the size declared by set_shape."""

import numpy as np
import pytest

import jaxsession as tf

# The same graph under TensorFlow 2.21 (tf.compat.v1) gives these values.
WINDOW = {
    0: [[6.0, 7.0, 8.0], [12.0, 13.0, 14.0]],
    1: [[8.0, 9.0, 10.0], [14.0, 15.0, 16.0]],
}
WINDOW_GRAD = [
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 16.0, 18.0, 20.0, 0.0],
    [0.0, 0.0, 28.0, 30.0, 32.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
]


@pytest.fixture
def grid():
    return tf.constant(np.arange(24, dtype=np.float32).reshape(4, 6))


def test_a_window_at_a_fed_offset_is_cut_like_tf1(grid):
    i = tf.placeholder(tf.int32, [])
    window = tf.strided_slice(grid, [1, i * 2], [3, i * 2 + 3])
    window.set_shape([2, 3])
    grad = tf.gradients(tf.reduce_sum(window * window), grid)[0]
    with tf.Session() as sess:
        for offset, want in WINDOW.items():
            assert sess.run(window, {i: offset}).tolist() == want
        assert sess.run(grad, {i: 1}).tolist() == WINDOW_GRAD


def test_getitem_bounds_and_indices_from_the_run(grid):
    i = tf.placeholder(tf.int32, [])
    row = grid[i - 1, i : i + 2]
    row.set_shape([2])
    cols = grid[:, i : i + 2]
    cols.set_shape([4, 2])
    with tf.Session() as sess:
        assert sess.run(row, {i: 2}).tolist() == [8.0, 9.0]
        # A negative start counts from the end, as in TF1.
        assert sess.run(cols, {i: -3}).tolist() == [
            [3.0, 4.0],
            [9.0, 10.0],
            [15.0, 16.0],
            [21.0, 22.0],
        ]


def test_a_window_without_a_static_size_says_to_declare_it(grid):
    i = tf.placeholder(tf.int32, [])
    window = grid[:, i : i + 2]
    assert window.shape.as_list() == [4, None]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.UnimplementedError) as info:
            sess.run(window, {i: 1})
    assert str(info.value) == (
        "slice 1 of strided_slice:0 has bounds computed on the device and no "
        "static size: declare the result's shape with set_shape(...), or use "
        "tf.slice with a constant size"
    )


def test_a_queue_of_offsets_reads_consecutive_windows():
    # The PTB reader's pattern: a range producer whose limit is computed from
    # the data's size, and slices at the dequeued offset.
    data = tf.reshape(tf.range(12), [2, 6])
    steps = (tf.shape(data)[1] - 1) // 2
    offset = tf.train.range_input_producer(steps, shuffle=False).dequeue()
    x = tf.strided_slice(data, [0, offset * 2], [2, (offset + 1) * 2])
    x.set_shape([2, 2])
    y = tf.strided_slice(data, [0, offset * 2 + 1], [2, (offset + 1) * 2 + 1])
    y.set_shape([2, 2])
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord=coord)
        got = [sess.run([x, y]) for _ in range(3)]
        coord.request_stop()
        coord.join(threads)
    assert [(a.tolist(), b.tolist()) for a, b in got] == [
        ([[0, 1], [6, 7]], [[1, 2], [7, 8]]),
        ([[2, 3], [8, 9]], [[3, 4], [9, 10]]),
        ([[0, 1], [6, 7]], [[1, 2], [7, 8]]),
    ]


def test_a_range_producer_limit_known_only_in_a_run_is_refused_with_a_hint():
    limit = tf.placeholder(tf.int32, [], name="limit")
    with pytest.raises(tf.errors.UnimplementedError) as info:
        tf.train.range_input_producer(limit)
    assert "'limit:0' depends on a run" in str(info.value)
    assert "tf.data.Dataset.range" in str(info.value)


def test_a_range_producer_limit_below_one_is_refused():
    with pytest.raises(tf.errors.InvalidArgumentError, match="is 0: the queue"):
        tf.train.range_input_producer(tf.constant(3) // 4)
