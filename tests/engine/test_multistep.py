"""Multi-step execution: K steps in one compiled call equal K single runs."""

import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.engine.executable import executables
from jaxsession.session.hooks import SessionRunArgs, SessionRunHook
from jaxsession.session.monitored_session import ChiefSessionCreator, MonitoredSession
from jaxsession.session.scaffold import Scaffold

K = 5
BATCH, N_IN, N_HIDDEN, N_OUT = 4, 6, 8, 3


def _data(n_batches):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n_batches * BATCH, N_IN)).astype(np.float32)
    y = rng.integers(0, N_OUT, n_batches * BATCH).astype(np.int32)
    return x, y


def _mlp(x, y, dropout=False):
    """An MLP with Adam; returns (train_op, loss, global_step)."""
    tf.set_random_seed(7)
    h = tf.layers.dense(x, N_HIDDEN, activation=tf.nn.relu)
    if dropout:
        h = tf.nn.dropout(h, keep_prob=0.7)
    logits = tf.layers.dense(h, N_OUT)
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    )
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    return train_op, loss, step


def _dataset_model(n_batches, dropout=False):
    x, y = _data(n_batches)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
    xb, yb = ds.make_one_shot_iterator().get_next()
    return _mlp(xb, yb, dropout)


def _values(sess):
    return sess.run(tf.global_variables())


def _counting_graph(ds):
    nxt = ds.make_one_shot_iterator().get_next()
    total = tf.Variable(0, dtype=tf.int64, name="total")
    with tf.control_dependencies([total.assign_add(nxt)]):
        last = tf.identity(nxt)
    return last, total


def _single_runs(train_op, loss, runs, feeds=None):
    """Losses of ``runs`` single runs in a new session, and the final variables."""
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [
            sess.run([train_op, loss], feeds(i) if feeds else None)[1]
            for i in range(runs)
        ]
        return losses, _values(sess)


