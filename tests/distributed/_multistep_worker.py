"""One process of a multi-step distributed test: ``_multistep_worker.py SCENARIO ID N PORT DIR``.

Run through ``launch.launch(..., worker=...)``; every scenario writes
``DIR/result-ID.json``, and any failure exits hard (see ``_worker.py``).
"""

import json
from pathlib import Path

import jax

jax.config.update("jax_num_cpu_devices", 2)

import numpy as np  # noqa: E402

import jaxsession as tf  # noqa: E402
from jaxsession.distributed import lifecycle  # noqa: E402
from jaxsession.engine import infeed  # noqa: E402
from tests.distributed import _mlp  # noqa: E402
from tests.distributed._scenario import run_scenario  # noqa: E402

TIMEOUTS = {"initialization_timeout": 10, "heartbeat_timeout": 5, "shutdown_timeout": 5}
K, RUNS = 4, 2


def _write(workdir, pid, result):
    path = Path(workdir) / f"result-{pid}.json"
    path.with_suffix(".tmp").write_text(json.dumps(result))
    path.with_suffix(".tmp").rename(path)


def _local_steps(pid, n):
    """This process's parts of the K * RUNS global batches, stacked per step."""
    parts = [_mlp.local_batch(i, pid, n) for i in range(K * RUNS)]
    return np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts])


def multistep(pid, n, port, workdir):
    """The MLP by single runs and K-step runs, fed and from a dataset."""
    lifecycle.initialize(f"127.0.0.1:{port}", n, pid, **TIMEOUTS)
    xs, ys = _local_steps(pid, n)
    result = {}
    x, y, loss, train_op, step = _mlp.build()

    def single_fed(sess):
        feeds = [{x: xs[i], y: ys[i]} for i in range(K * RUNS)]
        return [sess.run([loss, train_op], f)[0] for f in feeds]

    def multi_fed(sess):
        out = []
        for r in range(RUNS):
            feeds = {x: xs[r * K : (r + 1) * K], y: ys[r * K : (r + 1) * K]}
            out.extend(
                sess.run(
                    train_op, feeds, steps_per_run=K, every_step=[loss]
                ).every_step[0]
            )
        return out

    _train_both(result, "fed", single_fed, multi_fed, step)
    with tf.Graph().as_default():
        # A batch of this process's rows per step, as a dataset.
        ds = tf.data.Dataset.from_tensor_slices((xs.reshape(-1, 6), ys.reshape(-1)))
        it = ds.batch(xs.shape[1]).make_one_shot_iterator()
        xb, yb = it.get_next()
        loss, train_op, step = _model(xb, yb)

        def single_ds(sess):
            losses = [sess.run([loss, train_op])[0] for _ in range(K * RUNS)]
            # The in-memory data sits on this process's devices.
            result["dataset_feeder"] = type(sess.resources[("iterator", it)]).__name__
            return losses

        def multi_ds(sess):
            out = []
            for _ in range(RUNS):
                out.extend(
                    sess.run(train_op, steps_per_run=K, every_step=[loss]).every_step[0]
                )
            return out

        _train_both(result, "dataset", single_ds, multi_ds, step)
        # The same runs through the host pipeline, for comparison.
        device_feeder = result["dataset_feeder"]
        limit, infeed.DEVICE_SLICES_MAX_BYTES = infeed.DEVICE_SLICES_MAX_BYTES, -1
        try:
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                losses = [float(v) for v in single_ds(sess)]
        finally:
            infeed.DEVICE_SLICES_MAX_BYTES = limit
        result["dataset_host"] = {"losses": losses}
        result["dataset_host_feeder"] = result["dataset_feeder"]
        result["dataset_feeder"] = device_feeder
    _write(workdir, pid, result)


def _train_both(result, name, single, multi, step):
    for kind, run in (("single", single), ("multi", multi)):
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = [float(v) for v in run(sess)]
            result[f"{name}_{kind}"] = {
                "losses": losses,
                "variables": _mlp.variables(sess),
                "step": int(sess.run(step)),
                "mesh": dict(sess.mesh.shape),
            }


def _model(xb, yb):
    """``_mlp.build``'s model on given tensors: (loss, train_op, global_step)."""
    tf.set_random_seed(7)
    hidden = tf.layers.dense(xb, 16, activation=tf.nn.tanh, name="hidden")
    logits = tf.layers.dense(hidden, 3, name="logits")
    loss = tf.losses.sparse_softmax_cross_entropy(yb, logits)
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    return loss, train, step


if __name__ == "__main__":
    run_scenario(globals())
