"""tf.device as TF1 programs use it: checked, merged and recorded on each op."""

import re

import pytest

import jaxsession as tf
from jaxsession.graph.graph_def import graph_to_graph_def


def test_nested_string_scopes_merge_field_by_field_inner_first():
    with tf.device("/job:worker"):
        with tf.device("/gpu:1"):
            a = tf.constant(1.0, name="a")
            with tf.device("/cpu"):
                b = tf.constant(1.0, name="b")
            with tf.device("/task:2/device:GPU:0"):
                c = tf.constant(1.0, name="c")
            with tf.device(None):
                d = tf.constant(1.0, name="d")
                with tf.device("/cpu:0"):
                    e = tf.constant(1.0, name="e")
        f = a + 1.0
    g = tf.constant(1.0, name="g")
    assert a.device == "/job:worker/device:GPU:1"
    assert a.op.device == a.device
    # The outer index fills the inner "/cpu", as TF1's MergeDevice does.
    assert b.device == "/job:worker/device:CPU:1"
    assert c.device == "/job:worker/task:2/device:GPU:0"
    assert (d.device, e.device) == ("", "/device:CPU:0")
    assert f.device == "/job:worker"
    assert g.device == ""


def test_device_spec_and_canonical_strings():
    spec = tf.DeviceSpec(job="ps", task=1, device_type="CPU", device_index=0)
    assert spec.to_string() == "/job:ps/task:1/device:CPU:0"
    with tf.device(spec):
        a = tf.constant(1.0)
    assert a.device == "/job:ps/task:1/device:CPU:0"
    parsed = tf.DeviceSpec.from_string("/job:w/replica:0/task:3/gpu:*")
    assert (parsed.job, parsed.replica, parsed.task) == ("w", 0, 3)
    assert (parsed.device_type, parsed.device_index) == ("GPU", None)
    assert parsed.to_string() == "/job:w/replica:0/task:3/device:GPU:*"
    merged = parsed.make_merged_spec(tf.DeviceSpec.from_string("/device:CPU:1"))
    assert merged.to_string() == "/job:w/replica:0/task:3/device:CPU:1"


def test_variables_and_their_initializers_get_the_scope_device():
    with tf.device("/job:ps/task:0"):
        v = tf.Variable(1.0, name="v")
    assert v.device == "/job:ps/task:0"
    assert v.initializer.device == "/job:ps/task:0"
    with tf.device("/gpu:0"):
        w = v * 2.0
    assert w.device == "/device:GPU:0"


def test_device_function_is_called_with_each_op_created_in_scope():
    seen = []

    def device_fn(op):
        seen.append((op.name, op.type, op.device))
        return "/gpu:0" if op.type == "MatMul" else None

    x = tf.placeholder(tf.float32, [2, 2], name="x")
    with tf.device("/job:w"), tf.device(device_fn):
        with tf.device("/task:1"):
            y = tf.matmul(x, x, name="y")
        z = tf.identity(y, name="z")
    # The inner string scope applies first, so the function sees its device;
    # the function's result replaces it; the outer scope then fills the job.
    assert seen == [("y", "MatMul", "/task:1"), ("z", "Identity", "")]
    assert y.device == "/job:w/device:GPU:0"
    assert z.device == "/job:w"
    assert x.device == ""


def test_device_function_may_return_a_device_spec():
    def device_fn(op):
        return tf.DeviceSpec(device_type="CPU", device_index=3)

    with tf.device(device_fn):
        a = tf.constant(1.0)
    assert a.device == "/device:CPU:3"


def test_replica_device_setter_places_variables_round_robin():
    setter = tf.train.replica_device_setter(
        ps_tasks=2, worker_device="/job:worker/task:1"
    )
    with tf.device(setter):
        v = tf.Variable(1.0, name="v")
        w = tf.Variable(2.0, name="w")
        y = v * w
        with tf.device("/job:ps/task:1"):
            pinned = tf.Variable(3.0, name="pinned")
    assert (v.device, w.device) == ("/job:ps/task:0", "/job:ps/task:1")
    assert v.initializer.device == "/job:ps/task:0"
    assert y.device == "/job:worker/task:1"
    # An op's own device fields win over the setter's, as in TF1.
    assert pinned.device == "/job:ps/task:1"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y) == 2.0


def test_colocate_with_takes_the_op_device_over_device_scopes():
    with tf.device("/job:ps/task:3"):
        v = tf.Variable(1.0, name="v")
    with tf.device("/gpu:0"):
        with tf.colocate_with(v):
            a = tf.identity(v, name="a")
        b = tf.identity(v, name="b")
    assert (a.device, b.device) == ("/job:ps/task:3", "/device:GPU:0")
    with pytest.raises(ValueError, match="Trying to reset colocation"):
        with tf.colocate_with(None):
            pass


def test_graph_def_records_devices():
    with tf.device("/cpu:0"):
        tf.constant(1.0, name="a")
    tf.constant(2.0, name="b")
    nodes = {n.name: n.device for n in graph_to_graph_def(tf.get_default_graph()).node}
    assert nodes == {"a": "/device:CPU:0", "b": ""}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "/gpu:x",
            "Invalid device specification '/gpu:x': device index 'x' is not "
            "an integer.",
        ),
        ("/foo:0", "Unknown attribute: 'foo' in '/foo:0'"),
        (
            "/job:w/task:a",
            "Invalid device specification '/job:w/task:a': task 'a' is not an integer.",
        ),
        ("/cpu:0/gpu:0", "Cannot specify multiple device types: /cpu:0/gpu:0"),
        ("/device:GPU", "Unknown attribute: 'device' in '/device:GPU'"),
    ],
)
def test_malformed_device_strings_raise_value_error(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        with tf.device(spec):
            pass
    assert tf.get_default_graph().get_operations() == []


def test_a_device_that_is_no_string_or_function_raises_type_error():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "tf.device expects a device string, a DeviceSpec, a function or None, "
            "got 3 of type int."
        ),
    ):
        with tf.device(3):
            pass
