"""Learning-rate schedules against NumPy versions of TF1's formulas."""

import math
import re

import numpy as np
import pytest

import jaxsession as tf

STEPS = [0, 1, 4, 5, 9, 10, 11, 23, 40]


def _np_polynomial(step, lr, decay_steps, end, power, cycle):
    if cycle:
        decay_steps = decay_steps * (
            1.0 if step == 0 else math.ceil(step / decay_steps)
        )
    else:
        step = min(step, decay_steps)
    return (lr - end) * (1 - step / decay_steps) ** power + end


def _np_cosine(step, lr, decay_steps, alpha):
    step = min(step, decay_steps)
    return lr * (
        (1 - alpha) * 0.5 * (1 + math.cos(math.pi * step / decay_steps)) + alpha
    )


def _np_piecewise(step, boundaries, values):
    for b, v in zip(boundaries, values):
        if step <= b:
            return v
    return values[-1]


SCHEDULES = {
    "exponential": (
        lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5),
        lambda t: 0.1 * 0.5 ** (t / 10),
    ),
    "exponential_staircase": (
        lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5, staircase=True),
        lambda t: 0.1 * 0.5 ** (t // 10),
    ),
    "natural_exp": (
        lambda s: tf.train.natural_exp_decay(0.1, s, 5, 0.3),
        lambda t: 0.1 * math.exp(-0.3 * t / 5),
    ),
    "natural_exp_staircase": (
        lambda s: tf.train.natural_exp_decay(0.1, s, 5, 0.3, staircase=True),
        lambda t: 0.1 * math.exp(-0.3 * (t // 5)),
    ),
    "inverse_time": (
        lambda s: tf.train.inverse_time_decay(0.1, s, 5, 0.5),
        lambda t: 0.1 / (1 + 0.5 * t / 5),
    ),
    "inverse_time_staircase": (
        lambda s: tf.train.inverse_time_decay(0.1, s, 5, 0.5, staircase=True),
        lambda t: 0.1 / (1 + 0.5 * (t // 5)),
    ),
    "polynomial": (
        lambda s: tf.train.polynomial_decay(0.1, s, 10, 0.01, power=2.0),
        lambda t: _np_polynomial(t, 0.1, 10, 0.01, 2.0, False),
    ),
    "polynomial_cycle": (
        lambda s: tf.train.polynomial_decay(0.1, s, 10, 0.01, power=0.5, cycle=True),
        lambda t: _np_polynomial(t, 0.1, 10, 0.01, 0.5, True),
    ),
    "cosine": (
        lambda s: tf.train.cosine_decay(0.1, s, 20, alpha=0.1),
        lambda t: _np_cosine(t, 0.1, 20, 0.1),
    ),
    "piecewise": (
        lambda s: tf.train.piecewise_constant(s, [4, 10], [1.0, 0.5, 0.1]),
        lambda t: _np_piecewise(t, [4, 10], [1.0, 0.5, 0.1]),
    ),
}


def test_schedules_match_numpy_formulas():
    step = tf.placeholder(tf.int64, [], name="step")
    names = sorted(SCHEDULES)
    rates = [SCHEDULES[n][0](step) for n in names]
    assert all(r.dtype == tf.float32 and r.shape.as_list() == [] for r in rates)
    with tf.Session() as sess:
        for t in STEPS:
            got = sess.run(rates, {step: t})
            for name, value in zip(names, got):
                want = SCHEDULES[name][1](t)
                np.testing.assert_allclose(
                    value, want, rtol=1e-6, err_msg=f"{name}@{t}"
                )


def test_schedule_follows_the_global_step_variable():
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(1.0, step, 2, 0.5, staircase=True)
    inc = tf.assign_add(step, 3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(lr) == 1.0
        sess.run(inc)
        np.testing.assert_allclose(sess.run(lr), 0.5)


def test_schedule_errors_match_tf1():
    with pytest.raises(
        ValueError, match=re.escape("global_step is required for exponential_decay.")
    ):
        tf.train.exponential_decay(0.1, None, 10, 0.5)
    with pytest.raises(
        ValueError, match=re.escape("global_step is required for cosine_decay.")
    ):
        tf.train.cosine_decay(0.1, None, 10)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The length of boundaries should be 1 less than the length of values"
        ),
    ):
        tf.train.piecewise_constant(tf.constant(1), [1, 2], [0.1, 0.2])
