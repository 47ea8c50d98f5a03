"""Multi-step runs and prefetch on a data-parallel mesh (one process, CPU devices)."""

import re
import types

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec

import jaxsession as tf
from jaxsession.engine import infeed, mesh as mesh_lib
from tests.engine.test_multistep import BATCH, N_IN, N_OUT, _data

K = 3


def _model(x, y, dropout=False):
    """A small softmax regression with momentum: (train_op, loss, global_step)."""
    tf.set_random_seed(7)
    if dropout:
        x = tf.nn.dropout(x, keep_prob=0.7)
    logits = tf.layers.dense(x, N_OUT)
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    )
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss, global_step=step)
    return train_op, loss, step


@pytest.fixture
def data_parallel():
    mesh_lib.set_data_parallel(True)
    yield
    mesh_lib.set_data_parallel(None)


def _close(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def _train_on_feeds(dp, steps, runs):
    """Losses (per step) and variables after ``runs`` runs of ``steps`` steps."""
    tf.reset_default_graph()
    mesh_lib.set_data_parallel(dp)
    xs, ys = _data(steps * runs)
    xs, ys = xs.reshape(runs, steps, BATCH, N_IN), ys.reshape(runs, steps, BATCH)
    x = tf.placeholder(tf.float32, [None, N_IN], name="x")
    y = tf.placeholder(tf.int32, [None], name="y")
    train_op, loss, _ = _model(x, y)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = []
        for i in range(runs):
            if steps == 1:
                losses.append(sess.run([train_op, loss], {x: xs[i, 0], y: ys[i, 0]})[1])
            else:
                each = sess.run(
                    train_op,
                    {x: xs[i], y: ys[i]},
                    steps_per_run=steps,
                    every_step=[loss],
                ).every_step
                losses.extend(each[0])
        return np.array(losses), sess.run(tf.global_variables()), sess.mesh


def test_fed_k_steps_on_a_mesh_equal_k_single_data_parallel_runs(data_parallel):
    single_losses, single_vars, mesh = _train_on_feeds(True, 1, 2 * K)
    multi_losses, multi_vars, mesh_k = _train_on_feeds(True, K, 2)
    assert mesh.shape == {"data": 4} and mesh_k is mesh
    # Every step's loss (EveryStep) and the final variables.
    np.testing.assert_allclose(multi_losses, single_losses, rtol=1e-6, atol=1e-6)
    _close(multi_vars, single_vars)


def _train_on_dataset(dp, steps, n_batches):
    tf.reset_default_graph()
    mesh_lib.set_data_parallel(dp)
    x, y = _data(n_batches)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
    xb, yb = ds.make_one_shot_iterator().get_next()
    train_op, loss, step = _model(xb, yb, dropout=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = []
        while True:
            try:
                losses.append(sess.run([train_op, loss], steps_per_run=steps)[1])
            except tf.errors.OutOfRangeError:
                break
        variables, final_step = sess.run([tf.global_variables(), step])
        return losses, variables, int(final_step)


def test_dataset_k_steps_on_a_mesh_equal_single_runs_up_to_the_end(data_parallel):
    # 7 batches, K=3: runs of 3, 3 and 1 step; dropout checks the keys.
    single_losses, single_vars, single_step = _train_on_dataset(True, 1, 7)
    multi_losses, multi_vars, multi_step = _train_on_dataset(True, K, 7)
    assert single_step == multi_step == 7
    np.testing.assert_allclose(
        multi_losses, [single_losses[i] for i in (2, 5, 6)], rtol=1e-6, atol=1e-6
    )
    _close(multi_vars, single_vars)


def test_a_k_step_batch_that_does_not_split_is_refused_naming_it(data_parallel):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    v = tf.Variable(0.0)
    op = v.assign_add(tf.reduce_sum(x))
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(
            ValueError,
            match=re.escape(
                "cannot feed a batch of shape (3, 6, 2) for 'x:0' in a data-parallel "
                "run: its dimension 1 (the batch) must be a multiple of 4, this "
                "process's parts of the batch along 'data'"
            ),
        ):
            sess.run(op, {x: np.ones((3, 6, 2), np.float32)}, steps_per_run=3)
        with pytest.raises(
            ValueError,
            match=re.escape(
                "cannot feed a batch of shape (6, 2) for 'x:0' in a data-parallel "
                "run: its leading dimension must be a multiple of 4, this "
                "process's parts of the batch along 'data'"
            ),
        ):
            sess.run(op, {x: np.ones((6, 2), np.float32)})
        assert sess.run(v) == 0.0
        # The K axis itself need not split: 3 steps of batches of 4.
        assert sess.run(op, {x: np.ones((3, 4, 2), np.float32)}, steps_per_run=3) == 24


def test_k_step_feeds_are_split_along_the_batch_dimension():
    mesh = mesh_lib.default_mesh()
    local = np.arange(3 * 8 * 2, dtype=np.float32).reshape(3, 8, 2)
    placed = mesh_lib.global_batch_at(mesh, local, "x:0", 1)
    assert placed.sharding.spec == PartitionSpec(None, "data")
    assert placed.shape == (3, 8, 2)
    for shard in placed.addressable_shards:
        assert shard.data.shape == (3, 2, 2)
    np.testing.assert_array_equal(np.asarray(placed), local)
    assert mesh_lib.on_mesh(mesh, placed)
    assert not mesh_lib.on_mesh(mesh, np.asarray(local))


@pytest.fixture(params=["device", "host", "host_placing_ahead"])
def pipeline(request, monkeypatch):
    """Which input pipeline in-memory datasets take: cut on the device, or prefetched.

    ``host_placing_ahead``: the prefetch thread places blocks on the mesh
    itself, as it does off CPU.
    """
    if request.param != "device":
        monkeypatch.setattr(infeed, "DEVICE_SLICES_MAX_BYTES", -1)
    if request.param == "host_placing_ahead":
        monkeypatch.setattr(mesh_lib, "platform", lambda mesh: "gpu")
    return infeed.DeviceSlices if request.param == "device" else infeed.Prefetcher


def test_prefetched_batches_are_placed_like_feeds(data_parallel, pipeline):
    x, y = _data(9)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
    fixed = tf.data.Dataset.from_tensor_slices(x).batch(BATCH, drop_remainder=True)
    xb, yb = ds.make_one_shot_iterator().get_next()
    xk, _ = ds.make_one_shot_iterator().get_next()
    xf = fixed.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        mesh = sess.mesh
        leaves, n = infeed.take_elements(xb.op, sess, 1)
        assert type(sess.resources[("iterator", xb.op.attrs["iterator"])]) is pipeline
        assert n == 1
        assert leaves[0].sharding == mesh_lib.batch_sharding(mesh)
        assert leaves[1].sharding == mesh_lib.batch_sharding(mesh)
        np.testing.assert_array_equal(np.asarray(leaves[0]), x[:BATCH])
        np.testing.assert_array_equal(np.asarray(leaves[1]), y[:BATCH])
        # K elements come as one block: the batch, dimension 1, is split.
        leaves, n = infeed.take_elements(xk.op, sess, K)
        assert n == K
        assert leaves[0].sharding.spec == PartitionSpec(None, "data")
        assert leaves[0].sharding.mesh == mesh
        want = x[: K * BATCH].reshape(K, BATCH, N_IN)
        np.testing.assert_array_equal(np.asarray(leaves[0]), want)
        # Blocks re-cut to another count are placed the same way.
        leaves, n = infeed.take_elements(xb.op, sess, K)
        assert leaves[0].sharding.spec == PartitionSpec(None, "data")
        want = x[BATCH : (K + 1) * BATCH].reshape(K, BATCH, N_IN)
        np.testing.assert_array_equal(np.asarray(leaves[0]), want)
        # A leaf of static shape is no batch: replicated, as its feed would be.
        (fixed_leaf,), _ = infeed.take_elements(xf.op, sess, 1)
        assert fixed_leaf.sharding == mesh_lib.replicated(mesh)
        np.testing.assert_array_equal(np.asarray(fixed_leaf), x[:BATCH])
        # The session passes the prefetched arrays straight to the run.
        got = sess.run(xb)
        np.testing.assert_array_equal(got, x[(K + 1) * BATCH : (K + 2) * BATCH])


def test_a_fetch_failing_after_the_call_keeps_the_run_s_writes(
    data_parallel, monkeypatch
):
    # Converting fetches on a mesh can fail after the call (a collective);
    # the call donated the old buffers, so the state must hold the new ones.
    x = tf.placeholder(tf.float32, [None], name="x")
    v = tf.Variable(1.0, name="v")
    w = tf.Variable([1.0, 2.0], name="w")
    inc = v.assign_add(tf.reduce_sum(x))
    double = w.assign(w * 2.0)
    batch = np.ones(4, np.float32)

    def failing(value):
        raise jax.errors.JaxRuntimeError("INTERNAL: gather failed")

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([inc, double], {x: batch})[0] == 5.0
        for steps in (1, 2):
            monkeypatch.setattr(mesh_lib, "to_host", failing)
            feed = {x: np.ones((steps, 4), np.float32) if steps > 1 else batch}
            with pytest.raises(jax.errors.JaxRuntimeError, match="gather failed"):
                sess.run([inc, double], feed, steps_per_run=steps)
            monkeypatch.undo()
        # Both runs were made: 1 + 4 + 4 + 2 * 4, and w doubled 1 + 1 + 2 times.
        got = sess.run([v, w])
        assert got[0] == 17.0
        np.testing.assert_array_equal(got[1], [16.0, 32.0])
        values = sess.variable_values()
        assert float(np.asarray(values[v])) == 17.0
        # The session goes on from there.
        assert sess.run(inc, {x: batch}) == 21.0


def test_a_per_step_batch_is_found_on_its_data_dimension():
    mesh = mesh_lib.default_mesh()
    local = np.arange(3 * 8 * 2, dtype=np.float32).reshape(3, 8, 2)
    per_step = mesh_lib.global_batch_at(mesh, local, "x:0", 1)
    batch = mesh_lib.global_batch_at(mesh, local[0], "x:0")
    replicated = mesh_lib.place_replicated(mesh, local)
    assert mesh_lib.batch_dimension(per_step) == 1
    assert mesh_lib.batch_dimension(batch) == 0
    assert mesh_lib.batch_dimension(replicated) is None
    # This process's part along that dimension: here, all of it, in order.
    np.testing.assert_array_equal(mesh_lib.local_part(per_step, 1), local)
    np.testing.assert_array_equal(mesh_lib.local_part(batch, 0), local[0])


def test_in_memory_data_sits_on_every_device_and_each_cuts_its_part(data_parallel):
    x, y = _data(5)
    it = tf.data.Dataset.from_tensor_slices((x, y)).repeat(2).batch(BATCH)
    it = it.make_initializable_iterator()
    xb, yb = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer)
        feeder = sess.resources[("iterator", it)]
        assert type(feeder) is infeed.DeviceSlices
        # The whole data on each device; only row indices go there per run.
        for array, host in zip(feeder._arrays, (x, y)):
            assert array.sharding == mesh_lib.replicated(sess.mesh)
            assert {s.data.shape for s in array.addressable_shards} == {host.shape}
        got = [sess.run([xb, yb]) for _ in range(10)]
        with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
            sess.run(xb)
    for i, (gx, gy) in enumerate(got):
        rows = slice((i % 5) * BATCH, (i % 5 + 1) * BATCH)
        np.testing.assert_array_equal(gx, x[rows])
        np.testing.assert_array_equal(gy, y[rows])


def test_device_batches_on_a_model_axis_are_replicated_along_it(monkeypatch):
    monkeypatch.setattr(
        mesh_lib, "_settings", {"data_parallel": None, "mesh_shape": None}
    )
    mesh_lib.set_mesh_shape({"data": 2, "model": 2})
    x, _ = _data(4)
    it = tf.data.Dataset.from_tensor_slices(x).batch(BATCH).make_one_shot_iterator()
    xb = it.get_next()
    with tf.Session() as sess:
        assert dict(sess.mesh.shape) == {"data": 2, "model": 2}
        leaves, _ = infeed.take_elements(xb.op, sess, 1)
        assert type(sess.resources[("iterator", it)]) is infeed.DeviceSlices
        assert leaves[0].sharding == mesh_lib.batch_sharding(sess.mesh)
        # Devices along 'model' hold the same half of the batch.
        halves = {
            s.device: np.asarray(s.data).tolist() for s in leaves[0].addressable_shards
        }
        for row in sess.mesh.devices:
            assert halves[row[0]] == halves[row[1]]
        np.testing.assert_array_equal(np.asarray(leaves[0]), x[:BATCH])
        leaves, n = infeed.take_elements(xb.op, sess, 2)
        assert n == 2 and leaves[0].sharding.spec == PartitionSpec(None, "data")
        want = x[BATCH : 3 * BATCH].reshape(2, BATCH, N_IN)
        np.testing.assert_array_equal(np.asarray(leaves[0]), want)


def test_runs_on_one_process_cut_their_batches_inside_the_call(
    data_parallel, monkeypatch
):
    # The data is one global array, replicated on every device: the step's
    # own call gathers each device's rows; no cut call of its own.
    losses_host, vars_host, _ = _train_on_dataset_with(monkeypatch, "host")
    cuts = []
    real_cut = infeed._mesh_cut
    monkeypatch.setattr(infeed, "_mesh_cut", lambda *a: cuts.append(a) or real_cut(*a))
    losses, variables, step = _train_on_dataset(True, 1, 7)
    assert cuts == [] and step == 7
    # Dropout's masks too: the same keys, the same batches as placed feeds.
    np.testing.assert_allclose(losses, losses_host, rtol=1e-6, atol=1e-6)
    _close(variables, vars_host)
    # K steps gather their K batches inside the call too (7 = 3 + 3 + 1: the
    # last run's one batch is cut alone, as on one device).
    multi_losses, multi_vars, _ = _train_on_dataset(True, K, 7)
    assert len(cuts) == 1
    np.testing.assert_allclose(
        multi_losses, [losses[i] for i in (2, 5, 6)], rtol=1e-6, atol=1e-6
    )
    _close(multi_vars, variables)


def test_a_batch_of_static_shape_is_cut_inside_the_call_replicated(
    data_parallel, monkeypatch
):
    # drop_remainder gives the batch a static shape: no batch to split, so
    # the call's cut leaves it whole on every device, as its feed would be.
    monkeypatch.setattr(infeed, "_mesh_cut", None)  # no cut call of its own
    x, _ = _data(3)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(BATCH, drop_remainder=True)
    xb = ds.make_one_shot_iterator().get_next()
    total = tf.reduce_sum(xb, axis=0)
    with tf.Session() as sess:
        assert xb.shape.as_list() == [BATCH, N_IN]
        got = [sess.run(total) for _ in range(3)]
    want = x.reshape(3, BATCH, N_IN).sum(axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def _train_on_dataset_with(monkeypatch, pipeline):
    with monkeypatch.context() as patch:
        if pipeline == "host":
            patch.setattr(infeed, "DEVICE_SLICES_MAX_BYTES", -1)
        return _train_on_dataset(True, 1, 7)


@pytest.mark.parametrize("steps", [1, 2])
def test_a_device_batch_that_does_not_split_is_refused_naming_it(data_parallel, steps):
    x = np.ones((12, 2), np.float32)
    it = tf.data.Dataset.from_tensor_slices(x).batch(6).make_one_shot_iterator()
    xb = it.get_next()
    v = tf.Variable(0.0)
    op = v.assign_add(tf.reduce_sum(xb))
    what = "its leading dimension" if steps == 1 else "its dimension 1 (the batch)"
    shape = "(6, 2)" if steps == 1 else "(2, 6, 2)"
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(
            ValueError,
            match=re.escape(
                f"cannot feed a batch of shape {shape} for 'IteratorGetNext:0' in a "
                f"data-parallel run: {what} must be a multiple of 4"
            ),
        ):
            sess.run(op, steps_per_run=steps)
        assert type(sess.resources[("iterator", it)]) is infeed.DeviceSlices
        assert sess.run(v) == 0.0


def test_a_process_whose_devices_are_not_one_block_keeps_the_host_pipeline():
    def device(process):
        return types.SimpleNamespace(process_index=process)

    # Process 0 holds two corners of a 2 x 2 mesh: its part of a batch is no block.
    corners = np.array([[device(0), device(1)], [device(1), device(0)]], dtype=object)
    mesh = types.SimpleNamespace(devices=corners, axis_names=("data", "model"))
    assert mesh_lib.local_block(mesh) is None
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((8, 2), np.float32)).batch(4)
    assert not infeed.device_slices_fit(ds, [tf.float32], mesh)
    assert infeed.device_slices_fit(ds, [tf.float32])
