"""tf.arg_max / tf.arg_min, the TF 1.0-era names nearest-neighbour examples use."""

import numpy as np

import jaxsession as tf


def test_arg_min_and_arg_max_name_and_compute_as_tf1():
    x = tf.constant([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]])
    nearest = tf.arg_min(x, 1)
    top = tf.arg_max(x, dimension=0)
    small = tf.arg_max(x, 1, output_type=tf.int32)
    # Names, shapes and dtypes as TensorFlow 2.21 (tf.compat.v1) gives them.
    assert [str(t) for t in (nearest, top, small)] == [
        'Tensor("ArgMin:0", shape=(2,), dtype=int64)',
        'Tensor("ArgMax:0", shape=(3,), dtype=int64)',
        'Tensor("ArgMax_1:0", shape=(2,), dtype=int32)',
    ]
    with tf.Session() as sess:
        got = sess.run([nearest, top, small])
    np.testing.assert_array_equal(got[0], [1, 2])
    np.testing.assert_array_equal(got[1], [0, 1, 0])
    np.testing.assert_array_equal(got[2], np.array([0, 1], np.int32))
    assert got[2].dtype == np.int32
