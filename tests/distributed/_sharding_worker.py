"""One process of a model-parallel test: ``_sharding_worker.py SCENARIO ID N PORT DIR``.

Every scenario writes ``DIR/result-ID.json``. Any failure prints the
traceback and exits hard (``os._exit``) so the peers fail fast instead of
waiting in a collective.
"""

import json
import os
from pathlib import Path

import jax

if __name__ == "__main__":
    # Imported by the tests for build(): there the backend already runs.
    jax.config.update("jax_num_cpu_devices", 2)

import numpy as np
from jax.sharding import PartitionSpec as P

import jaxsession as tf
from jaxsession.distributed import lifecycle
from tests.distributed._scenario import run_scenario

TIMEOUTS = {"initialization_timeout": 10, "heartbeat_timeout": 5, "shutdown_timeout": 5}
GLOBAL_BATCH = 8
VOCAB = 8


def build(sharded=True):
    """An embedding split by rows and a kernel by columns over 'model'.

    Returns (x, y, loss, train_op, global_step).
    """
    tf.set_random_seed(11)
    x = tf.placeholder(tf.int32, [None], name="x")
    y = tf.placeholder(tf.float32, [None], name="y")
    with tf.variable_scope("model", sharding=P("model") if sharded else None):
        emb = tf.get_variable("emb", [VOCAB, 6])
        kernel = tf.get_variable(
            "kernel", [6, 4], sharding=P(None, "model") if sharded else None
        )
    bias = tf.get_variable("bias", [4], initializer=tf.zeros_initializer())
    hidden = tf.nn.tanh(tf.matmul(tf.gather(emb, x), kernel) + bias)
    loss = tf.reduce_mean(tf.square(tf.reduce_sum(hidden, 1) - y))
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    return x, y, loss, train_op, step


def global_batch(i):
    """Global batch ``i``: the same on every process."""
    rng = np.random.default_rng(500 + i)
    xs = rng.integers(0, VOCAB, size=GLOBAL_BATCH).astype(np.int32)
    return xs, rng.normal(size=GLOBAL_BATCH).astype(np.float32)


def local_batch(i, process, count):
    """This process's contiguous part of global batch ``i``."""
    xs, ys = global_batch(i)
    n = GLOBAL_BATCH // count
    return xs[process * n : (process + 1) * n], ys[process * n : (process + 1) * n]


def variables(sess):
    """Every global variable's whole value by name, as lists (JSON-friendly)."""
    values = sess.run({v.op.name: v for v in tf.global_variables()})
    return {k: np.asarray(v).tolist() for k, v in values.items()}


def _write(workdir, pid, result):
    path = Path(workdir) / f"result-{pid}.json"
    path.with_suffix(".tmp").write_text(json.dumps(result))
    path.with_suffix(".tmp").rename(path)


def _join(pid, n, port):
    lifecycle.initialize(f"127.0.0.1:{port}", n, pid, **TIMEOUTS)
    tf.train.set_mesh_shape({"data": -1, "model": 2})


def _restored(saver, path):
    with tf.Session() as sess:
        saver.restore(sess, path)
        emb = tf.global_variables()[0]
        stored = sess.variable_values()[emb]
        return {
            "variables": variables(sess),
            "spec": list(stored.sharding.spec),
            "local_shards": sorted(
                {tuple(s.data.shape) for s in stored.addressable_shards}
            ),
        }


