"""THE feed check: every bad feed named, on every run path."""

import re

import jax.numpy as jnp
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


OUT_OF_RANGE = (
    "  Type of feed value an array is not compatible with Tensor 'n:0' of dtype "
    "int32: it is out of the range of int32; try a larger type for the tensor "
    "(e.g. int64)."
)


def test_bad_dtypes_are_listed_as_a_type_error(feeds):
    xs, n, total = feeds
    want = "\n".join(
        [
            "2 fed values do not fit their tensors:",
            OUT_OF_RANGE,
            "  Cannot interpret feed_dict key as Tensor: 'nope:0' (\"The name "
            "'nope:0' refers to a Tensor which does not exist. The operation, "
            "'nope', does not exist in the graph.\")",
        ]
    )
    feed = {x: np.zeros((1, 2), np.float32) for x in xs}
    feed.update({n: np.array([2**40, 0, 0]), "nope:0": 1.0})
    with tf.Session() as sess:
        with pytest.raises(TypeError) as info:
            sess.run(total, feed)
        assert str(info.value) == want
        fn = sess.make_callable(total, [*xs, n])
        args = [np.zeros((1, 2), np.float32)] * 6
        with pytest.raises(TypeError) as info:
            fn(np.array([["a", "b"]]), *args, np.array([2**40, 0, 0]))
        assert str(info.value) == "\n".join(
            [
                "2 fed values do not fit their tensors:",
                "  Cannot feed value array([['a', 'b']], dtype='<U1') of dtype <U1 "
                "for Tensor 'x0:0' of dtype float32",
                OUT_OF_RANGE,
            ]
        )


def test_after_good_runs_the_same_keys_still_name_every_bad_feed(feeds):
    # A run repeating its keys skips the graph lookup and checks the shapes of
    # a new signature only: the errors must not change.
    xs, n, total = feeds
    good = {x: np.zeros((1, 2), np.float32) for x in xs}
    good[n] = np.array([1, 2, 3], np.int32)
    with tf.Session() as sess:
        assert sess.run(total, good) == 6.0
        by_name = {f"x{i}:0": v for i, v in enumerate(good.values()) if i < 7}
        assert sess.run(total, {**by_name, "n:0": [2, 2, 2]}) == 6.0
        with pytest.raises(ValueError) as info:
            sess.run(total, {**good, xs[3]: np.zeros((3, 4), np.float32)})
        assert str(info.value) == _bad(3).strip()
        with pytest.raises(ValueError) as info:
            sess.run(total, {**good, xs[1]: np.zeros((3, 4)), n: [1, 2]})
        assert str(info.value).startswith("2 fed values do not fit their tensors:")
        with pytest.raises(TypeError, match="it is out of the range of int32"):
            sess.run(total, {**good, n: np.array([2**40, 0, 0])})
        assert sess.run(total, {**good, xs[0]: np.ones((5, 2), np.float32)}) == 16.0


def test_set_shape_after_a_run_is_checked_on_the_next_feed():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    total = tf.reduce_sum(x)
    with tf.Session() as sess:
        assert sess.run(total, {x: np.ones((5, 3))}) == 15.0
        x.set_shape([2, 3])
        with pytest.raises(ValueError) as info:
            sess.run(total, {x: np.ones((5, 3))})
        assert str(info.value) == (
            "Cannot feed value of shape (5, 3) for Tensor 'x:0', which has shape "
            "(2, 3): dimension 0 must be 2, got 5."
        )
        assert sess.run(total, {x: np.ones((2, 3))}) == 6.0


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


# -- values that must not change on the way in ------------------------------------


def test_an_int_out_of_the_placeholders_range_is_refused_not_wrapped():
    with tf.Graph().as_default():
        count = tf.placeholder(tf.int32, [], name="count")
        with tf.Session() as sess:
            # TF 2.21 raises TypeError too ("Type of feed value 4294967303 ...").
            with pytest.raises(
                TypeError,
                match=re.escape(
                    "Type of feed value 4294967303 is not compatible with Tensor "
                    "'count:0' of dtype int32: it is out of the range of int32; "
                    "try a larger type for the tensor (e.g. int64)."
                ),
            ):
                sess.run(count + 0, {count: 2**32 + 7})
            with pytest.raises(TypeError, match="'count:0'"):
                sess.run(count + 0, {count: np.array(2**40, np.int64)})
            assert sess.run(count + 0, {count: np.int64(-5)}) == -5


def test_an_int64_beyond_32_bits_names_the_x64_switch():
    # Differs from TF1 on purpose: without jax_enable_x64 int64 is computed
    # in 32 bits, so such a value would silently become another number.
    with tf.Graph().as_default():
        big = tf.placeholder(tf.int64, [], name="big")
        with tf.Session() as sess:
            with pytest.raises(TypeError, match="jax_enable_x64") as info:
                sess.run(big + 0, {big: 2**40})
            assert "'big:0' of dtype int64" in str(info.value)
            assert sess.run(big + 0, {big: 2**31 - 1}) == 2**31 - 1


def test_floats_fed_to_an_int_placeholder_are_truncated_as_in_tf1(caplog):
    # TF1 converts with np.asarray(value, dtype): toward zero, NaN to the
    # minimum (checked with tensorflow.compat.v1). Logged once per tensor.
    with tf.Graph().as_default():
        ids = tf.placeholder(tf.int32, [3], name="ids")
        with tf.Session() as sess:
            for value in (
                np.array([1.7, -2.7, 2.0], np.float32),
                jnp.array([1.7, -2.7, 2.0]),
                [1.7, -2.7, 2.0],
            ):
                np.testing.assert_array_equal(
                    sess.run(ids + 0, {ids: value}), [1, -2, 2]
                )
            assert sess.run(ids + 0, {ids: [np.nan, 0.0, 0.0]})[0] == -(2**31)
    notes = [r.getMessage() for r in caplog.records if "truncated" in r.getMessage()]
    assert notes == [
        "Feeding float32 values to int32 tensor 'ids:0': they are truncated toward "
        "zero, as in TF1."
    ]


def test_a_string_placeholder_takes_only_strings():
    with tf.Graph().as_default():
        words = tf.placeholder(tf.string, [None], name="words")
        with tf.Session() as sess:
            with pytest.raises(
                TypeError,
                match=re.escape(
                    "Cannot feed 1 of type int in the value for Tensor 'words:0' of "
                    "dtype string: expected str or bytes"
                ),
            ):
                sess.run(tf.identity(words), {words: [1, None, 2.5]})
            got = sess.run(tf.identity(words), {words: ["a", b"b"]})
    assert list(got) == [b"a", b"b"]


def test_a_dict_fetch_may_mix_key_types():
    with tf.Graph().as_default():
        a, b = tf.constant(1), tf.constant(2.0)
        with tf.Session() as sess:
            got = sess.run({"a": a, 1: b, (2, 3): [a, b]})
            again = sess.run({"a": a, 1: b, (2, 3): [a, b]})
    # As TF 2.21 returns it: the same keys, in the same order.
    assert list(got) == ["a", 1, (2, 3)]
    assert got["a"] == 1 and got[1] == 2.0 and list(got[(2, 3)]) == [1, 2.0]
    assert again == got
