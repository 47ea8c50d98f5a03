"""A data-parallel MLP fed by an in-memory Dataset: data on the devices vs prefetched.

Two ``jax.distributed`` processes on localhost, one CPU device each
(``benchmarks/processes.py``), each with its own half of the data. In each
process two sessions train the MLP of ``mlp_model.py`` with
``sess.run(train_op)`` from ``Dataset.from_tensor_slices((x, y)).repeat()
.batch(b)``, alternating repeat by repeat (``common.compare``):

- device: the arrays sit on the process's device, which gathers each batch
  (``engine/infeed.DeviceSlices`` on a mesh);
- host: the previous path, a thread that cuts each batch in NumPy ahead of
  the step, placed on the mesh by the run (``engine/infeed.Prefetcher``).

A repeat ends by fetching a weight, which waits for every step. Processes,
not several devices in one: XLA:CPU's in-process all-reduce deadlocks now
and then over thousands of steps here, even in raw JAX.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from benchmarks.common import INFO, Row, print_section
from benchmarks.processes import join, run_job

PROCESSES = 2
FULL = {"calls": 100}
QUICK = {"calls": 3, "repeats": 1, "warmup": 2, "min_repeats": 1}


def _child(pid: int, n: int, port: int, out: str, quick: bool) -> None:
    """Times both sides in one process of the job; process 0 writes the rows."""
    join(pid, n, port)
    import jaxsession as tf
    from benchmarks import mlp_model
    from benchmarks.common import compare, row
    from jaxsession.engine import infeed

    kw = QUICK if quick else FULL
    cases = (
        [("small", mlp_model.QUICK)]
        if quick
        else [("32-32-32-10", mlp_model.SMALL), ("784-256-256-10", mlp_model.FULL)]
    )
    rows = []
    for label, sizes in cases:
        data = mlp_model.make_data(sizes, seed=pid)
        sides, sessions = {}, []
        for name, limit in (("device", infeed.DEVICE_SLICES_MAX_BYTES), ("host", -1)):
            model = mlp_model.build_graph(sizes, data)
            old, infeed.DEVICE_SLICES_MAX_BYTES = infeed.DEVICE_SLICES_MAX_BYTES, limit
            try:
                sess = tf.Session(graph=model.graph)
                with model.graph.as_default():
                    sess.run(tf.global_variables_initializer())
                sess.run(model.train_op)  # the iterator's pipeline starts here
            finally:
                infeed.DEVICE_SLICES_MAX_BYTES = old
            sessions.append(sess)
            weight, train = model.params[0], model.train_op
            sides[name] = (
                lambda sess=sess, train=train: sess.run(train),
                lambda sess=sess, weight=weight: sess.run(weight),
            )
        try:
            calls = kw["calls"]
            times = compare(
                sides, calls=calls, **{k: v for k, v in kw.items() if k != "calls"}
            )
        finally:
            for sess in sessions:
                sess.close()
        title = (
            f"{label}, {n} processes x 1 CPU device, batch {sizes.batch} per "
            "process: in-memory Dataset on the device vs prefetched from the host"
        )
        r = row(title, times, "device", "host", INFO, speed=True)
        rows.append([r.name, r.ours_us, r.raw_us, r.target, r.ratio, r.speed])
    Path(out).write_text(json.dumps(rows))


def main(quick: bool = False) -> list[Row]:
    """Runs the job, prints the table and returns its rows.

    Args:
        quick: Few calls and one repeat: a smoke run, not a figure.
    """
    with tempfile.TemporaryDirectory() as work:
        args = ["--quick"] if quick else []
        fields = run_job("benchmarks.bench_mesh_input", PROCESSES, args, work)
    rows = [Row(*f) for f in fields]
    print_section(
        "Data-parallel input (steps/s of the device path over the host path)",
        rows,
        ours="device µs/step",
        raw="host µs/step",
    )
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        pid, n, port = map(int, sys.argv[2:5])
        _child(pid, n, port, sys.argv[5], "--quick" in sys.argv[6:])
    else:
        main("--quick" in sys.argv)