def _assert_same_values(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def test_dataset_fed_k_steps_equal_k_single_runs():
    # Two sessions on one graph start from the same initial values, data and
    # PRNG key; one runs single steps, the other K steps per run. Dropout
    # checks that the K steps draw the keys K single runs draw.
    train_op, loss, step = _dataset_model(2 * K, dropout=True)
    losses, want = _single_runs(train_op, loss, 2 * K)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_losses = [sess.run([train_op, loss], steps_per_run=K)[1] for _ in range(2)]
        assert int(sess.run(step)) == 2 * K
        _assert_same_values(_values(sess), want)
    # The fetched values are the last step's.
    np.testing.assert_allclose(got_losses, [losses[K - 1], losses[-1]], rtol=1e-6)


def test_feed_fed_k_steps_equal_k_single_runs():
    xs, ys = _data(K)
    xs, ys = xs.reshape(K, BATCH, N_IN), ys.reshape(K, BATCH)
    x = tf.placeholder(tf.float32, [None, N_IN], name="x")
    y = tf.placeholder(tf.int32, [None], name="y")
    train_op, loss, step = _mlp(x, y)
    losses, want = _single_runs(train_op, loss, K, lambda i: {x: xs[i], y: ys[i]})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([train_op, loss], {x: xs, y: ys}, steps_per_run=K)
        assert int(sess.run(step)) == K
        _assert_same_values(_values(sess), want)
    np.testing.assert_allclose(got[1], losses[-1], rtol=1e-6)


def test_feed_without_the_step_axis_is_rejected_naming_the_tensor():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    v = tf.Variable(0.0)
    op = v.assign_add(tf.reduce_sum(x))
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(
            ValueError,
            match=re.escape(
                "Cannot feed value of shape (4, 2) for Tensor 'x:0' in a run of "
                "steps_per_run=3: a fed value needs a leading axis of 3 steps, so the "
                "expected shape is (3, ?, 2) (the tensor has shape (?, 2))."
            ),
        ):
            sess.run(op, {x: np.ones((4, 2), np.float32)}, steps_per_run=3)
        with pytest.raises(
            ValueError, match=re.escape("shape (3, 4, 5) for Tensor 'x:0'")
        ):
            sess.run(op, {x: np.ones((3, 4, 5), np.float32)}, steps_per_run=3)
        # Nothing ran: the failed runs left the variable as it was.
        assert sess.run(v) == 0.0
        # The fetched value is the last step's.
        assert sess.run(op, {x: np.ones((3, 1, 2), np.float32)}, steps_per_run=3) == 6.0
        assert sess.run(v) == 6.0


def test_steps_per_run_must_be_positive():
    v = tf.Variable(0.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(ValueError, match="steps_per_run must be >= 1, got 0"):
            sess.run(v.assign_add(1.0), steps_per_run=0)


def test_steps_are_part_of_the_cache_key():
    v = tf.Variable(0.0)
    inc = v.assign_add(1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(inc)
        sess.run(inc, steps_per_run=4)
        sess.run(inc, steps_per_run=4)
        sess.run(inc)
        assert sess.run(v) == 10.0
    steps = sorted(sig.steps for sig in executables(tf.get_default_graph()))
    assert steps.count(4) == 1 and steps.count(1) >= 2
    exe4 = next(
        e for s, e in executables(tf.get_default_graph()).items() if s.steps == 4
    )
    assert exe4.trace_count == 1


def test_end_of_data_shortens_the_last_run_then_raises():
    ds = tf.data.Dataset.range(7)
    total = tf.Variable(0, dtype=tf.int64)
    step = tf.train.get_or_create_global_step()
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.control_dependencies([total.assign_add(nxt)]):
        train = step.assign_add(1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = [int(sess.run(train, steps_per_run=3)) for _ in range(3)]
        # The fetch is the last step's value; the third run had 1 element.
        assert got == [3, 6, 7]
        assert int(sess.run(total)) == sum(range(7))
        with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
            sess.run(train, steps_per_run=3)
        assert int(sess.run(step)) == 7


class _StepRecorder(SessionRunHook):
    def __init__(self):
        self.steps = []
        self.steps_per_run = None

    def _set_steps_per_run(self, steps_per_run):
        self.steps_per_run = steps_per_run

    def before_run(self, run_context):
        return SessionRunArgs(tf.train.get_global_step())

    def after_run(self, run_context, run_values):
        self.steps.append(int(run_values.results))

    def end(self, session):
        self.steps.append(int(session.run(tf.train.get_global_step())))


class _NoSaver:
    def save(self, *args, **kwargs):
        raise AssertionError("this test saves no checkpoint")

    def restore(self, *args, **kwargs):
        raise AssertionError("this test restores no checkpoint")


def test_monitored_session_runs_k_steps_per_run_until_end_of_data():
    step = tf.train.get_or_create_global_step()
    last, total = _counting_graph(tf.data.Dataset.range(2 * K))
    with tf.control_dependencies([last]):
        train = step.assign_add(1)
    hook = _StepRecorder()
    creator = ChiefSessionCreator(Scaffold(saver=_NoSaver()))
    fetched = []
    with MonitoredSession(creator, hooks=[hook], steps_per_run=K) as sess:
        assert hook.steps_per_run == K
        while not sess.should_stop():
            fetched.append(int(sess.run([train, last])[1]))
    # Hooks see one run per K steps; the global step Variable fetched with
    # the train op is its value at the end of the run (TF1's ref variables);
    # end() sees all 2K steps.
    assert hook.steps == [K, 2 * K, 2 * K]
    # The caller's fetches are the last step's.
    assert fetched == [K - 1, 2 * K - 1]


def test_monitored_training_session_checkpoints_on_run_boundaries(
    tmp_path, monkeypatch
):
    # Keeps JAX's process-wide compilation cache setting untouched.
    monkeypatch.setenv("JAXSESSION_COMPILATION_CACHE_DIR", "off")
    step = tf.train.get_or_create_global_step()
    nxt = tf.data.Dataset.range(8).make_one_shot_iterator().get_next()
    total = tf.Variable(0, dtype=tf.int64, name="total")
    with tf.control_dependencies([total.assign_add(nxt)]):
        train = step.assign_add(1)
    runs = 0
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path),
        save_checkpoint_steps=4,
        save_summaries_steps=None,
        log_step_count_steps=None,
        steps_per_run=3,
    ) as sess:
        assert sess.steps_per_run == 3
        while not sess.should_stop():
            sess.run(train)
            runs += 1
    # 8 elements: runs of 3, 3 and 2 steps, then the end of the data.
    assert runs == 3
    # Saves every 4 steps land on run boundaries: at creation, after the run
    # that passes step 4 (ending at 6), and at the end.
    paths = tf.train.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths
    assert [p.rsplit("-", 1)[1] for p in paths] == ["0", "6", "8"]
    assert tf.train.load_variable(str(tmp_path), "total") == sum(range(8))


def test_mixing_step_counts_on_one_iterator_drops_and_repeats_nothing():
    last, total = _counting_graph(tf.data.Dataset.range(10))
    with tf.Session() as sess:
        sess.run(total.initializer)
        got = [int(sess.run(last, steps_per_run=k)) for k in (1, 3, 1, 3, 3)]
        assert got == [0, 3, 4, 7, 9]
        assert int(sess.run(total)) == sum(range(10))
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(last, steps_per_run=3)


def _fails_on_7(v):
    if int(v) == 7:
        raise KeyError("no label for element 7")
    return v


def test_map_error_in_a_k_step_run_comes_after_the_elements_before_it():
    last, total = _counting_graph(tf.data.Dataset.range(10).map(_fails_on_7))
    with tf.Session() as sess:
        sess.run(total.initializer)
        assert [int(sess.run(last, steps_per_run=3)) for _ in range(3)] == [2, 5, 6]
        with pytest.raises(KeyError, match="no label for element 7"):
            sess.run(last, steps_per_run=3)
        assert int(sess.run(total)) == sum(range(7))


def test_summaries_and_fetched_iterator_values_are_the_last_steps():
    from tensorboardX.proto.summary_pb2 import Summary

    nxt = tf.data.Dataset.range(7).map(np.float32).make_one_shot_iterator().get_next()
    v = tf.Variable(0.0)
    upd = v.assign_add(nxt)
    tf.summary.scalar("nxt", nxt)
    tf.summary.scalar("v", upd)
    merged = tf.summary.merge_all()
    with tf.Session() as sess:
        sess.run(v.initializer)
        got = []
        for _ in range(3):
            total, last, summary = sess.run([upd, nxt, merged], steps_per_run=3)
            values = {x.tag: x.simple_value for x in Summary.FromString(summary).value}
            got.append((float(total), float(last), values))
    assert got == [
        (3.0, 2.0, {"nxt": 2.0, "v": 3.0}),
        (15.0, 5.0, {"nxt": 5.0, "v": 15.0}),
        (21.0, 6.0, {"nxt": 6.0, "v": 21.0}),  # shortened to the last element
    ]


def test_every_step_values_are_stacked_over_the_steps_made():
    # Without feeds the run takes the fast path after its first call.
    v = tf.Variable(0.0)
    inc = v.assign_add(1.0)
    last, total = _counting_graph(tf.data.Dataset.range(7))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for start in (0.0, 3.0, 6.0):
            value, (each,), _ = sess.run(inc, steps_per_run=3, every_step=[inc])
            assert value == start + 3.0
            np.testing.assert_array_equal(each, start + np.arange(1.0, 4.0))
        # Near the end of the data the stack is as short as the run.
        got = [
            sess.run(last, steps_per_run=3, every_step={"x": last})[:2]
            for _ in range(3)
        ]
        assert [int(value) for value, _ in got] == [2, 5, 6]
        assert [list(each["x"]) for _, each in got] == [[0, 1, 2], [3, 4, 5], [6]]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(last, steps_per_run=3, every_step={"x": last})
        assert int(sess.run(total)) == sum(range(7))


def _state_kinds_graph(fail_at):
    """A step with every kind of state a K-step scan carries.

    Packed and loose (large) variables read and written, written only, and
    read only (a pack of its own dtype), a random draw, and an assert that
    fails once the global step reaches ``fail_at``.
    """
    from jaxsession.engine.packing import PACK_MAX_ELEMENTS

    big = PACK_MAX_ELEMENTS + 1
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [3], name="x")
    step = tf.train.get_or_create_global_step()
    a = tf.Variable(np.arange(3, dtype=np.float32), name="a")
    loose = tf.Variable(np.ones(big, np.float32), name="loose")
    written = tf.Variable(np.zeros(3, np.float32), name="written")
    loose_written = tf.Variable(np.zeros(big, np.float32), name="loose_written")
    read = tf.Variable(np.full(3, 3, np.int64), name="read")
    loose_read = tf.Variable(np.full(big, 0.5, np.float32), name="loose_read")
    noise = tf.random_uniform([3])
    check = tf.debugging.assert_less(step, tf.cast(fail_at, tf.int64))
    with tf.control_dependencies([check]):
        train = tf.group(
            tf.assign_add(a, x * tf.cast(read, tf.float32) + noise),
            tf.assign(loose, loose * 1.5 + tf.reduce_mean(loose_read)),
            tf.assign(written, x + noise),
            tf.assign(loose_written, tf.fill([big], tf.reduce_sum(x))),
            tf.assign_add(step, 1),
        )
    return x, train, tf.reduce_sum(a) + loose[0]


@pytest.mark.parametrize("fail_at", [100, 7])
def test_k_steps_carry_every_kind_of_state_as_k_single_runs(fail_at):
    x, train, loss = _state_kinds_graph(fail_at)
    xs = np.random.default_rng(0).normal(size=(2, K, 3)).astype(np.float32)
    runs = []
    for steps in (1, K):
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses, error = [], None
            try:
                for batch in xs:
                    if steps == 1:
                        for row in batch:
                            losses.append(sess.run([train, loss], {x: row})[1])
                    else:
                        each = sess.run(
                            train, {x: batch}, steps_per_run=K, every_step=[loss]
                        ).every_step[0]
                        losses.extend(each)
            except tf.errors.InvalidArgumentError as e:
                error = str(e).split("\n")[0]
            runs.append((losses, _values(sess), error))
    (single, single_vars, single_error), (multi, multi_vars, multi_error) = runs
    # A K-step run that fails keeps the state of its steps before the
    # failing one, as the single runs do, and returns no values.
    assert single[: len(multi)] == pytest.approx(multi, rel=1e-6)
    assert len(single) == (2 * K if fail_at == 100 else fail_at)
    assert len(multi) == (2 * K if fail_at == 100 else K)
    assert multi_error == single_error
    assert (multi_error is None) == (fail_at == 100)
    _assert_same_values(multi_vars, single_vars)
