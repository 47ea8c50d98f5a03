"""A data-parallel MLP on one process's devices: batches cut in the step or ahead.

One process, a data-parallel session over this process's devices (one CPU
device here: a mesh of one; every GPU of a host elsewhere), trained with
``sess.run(train_op)`` from an in-memory ``Dataset.from_tensor_slices((x,
y)).repeat().batch(b)`` whose arrays sit on the devices
(``engine/infeed.DeviceSlices``). Two sessions, alternating repeat by
repeat (``common.compare``):

- in the step: the step's own compiled call gathers each device's rows
  (issue 16; ``Runner._run_fused``);
- ahead of it: the previous path on a mesh, a compiled call of its own
  that cuts the batch, then the step.

A repeat ends by fetching a weight, which waits for every step. Not several
CPU devices in one process: XLA:CPU's in-process all-reduce deadlocks now
and then here (see bench_mesh_input.py).
"""

from __future__ import annotations

from benchmarks import mlp_model
from benchmarks.common import INFO, Row, compare, print_section, row

FULL = {"repeats": 11, "warmup": 20}
QUICK = {"repeats": 1, "warmup": 2, "min_repeats": 1}


def _sides(sizes: mlp_model.Sizes) -> tuple[dict, list]:
    import jaxsession as tf
    from jaxsession.engine import infeed

    # The previous path, for the baseline side only: the run asks the
    # iterator whether it may cut inside the call, and this side says no.
    in_step = {"on": True}
    may_cut = infeed.DeviceSlices.cuts_in_call
    infeed.DeviceSlices.cuts_in_call = property(
        lambda self: may_cut.fget(self) and in_step["on"]
    )
    data = mlp_model.make_data(sizes)
    sides, sessions = {}, []
    for name in ("in the step", "ahead of it"):
        model = mlp_model.build_graph(sizes, data)
        sess = tf.Session(graph=model.graph)
        sessions.append(sess)
        with model.graph.as_default():
            sess.run(tf.global_variables_initializer())
        on = name == "in the step"

        def call(sess=sess, train=model.train_op, on=on) -> None:
            in_step["on"] = on
            sess.run(train)

        sides[name] = (call, lambda sess=sess, w=model.params[0]: sess.run(w))
    return sides, sessions


def main(quick: bool = False) -> list[Row]:
    """Runs the benchmark, prints the table and returns its rows.

    Args:
        quick: Tiny sizes and one repeat: a smoke run, not a figure.
    """
    import jax

    from jaxsession.engine import infeed, mesh as mesh_lib

    cases = (
        [("small", mlp_model.QUICK, 3)]
        if quick
        else [
            ("32-32-32-10", mlp_model.SMALL, 200),
            ("784-256-256-10", mlp_model.FULL, 50),
        ]
    )
    kw = QUICK if quick else FULL
    devices = len(jax.local_devices())
    rows = []
    may_cut = infeed.DeviceSlices.cuts_in_call
    mesh_lib.set_data_parallel(True)
    try:
        for label, sizes, calls in cases:
            sides, sessions = _sides(sizes)
            try:
                times = compare(sides, calls=calls, **kw)
            finally:
                for sess in sessions:
                    sess.close()
                infeed.DeviceSlices.cuts_in_call = may_cut
            title = (
                f"{label}, 1 process x {devices} device(s), batch {sizes.batch}: "
                "in-memory batches cut inside the step vs ahead of it"
            )
            rows.append(
                row(title, times, "in the step", "ahead of it", INFO, speed=True)
            )
    finally:
        mesh_lib.set_data_parallel(None)
    print_section(
        "Data-parallel input on one process (steps/s cut in the step / ahead of it)",
        rows,
        ours="in the step µs/step",
        raw="ahead of it µs/step",
    )
    return rows


if __name__ == "__main__":
    main()
