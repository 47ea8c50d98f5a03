"""init_from_checkpoint with TF1's assignment-map rules."""

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.checkpoint import Saver, init_from_checkpoint

W = np.arange(12, dtype=np.float32).reshape(3, 4)
B = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
X = np.array([7.0, 8.0], np.float32)


@pytest.fixture
def ckpt(tmp_path):
    """A checkpoint with old/w, old/b and x, written from its own graph."""
    with tf.Graph().as_default():
        with tf.variable_scope("old"):
            w = tf.get_variable("w", shape=[3, 4])
            b = tf.get_variable("b", shape=[4])
        x = tf.get_variable("x", shape=[2])
        sess = tf.Session()
        sess.set_variable_values({w: W, b: B, x: X})
        saver = Saver()
        path = saver.save(sess, str(tmp_path / "m"), 1)
        saver.close()
    return path


def test_scope_name_variable_and_root_mappings(ckpt, tmp_path):
    with tf.variable_scope("new"):
        w = tf.get_variable("w", shape=[3, 4], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", shape=[4], initializer=tf.zeros_initializer())
    with tf.variable_scope("root"), tf.variable_scope("old"):
        rw = tf.get_variable("w", shape=[3, 4], initializer=tf.zeros_initializer())
    y = tf.get_variable("y", shape=[2], initializer=tf.zeros_initializer())
    z = tf.Variable(np.zeros(2, np.float32), name="z")
    untouched = tf.get_variable("u", shape=[2], initializer=tf.ones_initializer())
    init_from_checkpoint(str(tmp_path), {"old/": "new/"})  # a directory: its latest
    init_from_checkpoint(ckpt, {"x": "y"})
    init_from_checkpoint(ckpt, {"x": z})
    init_from_checkpoint(ckpt, {"/": "root/"})
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    got = sess.run([w, b, rw, y, z, untouched])
    for value, want in zip(got, [W, B, W, X, X, np.ones(2)]):
        np.testing.assert_array_equal(value, want)
    np.testing.assert_array_equal(sess.run(w.initialized_value()), W)


def test_bad_assignment_maps(ckpt):
    y = tf.get_variable("y", shape=[3], initializer=tf.zeros_initializer())
    tf.get_variable("new/w", shape=[3, 4])
    tf.get_variable("new/extra", shape=[3, 4])
    with pytest.raises(
        ValueError, match=re.escape(f"Tensor nope is not found in {ckpt}")
    ):
        init_from_checkpoint(ckpt, {"nope": "y"})
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Shape of variable y:0 ((3,)) doesn't match with shape of tensor x ([2])"
        ),
    ):
        init_from_checkpoint(ckpt, {"x": y})
    with pytest.raises(ValueError, match="Assignment map with scope only name new"):
        init_from_checkpoint(ckpt, {"old": "new/"})
    with pytest.raises(
        ValueError,
        match=re.escape(f"Tensor old/extra (extra in old/) is not found in {ckpt}"),
    ):
        init_from_checkpoint(ckpt, {"old/": "new/"})
