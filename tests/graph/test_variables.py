import re

import numpy as np
import pytest

import jaxsession as tf


def test_variable_names_collections_and_initializer():
    v = tf.Variable(np.zeros((2, 3), np.float32), name="v")
    u = tf.Variable(1, trainable=False, name="u")
    assert (v.name, v.op.name, v.initializer.name) == ("v:0", "v", "v/Assign")
    assert v.shape.as_list() == [2, 3] and v.dtype == tf.float32
    assert u.dtype == tf.int32
    assert tf.global_variables() == [v, u]
    assert tf.trainable_variables() == [v]
    assert repr(v) == "<tf.Variable 'v:0' shape=(2, 3) dtype=float32>"


def test_read_before_init_fails_and_report_uninitialized():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    report = tf.report_uninitialized_variables()
    ready = tf.is_variable_initialized(a)
    with tf.Session() as sess:
        assert list(sess.run(report)) == [b"a", b"b"]
        with pytest.raises(
            tf.errors.FailedPreconditionError,
            match=re.escape(
                "Attempting to use uninitialized value a, b (read by <tf.Operation 'a' type=VariableV2>"
            ),
        ):
            sess.run(a + b)
        sess.run(a.initializer)
        assert list(sess.run(report)) == [b"b"]
        assert sess.run(ready).dtype == np.bool_ and bool(sess.run(ready))
        sess.run(tf.variables_initializer([b]))
        assert sess.run(report).shape == (0,)
        assert sess.run(a + b) == pytest.approx(3.0)


def test_assign_ops_and_ordering_semantics():
    v = tf.Variable(1.0, name="v")
    inc = v.assign_add(1.0)
    with tf.control_dependencies([inc]):
        after = v.read_value()
    before = v.value() * 1.0
    with tf.Session() as sess:
        sess.run(v.initializer)
        # A read ordered after the assign sees the new value; an unordered read
        # sees the value at the start of the run.
        got_after, got_before = sess.run([after, before])
        assert (got_after, got_before) == (2.0, 1.0)
        assert sess.run(v) == 2.0
        assert sess.run(v.assign(5.0)) == 5.0
        assert sess.run(v.assign_sub(2.0)) == 3.0
        assert sess.run(tf.assign_add(v, 1.0)) == 4.0
        v.load(10.0, sess)
        assert v.eval(sess) == 10.0


def test_two_runs_of_a_program_give_the_same_values():
    def program():
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(3)
            w = tf.get_variable("w", [4, 3])
            step = w.assign(w * 0.5 + 1.0)
            init = tf.global_variables_initializer()
        with tf.Session(graph=g) as sess:
            sess.run(init)
            for _ in range(3):
                sess.run(step)
            return sess.run(w)

    np.testing.assert_array_equal(program(), program())


def test_get_variable_scopes_and_reuse_errors():
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", [2], initializer=tf.zeros_initializer())
    with tf.variable_scope("layer", reuse=True):
        assert tf.get_variable("w", [2]) is w
    with tf.variable_scope("layer", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w") is w
        b = tf.get_variable("b", [3], initializer=tf.ones_initializer())
    assert (w.name, b.name) == ("layer/w:0", "layer/b:0")
    with pytest.raises(
        ValueError, match=re.escape("Variable layer/w already exists, disallowed.")
    ):
        with tf.variable_scope("layer"):
            tf.get_variable("w", [2])
    with pytest.raises(ValueError, match=re.escape("Variable layer/zz does not exist")):
        with tf.variable_scope("layer", reuse=True):
            tf.get_variable("zz", [2])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Trying to share variable layer/w, but specified shape (3,) and found shape (2,)."
        ),
    ):
        with tf.variable_scope("layer", reuse=True):
            tf.get_variable("w", [3])
    with pytest.raises(
        ValueError,
        match=re.escape("Shape of a new variable (nope) must be fully defined"),
    ):
        tf.get_variable("nope")


