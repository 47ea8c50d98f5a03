"""The global step as TF1 programs make it by hand: a plain Variable."""

import logging
import re

import numpy as np
import pytest

import jaxsession as tf

FLOAT_STEP = "Existing \"global_step\" does not have integer type: <dtype: 'float32'>"


def _train_op(global_step):
    x = tf.Variable(1.0, name="x")
    return tf.train.GradientDescentOptimizer(0.1).minimize(
        tf.square(x), global_step=global_step
    )


def test_found_by_name_without_the_collection():
    step = tf.Variable(0, trainable=False, name="global_step")
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == []
    assert tf.train.get_global_step() is step
    assert tf.train.get_or_create_global_step() is step
    with pytest.raises(ValueError, match=re.escape('"global_step" already exists.')):
        tf.train.create_global_step()


def test_found_by_collection_under_any_name():
    step = tf.Variable(
        0,
        trainable=False,
        name="my_step",
        collections=[
            tf.GraphKeys.GLOBAL_VARIABLES,
            tf.GraphKeys.GLOBAL_STEP,
        ],
    )
    tf.Variable(0, trainable=False, name="global_step")
    assert tf.train.get_global_step() is step


def test_several_in_the_collection_log_an_error_and_give_none(caplog):
    for name in ("a", "b"):
        tf.add_to_collection(tf.GraphKeys.GLOBAL_STEP, tf.Variable(0, name=name))
    with caplog.at_level(logging.ERROR, logger="jaxsession"):
        assert tf.train.get_global_step() is None
    assert "Multiple tensors in global_step collection." in caplog.messages


def test_a_non_integer_or_non_scalar_step_is_refused():
    tf.Variable(0.0, trainable=False, name="global_step")
    with pytest.raises(TypeError, match=re.escape(FLOAT_STEP)):
        tf.train.get_global_step()
    with pytest.raises(TypeError, match=re.escape(FLOAT_STEP)):
        tf.train.get_or_create_global_step()
    with pytest.raises(
        TypeError, match=re.escape('Existing "global_step" is not scalar: (2,)')
    ):
        tf.train.assert_global_step(tf.Variable([0, 0]))
    # TF1 checks rank only when the shape is fully known.
    tf.train.assert_global_step(tf.placeholder(tf.int64, [None]))
    with pytest.raises(
        TypeError,
        match=re.escape('Existing "global_step" must be a Variable or Tensor: 3.'),
    ):
        tf.train.assert_global_step(3)


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_an_integer_step_made_by_hand_is_incremented_by_minimize(dtype):
    step = tf.Variable(0, trainable=False, name="global_step", dtype=dtype)
    train = _train_op(tf.train.get_global_step())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        value = sess.run(step)
        assert tf.train.global_step(sess, step) == 3
        assert tf.train.global_step(sess, "global_step:0") == 3
    assert value == 3 and value.dtype == dtype.np_dtype


def test_a_float_step_passed_to_minimize_grows_by_one():
    step = tf.Variable(0.0, trainable=False, name="steps")
    train = _train_op(step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        sess.run(train)
        value = sess.run(step)
    assert value == 2.0 and value.dtype == np.float32


def test_hooks_and_monitored_training_session_accept_an_integer_step(tmp_path):
    step = tf.Variable(0, trainable=False, name="global_step")
    train = _train_op(step)
    hooks = [tf.train.StopAtStepHook(last_step=4)]
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path),
        hooks=hooks,
        save_checkpoint_steps=2,
        save_summaries_steps=None,
        log_step_count_steps=None,
    ) as sess:
        runs = 0
        while not sess.should_stop():
            sess.run(train)
            runs += 1
    assert runs == 4
    for saver in tf.get_collection(tf.GraphKeys.SAVERS):
        saver.wait_until_finished()
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-4")
    assert tf.train.load_variable(str(tmp_path), "global_step") == 4


def test_hooks_refuse_a_float_step_with_tf1_message(tmp_path):
    tf.Variable(0.0, trainable=False, name="global_step")
    for hook in (
        tf.train.StopAtStepHook(last_step=3),
        tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1),
        tf.train.StepCounterHook(every_n_steps=1, output_dir=str(tmp_path)),
    ):
        with pytest.raises(TypeError, match=re.escape(FLOAT_STEP)):
            hook.begin()
    with pytest.raises(TypeError, match=re.escape(FLOAT_STEP)):
        tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path))
