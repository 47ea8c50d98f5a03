"""One process of an unseeded-randomness test: ``_seed_worker.py SCENARIO ID N PORT DIR``.

The cluster has a "ps" job besides the workers, as a TF1 program's has: ps
tasks are not processes of the job, so worker i is process i. Every scenario
writes ``DIR/result-ID.json``; a failure exits hard (see ``_scenario.py``).
"""

import json
from pathlib import Path

import jax

jax.config.update("jax_num_cpu_devices", 2)

import numpy as np  # noqa: E402

import jaxsession as tf  # noqa: E402
from jaxsession.distributed import process  # noqa: E402
from tests.distributed._scenario import run_scenario  # noqa: E402

TIMEOUTS = {"initialization_timeout": 10, "heartbeat_timeout": 5, "shutdown_timeout": 5}


def _server(pid, n, port):
    workers = [f"127.0.0.1:{port}"] + [
        f"127.0.0.1:{port + 1 + i}" for i in range(n - 1)
    ]
    cluster = tf.train.ClusterSpec({"ps": [f"127.0.0.1:{port + n}"], "worker": workers})
    return tf.train.Server(cluster, job_name="worker", task_index=pid, **TIMEOUTS)


def _write(workdir, pid, result):
    path = Path(workdir) / f"result-{pid}.json"
    path.with_suffix(".tmp").write_text(json.dumps(result))
    path.with_suffix(".tmp").rename(path)


def unseeded(pid, n, port, workdir):
    """Unseeded initial values, dropout masks and normals in a plain Session."""
    server = _server(pid, n, port)
    w = tf.get_variable("w", [4, 3])  # glorot_uniform, no seed
    b = tf.Variable(tf.random_normal([3]), name="b")
    mask = tf.nn.dropout(tf.ones([64]), rate=0.5)
    normal = tf.random_normal([5])
    with tf.Session(server.target) as sess:
        sess.run(tf.global_variables_initializer())
        masks = [sess.run(mask).tolist() for _ in range(3)]
        result = {
            "process": process.process_index(),
            "count": process.process_count(),
            "w": sess.run(w).tolist(),
            "b": sess.run(b).tolist(),
            "masks": masks,
            "normal": sess.run(normal).tolist(),
        }
    _write(workdir, pid, result)


def ps_cluster_training(pid, n, port, workdir):
    """Workers of a cluster with a ps job train in a MonitoredTrainingSession."""
    server = _server(pid, n, port)
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 1])
    hidden = tf.layers.dense(x, 8, activation=tf.nn.tanh)
    pred = tf.layers.dense(tf.nn.dropout(hidden, rate=0.1), 1)
    loss = tf.reduce_mean(tf.square(pred - y))
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    rng = np.random.default_rng(pid)
    losses = []
    with tf.train.MonitoredTrainingSession(
        master=server.target,
        is_chief=pid == 0,
        checkpoint_dir=str(Path(workdir) / "ckpt"),
        hooks=[tf.train.StopAtStepHook(last_step=10)],
        save_summaries_steps=None,
        save_summaries_secs=None,
        log_step_count_steps=None,
        max_wait_secs=30,
    ) as sess:
        while not sess.should_stop():
            xs = rng.normal(size=(4, 3)).astype(np.float32)
            _, value = sess.run([train_op, loss], {x: xs, y: xs.sum(1, keepdims=True)})
            losses.append(float(value))
    _write(
        workdir,
        pid,
        {"process": process.process_index(), "losses": losses, "runs": len(losses)},
    )


if __name__ == "__main__":
    run_scenario(globals())
