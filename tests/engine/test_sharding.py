"""Model-parallel variables on one process with 4 CPU devices (tests/conftest.py)."""

import re

import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec as P

import jaxsession as tf
from jaxsession.engine import mesh as mesh_lib


@pytest.fixture
def model_mesh():
    mesh_lib.set_mesh_shape({"data": -1, "model": 2})
    yield
    mesh_lib.set_mesh_shape(None)


# Fixed initial values: compiling random initializers would cost seconds a run.
EMB = np.random.default_rng(0).normal(size=(8, 6)).astype(np.float32)
KERNEL = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)


def _build(sharded):
    """An embedding sharded by rows and a kernel by columns (when ``sharded``)."""
    x = tf.placeholder(tf.int32, [None], name="x")
    y = tf.placeholder(tf.float32, [None], name="y")
    with tf.variable_scope("m", sharding=P("model") if sharded else None):
        emb = tf.get_variable("emb", initializer=EMB)
        kernel = tf.get_variable(
            "kernel", initializer=KERNEL, sharding=P(None, "model") if sharded else None
        )
    hidden = tf.matmul(tf.gather(emb, x), kernel)
    loss = tf.reduce_mean(tf.square(tf.reduce_sum(hidden, 1) - y))
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
    return x, y, emb, kernel, loss, train_op


def _train(sharded, steps=3):
    """Losses, final values, and each stored array by variable name."""
    tf.reset_default_graph()
    x, y, emb, kernel, loss, train_op = _build(sharded)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = []
        for i in range(steps):
            rng = np.random.default_rng(i)
            feed = {x: rng.integers(0, 8, 4), y: rng.normal(size=4)}
            losses.append(sess.run([loss, train_op], feed)[0])
        stored = {v.op.name: a for v, a in sess.variable_values().items()}
        return losses, sess.run([emb, kernel]), stored, sess.mesh


def _shard_shapes(array):
    """Each device's block of a stored array: {device: shape}."""
    return {s.device: s.data.shape for s in array.addressable_shards}


def test_sharded_training_matches_replicated_and_keeps_the_sharding(model_mesh):
    losses, values, stored, mesh = _train(True)
    assert dict(mesh.shape) == {"data": 2, "model": 2}
    assert stored["m/emb"].sharding == NamedSharding(mesh, P("model"))
    assert stored["m/kernel"].sharding == NamedSharding(mesh, P(None, "model"))
    # The split is real: every device holds half the rows (columns).
    devices = set(mesh.devices.flat)
    assert _shard_shapes(stored["m/emb"]) == dict.fromkeys(devices, (4, 6))
    assert _shard_shapes(stored["m/kernel"]) == dict.fromkeys(devices, (6, 2))
    # sess.run(var) is the whole value, on the host.
    assert [v.shape for v in values] == [(8, 6), (6, 4)]
    assert all(isinstance(v, np.ndarray) for v in values)
    # Adam's moments of a sharded variable are declared and stored split like it.
    slots = {v.op.name: v for v in tf.global_variables() if "/Adam" in v.op.name}
    assert slots["m/emb/Adam"].sharding == P("model")
    assert slots["m/kernel/Adam_1"].sharding == P(None, "model")
    assert _shard_shapes(stored["m/emb/Adam"]) == dict.fromkeys(devices, (4, 6))
    assert _shard_shapes(stored["m/kernel/Adam_1"]) == dict.fromkeys(devices, (6, 2))
    base_losses, base_values, base_stored, _ = _train(False)
    assert base_stored["m/emb"].sharding.is_fully_replicated
    np.testing.assert_allclose(losses, base_losses, atol=1e-5)
    for got, want in zip(values, base_values):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_without_a_mesh_a_sharding_is_accepted_and_has_no_effect():
    # One graph, the same seeded initializer with and without shardings.
    init = tf.glorot_uniform_initializer(seed=5)
    with tf.variable_scope("sharded", sharding=P("model")):
        emb = tf.get_variable("emb", [8, 6], initializer=init)
        kernel = tf.get_variable(
            "kernel", [6, 4], initializer=init, sharding=P(None, "model")
        )
    with tf.variable_scope("plain"):
        plain = [
            tf.get_variable("emb", [8, 6], initializer=init),
            tf.get_variable("kernel", [6, 4], initializer=init),
        ]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.mesh is None
        stored = sess.variable_values()
        assert all(stored[v].sharding.is_fully_replicated for v in (emb, kernel))
        values = sess.run([emb, kernel])
        base_values = sess.run(plain)
    for got, want in zip(values, base_values):
        np.testing.assert_array_equal(got, want)


