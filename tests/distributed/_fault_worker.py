"""Scenarios on shared cadences, lost processes and restarts: ``_fault_worker.py SCENARIO ID N PORT DIR``.

Run through ``launch.launch(..., worker=FAULT_WORKER)``. Every scenario
writes ``DIR/result-ID.json`` (see ``_worker._write``); any other failure
prints the traceback and exits hard so the peers fail fast.
"""

import os
import signal
import time
from pathlib import Path

import jax

jax.config.update("jax_num_cpu_devices", 2)

import jaxsession as tf  # noqa: E402
from tests.distributed import _mlp  # noqa: E402
from tests.distributed._scenario import run_scenario  # noqa: E402
from tests.distributed._worker import _server, _write, _write_error  # noqa: E402

CKPT_SECS = 0.3
SUMMARY_SECS = 0.2


class _RecordingSaver(tf.train.Saver):
    """A Saver that records the global steps it was asked to save."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = []

    def save(self, sess, save_path, global_step=None, **kwargs):
        self.steps.append(int(global_step))
        return super().save(sess, save_path, global_step=global_step, **kwargs)


class _StepListener(tf.train.CheckpointSaverListener):
    def __init__(self):
        self.steps = []

    def before_save(self, session, global_step_value):
        self.steps.append(int(global_step_value))


class _StepWriter:
    """A summary writer recording the steps it got summaries for."""

    def __init__(self):
        self.steps = []

    def add_summary(self, summary, global_step=None):
        self.steps.append(int(global_step))

    def add_session_log(self, *args, **kwargs):
        pass

    def flush(self):
        pass


def _skewed_clock(pid):
    # The worker's clock runs 5 times as fast: on its own it would fire at
    # other steps than the chief; shared, its clock is never asked.
    if pid == 0:
        return time.monotonic
    start = time.monotonic()
    return lambda: start + 5 * (time.monotonic() - start)


def cadence(pid, n, port, workdir):
    """Seconds cadences on slow steps: every process saves and summarizes at the chief's steps."""
    server = _server(pid, n, port)
    x, y, loss, train_op, step = _mlp.build()
    tf.summary.scalar("loss", loss)
    own_summary = tf.summary.scalar("own_loss", loss * 2.0)
    saver = _RecordingSaver()
    listener = _StepListener()
    writer = _StepWriter()
    clock = _skewed_clock(pid)
    hooks = [
        tf.train.StopAtStepHook(last_step=24),
        # Hooks of the user's on every process, with a skewed clock on the worker.
        tf.train.SummarySaverHook(
            save_secs=SUMMARY_SECS,
            summary_op=own_summary,
            summary_writer=writer,
            clock=clock,
        ),
        tf.train.CheckpointSaverHook(
            str(Path(workdir) / "own"),
            save_secs=CKPT_SECS,
            saver=tf.train.Saver(),
            listeners=[listener],
            clock=clock,
        ),
    ]
    with tf.train.MonitoredTrainingSession(
        master=server.target,
        checkpoint_dir=str(Path(workdir) / "ckpt"),
        scaffold=tf.train.Scaffold(saver=saver),
        hooks=hooks,
        save_checkpoint_secs=CKPT_SECS,
        save_summaries_secs=SUMMARY_SECS,
        log_step_count_steps=None,
        max_wait_secs=30,
    ) as sess:
        i = 0
        while not sess.should_stop():
            sess.run(train_op, dict(zip((x, y), _mlp.local_batch(i, pid, n))))
            time.sleep(0.06)  # a slow step: the seconds cadences fire mid-run
            i += 1
    _write(
        workdir,
        pid,
        {
            "saves": saver.steps,
            "listener": listener.steps,
            "summaries": writer.steps,
            "runs": i,
        },
    )


def training_session(server, workdir, save_steps=None):
    """The MonitoredTrainingSession of the loss scenarios: checkpoints every ``save_steps``."""
    return tf.train.MonitoredTrainingSession(
        master=server.target,
        checkpoint_dir=str(Path(workdir) / "ckpt"),
        save_checkpoint_secs=None,
        save_checkpoint_steps=save_steps,
        save_summaries_steps=None,
        log_step_count_steps=None,
        max_wait_secs=30,
    )


def train_until_killed(pid, n, port, workdir):
    """MonitoredTrainingSession until a peer is lost; records the error.

    ``IDLE=1`` makes each step sleep a second after its run (the loss then
    happens while this process does host work, not in a collective).
    """
    server = _server(pid, n, port)
    x, y, loss, train_op, step = _mlp.build()
    idle = os.environ.get("IDLE") == "1"
    start = time.monotonic()
    steps = 0
    try:
        with training_session(server, workdir) as sess:
            for i in range(100000):
                sess.run(train_op, dict(zip((x, y), _mlp.local_batch(i % 5, pid, n))))
                steps += 1
                if steps == 3:
                    (Path(workdir) / f"ready-{pid}").touch()
                    start = time.monotonic()
                if idle:
                    time.sleep(1.0)
    except tf.errors.OpError as e:
        _write_error(workdir, pid, e, steps=steps, seconds=time.monotonic() - start)
        return
    raise AssertionError("training ended without losing a process")


def restartable(pid, n, port, workdir):
    """Trains to LAST_STEP on global batch ``step``; SIGTERM stops it at an agreed step.

    Each process sends itself SIGTERM once it has run ``TERM_AFTER`` steps
    (if set), or SIGINT (Ctrl-C) after ``INT_AFTER`` steps. Records the step
    it started from, the steps it ran and its final variables, or the steps
    it ran before a KeyboardInterrupt left the session.
    """
    server = _server(pid, n, port)
    x, y, loss, train_op, step = _mlp.build()
    term_after = int(os.environ.get("TERM_AFTER", "0"))
    int_after = int(os.environ.get("INT_AFTER", "0"))
    last = int(os.environ["LAST_STEP"])
    ran = []
    try:
        first, final = _train_restartable(
            server,
            workdir,
            pid,
            (x, y, train_op, step),
            last,
            ran,
            term_after,
            int_after,
        )
    except KeyboardInterrupt:
        _write(workdir, pid, {"interrupted": True, "ran": ran})
        return
    _write(workdir, pid, {"first": first, "ran": ran, "final": final})


def _train_restartable(server, workdir, pid, model, last, ran, term_after, int_after):
    x, y, train_op, step = model
    n = jax.process_count()
    with tf.train.MonitoredTrainingSession(
        master=server.target,
        checkpoint_dir=str(Path(workdir) / "ckpt"),
        hooks=[tf.train.StopAtStepHook(last_step=last)],
        save_checkpoint_secs=None,
        save_checkpoint_steps=1000,
        save_summaries_steps=None,
        log_step_count_steps=None,
        max_wait_secs=30,
    ) as sess:
        raw = sess._tf_sess()
        first = int(raw.run(step))
        while not sess.should_stop():
            current = int(raw.run(step))
            sess.run(train_op, dict(zip((x, y), _mlp.local_batch(current, pid, n))))
            ran.append(current)
            if term_after and len(ran) == term_after + pid:
                # The processes get the signal at different steps, as in a
                # real preemption; they must still stop at one agreed step.
                os.kill(os.getpid(), signal.SIGTERM)
            if int_after and len(ran) == int_after:
                os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.02)
        final = {"step": int(raw.run(step)), "variables": _mlp.variables(raw)}
    return first, final


if __name__ == "__main__":
    run_scenario(globals())
