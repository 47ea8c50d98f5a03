"""Plan: control edges on fed ops, and values known while building."""

import re

import numpy as np
import pytest
from tensorboardX.proto.summary_pb2 import Summary

import jaxsession as tf
from jaxsession.engine.plan import make_plan


def _plan(sess, fetches, feed_keys=()):
    """The plan of the session's runner for ``fetches`` and these feeds."""
    runners = sess._prepare(fetches).runners
    [runner] = [r for k, r in runners.items() if [t for t, _ in k] == list(feed_keys)]
    return runner.plan


def test_control_edge_on_a_fed_placeholder_needs_no_other_feed():
    x = tf.placeholder(tf.float32, [2], name="x")
    a = tf.placeholder(tf.float32, [2], name="a")
    with tf.control_dependencies([x.op]):
        y = tf.multiply(a, 2.0, name="y")
    with tf.Session() as sess:
        out = sess.run(y, {x: [0.0, 0.0], a: [1.0, 2.0]})
        np.testing.assert_allclose(out, [2.0, 4.0])
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape("You must feed a value for placeholder tensor 'x'"),
        ):
            sess.run(y, {a: [1.0, 2.0]})


def test_control_edge_on_a_fed_op_does_not_need_its_inputs_fed():
    p = tf.placeholder(tf.float32, [2], name="p")
    z = tf.identity(p, name="z")
    v = tf.Variable(np.zeros(2, np.float32), name="v")
    with tf.control_dependencies([z.op]):
        bump = v.assign_add(tf.ones([2]))
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_allclose(sess.run(bump, {z: [5.0, 5.0]}), [1.0, 1.0])
        plan = make_plan([bump], [], [z])
        assert not [op for op in plan.ops if op.type in ("Placeholder", "Identity")]
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape("You must feed a value for placeholder tensor 'p'"),
        ):
            sess.run(bump)
        np.testing.assert_allclose(sess.run(v), [1.0, 1.0])


def test_fetching_a_known_value_needs_no_feed_and_no_device_fetch():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    shape = tf.shape(x)
    c = tf.constant(2.0) * 3.0
    half = tf.constant(np.float64(0.1), dtype=tf.float64)
    with tf.Session() as sess:
        out = sess.run({"shape": shape, "c": c, "half": half})
        assert out["shape"].tolist() == [2, 3] and out["shape"].dtype == np.int32
        assert out["c"] == 6.0 and out["c"].dtype == np.float32
        assert out["half"].dtype == np.float64
        plan = _plan(sess, {"shape": shape, "c": c, "half": half})
        assert plan.fetches == () and plan.ops == ()
        assert set(plan.constants) == {shape, c, half}
        # Fed, a tensor with a known value takes the fed value, and so does
        # everything computed from it.
        double = c * 2.0
        assert sess.run([c, double], {c: 5.0}) == [5.0, 10.0]
        assert sess.run(double) == 12.0


def test_a_known_value_under_a_control_edge_still_runs_the_edge():
    v = tf.Variable(0.0, name="v")
    bump = v.assign_add(1.0)
    with tf.control_dependencies([bump.op]):
        c = tf.constant(7.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(c) == 7.0
        assert sess.run(c) == 7.0
        assert sess.run(v) == 2.0


def test_summary_of_a_known_value_is_made_on_the_host():
    x = tf.placeholder(tf.float32, [], name="x")
    known = tf.summary.scalar("known", tf.constant(3.0) + 1.0)
    fed = tf.summary.scalar("fed", x * 2.0)
    with tf.Session() as sess:
        blob = sess.run(known)
        assert _plan(sess, known).fetches == ()
        [value] = Summary.FromString(blob).value
        assert (value.tag, value.simple_value) == ("known", 4.0)
        both = sess.run([known, fed], {x: 5.0})
        values = [Summary.FromString(b).value[0].simple_value for b in both]
        assert values == [4.0, 10.0]
        plan = _plan(sess, [known, fed], [x])
        assert [t.op.type for t in plan.fetches] == ["Mul"]


def test_a_constant_fetched_beside_an_op_that_consumes_it():
    # A loss of constants and the total loss over it and a regularizer, as
    # tf.losses.get_total_loss builds it: the constant is served on the host
    # and still reaches the op that adds it.
    with tf.Graph().as_default():
        const_loss = tf.losses.mean_squared_error(
            tf.constant([1.0, 2.0]), tf.constant([0.0, 2.5])
        )
        tf.get_variable(
            "w",
            initializer=tf.constant([1.0, -2.0]),
            regularizer=lambda v: 0.5 * tf.reduce_sum(tf.square(v)),
        )
        total = tf.losses.get_total_loss()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run([const_loss, total])
    np.testing.assert_allclose(got, [0.625, 3.125], rtol=1e-6)
