"""One process of a distributed test: ``_worker.py SCENARIO ID N PORT DIR``.

Every scenario writes ``DIR/result-ID.json``. Any failure prints the
traceback and exits hard (``os._exit``) so the peers fail fast instead of
waiting in a collective.
"""

import json
import os
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_num_cpu_devices", 2)

import jaxsession as tf  # noqa: E402
from jaxsession.distributed import lifecycle, process  # noqa: E402
from tests.distributed import _mlp  # noqa: E402
from tests.distributed._scenario import run_scenario  # noqa: E402

TIMEOUTS = {"initialization_timeout": 10, "heartbeat_timeout": 5, "shutdown_timeout": 5}


def _server(pid, n, port):
    addresses = [f"127.0.0.1:{port}"] + [
        f"127.0.0.1:{port + 1 + i}" for i in range(n - 1)
    ]
    return tf.train.Server(
        tf.train.ClusterSpec({"worker": addresses}),
        job_name="worker",
        task_index=pid,
        **TIMEOUTS,
    )


def _write(workdir, pid, result):
    path = Path(workdir) / f"result-{pid}.json"
    path.with_suffix(".tmp").write_text(json.dumps(result))
    path.with_suffix(".tmp").rename(path)


def _write_error(workdir, pid, error, **extra):
    """Prints and records the error a scenario caught, with ``extra`` fields."""
    sys.stdout.write(f"caught {type(error).__name__}: {error}\n")
    result = {
        "type": type(error).__name__,
        "message": str(error),
        "unavailable": isinstance(error, tf.errors.UnavailableError),
        "lost": getattr(error, "lost_processes", None),
    }
    _write(workdir, pid, {**result, **extra})


def data_parallel(pid, n, port, workdir):
    """20 steps of the MLP in a plain Session, each process on its batch part."""
    lifecycle.initialize(f"127.0.0.1:{port}", n, pid, **TIMEOUTS)
    x, y, loss, train_op, step = _mlp.build()
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(20):
            xs, ys = _mlp.local_batch(i, pid, n)
            value, _ = sess.run([loss, train_op], {x: xs, y: ys})
            losses.append(float(value))
        xs, ys = _mlp.local_batch(0, pid, n)
        row_sums = sess.run(tf.reduce_sum(x * 2.0, axis=1), {x: xs})
        result = {
            "row_sums": row_sums.tolist(),
            "local_row_sums": (xs * 2.0).sum(axis=1).tolist(),
            "losses": losses,
            "variables": _mlp.variables(sess),
            "step": int(sess.run(step)),
            "devices": jax.device_count(),
            "local_devices": jax.local_device_count(),
        }
    _write(workdir, pid, result)


class _FileHook(tf.train.SessionRunHook):
    """Writes a file per call, named by process: shows where a hook ran."""

    def __init__(self, workdir, pid, tag):
        self._path = Path(workdir) / f"{tag}-hook-{pid}.txt"

    def after_run(self, run_context, run_values):
        with self._path.open("a") as f:
            f.write("after_run\n")


def monitored(pid, n, port, workdir):
    """TF1's idiom: ClusterSpec + Server + MonitoredTrainingSession, 6 steps."""
    server = _server(pid, n, port)
    x, y, loss, train_op, step = _mlp.build()
    summary_steps = int(os.environ.get("SUMMARY_STEPS", "0")) or None
    if summary_steps:
        tf.summary.scalar("loss", loss)
    before = None
    with tf.train.MonitoredTrainingSession(
        master=server.target,
        is_chief=(pid == 0),
        chief_only_hooks=[_FileHook(workdir, pid, "chief")],
        hooks=[_FileHook(workdir, pid, "all"), tf.train.StopAtStepHook(last_step=6)],
        log_step_count_steps=None,
        max_wait_secs=20,
        checkpoint_dir=os.environ.get("CKPT_DIR") or None,
        save_checkpoint_steps=int(os.environ.get("SAVE_STEPS", "0")) or None,
        save_checkpoint_secs=None,
        save_summaries_steps=summary_steps,
    ) as sess:
        raw = sess._tf_sess()
        before = {"step": int(raw.run(step)), "variables": _mlp.variables(raw)}
        i = 0
        while not sess.should_stop():
            xs, ys = _mlp.local_batch(i, pid, n)
            sess.run(train_op, {x: xs, y: ys})
            i += 1
        after = {"step": int(raw.run(step)), "variables": _mlp.variables(raw)}
    _write(workdir, pid, {"before": before, "after": after, "runs": i})


def worker_timeout(pid, n, port, workdir):
    """The chief never gets ready: the worker's wait must time out."""
    server = _server(pid, n, port)
    _mlp.build()
    if pid == 0:
        # Wait until the worker gave up, so it is the worker that times out.
        deadline = time.monotonic() + 30
        while not (Path(workdir) / "result-1.json").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the worker never reported")
            time.sleep(0.05)
        _write(workdir, pid, {})
        return
    try:
        process.resolve_is_chief(True)
    except ValueError as e:
        contradiction = str(e)
    start = time.monotonic()
    try:
        tf.train.MonitoredTrainingSession(master=server.target, max_wait_secs=1.5)
    except tf.errors.DeadlineExceededError as e:
        _write(
            workdir,
            pid,
            {
                "error": str(e),
                "type": type(e).__name__,
                "seconds": time.monotonic() - start,
                "contradiction": contradiction,
            },
        )
        return
    raise AssertionError("the worker did not time out")


def killed_peer(pid, n, port, workdir):
    """Process 1 is killed while training; process 0 must fail, not hang."""
    lifecycle.initialize(f"127.0.0.1:{port}", n, pid, **TIMEOUTS)
    x, y, loss, train_op, step = _mlp.build()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        xs, ys = _mlp.local_batch(0, pid, n)
        sess.run(train_op, {x: xs, y: ys})
        (Path(workdir) / f"ready-{pid}").touch()
        for _ in range(100000):
            sess.run(loss, {x: xs, y: ys})
    _write(workdir, pid, {"finished": True})


if __name__ == "__main__":
    run_scenario(globals())
