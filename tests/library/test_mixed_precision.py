"""bfloat16_scope, custom getters and float16 dynamic loss scaling.

The expected numbers were recorded from TensorFlow 2.21 (compat.v1) running
the same programs.
"""

import numpy as np
import pytest

import jaxsession as tf


def test_bfloat16_scope_stores_float32_and_reads_bfloat16():
    with tf.variable_scope("a"), tf.tpu.bfloat16_scope() as scope:
        assert scope.name == "a/"  # as TF1: an empty scope name under "a"
        v = tf.get_variable("w", [2], dtype=tf.bfloat16)
        u = tf.get_variable("u", [2])
    assert v.dtype == tf.bfloat16 and not isinstance(v, tf.Variable)
    assert u.dtype == tf.float32 and isinstance(u, tf.Variable)
    assert [(x.op.name, x.dtype) for x in tf.global_variables()] == [
        ("a//w", tf.float32),  # TF1's name, double slash included
        ("a//u", tf.float32),
    ]


def test_a_bfloat16_model_trains_float32_masters(tmp_path):
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    with tf.tpu.bfloat16_scope("net"):
        h = tf.layers.dense(tf.cast(x, tf.bfloat16), 2, name="d")
    assert h.dtype == tf.bfloat16 and h.op.name == "net/d/BiasAdd"
    kernel, bias = tf.trainable_variables()
    assert (kernel.op.name, kernel.dtype) == ("net/d/kernel", tf.float32)
    assert (bias.op.name, bias.dtype) == ("net/d/bias", tf.float32)
    loss = tf.reduce_sum(tf.cast(h, tf.float32))
    grads = tf.gradients(loss, [kernel, bias])
    assert [g.dtype for g in grads] == [tf.float32, tf.float32]
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        k0 = sess.run(kernel)
        sess.run(train)
        saver = tf.train.Saver()
        path = saver.save(sess, str(tmp_path / "m"))
        saver.close()
        k1 = sess.run(kernel)
    # d loss / d kernel = the column sums of x, for each of the 2 units.
    np.testing.assert_allclose(k0 - k1, 0.5 * np.tile(x.sum(0)[:, None], 2), atol=1e-2)
    assert dict(tf.train.NewCheckpointReader(path).get_variable_to_dtype_map()) == {
        "net/d/kernel": tf.float32,
        "net/d/bias": tf.float32,
    }


def test_custom_getters_nest_as_in_tf1():
    calls = []

    def tagging(tag):
        def getter(getter, name, *args, **kwargs):
            calls.append((tag, name, kwargs["dtype"]))
            return getter(name, *args, **kwargs)

        return getter

    with tf.variable_scope("outer", custom_getter=tagging("outer")):
        with tf.variable_scope("inner", custom_getter=tagging("inner")):
            v = tf.get_variable("v", [1])
        w = tf.get_variable("w", [1], custom_getter=tagging("own"))
    assert calls == [
        ("inner", "outer/inner/v", tf.float32),
        ("outer", "outer/inner/v", tf.float32),
        ("own", "outer/w", tf.float32),
    ]
    assert v.op.name == "outer/inner/v" and w.op.name == "outer/w"


def test_the_default_loss_scale_is_tf1s():
    assert tf.mixed_precision.DynamicLossScale().get_config() == {
        "initial_loss_scale": 32768.0,
        "increment_period": 2000,
        "multiplier": 2.0,
    }
    assert tf.train.experimental.enable_mixed_precision_graph_rewrite is (
        tf.mixed_precision.enable_mixed_precision_graph_rewrite
    )