def test_variable_scope_reopened_object_and_nested_names():
    with tf.variable_scope("outer") as outer:
        with tf.variable_scope("inner"):
            v = tf.get_variable("v", [1])
            c = tf.constant(0.0, name="c")
    with tf.variable_scope(outer, reuse=True):
        with tf.variable_scope("inner"):
            assert tf.get_variable("v", [1]) is v
    assert v.name == "outer/inner/v:0"
    assert c.op.name == "outer/inner/c"
    with tf.variable_scope(None, default_name="blk"):
        a = tf.get_variable("a", [1])
    with tf.variable_scope(None, default_name="blk"):
        b = tf.get_variable("a", [1])
    assert (a.name, b.name) == ("blk/a:0", "blk_1/a:0")


def test_initializers_values_and_statistics():
    tf.set_random_seed(0)
    shape = [200, 100]
    inits = {
        "zeros": tf.zeros_initializer(),
        "ones": tf.ones_initializer(),
        "const": tf.constant_initializer(3.0),
        "normal": tf.random_normal_initializer(1.0, 2.0),
        "trunc": tf.truncated_normal_initializer(0.0, 1.0),
        "uniform": tf.random_uniform_initializer(-1.0, 3.0),
        "glorot_u": tf.glorot_uniform_initializer(),
        "glorot_n": tf.glorot_normal_initializer(),
        "vs": tf.variance_scaling_initializer(2.0, "fan_in", "uniform"),
    }
    vs = {k: tf.get_variable(k, shape, initializer=i) for k, i in inits.items()}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(vs)
    np.testing.assert_array_equal(got["zeros"], 0.0)
    np.testing.assert_array_equal(got["ones"], 1.0)
    np.testing.assert_array_equal(got["const"], 3.0)
    assert got["normal"].mean() == pytest.approx(1.0, abs=0.05)
    assert got["normal"].std() == pytest.approx(2.0, rel=0.03)
    assert np.abs(got["trunc"]).max() <= 2.0
    assert got["uniform"].min() >= -1.0 and got["uniform"].max() < 3.0
    limit = np.sqrt(6.0 / (200 + 100))
    assert np.abs(got["glorot_u"]).max() <= limit
    assert got["glorot_u"].std() == pytest.approx(limit / np.sqrt(3), rel=0.03)
    assert got["glorot_n"].std() == pytest.approx(np.sqrt(2.0 / 300), rel=0.05)
    assert np.abs(got["vs"]).max() <= np.sqrt(3 * 2.0 / 200)


def test_constant_initializer_with_array_value_and_default_glorot():
    v = tf.get_variable("v", [2, 2], initializer=tf.constant_initializer([1, 2, 3, 4]))
    w = tf.get_variable("w", [30, 20])
    i = tf.get_variable("i", [3], dtype=tf.int32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(v), [[1, 2], [3, 4]])
        assert np.abs(sess.run(w)).max() <= np.sqrt(6.0 / 50)
        np.testing.assert_array_equal(sess.run(i), [0, 0, 0])


def test_global_step_helpers():
    assert tf.train.get_global_step() is None
    gs = tf.train.get_or_create_global_step()
    assert gs.name == "global_step:0" and gs.dtype == tf.int64
    assert tf.train.get_or_create_global_step() is gs
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [gs]
    with pytest.raises(ValueError, match=re.escape('"global_step" already exists.')):
        tf.train.create_global_step()
    tf.train.assert_global_step(gs)
    with pytest.raises(TypeError, match="does not have integer type"):
        tf.train.assert_global_step(tf.Variable(0.0))
    inc = gs.assign_add(1)
    with tf.Session() as sess:
        sess.run(gs.initializer)
        sess.run(inc)
        value = sess.run(gs)
    assert value == 1 and value.dtype == np.int64


def test_variable_shape_mismatch_on_assign():
    v = tf.Variable(np.zeros(3, np.float32), name="v")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "cannot assign a value of shape (4,) to variable 'v' of shape (3,)"
        ),
    ):
        v.assign(np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="initial_value must be specified"):
        tf.Variable()


def test_create_global_step_is_named_under_the_variable_scope():
    with tf.variable_scope("foo"):
        step = tf.train.create_global_step()
    assert step.op.name == "foo/global_step"
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
    assert tf.train.get_global_step() is step
    with pytest.raises(ValueError, match=r'"global_step" already exists\.'):
        tf.train.create_global_step()
