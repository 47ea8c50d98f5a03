"""tf.nn.rnn_cell and tf.nn.dynamic_rnn / static_rnn / bidirectional, as TF1 code uses them."""

import re

import numpy as np
import pytest

import jaxsession as tf

rnn_cell = tf.nn.rnn_cell
RNG = np.random.default_rng(0)
XV = RNG.standard_normal((3, 6, 2)).astype(np.float32)


def _session():
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    return sess


def _scan_ops():
    return [op for op in tf.get_default_graph().get_operations() if op.type == "Scan"]


def test_lstm_language_model_training_reduces_the_loss():
    # Predict the next symbol of periodic sequences: learnable, not trivial.
    seqs = np.array([[(s + t) % 5 for t in range(9)] for s in range(5)], np.int32)
    x = tf.placeholder(tf.int32, [None, 8])
    y = tf.placeholder(tf.int32, [None, 8])
    emb = tf.get_variable("emb", [5, 4])
    cell = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(16) for _ in range(2)])
    out, _ = tf.nn.dynamic_rnn(cell, tf.nn.embedding_lookup(emb, x), dtype=tf.float32)
    logits = tf.layers.dense(out, 5)
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    feed = {x: seqs[:, :-1], y: seqs[:, 1:]}
    with _session() as sess:
        first = sess.run(loss, feed)
        for _ in range(40):
            sess.run(train, feed)
        last = sess.run(loss, feed)
    assert first > 1.4 and last < 0.2 * first


def test_dynamic_rnn_is_one_loop_whatever_the_length():
    counts = []
    for steps in (4, 40):
        tf.reset_default_graph()
        cell = rnn_cell.BasicLSTMCell(3)
        out, state = tf.nn.dynamic_rnn(cell, tf.zeros([2, steps, 5]), dtype=tf.float32)
        assert out.shape.as_list() == [2, steps, 3]
        assert isinstance(state, rnn_cell.LSTMStateTuple)
        assert len(_scan_ops()) == 1
        counts.append(len(tf.get_default_graph().get_operations()))
    assert counts[0] == counts[1]
    names = {v.name: v.shape.as_list() for v in tf.global_variables()}
    assert names == {
        "rnn/basic_lstm_cell/kernel:0": [8, 12],
        "rnn/basic_lstm_cell/bias:0": [12],
    }


def test_sequence_length_zeroes_outputs_and_freezes_the_state():
    x = tf.placeholder(tf.float32, [3, 6, 2])
    lengths = tf.placeholder(tf.int32, [3])
    cell = rnn_cell.GRUCell(4)
    out, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float32)
    # The same cell run on each row cut to its length (reuses the weights).
    cut = tf.placeholder(tf.float32, [1, None, 2])
    out_cut, state_cut = tf.nn.dynamic_rnn(cell, cut, dtype=tf.float32)
    with _session() as sess:
        got_out, got_state = sess.run([out, state], {x: XV, lengths: [6, 2, 0]})
        for row, n in enumerate([6, 2, 0]):
            np.testing.assert_array_equal(got_out[row, n:], 0.0)
            if n == 0:
                np.testing.assert_array_equal(got_state[row], 0.0)
                continue
            o, s = sess.run([out_cut, state_cut], {cut: XV[row : row + 1, :n]})
            np.testing.assert_allclose(got_out[row, :n], o[0], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_state[row], s[0], rtol=1e-5, atol=1e-6)


def test_gradient_stops_at_the_sequence_length():
    x = tf.constant(XV)
    out, _ = tf.nn.dynamic_rnn(
        rnn_cell.BasicRNNCell(3), x, sequence_length=[6, 3, 0], dtype=tf.float32
    )
    (g,) = tf.gradients(tf.reduce_sum(out), [x])
    with _session() as sess:
        got = sess.run(g)
    assert np.all(got[1, 3:] == 0.0) and np.all(got[2] == 0.0)
    assert np.all(np.abs(got[0]).sum(-1) > 0) and np.all(np.abs(got[1, :3]).sum(-1) > 0)


