"""Between-graph replication with a "ps" job and two workers, as TF1 wrote it.

A TF1 program: only ``import jaxsession as tf`` differs. Start one process
per task (``--job_name=ps|worker --task_index=N --ps_hosts=... --worker_hosts=...``)
or all three on localhost with ``--local``. Workers print ``worker I step S loss L``
and ``worker I done``. The ps task blocks in ``server.join()`` as in TF1; the
``--local`` launcher stops it with SIGTERM once both workers are done.
"""

# Written as TF1 programs were (%-formatting, os.path), which lint rules would modernize.
# ruff: noqa: UP031, PTH100

import os
import signal
import socket
import subprocess
import sys

import numpy as np

import jaxsession as tf

flags = tf.app.flags
flags.DEFINE_string("job_name", "", "ps or worker")
flags.DEFINE_integer("task_index", 0, "Index of the task within its job")
flags.DEFINE_string("ps_hosts", "localhost:2222", "Comma-separated ps hosts")
flags.DEFINE_string("worker_hosts", "localhost:2223,localhost:2224", "Worker hosts")
flags.DEFINE_string("checkpoint_dir", "/tmp/tf1_cluster_ps", "Checkpoint directory")
flags.DEFINE_integer("steps", 30, "Global steps to train")
flags.DEFINE_boolean("local", False, "Start the ps and both workers on localhost")
flags.DEFINE_integer("timeout", 120, "Seconds the --local launcher waits")
FLAGS = flags.FLAGS


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_local():
    hosts = ["localhost:%d" % free_port() for _ in range(3)]
    common = [
        "--ps_hosts=" + hosts[0],
        "--worker_hosts=" + ",".join(hosts[1:]),
        "--checkpoint_dir=" + FLAGS.checkpoint_dir,
        "--steps=%d" % FLAGS.steps,
    ]
    tasks = [("ps", 0), ("worker", 0), ("worker", 1)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--job_name=" + job,
                "--task_index=%d" % index,
                *common,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for job, index in tasks
    ]
    code = 0
    # The workers end on their own; the ps task blocks in join() until signalled.
    for (job, index), proc in list(zip(tasks, procs))[1:]:
        try:
            out, _ = proc.communicate(timeout=FLAGS.timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            out, _ = proc.communicate()
            print("%s %d timed out" % (job, index))
        sys.stdout.write(out)
        print("%s %d exit %s" % (job, index, proc.returncode))
        code = code or (proc.returncode != 0)
    ps = procs[0]
    if ps.poll() is None:
        print("ps 0 still running after the workers")
        ps.send_signal(signal.SIGTERM)
    try:
        out, _ = ps.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        ps.kill()
        out, _ = ps.communicate()
    sys.stdout.write(out)
    print("ps 0 exit %s" % ps.returncode)
    return code or (ps.returncode != -signal.SIGTERM)


def main(_):
    if FLAGS.local:
        sys.exit(launch_local())
    ps_hosts = FLAGS.ps_hosts.split(",")
    worker_hosts = FLAGS.worker_hosts.split(",")
    cluster = tf.train.ClusterSpec({"ps": ps_hosts, "worker": worker_hosts})
    server = tf.train.Server(
        cluster, job_name=FLAGS.job_name, task_index=FLAGS.task_index
    )
    if FLAGS.job_name == "ps":
        server.join()  # Never returns: SIGTERM ends the process.

    rng = np.random.RandomState(FLAGS.task_index)
    with tf.device(
        tf.train.replica_device_setter(
            worker_device="/job:worker/task:%d" % FLAGS.task_index, cluster=cluster
        )
    ):
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.placeholder(tf.float32, [None, 1])
        w = tf.get_variable("w", [3, 1], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
        global_step = tf.train.get_or_create_global_step()
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(
            loss, global_step=global_step
        )

    w_true = np.array([[1.0], [-2.0], [0.5]], np.float32)
    hooks = [tf.train.StopAtStepHook(last_step=FLAGS.steps)]
    with tf.train.MonitoredTrainingSession(
        master=server.target,
        is_chief=(FLAGS.task_index == 0),
        checkpoint_dir=FLAGS.checkpoint_dir,
        hooks=hooks,
        save_summaries_steps=None,
        save_summaries_secs=None,
        log_step_count_steps=None,
    ) as sess:
        while not sess.should_stop():
            xs = rng.randn(32, 3).astype(np.float32)
            _, loss_value, step = sess.run(
                [train_op, loss, global_step], feed_dict={x: xs, y: xs.dot(w_true)}
            )
            print("worker %d step %d loss %.6f" % (FLAGS.task_index, step, loss_value))
    print("worker %d done" % FLAGS.task_index)


if __name__ == "__main__":
    tf.app.run(main)
