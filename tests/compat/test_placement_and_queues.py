"""tf.device and replica_device_setter accepted; the few unsupported queue APIs raise UnimplementedError."""

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors
from jaxsession.graph.placement import parse_device


@pytest.mark.parametrize(
    "device",
    [
        "/cpu:0",
        "/gpu:0",
        "/device:GPU:1",
        "/job:worker/task:0",
        "/job:ps/task:1/cpu:0",
        None,
    ],
)
def test_device_strings_are_accepted_and_results_unchanged(device):
    with tf.device(device):
        w = tf.Variable([[1.0, 2.0]], name="w")
        y = tf.reduce_sum(w * 3.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y) == 9.0


def test_device_function_and_replica_device_setter_train_a_model():
    def device_fn(op):
        return "/cpu:0"

    setter = tf.train.replica_device_setter(
        ps_tasks=2, worker_device="/job:worker/task:0"
    )
    with tf.device(device_fn), tf.device(setter):
        x = tf.constant([[1.0], [2.0]])
        w = tf.Variable([[0.0]], name="w")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 2.0 * x))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(50):
            sess.run(train)
        np.testing.assert_allclose(sess.run(w), [[2.0]], rtol=1e-3)


def test_replica_device_setter_places_as_tf1():
    setter = tf.train.replica_device_setter(
        ps_tasks=2, worker_device="/job:worker/task:3"
    )
    a, b, c = (tf.Variable(1.0, name=n) for n in "abc")
    s = a + b
    assert [setter(v.op) for v in (a, b, c)] == [
        "/job:ps/task:0",
        "/job:ps/task:1",
        "/job:ps/task:0",
    ]
    assert setter(s.op) == "/job:worker/task:3"
    cluster = {"ps": ["h:1", "h:2", "h:3"], "worker": ["h:4"]}
    setter = tf.train.replica_device_setter(cluster=cluster)
    assert [setter(tf.Variable(0.0).op) for _ in range(4)] == [
        "/job:ps/task:0",
        "/job:ps/task:1",
        "/job:ps/task:2",
        "/job:ps/task:0",
    ]
    assert tf.train.replica_device_setter(ps_tasks=0) is None
    assert tf.train.replica_device_setter(cluster={"worker": ["h:1"]}) is None
    with pytest.raises(TypeError, match="ps_strategy must be callable"):
        tf.train.replica_device_setter(ps_tasks=1, ps_strategy=3)


def test_parse_device():
    assert parse_device("/job:worker/replica:0/task:1/device:GPU:2") == {
        "job": "worker",
        "replica": 0,
        "task": 1,
        "device_type": "GPU",
        "device_index": 2,
    }
    assert parse_device("/cpu:*") == {"device_type": "CPU", "device_index": None}
    with pytest.raises(
        ValueError, match=re.escape("Unknown attribute: 'foo' in '/foo:0'")
    ):
        parse_device("/foo:0")


@pytest.mark.parametrize(
    ("make", "name", "hint"),
    [
        (
            lambda: tf.PriorityQueue(10, [tf.float32], [[]]),
            "PriorityQueue",
            "tf.FIFOQueue",
        ),
        (lambda: tf.IdentityReader(), "IdentityReader", "tf.data.Dataset"),
        (lambda: tf.train.maybe_batch([1], True, 32), "maybe_batch", "tf.train.batch"),
    ],
)
def test_unsupported_queue_apis_raise_unimplemented_with_a_hint(make, name, hint):
    with pytest.raises(errors.UnimplementedError) as info:
        make()
    assert str(info.value) == f"{name} is not supported by jaxsession; use {hint}."
    assert info.value.error_code == errors.UNIMPLEMENTED


def test_start_queue_runners_without_queue_runners_returns_empty_list():
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        assert tf.train.start_queue_runners(sess=sess, coord=coord) == []
