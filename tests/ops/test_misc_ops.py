"""Sparse feeds, scatters, CTC, namespaces and protos as TF1 programs use them."""

import numpy as np
import pytest

import jaxsession as tf


def test_sparse_placeholder_fed_with_values_of_two_dense_shapes():
    sp = tf.sparse_placeholder(tf.float32, name="sp")
    dense = tf.sparse.to_dense(sp)
    total = tf.reduce_sum(dense, axis=1)
    first = tf.SparseTensorValue([[0, 0], [1, 2]], [1.0, 2.0], [2, 3])
    second = ([[0, 1], [2, 3]], np.array([5.0, -1.0], np.float32), [3, 4])
    with tf.Session() as sess:
        a, sums = sess.run([dense, total], {sp: first})
        b = sess.run(dense, {sp: second})
        fetched = sess.run(sp, {sp: first})
    np.testing.assert_array_equal(a, [[1, 0, 0], [0, 0, 2]])
    np.testing.assert_array_equal(sums, [1, 2])
    assert b.shape == (3, 4) and b[0, 1] == 5 and b[2, 3] == -1
    assert isinstance(fetched, tf.SparseTensorValue)
    np.testing.assert_array_equal(fetched.dense_shape, [2, 3])


def test_sparse_tensor_dense_matmul_as_a_bag_of_words_layer():
    sp = tf.sparse_placeholder(tf.float32, shape=[None, 5])
    w = tf.Variable(np.arange(10, dtype=np.float32).reshape(5, 2))
    out = tf.sparse_tensor_dense_matmul(sp, w)
    assert out.shape.as_list() == [None, 2]
    value = tf.SparseTensorValue([[0, 1], [0, 4], [1, 0]], [1.0, 2.0, 3.0], [2, 5])
    with tf.Session() as sess:
        sess.run(w.initializer)
        got = sess.run(out, {sp: value})
    np.testing.assert_allclose(got, [[2 + 16, 3 + 18], [0, 3]])


def test_densifying_a_computed_dense_shape_says_why():
    x = tf.placeholder(tf.int64, [2])
    sp = tf.SparseTensor([[0, 0]], [1.0], x * 1)
    dense = tf.sparse_tensor_to_dense(sp)
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="dense_shape"),
    ):
        sess.run(dense, {x: [2, 2]})


def test_scatter_update_and_add_on_an_embedding_table():
    table = tf.Variable(np.zeros([4, 2], np.float32))
    rows = tf.placeholder(tf.int32, [None])
    new = tf.placeholder(tf.float32, [None, 2])
    update = tf.scatter_update(table, rows, new)
    bump = tf.scatter_add(table, rows, new)
    with tf.Session() as sess:
        sess.run(table.initializer)
        sess.run(update, {rows: [1, 3], new: [[1, 1], [2, 2]]})
        after = sess.run(bump, {rows: [1, 1], new: [[1, 0], [0, 1]]})
    np.testing.assert_array_equal(after, [[0, 0], [2, 2], [0, 0], [2, 2]])


def test_ctc_loss_trains_logits_toward_the_labels():
    logits = tf.Variable(np.zeros([6, 1, 4], np.float32))
    labels = tf.SparseTensor([[0, 0], [0, 1]], tf.constant([1, 2]), [1, 2])
    loss = tf.reduce_mean(tf.nn.ctc_loss(labels, logits, [6]))
    train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    with tf.Session() as sess:
        sess.run(logits.initializer)
        start = sess.run(loss)
        for _ in range(20):
            sess.run(train)
        end = sess.run(loss)
    assert start > 2.0 and end < 0.5 * start


def test_compat_v1_is_this_namespace():
    import jaxsession.compat.v1 as v1

    assert v1 is tf and tf.compat.v1 is tf
    v1.disable_v2_behavior()
    v1.disable_eager_execution()
    assert v1.executing_eagerly() is False
    with pytest.raises(NotImplementedError, match="eager execution is not available"):
        v1.enable_eager_execution()
    assert tf.compat.as_bytes("é") == "é".encode() and tf.compat.as_text(b"x") == "x"


def test_summary_proto_written_by_file_writer(tmp_path):
    summary = tf.Summary(value=[tf.Summary.Value(tag="acc", simple_value=0.75)])
    writer = tf.summary.FileWriter(str(tmp_path))
    writer.add_summary(summary, global_step=3)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    events = [e for e in tf.train.summary_iterator(str(path)) if e.HasField("summary")]
    assert [
        (e.step, e.summary.value[0].tag, e.summary.value[0].simple_value)
        for e in events
    ] == [(3, "acc", 0.75)]


def test_sync_replicas_optimizer_in_a_monitored_session(tmp_path):
    w = tf.Variable(1.0)
    step = tf.train.get_or_create_global_step()
    opt = tf.train.SyncReplicasOptimizer(
        tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=1
    )
    train = opt.minimize(tf.square(w), global_step=step)
    hook = opt.make_session_run_hook(is_chief=True)
    with tf.train.MonitoredTrainingSession(hooks=[hook]) as sess:
        sess.run(train)
        sess.run(train)
        assert sess.run(w) == pytest.approx(0.0)
        assert sess.run(step) == 2


def test_ftrl_l1_zeroes_small_weights():
    w = tf.Variable([0.5, -3.0])
    loss = tf.reduce_sum(tf.square(w - [0.01, -2.0]))
    train = tf.train.FtrlOptimizer(0.5, l1_regularization_strength=1.0).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            sess.run(train)
        got = sess.run(w)
    assert got[0] == 0.0 and got[1] < -0.5
