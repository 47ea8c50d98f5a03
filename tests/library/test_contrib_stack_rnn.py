"""``tf.contrib.rnn``'s stacked bidirectional drivers, against TF1.

Expected values come from TF 2.21's compat.v1 running TF1.15's
``contrib/rnn/python/ops/rnn.py`` (rebuilt on ``tf.nn``'s bidirectional
drivers, as TF 2 has no contrib) on the same graph.
"""

import re

import numpy as np
import pytest

import jaxsession as tf

X = np.sin(np.arange(24.0)).reshape(2, 3, 4).astype(np.float32)


def test_stack_bidirectional_dynamic_rnn_matches_tf1():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    with tf.variable_scope("d", initializer=tf.constant_initializer(0.2)):
        out, states_fw, states_bw = tf.contrib.rnn.stack_bidirectional_dynamic_rnn(
            [tf.contrib.rnn.GRUCell(2), tf.contrib.rnn.GRUCell(3)],
            [tf.contrib.rnn.GRUCell(2), tf.contrib.rnn.GRUCell(1)],
            x,
            dtype=tf.float32,
            sequence_length=[3, 1],
        )
    names = [v.name for v in tf.global_variables()]
    assert (
        names[0]
        == "d/stack_bidirectional_rnn/cell_0/bidirectional_rnn/fw/gru_cell/gates/kernel:0"
    )
    assert (
        names[-1]
        == "d/stack_bidirectional_rnn/cell_1/bidirectional_rnn/bw/gru_cell/candidate/bias:0"
    )
    # The second layer reads the first's 2 + 2 outputs.
    assert tf.global_variables()[8].shape.as_list() == [7, 6]
    assert out.shape.as_list() == [2, 3, 4]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, states_fw, states_bw = sess.run([out, states_fw, states_bw], {x: X})
    row0 = [0.0073955, -0.0069355, -0.0100139]
    np.testing.assert_allclose(out[0, :, 0], row0, atol=1e-6)
    np.testing.assert_allclose(
        out[0, :, 3], [-0.0052644, -0.0163638, -0.0041323], atol=1e-6
    )
    # Past its length the second row's outputs are zero, as TF1's.
    np.testing.assert_allclose(out[1], [[0.0130707] * 4, [0] * 4, [0] * 4], atol=1e-6)
    np.testing.assert_allclose(states_fw[0][:, 0], [-0.0301669, 0.063104], atol=1e-6)
    np.testing.assert_allclose(states_fw[1][:, 0], [-0.0100139, 0.0130707], atol=1e-6)
    np.testing.assert_allclose(states_bw[0][:, 0], [-0.0025219, 0.063104], atol=1e-6)
    np.testing.assert_allclose(states_bw[1], [[-0.0052644], [0.0130707]], atol=1e-6)


def test_stack_bidirectional_rnn_matches_tf1():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    with tf.variable_scope("s", initializer=tf.constant_initializer(0.2)):
        outputs, states_fw, states_bw = tf.contrib.rnn.stack_bidirectional_rnn(
            [tf.contrib.rnn.BasicRNNCell(2)],
            [tf.contrib.rnn.BasicRNNCell(2)],
            tf.unstack(x, axis=1),
            initial_states_fw=[tf.ones([2, 2])],
            dtype=tf.float32,
        )
    assert [v.name for v in tf.global_variables()] == [
        "s/stack_bidirectional_rnn/cell_0/fw/basic_rnn_cell/kernel:0",
        "s/stack_bidirectional_rnn/cell_0/fw/basic_rnn_cell/bias:0",
        "s/stack_bidirectional_rnn/cell_0/bw/basic_rnn_cell/kernel:0",
        "s/stack_bidirectional_rnn/cell_0/bw/basic_rnn_cell/bias:0",
    ]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        outputs, (fw,), (bw,) = sess.run([outputs, states_fw, states_bw], {x: X})
    want = [
        [[0.6517746, 0.2632289], [0.6074674, 0.1864326]],
        [[-0.0069212, -0.2720079], [-0.1264152, -0.2906478]],
        [[-0.0312652, -0.0284992], [0.1276397, 0.1770212]],
    ]
    np.testing.assert_allclose(np.asarray(outputs)[..., 1:3], want, atol=1e-6)
    np.testing.assert_allclose(fw[:, 0], [-0.0312652, 0.1276397], atol=1e-6)
    np.testing.assert_allclose(bw[:, 0], [0.2632289, 0.1864326], atol=1e-6)


def test_stacked_drivers_check_their_arguments_as_tf1():
    x = tf.zeros([2, 3, 4])
    cell = tf.contrib.rnn.GRUCell(2)
    run = tf.contrib.rnn.stack_bidirectional_dynamic_rnn
    with pytest.raises(
        ValueError,
        match=re.escape("Must specify at least one fw cell for BidirectionalRNN."),
    ):
        run([], [cell], x, dtype=tf.float32)
    with pytest.raises(
        ValueError,
        match=re.escape("cells_bw must be a list of RNNCells (one per layer)."),
    ):
        run([cell], (cell,), x, dtype=tf.float32)
    with pytest.raises(
        ValueError,
        match=re.escape("Forward and Backward cells must have the same depth."),
    ):
        run([cell], [cell, cell], x, dtype=tf.float32)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "initial_states_fw must be a list of state tensors (one per layer)."
        ),
    ):
        run([cell], [cell], x, initial_states_fw=[], dtype=tf.float32)
