"""``tf.contrib.seq2seq.sequence_loss`` as TF1 programs call it.

TF 2 has no contrib: the expected values come from TF 2.21's compat.v1 ops
running TF1.15's ``contrib/seq2seq/python/ops/loss.py`` on the same inputs;
the errors are that file's.
"""

import re

import numpy as np
import pytest

import jaxsession as tf

LOGITS = np.sin(np.arange(24.0) * 0.7).reshape(2, 3, 4).astype(np.float32)
TARGETS = [[0, 3, 1], [2, 2, 0]]
WEIGHTS = [[1.0, 0.5, 0.0], [1.0, 0.0, 0.0]]
NO = {"average_across_timesteps": False, "average_across_batch": False}

CASES = [
    ({}, 2.0154476),
    ({"average_across_timesteps": False}, [2.0079722, 2.0453491, 0.0]),
    ({"average_across_batch": False}, [2.0642555, 1.9422357]),
    (NO, [[2.0737088, 1.0226746, 0.0], [1.9422357, 0.0, 0.0]]),
    ({**NO, "sum_over_timesteps": True, "sum_over_batch": True}, 1.6795397),
    ({**NO, "sum_over_batch": True}, [2.0079722, 1.0226746, 0.0]),
    ({"average_across_batch": False, "sum_over_batch": True}, [2.0642555, 1.9422357]),
]


def test_sequence_loss_reduces_each_way_as_tf1():
    logits = tf.placeholder(tf.float32, [None, None, 4])
    losses = [
        tf.contrib.seq2seq.sequence_loss(logits, TARGETS, WEIGHTS, **kw)
        for kw, _ in CASES
    ]
    assert losses[0].name == "sequence_loss/div_no_nan:0"
    assert losses[3].shape.ndims == 2
    with tf.Session() as sess:
        got = sess.run(losses, {logits: LOGITS})
    for (kw, want), value in zip(CASES, got):
        np.testing.assert_allclose(value, want, rtol=2e-6, err_msg=str(kw))


def test_sequence_loss_trains_a_char_model():
    # hunkim's lab-12-1 shape: dynamic_rnn -> fully_connected -> sequence_loss.
    x = tf.one_hot([[0, 1, 0, 2, 3, 3]], 5)
    with tf.variable_scope("m", initializer=tf.constant_initializer(0.1)):
        outputs, _ = tf.nn.dynamic_rnn(
            tf.contrib.rnn.BasicLSTMCell(5), x, dtype=tf.float32
        )
    logits = tf.reshape(
        tf.contrib.layers.fully_connected(
            tf.reshape(outputs, [-1, 5]), 5, activation_fn=None
        ),
        [1, 6, 5],
    )
    loss = tf.contrib.seq2seq.sequence_loss(
        logits, [[1, 0, 2, 3, 3, 4]], tf.ones([1, 6])
    )
    train = tf.train.AdamOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(30):
            sess.run(train)
        predicted = sess.run(tf.argmax(logits, axis=2))
    assert first > 1.0
    np.testing.assert_array_equal(predicted, [[1, 0, 2, 3, 3, 4]])


def test_sequence_loss_arguments_are_checked_as_tf1():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Logits must be a [batch_size x sequence_length x num_decoder_symbols] tensor"
        ),
    ):
        tf.contrib.seq2seq.sequence_loss(tf.zeros([2, 3]), TARGETS, WEIGHTS)
    with pytest.raises(
        ValueError,
        match=re.escape("Weights must be a [batch_size x sequence_length] tensor"),
    ):
        tf.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, [1.0, 1.0])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "average_across_batch and sum_over_batch cannot be set to True at same time."
        ),
    ):
        tf.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, WEIGHTS, sum_over_batch=True)