def test_scope_sharding_is_inherited_and_an_explicit_one_wins():
    with tf.variable_scope("outer", sharding=P("model")):
        a = tf.get_variable("a", [4])
        with tf.variable_scope("inner"):
            b = tf.get_variable("b", [4])
        c = tf.get_variable("c", [4, 2], sharding=P(None, "model"))
    d = tf.get_variable("d", [4])
    plain = tf.Variable(np.zeros(4, np.float32), sharding=P("data"))
    assert (a.sharding, b.sharding, c.sharding) == (
        P("model"),
        P("model"),
        P(None, "model"),
    )
    assert d.sharding is None
    assert plain.sharding == P("data")


def test_a_sharding_that_does_not_fit_the_mesh_names_variable_spec_and_axes(
    model_mesh,
):
    tf.get_variable("odd", [5, 2], sharding=P("model"))
    with tf.Session() as sess, pytest.raises(ValueError) as info:
        sess.run(tf.global_variables_initializer())
    assert str(info.value) == (
        "cannot shard variable 'odd' of shape (5, 2) with P('model',) "
        "on the mesh with axes {'data': 2, 'model': 2}: dimension 0 of size 5 "
        "does not split into 2 parts along model"
    )
    tf.reset_default_graph()
    var = tf.get_variable("w", [4, 2], sharding=P(None, "expert"))
    with tf.Session() as sess:
        message = re.escape(
            "cannot shard variable 'w' of shape (4, 2) with P(None, "
            "'expert') on the mesh with axes {'data': 2, 'model': 2}: the mesh has "
            "no axis 'expert'"
        )
        with pytest.raises(ValueError, match=message):
            sess.run(var.initializer)
        # set_variable_values (restore, broadcast) checks the same way.
        with pytest.raises(ValueError, match=message):
            sess.set_variable_values({var: np.zeros((4, 2), np.float32)})
        assert not sess.is_initialized(var)


def test_set_variable_values_places_a_whole_value_sharded(model_mesh):
    var = tf.get_variable("w", [4, 6], sharding=P("data", "model"))
    value = np.arange(24, dtype=np.float32).reshape(4, 6)
    with tf.Session() as sess:
        sess.set_variable_values({var: value})
        stored = sess.variable_values()[var]
        assert stored.sharding.spec == P("data", "model")
        assert {s.data.shape for s in stored.addressable_shards} == {(2, 3)}
        np.testing.assert_array_equal(sess.run(var), value)
        sess.run(var.assign_add(tf.ones([4, 6])))
        assert sess.variable_values()[var].sharding.spec == P("data", "model")
        np.testing.assert_array_equal(sess.run(var), value + 1)


def test_mesh_shape_is_checked():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "mesh shape {'model': 2} has no 'data' axis: the batch is split along "
            "'data' (give it size 1 for pure model parallelism)"
        ),
    ):
        mesh_lib.set_mesh_shape({"model": 2})
    with pytest.raises(ValueError, match="sizes must be positive, with at most one -1"):
        mesh_lib.set_mesh_shape({"data": -1, "model": -1})
    mesh_lib.set_mesh_shape({"data": 3, "model": 1})
    try:
        with pytest.raises(
            ValueError,
            match=re.escape(
                "mesh shape {'data': 3, 'model': 1} does not fit the 4 devices of this job"
            ),
        ):
            tf.Session()
    finally:
        mesh_lib.set_mesh_shape(None)
    assert mesh_lib.active_mesh() is None
    assert tf.train.set_mesh_shape is mesh_lib.set_mesh_shape
