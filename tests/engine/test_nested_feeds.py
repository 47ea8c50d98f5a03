"""A feed_dict key may be a nested structure of tensors, as in TF1.

A stateful sampling loop feeds the state it fetched back in: the key is the
model's initial state (a namedtuple of placeholders, tuples of them, an
RNN's ``LSTMStateTuple``) and the value the fetched final state.
"""

import collections

import numpy as np
import pytest

import jaxsession as tf

State = collections.namedtuple("State", ["c", "h"])
# TF1's LSTMStateTuple is such a namedtuple (jaxsession has no RNN cells).
LSTMStateTuple = collections.namedtuple("LSTMStateTuple", ("c", "h"))


def cell(state, x):
    """One step of a toy recurrent cell: the new state and an output."""
    c = state.c * 0.5 + x
    h = tf.tanh(c) + state.h
    return State(c, h), h * 2.0


def test_a_sampling_loop_feeds_the_fetched_state_back():
    initial_state = State(
        tf.placeholder(tf.float32, [None, 3], name="c"),
        tf.placeholder(tf.float32, [None, 3], name="h"),
    )
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    final_state, out = cell(initial_state, x)
    zeros = State(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32))
    inputs = np.arange(6, dtype=np.float32).reshape(2, 3) / 6
    with tf.Session() as sess:
        state, outputs = zeros, []
        for _ in range(4):
            state, y = sess.run([final_state, out], {initial_state: state, x: inputs})
            outputs.append(y)
        assert isinstance(state, State)
    want_c, want_h = np.zeros((2, 3)), np.zeros((2, 3))
    for y in outputs:
        want_c = want_c * 0.5 + inputs
        want_h = np.tanh(want_c) + want_h
        np.testing.assert_allclose(y, want_h * 2, rtol=1e-6)
    np.testing.assert_allclose(state.c, want_c, rtol=1e-6)


def test_tuples_of_tuples_and_lstm_state_tuples_are_fed_leaf_by_leaf():
    a, b, c = (tf.placeholder(tf.float32, [2]) for _ in range(3))
    lstm = LSTMStateTuple(a, b)
    key = ((lstm,), c)
    total = a + 2 * b + 4 * c
    with tf.Session() as sess:
        value = ((LSTMStateTuple(np.ones(2), np.ones(2)),), np.ones(2))
        np.testing.assert_array_equal(sess.run(total, {key: value}), [7, 7])
        # A plain tuple (or list) of the same nesting feeds a namedtuple key.
        value = [[(np.zeros(2), np.ones(2))], np.zeros(2)]
        np.testing.assert_array_equal(sess.run(total, {key: value}), [2, 2])


def test_make_callable_takes_a_nested_feed_list_entry():
    state = State(
        tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    )
    scale = tf.placeholder(tf.float32, [])
    next_state, _ = cell(state, scale * tf.ones_like(state.c))
    with tf.Session() as sess:
        step = sess.make_callable(next_state, feed_list=[state, scale])
        value = State(np.zeros(2, np.float32), np.zeros(2, np.float32))
        for _ in range(3):
            value = step(value, 1.0)
        np.testing.assert_allclose(value.c, [1.75, 1.75], rtol=1e-6)
        with pytest.raises(ValueError, match=r"structure \*.*State\(c=\*, h=\*\)"):
            step(np.zeros(2), 1.0)


def test_a_value_of_another_structure_names_the_key_and_both_structures():
    state = State(tf.placeholder(tf.float32, [2]), tf.placeholder(tf.float32, [2]))
    other = tf.placeholder(tf.float32, [2])
    with tf.Session() as sess:
        with pytest.raises(
            ValueError,
            match=r"Cannot feed a value of structure \(\*, \*, \*\) for feed_dict key "
            r"State\(c=<tf\.Tensor.*which has structure State\(c=\*, h=\*\)",
        ):
            sess.run(state.c, {state: (np.ones(2),) * 3})
        with pytest.raises(ValueError, match=r"structure \* for feed_dict key"):
            sess.run(state.c, {state: np.ones((2, 2))})
        # Every bad feed is listed, the structure mismatch with the others.
        with pytest.raises(ValueError) as info:
            sess.run(state.c, {state: (np.ones(2),), other: np.ones(3)})
        assert "2 fed values do not fit their tensors" in str(info.value)
        assert "structure (*,) for feed_dict key" in str(info.value)
        assert "Cannot feed value of shape (3,)" in str(info.value)
        # Leaves go through the one feed check: a bad leaf shape is named.
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3,\)"):
            sess.run(state.c, {state: (np.ones(2), np.ones(3))})
