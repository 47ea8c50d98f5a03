"""Candidate samplers, nce_loss and sampled_softmax_loss against TF1's formulas."""

import math
import re

import jax
import numpy as np
import pytest

import jaxsession as tf
from jaxsession.library import sampling as cs

RNG = np.random.default_rng(5)
FLT_MAX = np.finfo(np.float32).max


def _runs(build, runs=2, graph_seed=None):
    """Builds in a fresh graph (no variables) and returns ``runs`` runs' values."""
    graph = tf.Graph()
    with graph.as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        out = build()
    with tf.Session(graph=graph) as sess:
        return [sess.run(out) for _ in range(runs)]


def _log_uniform_p(k, range_max):
    k = np.asarray(k, np.float64)
    return (np.log(k + 2) - np.log(k + 1)) / np.log(range_max + 1)


# -- samplers -------------------------------------------------------------------


def test_sampler_is_reproducible_from_seeds_and_new_every_run():
    def build():
        labels = tf.constant([[1], [4]], tf.int64)
        return [
            tf.nn.log_uniform_candidate_sampler(labels, 1, 6, True, 50, seed=3),
            tf.nn.log_uniform_candidate_sampler(labels, 1, 6, True, 50, seed=4),
            tf.nn.uniform_candidate_sampler(labels, 1, 6, False, 50),
        ]

    first, second = _runs(build, graph_seed=11), _runs(build, graph_seed=11)
    for x, y in zip(
        jax.tree_util.tree_leaves(first), jax.tree_util.tree_leaves(second)
    ):
        np.testing.assert_array_equal(x, y)
    # Each run draws new classes, as TF1's samplers do; another op seed differs.
    assert not np.array_equal(first[0][0][0], first[1][0][0])
    assert not np.array_equal(first[0][0][0], first[0][1][0])


def test_sampler_outputs_types_and_shapes():
    labels = tf.placeholder(tf.int64, [None, 2])
    out = tf.nn.uniform_candidate_sampler(labels, 2, 5, True, 9, name="sampler")
    assert isinstance(out, cs.CandidateSamplerOutput)
    assert out.sampled_candidates.op.type == "UniformCandidateSampler"
    assert out.sampled_candidates.name == "sampler:0"
    assert [t.dtype for t in out] == [tf.int64, tf.float32, tf.float32]
    assert [t.shape.as_list() for t in out] == [[5], [None, 2], [5]]


@pytest.mark.parametrize("sampler", ["log_uniform", "uniform"])
def test_unique_candidates_are_distinct_and_in_range(sampler):
    fn = getattr(tf.nn, f"{sampler}_candidate_sampler")
    labels = tf.constant([[0]], tf.int64)
    few = fn(labels, 1, 20, True, 40, seed=1)
    every = fn(labels, 1, 12, True, 12, seed=2)
    with tf.Session() as sess:
        for _ in range(3):
            got_few, got_every = sess.run(
                [few.sampled_candidates, every.sampled_candidates]
            )
            assert len(set(got_few.tolist())) == 20
            assert got_few.min() >= 0 and got_few.max() < 40
            assert sorted(got_every.tolist()) == list(range(12))


def test_non_unique_expected_counts_and_frequencies_follow_tf1():
    true = np.array([[0, 3], [9, 1]], np.int64)
    n = 40000
    log_uni = tf.nn.log_uniform_candidate_sampler(true, 2, n, False, 10, seed=1)
    uni = tf.nn.uniform_candidate_sampler(true, 2, n, False, 10, seed=2)
    with tf.Session() as sess:
        got_log, got_uni = sess.run([log_uni, uni])
    p = _log_uniform_p(np.arange(10), 10)
    # TF1: expected count = P(k) * num_sampled when no draw is rejected.
    np.testing.assert_allclose(got_log[1], _log_uniform_p(true, 10) * n, rtol=1e-5)
    np.testing.assert_allclose(got_log[2], p[got_log[0]] * n, rtol=1e-5)
    np.testing.assert_allclose(got_uni[1], np.full((2, 2), n / 10), rtol=1e-6)
    freq = np.bincount(got_log[0], minlength=10) / n
    np.testing.assert_allclose(freq, p, atol=0.01)
    np.testing.assert_allclose(
        np.bincount(got_uni[0], minlength=10) / n, 0.1, atol=0.01
    )


