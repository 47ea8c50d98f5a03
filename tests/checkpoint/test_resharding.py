"""Checkpoints move between meshes: restore reads with the current mesh's shardings."""

import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import jaxsession as tf
from jaxsession.engine import mesh as mesh_lib


@pytest.fixture
def model_mesh():
    mesh_lib.set_mesh_shape({"data": -1, "model": 2})
    yield
    mesh_lib.set_mesh_shape(None)


def _build():
    emb = tf.get_variable("emb", [8, 6], sharding=P("model"))
    bias = tf.get_variable("bias", [6], initializer=tf.ones_initializer())
    step = tf.train.get_or_create_global_step()
    return emb, bias, step


def _set(sess, emb, bias, step):
    values = {
        emb: np.arange(48, dtype=np.float32).reshape(8, 6),
        bias: np.full(6, 2.5, np.float32),
        step: np.int64(7),
    }
    sess.set_variable_values(values)
    return values


def _check(sess, values):
    for var, value in values.items():
        np.testing.assert_array_equal(sess.run(var), value, err_msg=var.op.name)


def test_a_sharded_save_restores_without_a_mesh(tmp_path, model_mesh):
    emb, bias, step = _build()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        values = _set(sess, emb, bias, step)
        assert sess.variable_values()[emb].sharding.spec == P("model")
        path = saver.save(sess, str(tmp_path / "m"), global_step=step)
        saver.wait_until_finished()
    mesh_lib.set_mesh_shape(None)
    with tf.Session() as sess:
        assert sess.mesh is None
        saver.restore(sess, path)
        _check(sess, values)


def test_a_plain_save_restores_sharded_on_a_mesh(tmp_path, model_mesh):
    emb, bias, step = _build()
    saver = tf.train.Saver()
    mesh_lib.set_mesh_shape(None)
    with tf.Session() as sess:
        values = _set(sess, emb, bias, step)
        path = saver.save(sess, str(tmp_path / "m"), global_step=step)
        saver.wait_until_finished()
    mesh_lib.set_mesh_shape({"data": 1, "model": 4})
    with tf.Session() as sess:
        saver.restore(sess, path)
        stored = sess.variable_values()
        # The restored value lives where the current mesh puts it: 4 row blocks.
        assert stored[emb].sharding.spec == P("model")
        assert dict(stored[emb].sharding.mesh.shape) == {"data": 1, "model": 4}
        assert {s.data.shape for s in stored[emb].addressable_shards} == {(2, 6)}
        assert stored[bias].sharding.is_fully_replicated
        _check(sess, values)
        # Training goes on from there with the sharding kept.
        sess.run(emb.assign_add(tf.ones([8, 6])))
        assert sess.variable_values()[emb].sharding.spec == P("model")
        np.testing.assert_array_equal(sess.run(emb), values[emb] + 1)