def test_time_major_initial_state_and_static_rnn_agree():
    x = tf.constant(XV)
    cell = rnn_cell.LSTMCell(4, num_proj=3, use_peepholes=True)
    init = rnn_cell.LSTMStateTuple(tf.fill([3, 4], 0.1), tf.fill([3, 3], -0.2))
    batch_major, s1 = tf.nn.dynamic_rnn(cell, x, initial_state=init)
    time_major, s2 = tf.nn.dynamic_rnn(
        cell, tf.transpose(x, [1, 0, 2]), initial_state=init, time_major=True
    )
    static, s3 = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), initial_state=init)
    assert len(tf.trainable_variables()) == 6  # one set of weights, reused
    with _session() as sess:
        a, b, c, sa, sb, sc = sess.run([batch_major, time_major, static, s1, s2, s3])
    assert a.shape == (3, 6, 3)
    np.testing.assert_allclose(a, b.transpose(1, 0, 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a, np.stack(c, 1), rtol=1e-5, atol=1e-6)
    for u, v in ((sa, sb), (sa, sc)):
        np.testing.assert_allclose(u.c, v.c, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(u.h, v.h, rtol=1e-5, atol=1e-6)


def test_bidirectional_backward_reads_each_valid_prefix_reversed():
    x = tf.placeholder(tf.float32, [3, 6, 2])
    cell_bw = rnn_cell.GRUCell(3)
    (fw, bw), (sf, sb) = tf.nn.bidirectional_dynamic_rnn(
        rnn_cell.GRUCell(3), cell_bw, x, [6, 4, 1], dtype=tf.float32
    )
    assert fw.shape.as_list() == bw.shape.as_list() == [3, 6, 3]
    names = sorted(v.name for v in tf.global_variables())
    assert names[0] == "bidirectional_rnn/bw/gru_cell/candidate/bias:0"
    assert names[-1] == "bidirectional_rnn/fw/gru_cell/gates/kernel:0"
    # The bw cell again, on a reversed prefix: it reuses its weights.
    rev = tf.placeholder(tf.float32, [1, None, 2])
    ref, ref_state = tf.nn.dynamic_rnn(cell_bw, rev, dtype=tf.float32, scope="ref")
    assert len(tf.global_variables()) == 8
    with _session() as sess:
        got_bw, got_sb = sess.run([bw, sb], {x: XV})
        for row, n in enumerate([6, 4, 1]):
            o, s = sess.run([ref, ref_state], {rev: XV[row : row + 1, :n][:, ::-1]})
            np.testing.assert_allclose(
                got_bw[row, :n], o[0, ::-1], rtol=1e-5, atol=1e-6
            )
            np.testing.assert_array_equal(got_bw[row, n:], 0.0)
            np.testing.assert_allclose(got_sb[row], s[0], rtol=1e-5, atol=1e-6)


def test_dropout_wrapper_with_a_keep_prob_placeholder():
    tf.set_random_seed(0)
    keep = tf.placeholder_with_default(1.0, [])
    x = tf.constant(np.abs(XV) + 1.0)
    cell = rnn_cell.DropoutWrapper(
        rnn_cell.BasicRNNCell(50, activation=tf.nn.relu), output_keep_prob=keep
    )
    out, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    with _session() as sess:
        full = sess.run(out)
        dropped = sess.run(out, {keep: 0.5})
    live = full != 0.0
    zeros = (dropped == 0.0) & live
    assert np.mean(live) > 0.3
    assert 0.4 < np.mean(zeros[live]) < 0.6
    # A new mask every time step.
    assert not np.array_equal(zeros[:, 0], zeros[:, 1])
    kept = live & ~zeros
    np.testing.assert_allclose(dropped[kept], 2.0 * full[kept], rtol=1e-5)


def test_cells_called_directly_share_weights_across_calls():
    cell = rnn_cell.BasicLSTMCell(4)
    state = cell.zero_state(2, tf.float32)
    assert cell.state_size == rnn_cell.LSTMStateTuple(4, 4) and cell.output_size == 4
    h1, state = cell(tf.ones([2, 3]), state)
    h2, state = cell(tf.ones([2, 3]), state)
    other = rnn_cell.BasicLSTMCell(4)
    other(tf.ones([2, 3]), other.zero_state(2, tf.float32))
    assert sorted(v.name for v in tf.global_variables()) == [
        "basic_lstm_cell/bias:0",
        "basic_lstm_cell/kernel:0",
        "basic_lstm_cell_1/bias:0",
        "basic_lstm_cell_1/kernel:0",
    ]
    assert [v.name for v in cell.trainable_variables] == [
        "basic_lstm_cell/kernel:0",
        "basic_lstm_cell/bias:0",
    ]
    with _session() as sess:
        a, b = sess.run([h1, h2])
    assert not np.allclose(a, b)


def test_rnn_errors_name_the_culprit():
    cell = rnn_cell.BasicLSTMCell(4)
    with pytest.raises(
        ValueError, match=re.escape("Shape (2, 3) must have rank at least 3")
    ):
        tf.nn.dynamic_rnn(cell, tf.zeros([2, 3]), dtype=tf.float32)
    with pytest.raises(ValueError, match="argument `dtype` must be specified"):
        tf.nn.dynamic_rnn(cell, tf.zeros([2, 5, 3]))
    bad = tf.zeros([2, 8], name="flat_state")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "BasicLSTMCell expects a state of structure LSTMStateTuple(c=4, h=4)"
        )
        + ".*flat_state",
    ):
        tf.nn.dynamic_rnn(cell, tf.zeros([2, 5, 3]), initial_state=bad)
    wrong = tf.zeros([2, 5], name="wide_state")
    with pytest.raises(
        ValueError,
        match=r"GRUCell expects state tensors of shape \[batch, 4\].*wide_state",
    ):
        tf.nn.dynamic_rnn(rnn_cell.GRUCell(4), tf.zeros([2, 5, 3]), initial_state=wrong)
    unknown = tf.placeholder(tf.float32, [2, 5, None], name="no_depth")
    with pytest.raises(ValueError, match=r"depth of inputs.*no_depth"):
        tf.nn.dynamic_rnn(rnn_cell.GRUCell(4), unknown, dtype=tf.float32)
    with pytest.raises(ValueError, match="sequence_length must be a vector"):
        tf.nn.dynamic_rnn(
            rnn_cell.GRUCell(4), tf.zeros([2, 5, 3]), [[1, 2]], dtype=tf.float32
        )
    with pytest.raises(TypeError, match="cell must be an instance of RNNCell"):
        tf.nn.dynamic_rnn(lambda x, s: (x, s), tf.zeros([2, 5, 3]), dtype=tf.float32)
    with pytest.raises(ValueError, match="Must specify at least one cell"):
        rnn_cell.MultiRNNCell([])
    with pytest.raises(
        ValueError, match=re.escape("keep_prob must be between 0 and 1: 1.5")
    ):
        rnn_cell.DropoutWrapper(cell, output_keep_prob=1.5)
    with pytest.raises(TypeError, match="inputs must be a sequence"):
        tf.nn.static_rnn(cell, tf.zeros([2, 5, 3]), dtype=tf.float32)