def test_log_uniform_draws_resolve_rare_classes_as_float64_would():
    key, n, range_max = jax.random.PRNGKey(3), 200_000, 100_000
    draw, _ = cs._DISTRIBUTIONS["log_uniform"]
    got = np.asarray(jax.jit(draw, static_argnums=(1, 2))(key, n, range_max))
    hi, lo = np.asarray(jax.random.uniform(key, (2, n)), np.float64)
    u = hi + lo * 2.0**-23
    want = np.floor(np.exp(u * np.log(range_max + 1))) - 1  # TF1's double formula
    assert np.mean(got != want) < 1e-3
    assert np.mean(got > 10_000) > 0.15  # the rare classes are drawn too


def test_unique_expected_counts_use_one_number_of_tries():
    true = np.array([[0], [7], [29]], np.int64)
    out = tf.nn.log_uniform_candidate_sampler(true, 1, 12, True, 30, seed=5)
    single = tf.nn.log_uniform_candidate_sampler(true, 1, 1, True, 30, seed=6)
    with tf.Session() as sess:
        runs = [sess.run(out) for _ in range(3)]
        one = sess.run(single)
    # One draw is never rejected: TF1's shortcut gives P * num_sampled.
    np.testing.assert_allclose(one[2], _log_uniform_p(one[0], 30), rtol=1e-6)
    np.testing.assert_allclose(one[1], _log_uniform_p(true, 30), rtol=1e-6)
    for sampled, true_count, sampled_count in runs:
        # Invert 1 - (1 - p) ** tries: every count must give the same integer.
        # (Class 0 has P = 0.2, so 12 distinct classes take more than 12 draws.)
        p_true, p_sampled = _log_uniform_p(true, 30), _log_uniform_p(sampled, 30)
        tries = np.log1p(-sampled_count) / np.log1p(-p_sampled)
        assert tries[0] > 12.5
        np.testing.assert_allclose(tries, np.round(tries[0]), rtol=2e-3)
        want = -np.expm1(np.round(tries[0]) * np.log1p(-p_true))
        np.testing.assert_allclose(true_count, want, rtol=1e-4)


@pytest.mark.parametrize(("num_sampled", "range_max"), [(10, 10), (3, 1000), (40, 60)])
def test_chunked_rejection_equals_sequential_rejection(num_sampled, range_max):
    key = jax.random.PRNGKey(7)
    draw, _ = cs._DISTRIBUTIONS["log_uniform"]
    got, tries = jax.jit(cs._unique_draws, static_argnums=(1, 2, 3))(
        key, draw, num_sampled, range_max
    )
    # TF1's loop: one draw at a time over the same stream, keep unseen classes.
    chunk = cs._chunk_size(num_sampled)
    kept, want_tries, k = [], 0, key
    while len(kept) < num_sampled:
        k, sub = jax.random.split(k)
        for value in np.asarray(draw(sub, chunk, range_max)).tolist():
            if len(kept) == num_sampled:
                break
            want_tries += 1
            if value not in kept:
                kept.append(value)
    assert np.asarray(got).tolist() == kept
    assert int(tries) == want_tries


def test_sampler_errors_name_the_culprit():
    labels = tf.constant([[1, 2]], tf.int64, name="targets")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "LogUniformCandidateSampler: Sampler's range is too small: unique=True "
            "needs num_sampled <= range_max, got num_sampled=6, range_max=5"
        ),
    ):
        tf.nn.log_uniform_candidate_sampler(labels, 2, 6, True, 5)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "UniformCandidateSampler: true_classes must have shape [batch_size, "
            f"num_true=1], got {labels!r}"
        ),
    ):
        tf.nn.uniform_candidate_sampler(labels, 1, 2, False, 5)
    floats = tf.constant([[1.0]])
    with pytest.raises(
        TypeError,
        match=re.escape(f"s: true_classes must be int64 class ids, got {floats!r}"),
    ):
        tf.nn.uniform_candidate_sampler(floats, 1, 2, False, 5, name="s")


# -- sampled losses ---------------------------------------------------------------


def _np_logits(w, b, labels, inputs, sampled, true_count, sampled_count, remove_hits):
    """TF1's _compute_sampled_logits, in float64 with explicit loops."""
    batch, num_true = labels.shape
    true_logits = np.zeros((batch, num_true))
    sampled_logits = np.zeros((batch, len(sampled)))
    for i in range(batch):
        for t in range(num_true):
            true_logits[i, t] = inputs[i] @ w[labels[i, t]] + b[labels[i, t]]
        for j, s in enumerate(sampled):
            sampled_logits[i, j] = inputs[i] @ w[s] + b[s]
            if remove_hits and s in labels[i]:
                sampled_logits[i, j] += -FLT_MAX
    true_logits -= np.log(true_count)
    sampled_logits -= np.log(sampled_count)
    logits = np.concatenate([true_logits, sampled_logits], 1)
    targets = np.concatenate(
        [np.full(true_logits.shape, 1 / num_true), np.zeros(sampled_logits.shape)], 1
    )
    return logits, targets


