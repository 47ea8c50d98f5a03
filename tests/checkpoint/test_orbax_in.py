"""Checkpoints written by plain Orbax (nested trees, CheckpointManager steps)."""

import re

import numpy as np
import orbax.checkpoint as ocp
import pytest

import jaxsession as tf

KERNEL = np.arange(6, dtype=np.float32).reshape(2, 3)
BIAS = np.array([0.5, -1.0, 2.0], np.float32)


def flax_tree(scale=1.0):
    """A Flax-style train state: nested params, a step and an optimizer list."""
    return {
        "params": {"dense": {"kernel": KERNEL * scale, "bias": BIAS * scale}},
        "step": np.int64(7 * scale),
        "opt_state": [np.ones(3, np.float32), {"mu": np.full(3, scale, np.float32)}],
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A StandardCheckpointer directory, a manager root and a composite step."""
    root = tmp_path_factory.mktemp("orbax")
    standard = str(root / "standard")
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(standard, flax_tree())
    manager_dir = str(root / "manager")
    with ocp.CheckpointManager(manager_dir) as manager:
        for step, scale in [(5, 1.0), (9, 2.0)]:
            manager.save(step, args=ocp.args.StandardSave(flax_tree(scale)))
        manager.wait_until_finished()
    composite_dir = str(root / "composite")
    with ocp.CheckpointManager(composite_dir, item_names=("state", "extra")) as manager:
        manager.save(
            3,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(flax_tree()),
                extra=ocp.args.StandardSave({"lr": np.float32(0.1)}),
            ),
        )
        manager.wait_until_finished()
    return {"standard": standard, "manager": manager_dir, "composite": composite_dir}


def test_nested_keys_join_with_slashes(written):
    assert tf.train.list_variables(written["standard"]) == [
        ("opt_state/0", [3]),
        ("opt_state/1/mu", [3]),
        ("params/dense/bias", [3]),
        ("params/dense/kernel", [2, 3]),
        ("step", []),
    ]
    np.testing.assert_array_equal(
        tf.train.load_variable(written["standard"], "params/dense/kernel"), KERNEL
    )
    reader = tf.train.NewCheckpointReader(written["standard"])
    assert reader.get_variable_to_dtype_map()["step"] == tf.int64
    assert reader.get_tensor("step") == 7
    np.testing.assert_array_equal(reader.get_tensor("opt_state/1/mu"), np.ones(3))


def test_saver_restores_a_flax_style_tree(written):
    with tf.variable_scope("params/dense"):
        kernel = tf.get_variable("kernel", shape=[2, 3])
        bias = tf.get_variable("bias", shape=[3])
    step = tf.get_variable("step", shape=[], dtype=tf.int64)
    saver = tf.train.Saver([kernel, bias, step])
    with tf.Session() as sess:
        saver.restore(sess, written["standard"])
        got = sess.run([kernel, bias, step])
    np.testing.assert_array_equal(got[0], KERNEL)
    np.testing.assert_array_equal(got[1], BIAS)
    assert got[2] == 7


def test_a_manager_root_means_its_latest_step(written):
    root = written["manager"]
    np.testing.assert_array_equal(
        tf.train.load_variable(root, "params/dense/kernel"), KERNEL * 2
    )
    np.testing.assert_array_equal(
        tf.train.load_variable(root + "/5", "params/dense/kernel"), KERNEL
    )
    kernel = tf.get_variable("kernel", shape=[2, 3])
    tf.train.init_from_checkpoint(root, {"params/dense/kernel": kernel})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(kernel), KERNEL * 2)


def test_named_items_prefix_their_keys(written):
    names = dict(tf.train.list_variables(written["composite"]))
    assert names["state/params/dense/kernel"] == [2, 3]
    assert names["extra/lr"] == []
    with tf.variable_scope("model"):
        w = tf.get_variable("dense/kernel", shape=[2, 3])
    tf.train.init_from_checkpoint(
        written["composite"], {"state/params/dense/": "model/dense/"}
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(w), KERNEL)


def test_mismatches_and_missing_names_are_named(written):
    with tf.variable_scope("params/dense"):
        tf.get_variable("kernel", shape=[3, 2])
        tf.get_variable("bias", shape=[3], dtype=tf.float64)
    tf.get_variable("extra", shape=[1])
    with tf.Session() as sess:
        with pytest.raises(
            tf.errors.NotFoundError,
            match=r"^Key extra not found in checkpoint .*standard$",
        ):
            tf.train.Saver().restore(sess, written["standard"])
        saver = tf.train.Saver(tf.global_variables()[:2])
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            saver.restore(sess, written["standard"])
    assert "'params/dense/kernel' has shape (2, 3) dtype float32 in the checkpoint" in (
        str(info.value)
    )
    assert "'params/dense/bias' has shape (3,) dtype float32 in the checkpoint, " in (
        str(info.value)
    )


def test_a_path_holding_no_checkpoint_says_what_was_looked_for(tmp_path):
    tf.get_variable("v", shape=[1])
    with tf.Session() as sess, pytest.raises(ValueError) as info:
        tf.train.Saver().restore(sess, str(tmp_path))
    message = str(info.value)
    assert message.startswith(
        f"The passed save_path is not a valid checkpoint: {tmp_path}"
    )
    assert "_JAXSESSION_MANIFEST.json" in message
    assert re.search(r"no TF checkpoint \(.*\.index\)", message)
    assert "_METADATA" in message and "CheckpointManager" in message
    with pytest.raises(ValueError, match="CheckpointManager steps"):
        tf.train.list_variables(str(tmp_path))


def test_plain_orbax_reads_a_jaxsession_checkpoint(tmp_path):
    tf.get_variable("dense/kernel", initializer=KERNEL)
    step = tf.train.get_or_create_global_step()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver = tf.train.Saver()
        path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=step)
        saver.close()
    with ocp.StandardCheckpointer() as checkpointer:
        tree = checkpointer.restore(path)
    np.testing.assert_array_equal(tree["dense/kernel"], KERNEL)
    assert tree["global_step"] == 0
