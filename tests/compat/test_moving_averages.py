"""train.ExponentialMovingAverage: updates, names, collections, save and restore."""

import re

import numpy as np
import pytest

import jaxsession as tf


def _model():
    w = tf.Variable(1.0, name="w")
    b = tf.Variable([0.0, 2.0], name="b")
    step = tf.Variable(0, trainable=False, name="global_step")
    train = tf.group(
        tf.assign_add(w, 1.0), tf.assign(b, b * 2.0), tf.assign_add(step, 1)
    )
    return w, b, step, train


def test_apply_updates_shadows_with_decay():
    w, b, _, train = _model()
    ema = tf.train.ExponentialMovingAverage(0.9)
    with tf.control_dependencies([train]):
        update = ema.apply([w, b])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(ema.average(w)), 1.0)
        shadow_w, shadow_b = 1.0, np.array([0.0, 2.0])
        for _ in range(3):
            sess.run(update)
            w_now, b_now = sess.run([w, b])
            shadow_w -= 0.1 * (shadow_w - w_now)
            shadow_b -= 0.1 * (shadow_b - b_now)
            np.testing.assert_allclose(sess.run(ema.average(w)), shadow_w, rtol=1e-6)
            np.testing.assert_allclose(sess.run(ema.average(b)), shadow_b, rtol=1e-6)