def _np_nce(*args):
    x, z = _np_logits(*args)
    return np.sum(np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x))), axis=1)


def _np_sampled_softmax(*args):
    x, z = _np_logits(*args)
    m = x.max(axis=1, keepdims=True)
    log_softmax = x - m - np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))
    return -np.sum(z * log_softmax, axis=1)


def _problem(num_classes=10, dim=3, batch=4, num_true=2, num_sampled=5):
    w = RNG.normal(size=(num_classes, dim))
    b = RNG.normal(size=num_classes)
    inputs = RNG.normal(size=(batch, dim))
    labels = RNG.integers(0, num_classes, size=(batch, num_true))
    sampled = RNG.choice(num_classes, num_sampled, replace=False)
    sampled[0] = labels[0, 1]  # an accidental hit
    true_count = RNG.uniform(0.1, 0.9, size=(batch, num_true))
    sampled_count = RNG.uniform(0.1, 0.9, size=num_sampled)
    return w, b, labels, inputs, sampled, true_count, sampled_count


_LOSSES = [(tf.nn.nce_loss, _np_nce), (tf.nn.sampled_softmax_loss, _np_sampled_softmax)]


@pytest.mark.parametrize("remove_hits", [False, True])
@pytest.mark.parametrize(("loss_fn", "reference"), _LOSSES)
def test_loss_with_given_samples_matches_tf1_formula(loss_fn, reference, remove_hits):
    w, b, labels, inputs, sampled, true_count, sampled_count = _problem()
    f32 = np.float32
    x = tf.placeholder(tf.float32, [None, 3])
    loss = loss_fn(
        w.astype(f32),
        b.astype(f32),
        labels,
        x,
        5,
        10,
        num_true=2,
        sampled_values=(sampled, true_count.astype(f32), sampled_count.astype(f32)),
        remove_accidental_hits=remove_hits,
    )
    assert loss.shape.as_list() == [4]  # the batch size of labels
    with tf.Session() as sess:
        got = sess.run(loss, {x: inputs.astype(f32)})
    want = reference(
        w, b, labels, inputs, sampled, true_count, sampled_count, remove_hits
    )
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("loss_fn", "reference"), _LOSSES)
def test_gradients_to_weights_biases_and_inputs_match_finite_differences(
    loss_fn, reference
):
    w, b, labels, inputs, sampled, true_count, sampled_count = _problem(
        num_classes=6, dim=2, batch=2, num_sampled=3
    )
    f32 = np.float32
    tw, tb, tx = (tf.Variable(v.astype(f32)) for v in (w, b, inputs))
    loss = tf.reduce_sum(
        loss_fn(
            tw,
            tb,
            labels,
            tx,
            3,
            6,
            num_true=2,
            remove_accidental_hits=True,
            sampled_values=(sampled, true_count.astype(f32), sampled_count.astype(f32)),
        )
    )
    grads = tf.gradients(loss, [tw, tb, tx])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(grads)

    def objective(w, b, inputs):
        args = (labels, inputs, sampled, true_count, sampled_count, True)
        return reference(w, b, *args).sum()

    values = [w, b, inputs]
    for which, g in enumerate(got):
        want = np.zeros_like(values[which])
        for i in np.ndindex(want.shape):
            hi, lo = [v.copy() for v in values], [v.copy() for v in values]
            hi[which][i] += 1e-6
            lo[which][i] -= 1e-6
            want[i] = (objective(*hi) - objective(*lo)) / 2e-6
        np.testing.assert_allclose(g, want, rtol=1e-3, atol=1e-4, err_msg=str(which))


def test_sharded_weights_match_one_table_for_mod_and_div():
    w, b, labels, inputs, sampled, true_count, sampled_count = _problem()
    f32 = np.float32
    w, b, inputs = w.astype(f32), b.astype(f32), inputs.astype(f32)
    values = (sampled, true_count.astype(f32), sampled_count.astype(f32))

    def loss(weights, biases, strategy):
        return tf.nn.nce_loss(
            weights,
            biases,
            labels,
            inputs,
            5,
            10,
            num_true=2,
            sampled_values=values,
            partition_strategy=strategy,
        )

    whole = loss(w, b, "mod")
    # "mod": class i is row i // 3 of shard i % 3; "div": contiguous 4, 3, 3.
    mod = loss([w[0::3], w[1::3], w[2::3]], [b[0::3], b[1::3], b[2::3]], "mod")
    div = loss([w[:4], w[4:7], w[7:]], [b[:4], b[4:7], b[7:]], "div")
    with tf.Session() as sess:
        got_whole, got_mod, got_div = sess.run([whole, mod, div])
    np.testing.assert_allclose(got_mod, got_whole, rtol=1e-6)
    np.testing.assert_allclose(got_div, got_whole, rtol=1e-6)


