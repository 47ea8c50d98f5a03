"""make_op's shape inference: unknown dims, TF1 broadcasting, error messages."""

import re

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsession as tf

add = tf.jax_op(jnp.add, op_type="AddV2")
matmul = tf.jax_op(jnp.matmul, op_type="MatMul")


@pytest.mark.parametrize(
    ("a", "b", "want", "fed"),
    [
        ((3,), (None,), [3], ((3,), (3,))),
        ((None,), (3,), [3], ((3,), (3,))),
        ((None, 1), (None, 5), [None, 5], ((2, 1), (2, 5))),
        ((None, None), (2, 5), [2, 5], ((2, 5), (2, 5))),
        ((7, None), (None, 1, 5), [None, 7, 5], ((7, 5), (2, 1, 5))),
        ((None, 3), (1,), [None, 3], ((4, 3), (1,))),
    ],
)
def test_known_dims_broadcast_against_unknown_dims_as_in_tf1(a, b, want, fed):
    x = tf.placeholder(tf.float32, a, name="a")
    y = tf.placeholder(tf.float32, b, name="b")
    out = add(x, y)
    assert out.shape.as_list() == want
    xv = np.arange(np.prod(fed[0]), dtype=np.float32).reshape(fed[0])
    yv = np.full(fed[1], 0.5, np.float32)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out, {x: xv, y: yv}), xv + yv)


def test_a_constant_broadcasts_against_an_unknown_dim():
    c = tf.constant([1.0, 2.0, 3.0])
    p = tf.placeholder(tf.float32, [None])
    out = add(c, p)
    assert out.shape.as_list() == [3]
    with tf.Session() as sess:
        np.testing.assert_array_equal(
            sess.run(out, {p: np.full(3, 10.0, np.float32)}), [11.0, 12.0, 13.0]
        )


def test_shapes_that_cannot_broadcast_name_the_op_and_both_shapes():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [4])
    with tf.name_scope("block"):
        with pytest.raises(ValueError) as info:
            tf.jax_op(jnp.add, name="sum", op_type="AddV2")(x, y)
    msg = str(info.value)
    assert msg.endswith(
        "for 'block/sum' (op: 'AddV2') with input shapes: [?,3], [4]."
    ), msg
    assert "55440" not in msg  # stand-in sizes print as "?"


def test_a_scope_name_op_is_named_without_its_trailing_slash():
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.placeholder(tf.float32, [4, 2])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "contracting dimensions to have the same shape, got (3,) and (4,) for "
            "'layer' (op: 'MatMul') with input shapes: [?,3], [4,2]."
        ),
    ):
        tf.jax_op(jnp.matmul, name="layer/", op_type="MatMul")(x, w)


def test_unknown_dims_from_two_placeholders_stay_unknown():
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.placeholder(tf.float32, [3, None])
    assert matmul(x, w).shape.as_list() == [None, None]
    assert add(x, tf.placeholder(tf.float32, [None, 3])).shape.as_list() == [None, 3]