def test_dynamic_loss_scale_halves_skips_and_doubles_as_tf1():
    x = tf.placeholder(tf.float32, [2])
    w = tf.get_variable("w", initializer=np.array([1.0, 2.0], np.float32))
    step = tf.train.get_or_create_global_step()
    scale = tf.mixed_precision.DynamicLossScale(4, increment_period=2)
    opt = tf.train.experimental.enable_mixed_precision_graph_rewrite(
        tf.train.GradientDescentOptimizer(0.5), loss_scale=scale
    )
    train = opt.minimize(tf.reduce_sum(w * x), global_step=step)
    names = [
        (v.op.name, v.dtype, v in tf.trainable_variables())
        for v in tf.global_variables()
    ]
    assert names == [
        ("w", tf.float32, True),
        ("global_step", tf.int64, False),
        ("current_loss_scale", tf.float32, False),
        ("good_steps", tf.int64, False),
    ]
    got = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for feed in [[1, 1], [np.inf, 1], [1, 1], [1, 1], [1, 1], [np.nan, 0], [1, 1]]:
            sess.run(train, {x: np.array(feed, np.float32)})
            got.append(sess.run([w, step, "current_loss_scale:0", "good_steps:0"]))
    want = [  # TF 2.21: w, global_step, current_loss_scale, good_steps
        ([0.5, 1.5], 1, 4.0, 1),
        ([0.5, 1.5], 1, 2.0, 0),
        ([0.0, 1.0], 2, 2.0, 1),
        ([-0.5, 0.5], 3, 4.0, 0),
        ([-1.0, 0.0], 4, 4.0, 1),
        ([-1.0, 0.0], 4, 2.0, 0),
        ([-1.5, -0.5], 5, 2.0, 1),
    ]
    for (gw, gs, gscale, ggood), (ww, ws, wscale, wgood) in zip(got, want):
        np.testing.assert_array_equal(gw, ww)
        assert (gs, gscale, ggood) == (ws, wscale, wgood)


def test_float16_overflow_skips_until_the_scale_fits():
    x = tf.constant(np.array([4.0, 4.0], np.float16))
    w = tf.get_variable("w", initializer=np.array([1.0, 2.0], np.float32))
    step = tf.train.get_or_create_global_step()
    loss = tf.reduce_sum(tf.cast(w, tf.float16) * x)
    opt = tf.train.experimental.enable_mixed_precision_graph_rewrite(
        tf.train.AdamOptimizer(0.1)
    )
    train = opt.minimize(tf.cast(loss, tf.float32), global_step=step)
    got = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(4):
            sess.run(train)
            got.append(
                sess.run([w, step, "current_loss_scale:0", opt.get_slot(w, "m")])
            )
    # TF 2.21: 32768 * 4 and 16384 * 4 overflow float16; 8192 * 4 does not.
    want = [
        ([1.0, 2.0], 0, 16384.0, [0.0, 0.0]),
        ([1.0, 2.0], 0, 8192.0, [0.0, 0.0]),
        ([0.9000000357627869, 1.899999976158142], 1, 8192.0, [0.4, 0.4]),
        ([0.8000003695487976, 1.8000003099441528], 2, 8192.0, [0.76, 0.76]),
    ]
    for (gw, gs, gscale, gm), (ww, ws, wscale, wm) in zip(got, want):
        np.testing.assert_allclose(gw, ww, rtol=1e-6)
        np.testing.assert_allclose(gm, wm, rtol=1e-6)
        assert (gs, gscale) == (ws, wscale)
    assert w.dtype == tf.float32


def test_bad_arguments_are_named():
    opt = tf.train.GradientDescentOptimizer(0.1)
    wrapped = tf.train.experimental.enable_mixed_precision_graph_rewrite(opt, 128)
    assert wrapped.loss_scale.get_config() == {"loss_scale_value": 128.0}
    with pytest.raises(ValueError, match="must not already be an instance"):
        tf.train.experimental.enable_mixed_precision_graph_rewrite(wrapped)
    with pytest.raises(
        ValueError,
        match=r'"opt" must be an instance of a tf\.train\.Optimizer, but got: sgd',
    ):
        tf.mixed_precision.enable_mixed_precision_graph_rewrite("sgd")
    with pytest.raises(
        ValueError, match="Could not interpret loss scale identifier: static"
    ):
        tf.mixed_precision.enable_mixed_precision_graph_rewrite(opt, "static")
