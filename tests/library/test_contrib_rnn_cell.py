"""``tf.contrib.rnn``'s projection and embedding wrappers, against TF1.

Expected values come from TF 2.21's compat.v1 running TF1.15's contrib
``core_rnn_cell`` wrappers (rebuilt on ``tf.nn.rnn_cell.RNNCell``, as TF 2
has no contrib) on the same graph.
"""

import re

import numpy as np
import pytest

import jaxsession as tf

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10 - 1


def _projected_rnns():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    with tf.variable_scope("enc", initializer=tf.constant_initializer(0.1)):
        cell = tf.contrib.rnn.InputProjectionWrapper(
            tf.contrib.rnn.GRUCell(3), num_proj=5, activation=tf.tanh
        )
        enc = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    with tf.variable_scope("dec", initializer=tf.constant_initializer(0.1)):
        cell = tf.contrib.rnn.OutputProjectionWrapper(
            tf.contrib.rnn.MultiRNNCell([tf.contrib.rnn.BasicLSTMCell(3)]), 2
        )
        dec = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, sequence_length=[3, 1])
    return x, enc, dec


def test_projection_wrappers_name_their_variables_as_tf1():
    _projected_rnns()
    got = [(v.name, v.shape.as_list()) for v in tf.global_variables()]
    assert got == [
        ("enc/rnn/input_projection_wrapper/kernel:0", [4, 5]),
        ("enc/rnn/input_projection_wrapper/gru_cell/gates/kernel:0", [8, 6]),
        ("enc/rnn/input_projection_wrapper/gru_cell/gates/bias:0", [6]),
        ("enc/rnn/input_projection_wrapper/gru_cell/candidate/kernel:0", [8, 3]),
        ("enc/rnn/input_projection_wrapper/gru_cell/candidate/bias:0", [3]),
        (
            "dec/rnn/output_projection_wrapper/multi_rnn_cell/cell_0/"
            "basic_lstm_cell/kernel:0",
            [7, 12],
        ),
        (
            "dec/rnn/output_projection_wrapper/multi_rnn_cell/cell_0/"
            "basic_lstm_cell/bias:0",
            [12],
        ),
        ("dec/rnn/output_projection_wrapper/kernel:0", [3, 2]),
        ("dec/rnn/output_projection_wrapper/bias:0", [2]),
    ]


