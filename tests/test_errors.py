"""The one error vocabulary: whole messages, compared exactly."""

from __future__ import annotations

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors


def test_shapes_read_as_tf1_prints_them():
    assert errors.format_shape((None, 10)) == "(?, 10)"
    assert errors.format_shape((3,)) == "(3,)"
    assert errors.format_shape(()) == "()"
    assert errors.format_shape(None) == "<unknown>"
    assert errors.format_dims((None, 10)) == "[?,10]"
    assert errors.format_dims(()) == "[]"
    assert errors.format_dims(None) == "?"


def test_lists_of_culprits_are_capped():
    names = [f"v{i}" for i in range(8)]
    assert errors.format_list(names[:2]) == "v0, v1"
    assert errors.format_list(names) == "v0, v1, v2, v3, v4, and 3 more"


def test_op_shape_error_is_worded_as_tf1():
    err = errors.op_shape_error(
        "MatMul", "dense/MatMul", [(None, 3), (4, 5)], "Dimensions must be equal"
    )
    assert isinstance(err, ValueError)
    assert str(err) == (
        "Dimensions must be equal for 'dense/MatMul' (op: 'MatMul') with input "
        "shapes: [?,3], [4,5]."
    )


def test_a_build_error_names_op_and_input_shapes():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None, 3])
        b = tf.placeholder(tf.float32, [4, 5])
        message = (
            "Dimensions must be equal, but are 3 and 4 for 'MatMul' (op: 'MatMul') "
            "with input shapes: [?,3], [4,5]."
        )
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            tf.matmul(a, b)


def test_op_site_names_the_user_line():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        y = tf.square(x, name="sq")  # the creation site below is this line
    site = errors.op_site(y.op)
    assert re.fullmatch(
        r"<tf.Operation 'sq' type=Square> created at test_errors\.py:\d+ in "
        r"test_op_site_names_the_user_line",
        site,
    ), site


def test_lowering_error_names_op_site_and_cause():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        y = tf.square(x, name="sq")
    err = errors.lowering_error(y.op, TypeError("bad operand\nsecond line"))
    assert isinstance(err, errors.InvalidArgumentError)
    assert err.op is y.op
    assert err.message == (
        f"while lowering {errors.op_site(y.op)}: TypeError: bad operand"
    )


def test_an_uninitialized_read_names_the_variable_and_its_reader():
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros(2, np.float32), name="weights")
        y = tf.reduce_sum(v * 2.0, name="total")
        with tf.Session() as sess:
            with pytest.raises(errors.FailedPreconditionError) as info:
                sess.run(y)
    message = info.value.message
    assert message.startswith("Attempting to use uninitialized value weights")
    assert "created at" in message and "test_errors.py" in message


def test_op_shape_error_takes_tensors_too():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        unknown = tf.placeholder(tf.float32)
    err = errors.op_shape_error("BiasAdd", "add", [x, unknown], "Shape must be rank 1")
    assert str(err) == (
        "Shape must be rank 1 for 'add' (op: 'BiasAdd') with input shapes: [?,3], ?."
    )
