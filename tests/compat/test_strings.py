"""String tensors on the host: fed, fetched, through tf.identity and summaries."""

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors
from jaxsession.summary import Summary


def test_identity_of_string_placeholder_with_unknown_shape():
    p = tf.placeholder(tf.string, [None])
    y = tf.identity(p, name="y")
    z = tf.identity(y)
    assert y.op.type == "Identity"
    assert y.shape.as_list() == [None] and y.dtype is tf.string
    with tf.Session() as sess:
        got_y, got_z, got_p = sess.run([y, z, p], {p: ["q", "rs"]})
    for got in (got_y, got_z, got_p):
        assert got.dtype == object
        assert got.tolist() == [b"q", b"rs"]


def test_identity_of_string_placeholder_with_unknown_rank():
    p = tf.placeholder(tf.string)
    y = tf.identity(p)
    assert y.shape.ndims is None
    with tf.Session() as sess:
        assert sess.run(y, {p: [["a"], ["b"]]}).tolist() == [[b"a"], [b"b"]]
        assert sess.run(y, {p: "c"}) == b"c"


def test_string_constants_fetch_as_bytes():
    c = tf.constant(["a", "bc"])
    s = tf.constant("x")
    b = tf.constant([b"raw"])
    with tf.Session() as sess:
        got_c, got_s, got_b, got_i = sess.run([c, s, b, tf.identity(c)])
    assert got_c.tolist() == [b"a", b"bc"] and got_c.dtype == object
    assert got_s == b"x" and isinstance(got_s, bytes)
    assert got_b.tolist() == [b"raw"]
    assert got_i.tolist() == [b"a", b"bc"]


def test_string_identity_in_a_run_with_device_work():
    p = tf.placeholder(tf.string, [None])
    x = tf.placeholder(tf.float32, [None])
    with tf.Session() as sess:
        names, total = sess.run(
            [tf.identity(p), tf.reduce_sum(x)], {p: ["a"], x: [1.0, 2.0]}
        )
    assert names.tolist() == [b"a"] and total == 3.0


def test_fed_strings_and_identities_go_to_text_summaries():
    p = tf.placeholder(tf.string, [None])
    text = tf.summary.text("notes", tf.identity(p))
    renamed = tf.identity(text, name="renamed")
    with tf.Session() as sess:
        raw, same = sess.run([text, renamed], {p: ["hello", "world"]})
    assert isinstance(raw, bytes) and same == raw
    (value,) = Summary.FromString(raw).value
    assert value.tag == "notes"
    assert list(value.tensor.string_val) == [b"hello", b"world"]


def test_a_device_op_on_strings_raises_unimplemented_naming_it():
    p = tf.placeholder(tf.string, [None])
    r = tf.reshape(p, [-1], name="flat")
    with tf.Session() as sess:
        with pytest.raises(
            errors.UnimplementedError,
            match=re.escape(
                "<tf.Operation 'flat' type=Reshape> created at test_strings.py:"
            ),
        ) as info:
            sess.run(r, {p: ["a"]})
    assert "needs the string tensor Placeholder:0 on the device" in str(info.value)
    assert "passed through tf.identity" in str(info.value)


def test_string_feed_to_a_numeric_placeholder_raises_type_error():
    x = tf.placeholder(tf.float32, [None])
    with tf.Session() as sess:
        with pytest.raises(TypeError, match="Cannot feed value"):
            sess.run(x, {x: np.array(["a"])})
