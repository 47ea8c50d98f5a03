"""A process lost at a chosen point: ``_loss_worker.py SCENARIO ID N PORT DIR``.

Run through ``launch.launch(..., worker=LOSS_WORKER)``. Process 1 SIGKILLs
itself at the point the scenario names (touching ``DIR/dying`` first);
process 0 records the error it got and how long after the death it came, in
``DIR/result-0.json``.
"""

import os
import signal
import time
from pathlib import Path

import jax

jax.config.update("jax_num_cpu_devices", 2)

import jaxsession as tf  # noqa: E402
from jaxsession.checkpoint import _format  # noqa: E402
from tests.distributed import _mlp  # noqa: E402
from tests.distributed._fault_worker import training_session  # noqa: E402
from tests.distributed._scenario import run_scenario  # noqa: E402
from tests.distributed._worker import TIMEOUTS, _write_error  # noqa: E402

# A long shutdown timeout: the survivor must not wait it out for a dead peer.
SHUTDOWN_TIMEOUT = 120


def _server(pid, n, port):
    addresses = [f"127.0.0.1:{port + i}" for i in range(n)]
    timeouts = {**TIMEOUTS, "shutdown_timeout": SHUTDOWN_TIMEOUT}
    return tf.train.Server({"worker": addresses}, "worker", pid, **timeouts)


def _die(workdir):
    (Path(workdir) / "dying").write_text(repr(time.time()))
    os.kill(os.getpid(), signal.SIGKILL)


def _train(pid, n, port, workdir, save_steps=None):
    """MonitoredTrainingSession until an error; process 0 records it.

    Without ``save_steps`` process 1 dies after its 20th step.
    """
    server = _server(pid, n, port)
    x, y, loss, train_op, step = _mlp.build()
    steps = 0
    try:
        with training_session(server, workdir, save_steps) as sess:
            for i in range(100000):
                feed = dict(zip((x, y), _mlp.local_batch(i % 5, pid, n)))
                # Fetching the loss waits for each step's computation; without,
                # steps are dispatched ahead and the wait is in the next save.
                sess.run([loss, train_op] if save_steps is None else train_op, feed)
                steps += 1
                if pid == 1 and steps == 20 and save_steps is None:
                    _die(workdir)
    except tf.errors.OpError as e:
        died = float((Path(workdir) / "dying").read_text())
        _write_error(workdir, pid, e, steps=steps, seconds=time.time() - died)
        return
    raise AssertionError("training ended without losing a process")


def killed_mid_step(pid, n, port, workdir):
    """Process 1 dies between two of its steps, while process 0 trains on."""
    _train(pid, n, port, workdir)


def killed_mid_save(pid, n, port, workdir):
    """Process 1 dies inside the collective write of the checkpoint at step 6.

    Process 0 runs on (its steps are dispatched, not awaited) into the save
    at step 12, which first waits for the write of step 6.
    """
    if pid == 1:
        write = _format.write_orbax

        def write_or_die(directory, values, key=None):
            if not directory.endswith("model.ckpt-0.partial"):
                _die(workdir)
            write(directory, values, key)

        _format.write_orbax = write_or_die
    _train(pid, n, port, workdir, save_steps=6)


if __name__ == "__main__":
    run_scenario(globals())