def test_num_updates_limits_the_decay():
    w, _, step, train = _model()
    ema = tf.train.ExponentialMovingAverage(0.999, num_updates=step)
    with tf.control_dependencies([train]):
        update = ema.apply([w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(update)
        # step is 1 after the train op: decay = min(0.999, 2 / 11).
        decay = 2.0 / 11.0
        np.testing.assert_allclose(
            sess.run(ema.average(w)), 1.0 - (1 - decay) * (1.0 - 2.0), rtol=1e-6
        )


def test_tensor_averages_with_zero_debias():
    x = tf.placeholder(tf.float32, [])
    ema = tf.train.ExponentialMovingAverage(0.5, zero_debias=True)
    update = ema.apply([x])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(update, {x: 4.0})
        # Debiased: the first average equals the first value.
        np.testing.assert_allclose(sess.run(ema.average(x)), 4.0, rtol=1e-6)
        sess.run(update, {x: 8.0})
        biased = 0.5 * (0.5 * 4.0) + 0.5 * 8.0
        np.testing.assert_allclose(
            sess.run(ema.average(x)), biased / (1 - 0.25), rtol=1e-6
        )


def test_names_collections_and_variables_to_restore():
    w, b, step, _ = _model()
    ema = tf.train.ExponentialMovingAverage(0.9)
    assert ema.average_name(w) == "w/ExponentialMovingAverage"
    assert ema.average(w) is None
    ema.apply([w, b])
    assert ema.average(w).name == "w/ExponentialMovingAverage:0"
    assert not ema.average(w).trainable
    assert tf.moving_average_variables() == [w, b]
    assert ema.average(b) in tf.global_variables()
    restore = ema.variables_to_restore()
    assert restore == {
        "w/ExponentialMovingAverage": w,
        "b/ExponentialMovingAverage": b,
        "global_step": step,
    }
    with pytest.raises(
        ValueError, match=re.escape("Moving average already computed for: w:0")
    ):
        ema.apply([w])
    with pytest.raises(TypeError, match="global_step:0 has dtype int32"):
        ema.apply([step])


def test_shadows_are_saved_and_restored_into_the_model(tmp_path):
    w, b, step, train = _model()
    ema = tf.train.ExponentialMovingAverage(0.5)
    with tf.control_dependencies([train]):
        update = ema.apply()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(2):
            sess.run(update)
        want = sess.run({"w": w, "w_avg": ema.average(w), "b_avg": ema.average(b)})
        path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=step)
        saver.wait_until_finished()
    names = [name for name, _ in tf.train.list_variables(path)]
    assert (
        "w/ExponentialMovingAverage" in names and "b/ExponentialMovingAverage" in names
    )
    # Evaluation graph: the model's variables take the averaged values.
    tf.reset_default_graph()
    w2, b2, _, _ = _model()
    ema2 = tf.train.ExponentialMovingAverage(0.5)
    restorer = tf.train.Saver(ema2.variables_to_restore())
    with tf.Session() as sess:
        restorer.restore(sess, path)
        np.testing.assert_allclose(sess.run(w2), want["w_avg"])
        np.testing.assert_allclose(sess.run(b2), want["b_avg"])
    assert want["w"] != want["w_avg"]


def test_apply_returns_a_group_named_after_the_average():
    w = tf.Variable([1.0, 2.0])
    assert tf.train.ExponentialMovingAverage(0.9).apply([w]).name == (
        "ExponentialMovingAverage"
    )
    v = tf.Variable(1.0)
    assert tf.train.ExponentialMovingAverage(0.9, name="avg").apply([v]).name == "avg"


def _batch_norm(x, phase_train):
    # The Stack Overflow batch norm that many TF1 conv nets copied.
    with tf.variable_scope("bn"):
        beta = tf.Variable(tf.constant(0.0, shape=[2]), name="beta")
        gamma = tf.Variable(tf.constant(1.0, shape=[2]), name="gamma")
        batch_mean, batch_var = tf.nn.moments(x, [0, 1, 2], name="moments")
        ema = tf.train.ExponentialMovingAverage(decay=0.5)

        def mean_var_with_update():
            ema_apply_op = ema.apply([batch_mean, batch_var])
            with tf.control_dependencies([ema_apply_op]):
                return tf.identity(batch_mean), tf.identity(batch_var)

        mean, var = tf.cond(
            phase_train,
            mean_var_with_update,
            lambda: (ema.average(batch_mean), ema.average(batch_var)),
        )
        return tf.nn.batch_normalization(x, mean, var, beta, gamma, 1e-3)


def test_shadows_of_moments_in_a_variable_scope_have_tf1_names_and_values():
    x = tf.placeholder(tf.float32, [None, 3, 3, 2])
    phase_train = tf.placeholder(tf.bool)
    y = _batch_norm(x, phase_train)
    # Names TF 2.21's compat.v1 gives this program (the variable scope twice).
    assert [v.op.name for v in tf.global_variables()] == [
        "bn/beta",
        "bn/gamma",
        "bn/bn/moments/Squeeze/ExponentialMovingAverage",
        "bn/bn/moments/Squeeze_1/ExponentialMovingAverage",
    ]
    batches = np.random.RandomState(0).rand(3, 4, 3, 3, 2).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        shadow_mean, shadow_var = np.zeros(2), np.zeros(2)
        for batch in batches:
            sess.run(y, {x: batch, phase_train: True})
            shadow_mean += 0.5 * (batch.mean(axis=(0, 1, 2)) - shadow_mean)
            shadow_var += 0.5 * (batch.var(axis=(0, 1, 2)) - shadow_var)
        got = sess.run(y, {x: batches[0], phase_train: False})
    want = (batches[0] - shadow_mean) / np.sqrt(shadow_var + 1e-3)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_shadow_of_a_variable_in_a_variable_scope_repeats_the_scope():
    with tf.variable_scope("bn"):
        w = tf.get_variable("w", [3])
        inner = tf.train.ExponentialMovingAverage(0.9)
        inner.apply([w])
    outer = tf.train.ExponentialMovingAverage(0.9)
    outer.apply([w])
    # As TF 2.21's compat.v1 names them.
    assert inner.average_name(w) == "bn/bn/w/ExponentialMovingAverage"
    assert outer.average(w).name == "bn/w/ExponentialMovingAverage:0"
    assert sorted(inner.variables_to_restore()) == [
        "bn/bn/w/ExponentialMovingAverage",
        "bn/w/ExponentialMovingAverage",
    ]
