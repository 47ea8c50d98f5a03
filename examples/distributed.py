"""Data-parallel training in several processes, written as TF1 code.

Every process runs this same script; ``jax.distributed`` connects them. As
in TF1, the job is a ``tf.train.ClusterSpec`` of workers and each process
starts a ``tf.train.Server`` for its task: worker 0 is the coordinator and
the chief. The chief initializes (or restores from ``--logdir``) and saves
checkpoints; the other workers wait for it and take its values. Each
process feeds its own part of every global batch, and the gradients are
averaged over all devices of all processes.

On several hosts (one command per host, same ``--workers`` list)::

    python examples/distributed.py --workers h0:2222,h1:2222 --task_index 0  # on h0
    python examples/distributed.py --workers h0:2222,h1:2222 --task_index 1  # on h1

On one machine, ``--local N`` starts the N processes itself (each with two
CPU devices) on a free loopback port and waits for them::

    python examples/distributed.py --local 2 --logdir runs/distributed

``--initialization_timeout``, ``--heartbeat_timeout`` and
``--shutdown_timeout`` (seconds) are ``jax.distributed``'s: how long the
processes wait for each other to start, how soon a silent process counts as
dead (the others then stop with ``UnavailableError`` naming it), how long
each waits for the others at exit. ``--max_wait_secs`` bounds a worker's
wait for the chief to initialize or restore.
"""

import argparse
import logging
import os
import socket
import subprocess
import sys

import numpy as np

GLOBAL_BATCH = 64


def batches(task_index, num_workers, seed=0):
    """This task's part of each global batch of a synthetic 3-class problem."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(3, 8)).astype(np.float32) * 2
    per_task = GLOBAL_BATCH // num_workers
    while True:
        labels = rng.integers(0, 3, size=GLOBAL_BATCH).astype(np.int32)
        x = centers[labels] + rng.normal(size=(GLOBAL_BATCH, 8)).astype(np.float32)
        part = slice(task_index * per_task, (task_index + 1) * per_task)
        yield x[part], labels[part]


def train(args):
    import jaxsession as tf

    workers = args.workers.split(",")
    cluster = tf.train.ClusterSpec({"worker": workers})
    server = tf.train.Server(
        cluster,
        job_name="worker",
        task_index=args.task_index,
        initialization_timeout=args.initialization_timeout,
        heartbeat_timeout=args.heartbeat_timeout,
        shutdown_timeout=args.shutdown_timeout,
    )
    is_chief = args.task_index == 0

    x = tf.placeholder(tf.float32, [None, 8], name="x")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    hidden = tf.layers.dense(x, 32, activation=tf.nn.relu, name="hidden")
    logits = tf.layers.dense(hidden, 3, name="logits")
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)

    data = batches(args.task_index, len(workers))
    runs = 0
    with tf.train.MonitoredTrainingSession(
        master=server.target,
        is_chief=is_chief,
        checkpoint_dir=args.logdir,
        hooks=[tf.train.StopAtStepHook(last_step=args.steps)],
        save_checkpoint_steps=args.steps,
        log_step_count_steps=None,
        max_wait_secs=args.max_wait_secs,
    ) as sess:
        while not sess.should_stop():
            xs, ys = next(data)
            step, value, _ = sess.run(
                [global_step, loss, train_op], {x: xs, labels: ys}
            )
            runs += 1
            if is_chief and step % 50 == 0:
                print(f"step {step} loss {value:.4f}", flush=True)
    role = "chief" if is_chief else "worker"
    print(f"task {args.task_index} ({role}) done: {runs} steps run", flush=True)


def launch_local(args):
    """Starts ``args.local`` processes of this script on this machine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Only the first address is used (the coordinator); the rest name the tasks.
    workers = ",".join(f"127.0.0.1:{port + i}" for i in range(args.local))
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu"),
    }
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--workers",
                workers,
                "--task_index",
                str(i),
                "--steps",
                str(args.steps),
                *_timeout_flags(args),
            ]
            + (["--logdir", args.logdir] if args.logdir else []),
            env=env,
        )
        for i in range(args.local)
    ]
    try:
        codes = [p.wait(timeout=args.timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    if any(codes):
        sys.exit(f"a process failed: exit codes {codes}")


TIMEOUT_FLAGS = (
    "initialization_timeout",
    "heartbeat_timeout",
    "shutdown_timeout",
    "max_wait_secs",
)


def _timeout_flags(args):
    """The timeout flags of ``args``, to pass on to the local processes."""
    return [
        f for name in TIMEOUT_FLAGS for f in (f"--{name}", str(getattr(args, name)))
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", help="comma-separated host:port of every task")
    parser.add_argument("--task_index", type=int, default=0)
    parser.add_argument("--local", type=int, help="start N processes on this machine")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--logdir", default=None, help="checkpoints (chief)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="--local: seconds before the processes are killed",
    )
    parser.add_argument(
        "--initialization_timeout",
        type=int,
        default=300,
        help="seconds for all processes to connect",
    )
    parser.add_argument(
        "--heartbeat_timeout",
        type=int,
        default=100,
        help="seconds of silence before a process counts as dead",
    )
    parser.add_argument(
        "--shutdown_timeout",
        type=int,
        default=300,
        help="seconds each process waits for the others at exit",
    )
    parser.add_argument(
        "--max_wait_secs",
        type=float,
        default=7200,
        help="seconds a worker waits for the chief's variables",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.local:
        launch_local(args)
    elif args.workers:
        train(args)
    else:
        parser.error("give --workers (one process per host) or --local N")


if __name__ == "__main__":
    main()