def test_projection_wrappers_compute_as_tf1():
    x, (enc_out, enc_state), (dec_out, dec_state) = _projected_rnns()
    assert enc_out.shape.as_list() == [2, 3, 3]
    assert dec_out.shape.as_list() == [2, 3, 2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        enc_out, enc_state, dec_out, (dec_state,) = sess.run(
            [enc_out, enc_state, dec_out, dec_state], {x: X}
        )
    enc_rows = [[-0.0490642, -0.0635851, -0.0526645], [0.0177397, 0.0491847, 0.0884291]]
    np.testing.assert_allclose(
        enc_out, np.repeat(np.array(enc_rows)[..., None], 3, -1), atol=2e-7
    )
    np.testing.assert_allclose(enc_state, enc_out[:, -1], atol=2e-7)
    # The second row stops after one step: zero outputs, as TF1's masking.
    dec_rows = [[-0.0168818, -0.024313, -0.0222512], [0.011919, 0.0, 0.0]]
    np.testing.assert_allclose(
        dec_out, np.repeat(np.array(dec_rows)[..., None], 2, -1), atol=2e-7
    )
    np.testing.assert_allclose(
        dec_state.c, [[-0.1528822] * 3, [0.0744065] * 3], atol=2e-7
    )
    np.testing.assert_allclose(
        dec_state.h, [[-0.0741708] * 3, [0.0397299] * 3], atol=2e-7
    )


def test_embedding_wrapper_looks_ids_up_before_the_cell():
    ids = tf.constant([[2], [0]])
    cell = tf.contrib.rnn.EmbeddingWrapper(
        tf.contrib.rnn.BasicRNNCell(2, activation=tf.identity),
        embedding_classes=3,
        embedding_size=4,
        initializer=tf.constant_initializer(np.arange(12.0).reshape(3, 4)),
    )
    state = cell.zero_state(2, tf.float64)
    out, _ = cell(ids, state)
    embedding, kernel, _ = tf.global_variables()
    assert embedding.name == "embedding_wrapper/embedding:0"
    assert embedding.dtype.base_dtype == tf.float64  # the state's dtype
    assert kernel.name == "embedding_wrapper/basic_rnn_cell/kernel:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, k = sess.run([out, kernel])
    table = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(got, table[[2, 0]] @ k[:4], rtol=1e-6)


def test_wrapper_arguments_are_checked_as_tf1():
    cell = tf.contrib.rnn.BasicRNNCell(2)
    with pytest.raises(
        ValueError, match=re.escape("Parameter output_size must be > 0: 0.")
    ):
        tf.contrib.rnn.OutputProjectionWrapper(cell, 0)
    with pytest.raises(
        ValueError,
        match=re.escape("Both embedding_classes and embedding_size must be > 0: 0, 4."),
    ):
        tf.contrib.rnn.EmbeddingWrapper(cell, 0, 4)
    with pytest.raises(TypeError, match="The parameter cell is not a RNNCell"):
        tf.contrib.rnn.InputProjectionWrapper("lstm", 3)


def _pattern(shape, dtype=None, partition_info=None, **_):
    n = int(np.prod(shape))
    return tf.constant((np.cos(np.arange(n) * 0.37) * 0.5).reshape(shape), tf.float32)


def test_lstm_block_cell_matches_tf1s_fused_kernel():
    # Expected: tf.raw_ops.LSTMBlockCell (TF 2.21) stepping the same weights.
    x = tf.placeholder(tf.float32, [2, 5, 3])
    with tf.variable_scope("m", initializer=_pattern):
        cells = [
            tf.contrib.rnn.LSTMBlockCell(4, forget_bias=0.0),
            tf.contrib.rnn.LSTMBlockCell(3, cell_clip=0.3, use_peephole=True),
        ]
        out, (s0, s1) = tf.nn.dynamic_rnn(
            tf.contrib.rnn.MultiRNNCell(cells),
            x,
            dtype=tf.float32,
            sequence_length=[5, 2],
        )
    prefix = "m/rnn/multi_rnn_cell/cell_"
    assert [(v.name, v.shape.as_list()) for v in tf.global_variables()] == [
        (prefix + "0/lstm_cell/kernel:0", [7, 16]),
        (prefix + "0/lstm_cell/bias:0", [16]),
        (prefix + "1/lstm_cell/kernel:0", [7, 12]),
        (prefix + "1/lstm_cell/bias:0", [12]),
        (prefix + "1/lstm_cell/w_i_diag:0", [3]),
        (prefix + "1/lstm_cell/w_f_diag:0", [3]),
        (prefix + "1/lstm_cell/w_o_diag:0", [3]),
    ]
    feed = np.sin(np.arange(30.0) * 1.3).reshape(2, 5, 3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, s0, s1 = sess.run([out, s0, s1], {x: feed})
    np.testing.assert_allclose(
        out[:, :, 0],
        [
            [0.017717, 0.0173088, 0.0197438, 0.0230079, 0.0132883],
            [0.0184986, 0.0179759, 0, 0, 0],
        ],
        atol=1e-6,
    )
    np.testing.assert_allclose(
        s1.c,
        [[0.0262172, 0.0292463, 0.0281081], [0.03593, 0.0354949, 0.0301323]],
        atol=1e-6,
    )
    np.testing.assert_allclose(
        s0.h,
        [
            [-0.0213437, 0.0006527, 0.0145375, 0.0259261],
            [0.0452375, 0.0193684, 0.0003876, -0.003793],
        ],
        atol=1e-6,
    )
