"""``tf.contrib.legacy_seq2seq``: the decoder's variables and steps, the losses' values."""

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.contrib import legacy_seq2seq, rnn


def _softmax_ce(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]


def test_rnn_decoder_shares_one_cell_over_the_steps_with_tf1s_names():
    cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(8) for _ in range(2)])
    inputs = [tf.constant(np.full((3, 4), i, np.float32)) for i in range(5)]
    outputs, state = legacy_seq2seq.rnn_decoder(
        inputs, cell.zero_state(3, tf.float32), cell, scope="rnnlm"
    )
    # TF 2.21 compat.v1 (tf.nn.rnn_cell, TF1's rnn_decoder loop), a public
    # char-rnn model's variables.
    assert [v.name for v in tf.trainable_variables()] == [
        "rnnlm/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0",
        "rnnlm/multi_rnn_cell/cell_0/basic_lstm_cell/bias:0",
        "rnnlm/multi_rnn_cell/cell_1/basic_lstm_cell/kernel:0",
        "rnnlm/multi_rnn_cell/cell_1/basic_lstm_cell/bias:0",
    ]
    assert len(outputs) == 5 and outputs[0].shape.as_list() == [3, 8]
    assert len(state) == 2 and state[1].h.shape.as_list() == [3, 8]


def test_a_loop_function_feeds_each_output_back_as_the_next_input():
    cell = rnn.BasicRNNCell(4)
    first = tf.constant(np.ones((2, 4), np.float32))
    ignored = tf.placeholder(tf.float32, [2, 4])
    seen = []

    def loop(prev, i):
        seen.append(i)
        return prev * 0.5

    outputs, state = legacy_seq2seq.rnn_decoder(
        [first, ignored, ignored], cell.zero_state(2, tf.float32), cell, loop
    )
    assert seen == [1, 2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a = sess.run(outputs, {ignored: np.zeros((2, 4), np.float32)})
        b = sess.run(outputs, {ignored: np.full((2, 4), 9.0, np.float32)})
        kernel, bias = sess.run(tf.trainable_variables())
    np.testing.assert_allclose(a, b)
    # Step 2 by hand: the input is half of step 1's output.
    h1 = a[0]
    h2 = np.tanh(np.concatenate([h1 * 0.5, h1], 1) @ kernel + bias)
    np.testing.assert_allclose(a[1], h2, rtol=1e-5)


def test_sequence_losses_weigh_and_average_the_steps_as_tf1():
    rng = np.random.default_rng(0)
    logits = [rng.standard_normal((4, 6)).astype(np.float32) for _ in range(3)]
    targets = [rng.integers(0, 6, 4).astype(np.int32) for _ in range(3)]
    weights = [rng.random(4).astype(np.float32) for _ in range(3)]
    weights[2][1] = 0.0
    terms = [w * _softmax_ce(lg, t) for lg, t, w in zip(logits, targets, weights)]
    total, size = sum(terms), sum(weights) + 1e-12
    by_example = legacy_seq2seq.sequence_loss_by_example(logits, targets, weights)
    summed = legacy_seq2seq.sequence_loss_by_example(
        logits, targets, weights, average_across_timesteps=False
    )
    mean = legacy_seq2seq.sequence_loss(logits, targets, weights)
    batch_sum = legacy_seq2seq.sequence_loss(
        logits, targets, weights, average_across_batch=False
    )

    def squared_error(labels, logits):
        return tf.reduce_sum(tf.square(logits - tf.one_hot(labels, 6)), axis=1)

    custom = legacy_seq2seq.sequence_loss_by_example(
        logits, targets, weights, softmax_loss_function=squared_error
    )
    with tf.Session() as sess:
        got = sess.run([by_example, summed, mean, batch_sum, custom])
    np.testing.assert_allclose(got[0], total / size, rtol=1e-5)
    np.testing.assert_allclose(got[1], total, rtol=1e-5)
    np.testing.assert_allclose(got[2], (total / size).sum() / 4, rtol=1e-5)
    np.testing.assert_allclose(got[3], (total / size).sum(), rtol=1e-5)
    squares = [
        w * ((lg - np.eye(6)[t]) ** 2).sum(1)
        for lg, t, w in zip(logits, targets, weights)
    ]
    np.testing.assert_allclose(got[4], sum(squares) / size, rtol=1e-5)
    assert by_example.op.name.startswith("sequence_loss_by_example")
    assert mean.op.name.startswith("sequence_loss/")


def test_lists_of_different_lengths_are_refused_with_tf1s_message():
    x = tf.zeros([2, 3])
    with pytest.raises(
        ValueError,
        match=r"Lengths of logits, weights, and targets must be the same 2, 1, 2\.",
    ):
        legacy_seq2seq.sequence_loss_by_example(
            [x, x], [tf.zeros([2], tf.int32)] * 2, [tf.ones([2])]
        )