def test_no_gradient_flows_into_sampled_values():
    w, b, labels, inputs, sampled, true_count, sampled_count = _problem()
    scale = tf.Variable(1.0)
    f32 = np.float32
    loss = tf.nn.nce_loss(
        w.astype(f32),
        b.astype(f32),
        labels,
        tf.Variable(inputs.astype(f32)),
        5,
        10,
        num_true=2,
        sampled_values=(
            sampled,
            scale * true_count.astype(f32),
            sampled_count.astype(f32),
        ),
    )
    assert tf.gradients(loss, [scale]) == [None]


def _word2vec(loss_fn, steps=60):
    vocab, dim = 40, 8
    centers = np.arange(vocab, dtype=np.int64)
    contexts = ((centers * 7 + 3) % vocab)[:, None]  # a fixed "next word" for each word
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        emb = tf.Variable(tf.random_uniform([vocab, dim], -1.0, 1.0))
        w = tf.Variable(tf.truncated_normal([vocab, dim], stddev=1 / math.sqrt(dim)))
        b = tf.Variable(tf.zeros([vocab]))
        embed = tf.nn.embedding_lookup(emb, centers)
        loss = tf.reduce_mean(loss_fn(w, b, contexts, embed, 8, vocab))
        full = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=contexts[:, 0], logits=tf.matmul(embed, w, transpose_b=True) + b
            )
        )
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        before = sess.run(full)
        losses = [sess.run([train, loss])[1] for _ in range(steps)]
        return before, sess.run(full), losses


@pytest.mark.parametrize("loss_fn", [tf.nn.nce_loss, tf.nn.sampled_softmax_loss])
def test_training_a_tiny_word2vec_reduces_the_loss(loss_fn):
    before, after, losses = _word2vec(loss_fn)
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:10])
    # The full softmax loss, which the sampled losses approximate, falls too.
    assert after < 0.9 * before


def test_losses_with_the_default_sampler_are_reproducible_from_seeds():
    w = RNG.normal(size=(30, 4)).astype(np.float32)
    x_val = RNG.normal(size=(3, 4)).astype(np.float32)

    def build():
        x = tf.constant(x_val)
        labels = [[1], [2], [29]]
        return [
            tf.nn.nce_loss(w, tf.zeros([30]), labels, x, 6, 30),
            tf.nn.sampled_softmax_loss(w, tf.zeros([30]), labels, x, 6, 30, seed=2),
        ]

    first, second = _runs(build, graph_seed=4), _runs(build, graph_seed=4)
    np.testing.assert_array_equal(np.array(first), np.array(second))
    assert [v.shape for v in first[0]] == [(3,)] * 2
    assert not np.array_equal(first[0][0], first[1][0])  # new samples every run


def test_loss_argument_errors():
    w, b, x = tf.zeros([10, 3]), tf.zeros([10]), tf.zeros([4, 3])
    floats = tf.constant([[1.0]] * 4)
    with pytest.raises(
        TypeError, match=re.escape(f"labels must be integer class ids, got {floats!r}")
    ):
        tf.nn.nce_loss(w, b, floats, x, 2, 10)
    with pytest.raises(
        ValueError, match=re.escape("labels must have shape [batch_size, num_true=2]")
    ):
        tf.nn.sampled_softmax_loss(w, b, [[1]] * 4, x, 2, 10, num_true=2)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "sampled_values must be (sampled_candidates, true_expected_count, "
            "sampled_expected_count), got 2 values"
        ),
    ):
        tf.nn.nce_loss(w, b, [[1]] * 4, x, 2, 10, sampled_values=([1, 2], [1.0]))
    with pytest.raises(
        ValueError,
        match=re.escape("labels and inputs must have the same batch size, got"),
    ):
        tf.nn.nce_loss(w, b, [[1]] * 5, x, 2, 10)
    with pytest.raises(ValueError, match="Unrecognized partition strategy: rows"):
        tf.nn.nce_loss([w, w], b, [[1]] * 4, x, 2, 10, partition_strategy="rows")
