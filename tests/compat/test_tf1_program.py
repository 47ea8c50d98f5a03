"""A TF1-style program using this surface end to end, run as a script."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
sys.path.insert(0, {root!r})
import numpy as np
import jaxsession as tf

flags = tf.app.flags
flags.DEFINE_string("train_dir", "/tmp/unused", "where to write")
flags.DEFINE_integer("max_steps", 60, "training steps")
flags.DEFINE_float("learning_rate", 0.5, "learning rate")
FLAGS = flags.FLAGS


def build():
    with tf.device(tf.train.replica_device_setter(ps_tasks=1)):
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        y = tf.placeholder(tf.int64, [None], name="y")
        w = tf.get_variable("w", [2, 2], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
        logits = tf.matmul(x, w) + b
    return x, y, logits


def main(argv):
    tf.logging.set_verbosity(tf.logging.INFO)
    if tf.gfile.Exists(FLAGS.train_dir):
        tf.gfile.DeleteRecursively(FLAGS.train_dir)
    tf.gfile.MakeDirs(FLAGS.train_dir)
    rng = np.random.RandomState(0)
    data = rng.randn(64, 2).astype(np.float32)
    labels = (data[:, 0] + data[:, 1] > 0).astype(np.int64)

    x, y, logits = build()
    global_step = tf.Variable(0, trainable=False, name="global_step")
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    opt = tf.train.GradientDescentOptimizer(FLAGS.learning_rate)
    train_op = opt.minimize(loss, global_step=global_step)
    ema = tf.train.ExponentialMovingAverage(0.9, num_updates=global_step)
    with tf.control_dependencies([train_op]):
        train_op = ema.apply(tf.trainable_variables())
    acc, acc_update = tf.metrics.accuracy(y, tf.argmax(logits, 1))
    saver = tf.train.Saver()
    config = tf.ConfigProto(allow_soft_placement=True)
    config.gpu_options.allow_growth = True
    with tf.Session(config=config) as sess:
        writer = tf.summary.FileWriter(FLAGS.train_dir, sess.graph)
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        tf.train.start_queue_runners(sess=sess)
        for step in range(FLAGS.max_steps):
            _, l = sess.run([train_op, loss], {{x: data, y: labels}},
                            options=tf.RunOptions(), run_metadata=tf.RunMetadata())
        sess.run(acc_update, {{x: data, y: labels}})
        print("train_accuracy %.3f" % sess.run(acc))
        path = saver.save(sess, FLAGS.train_dir + "/model.ckpt", global_step=global_step)
        saver.wait_until_finished()
        writer.close()
    tf.logging.info("saved %s", path)

    tf.reset_default_graph()
    x, y, logits = build()
    ema = tf.train.ExponentialMovingAverage(0.9)
    acc, acc_update = tf.metrics.accuracy(y, tf.argmax(logits, 1))
    restorer = tf.train.Saver(ema.variables_to_restore())
    with tf.Session() as sess:
        restorer.restore(sess, tf.train.latest_checkpoint(FLAGS.train_dir))
        sess.run(tf.local_variables_initializer())
        print("eval_accuracy %.3f" % sess.run(acc_update, {{x: data, y: labels}}))
    print("files", sorted(n.split(".")[0] for n in tf.gfile.ListDirectory(FLAGS.train_dir)))


if __name__ == "__main__":
    tf.app.run()
"""


@pytest.mark.slow
def test_tf1_program_trains_averages_evaluates_and_writes(tmp_path):
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(PROGRAM.format(root=str(ROOT))))
    proc = subprocess.run(
        [
            sys.executable,
            str(script),
            f"--train_dir={tmp_path / 'train'}",
            "--max_steps=40",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert float(lines["train_accuracy"]) >= 0.95
    assert float(lines["eval_accuracy"]) >= 0.95
    assert "events" in lines["files"] and "model" in lines["files"]
    assert (
        "] saved " in proc.stderr
    )  # absl.app.run installs absl's log format, as in TF1
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    names = {n.name for n in acc.Graph().node}
    assert {"x", "w", "b", "w/ExponentialMovingAverage", "accuracy/total"} <= names