class MinimalCell(rnn_cell.RNNCell):
    """A user-written cell as TF1 tutorials wrote one: variables made in call."""

    def __init__(self, units):
        super().__init__()
        self._units = units

    @property
    def state_size(self):
        return (self._units, self._units)

    @property
    def output_size(self):
        return self._units

    def call(self, inputs, state):
        depth = inputs.get_shape()[1].value
        w = tf.get_variable("w", [depth, self._units])
        a, b = state
        new = tf.tanh(tf.matmul(inputs, w) + a) + 0.5 * b
        return new, (new, a)


def test_a_user_written_cell_runs_under_dynamic_rnn_with_its_scope():
    out, (a, b) = tf.nn.dynamic_rnn(MinimalCell(3), tf.constant(XV), dtype=tf.float32)
    assert [v.name for v in tf.global_variables()] == ["rnn/minimal_cell/w:0"]
    assert out.shape.as_list() == [3, 6, 3] and a.shape.as_list() == [3, 3]
    with _session() as sess:
        got_out, got_a, got_b = sess.run([out, a, b])
    np.testing.assert_allclose(got_a, got_out[:, -1], rtol=1e-6)
    np.testing.assert_allclose(got_b, got_out[:, -2], rtol=1e-6)


def test_variational_dropout_keeps_one_mask_for_all_steps_and_spares_c():
    tf.set_random_seed(1)
    x = tf.constant(np.abs(XV) + 1.0)
    inner = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(40) for _ in range(2)])
    cell = rnn_cell.DropoutWrapper(
        inner,
        input_keep_prob=0.5,
        output_keep_prob=0.5,
        state_keep_prob=0.5,
        variational_recurrent=True,
        input_size=2,
        dtype=tf.float32,
    )
    out, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    with _session() as sess:
        got, got_state = sess.run([out, state])
    dropped = got == 0.0
    assert 0.2 < dropped.mean() < 0.8
    # One [1, size] mask: the same units are zero in every row and step.
    assert np.all(dropped == dropped[:1, :1])
    for layer in got_state:
        assert np.all(layer.c != 0.0)
    assert 0.2 < np.mean(got_state[-1].h == 0.0) < 0.8
    with pytest.raises(ValueError, match="dtype must be provided"):
        rnn_cell.DropoutWrapper(inner, output_keep_prob=0.5, variational_recurrent=True)
    with pytest.raises(ValueError, match="input_size must be provided"):
        rnn_cell.DropoutWrapper(
            inner, input_keep_prob=0.5, variational_recurrent=True, dtype=tf.float32
        )


def test_bidirectional_rnn_with_a_length_past_the_steps_fails_the_run_as_tf1():
    # TF1's backward pass reverses with ReverseSequence, whose kernel fails
    # the run: "seq_lens(1) > input.dims(1)". Such a run changes nothing.
    x = tf.placeholder(tf.float32, [2, None, 3])
    lengths = tf.placeholder(tf.int32, [2])
    with tf.variable_scope("bi", initializer=tf.constant_initializer(0.1)):
        (fw, bw), _ = tf.nn.bidirectional_dynamic_rnn(
            tf.nn.rnn_cell.GRUCell(2),
            tf.nn.rnn_cell.GRUCell(2),
            x,
            sequence_length=lengths,
            dtype=tf.float32,
        )
    loss = tf.reduce_sum(fw) + tf.reduce_sum(bw)
    train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    feed = {x: np.ones((2, 4, 3)), lengths: [4, 5]}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(tf.trainable_variables())
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape("seq_lens(1) > input.dims(1)"),
        ) as info:
            sess.run([train, loss], feed)
        assert "bi/bidirectional_rnn/bw/ReverseSequence" in str(info.value)
        for want, got in zip(before, sess.run(tf.trainable_variables())):
            np.testing.assert_array_equal(got, want)
        sess.run([train, loss], {x: np.ones((2, 4, 3)), lengths: [4, 2]})
