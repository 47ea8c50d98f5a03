"""THE feed check: every bad feed named, on every run path."""

import re

import numpy as np
import pytest

import jaxsession as tf


@pytest.fixture
def feeds():
    xs = [tf.placeholder(tf.float32, [None, 2], name=f"x{i}") for i in range(7)]
    n = tf.placeholder(tf.int32, [3], name="n")
    total = tf.add_n([tf.reduce_sum(x) for x in xs]) + tf.cast(
        tf.reduce_sum(n), tf.float32
    )
    return xs, n, total


def _bad(
    i: int, shape: str = "(3, 4)", got: str = "dimension 1 must be 2, got 4"
) -> str:
    return (
        f"  Cannot feed value of shape {shape} for Tensor 'x{i}:0', which has "
        f"shape (?, 2): {got}."
    )


def test_one_bad_feed_raises_its_own_message(feeds):
    xs, n, total = feeds
    good = {x: np.zeros((1, 2), np.float32) for x in xs}
    with tf.Session() as sess:
        with pytest.raises(ValueError) as info:
            sess.run(total, {**good, xs[3]: np.zeros((3, 4)), n: [1, 2, 3]})
    assert str(info.value) == _bad(3).strip()


def test_several_bad_feeds_are_all_listed(feeds):
    xs, n, total = feeds
    feed = {x: np.zeros((1, 2), np.float32) for x in xs}
    feed.update({xs[1]: np.zeros((3, 4)), xs[4]: np.zeros(2), n: [1, 2]})
    want = "\n".join(
        [
            "3 fed values do not fit their tensors:",
            _bad(1),
            _bad(4, "(2,)", "rank must be 2, got 1"),
            "  Cannot feed value of shape (2,) for Tensor 'n:0', which has shape "
            "(3,): dimension 0 must be 3, got 2.",
        ]
    )
    with tf.Session() as sess:
        with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
            sess.run(total, feed)
        fn = sess.make_callable(total, [*xs, n])
        with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
            fn(*[feed[x] for x in xs], feed[n])


def test_the_list_stops_at_five_then_counts_the_rest(feeds):
    xs, n, total = feeds
    feed = {x: np.zeros((3, 4)) for x in xs}
    feed[n] = [1, 2, 3]
    want = "\n".join(
        ["7 fed values do not fit their tensors:"]
        + [_bad(i) for i in range(5)]
        + ["  and 2 more."]
    )
    with tf.Session() as sess:
        with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
            sess.run(total, feed)


def test_bad_dtypes_are_listed_as_a_type_error(feeds):
    xs, n, total = feeds
    want = "\n".join(
        [
            "2 fed values do not fit their tensors:",
            "  Cannot feed value of dtype float64 for Tensor 'n:0' of dtype int32: "
            "converting floats to integers would lose data",
            "  Cannot interpret feed_dict key as Tensor: 'nope:0' (\"The name "
            "'nope:0' refers to a Tensor which does not exist. The operation, "
            "'nope', does not exist in the graph.\")",
        ]
    )
    feed = {x: np.zeros((1, 2), np.float32) for x in xs}
    feed.update({n: np.zeros(3), "nope:0": 1.0})
    with tf.Session() as sess:
        with pytest.raises(TypeError) as info:
            sess.run(total, feed)
        assert str(info.value) == want
        fn = sess.make_callable(total, [*xs, n])
        args = [np.zeros((1, 2), np.float32)] * 6
        with pytest.raises(TypeError) as info:
            fn(np.array([["a", "b"]]), *args, np.zeros(3))
        assert str(info.value) == "\n".join(
            [
                "2 fed values do not fit their tensors:",
                "  Cannot feed value array([['a', 'b']], dtype='<U1') of dtype <U1 "
                "for Tensor 'x0:0' of dtype float32",
                "  Cannot feed value of dtype float64 for Tensor 'n:0' of dtype int32: "
                "converting floats to integers would lose data",
            ]
        )


def test_k_step_runs_list_every_feed_without_its_step_axis():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.float32, [2], name="y")
    v = tf.Variable(0.0, name="v")
    op = v.assign_add(tf.reduce_sum(x) + tf.reduce_sum(y))
    want = "\n".join(
        [
            "2 fed values do not fit their tensors:",
            "  Cannot feed value of shape (4, 2) for Tensor 'x:0' in a run of "
            "steps_per_run=3: a fed value needs a leading axis of 3 steps, so the "
            "expected shape is (3, ?, 2) (the tensor has shape (?, 2)).",
            "  Cannot feed value of shape (2,) for Tensor 'y:0' in a run of "
            "steps_per_run=3: a fed value needs a leading axis of 3 steps, so the "
            "expected shape is (3, 2) (the tensor has shape (2,)).",
        ]
    )
    with tf.Session() as sess:
        sess.run(v.initializer)
        feed = {x: np.ones((4, 2), np.float32), y: np.ones(2, np.float32)}
        with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
            sess.run(op, feed, steps_per_run=3)
        # Nothing ran.
        assert sess.run(v) == 0.0


def test_traced_runs_check_feeds_the_same_way(feeds):
    xs, n, total = feeds
    feed = {x: np.zeros((1, 2), np.float32) for x in xs}
    feed.update({xs[1]: np.zeros((3, 4)), xs[2]: np.zeros((3, 4))})
    feed[n] = [1, 2, 3]
    want = "\n".join(["2 fed values do not fit their tensors:", _bad(1), _bad(2)])
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    with tf.Session() as sess:
        with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
            sess.run(total, feed, options=options, run_metadata=tf.RunMetadata())