def train_save_restore(pid, n, port, workdir):
    """6 steps on a 2-axis mesh, a collective save, then restores in new sessions.

    Restores the checkpoint just written and the one named by ``OTHER_CKPT``
    (written by one process), each into a fresh Session on this mesh.
    """
    _join(pid, n, port)
    x, y, loss, train_op, step = build()
    saver = tf.train.Saver(max_to_keep=2)
    Path(workdir, "ckpt").mkdir(exist_ok=True)
    losses, paths = [], []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        emb = tf.global_variables()[0]
        stored = sess.variable_values()[emb]
        layout = {
            "mesh": dict(sess.mesh.shape),
            "spec": list(stored.sharding.spec),
            "fully_addressable": stored.is_fully_addressable,
        }
        for i in range(6):
            xs, ys = local_batch(i, pid, n)
            losses.append(float(sess.run([loss, train_op], {x: xs, y: ys})[0]))
            if i % 2 == 1:
                # Every process saves at the same step: the write is collective.
                paths.append(
                    saver.save(sess, f"{workdir}/ckpt/model", global_step=step)
                )
        saver.wait_until_finished()
        trained = variables(sess)
        # A batch through the column-split kernel: split along data and model.
        emb, kernel = tf.global_variables()[:2]
        xs, _ = local_batch(0, pid, n)
        rows = sess.run(tf.matmul(tf.gather(emb, x), kernel), {x: xs})
    result = {
        "rows": rows.tolist(),
        "row_ids": xs.tolist(),
        "losses": losses,
        "variables": trained,
        "paths": paths,
        "layout": layout,
        "last_checkpoints": saver.last_checkpoints,
        "restored": _restored(saver, paths[-1]),
    }
    other = os.environ.get("OTHER_CKPT")
    if other:
        result["restored_other"] = _restored(saver, other)
    _write(workdir, pid, result)


def _monitored(pid, server, checkpoint_dir):
    """Two steps in a MonitoredTrainingSession; the values after creation and after."""
    tf.reset_default_graph()
    x, y, _, train_op, _ = build()
    with tf.train.MonitoredTrainingSession(
        master=server.target,
        is_chief=(pid == 0),
        checkpoint_dir=checkpoint_dir,
        save_checkpoint_steps=None,
        save_checkpoint_secs=None,
        save_summaries_steps=None,
        log_step_count_steps=None,
        max_wait_secs=30,
    ) as sess:
        raw = sess._tf_sess()
        before = variables(raw)
        for i in range(2):
            xs, ys = local_batch(i, pid, 2)
            sess.run(train_op, {x: xs, y: ys})
        return {"before": before, "after": variables(raw)}


def monitored_start(pid, n, port, workdir):
    """The chief initializes, then (a new graph) restores ``OTHER_CKPT``'s directory.

    Workers make their own parts of the sharded variables either way.
    """
    server = tf.train.Server(
        tf.train.ClusterSpec({"worker": [f"127.0.0.1:{port + i}" for i in range(n)]}),
        job_name="worker",
        task_index=pid,
        **TIMEOUTS,
    )
    tf.train.set_mesh_shape({"data": -1, "model": 2})
    initialized = _monitored(pid, server, None)
    restored = _monitored(pid, server, str(Path(os.environ["OTHER_CKPT"]).parent))
    _write(workdir, pid, {"initialized": initialized, "restored": restored})


def _save(saver, sess, workdir, step):
    """Saves at ``step``; what this process was told, and the Saver's list after."""
    path = saver.save(sess, f"{workdir}/ckpt/model", global_step=step)
    try:
        saver.wait_until_finished()
    except Exception as e:
        error = {"type": type(e).__name__, "message": str(e)}
    else:
        error = None
    return {
        "path": path,
        "error": error,
        "last_checkpoints": saver.last_checkpoints,
        "files": sorted(p.name for p in Path(workdir, "ckpt").iterdir()),
    }


def failed_commit(pid, n, port, workdir):
    """Three saves: the chief fails the manifest, then the state file, then none.

    Every process must be told the same outcome and keep the same list.
    """
    from jaxsession.checkpoint import _format, state as state_lib

    def broken_manifest(directory, values):
        raise OSError(f"disk full writing the manifest of {directory}")

    def broken_state(directory, *args, **kwargs):
        raise OSError(f"Permission denied: {directory}/checkpoint")

    _join(pid, n, port)
    build()
    saver = tf.train.Saver()
    Path(workdir, "ckpt").mkdir(exist_ok=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        write_manifest = _format._write_manifest
        _format._write_manifest = broken_manifest
        manifest = _save(saver, sess, workdir, 1)
        _format._write_manifest = write_manifest
        update_state = state_lib.update_checkpoint_state
        state_lib.update_checkpoint_state = broken_state
        state = _save(saver, sess, workdir, 2)
        state_lib.update_checkpoint_state = update_state
        good = _save(saver, sess, workdir, 3)
    _write(workdir, pid, {"manifest": manifest, "state": state, "good": good})


if __name__ == "__main__":
    run_scenario(globals())
