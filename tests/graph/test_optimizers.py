"""Optimizers against NumPy re-implementations of TF1's update formulas and raw optax."""

import itertools
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsession as tf

RNG = np.random.default_rng(0)
X = RNG.normal(size=(8, 3)).astype(np.float32)
Y = RNG.normal(size=(8, 1)).astype(np.float32)
W0 = np.array([[0.1], [-0.2], [0.3]], np.float32)
B0 = np.array([0.05], np.float32)
STEPS = 5

tmean = tf.jax_op(jnp.mean)


def _regression():
    """The graph loss mean((X w + b - Y)^2) with variables w, b."""
    w = tf.Variable(W0, name="w")
    b = tf.Variable(B0, name="b")
    d = tf.subtract(tf.add(tf.matmul(tf.constant(X), w), b), tf.constant(Y))
    return w, b, tmean(tf.multiply(d, d))


def _np_grads(w, b):
    r = X @ w + b - Y
    return [2.0 / len(X) * X.T @ r, 2.0 / len(X) * r.sum(axis=0)]


def _loss_fn(params):
    d = X @ params["w"] + params["b"] - Y
    return jnp.mean(d * d)


# NumPy re-implementations of TF1's kernels: (initial slots, step(p, g, slots, t)).


def _gd(lr):
    return lambda p: {}, lambda p, g, s, t: p - lr * g


def _momentum(lr, mu, nesterov):
    def step(p, g, s, t):
        s["a"] = mu * s["a"] + g
        return p - (lr * g + lr * mu * s["a"] if nesterov else lr * s["a"])

    return lambda p: {"a": np.zeros_like(p)}, step


def _adam(lr, b1, b2, eps):
    def step(p, g, s, t):
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        s["m"] = s["m"] + (g - s["m"]) * (1 - b1)
        s["v"] = s["v"] + (g * g - s["v"]) * (1 - b2)
        return p - lr_t * s["m"] / (np.sqrt(s["v"]) + eps)

    return lambda p: {"m": np.zeros_like(p), "v": np.zeros_like(p)}, step


def _adagrad(lr, init):
    def step(p, g, s, t):
        s["acc"] = s["acc"] + g * g
        return p - lr * g / np.sqrt(s["acc"])

    return lambda p: {"acc": np.full_like(p, init)}, step


def _rmsprop(lr, rho, mom, eps, centered):
    def step(p, g, s, t):
        s["ms"] = s["ms"] + (g * g - s["ms"]) * (1 - rho)
        denom = s["ms"] + eps
        if centered:
            s["mg"] = s["mg"] + (g - s["mg"]) * (1 - rho)
            denom = s["ms"] - s["mg"] ** 2 + eps
        s["mom"] = mom * s["mom"] + lr * g / np.sqrt(denom)
        return p - s["mom"]

    def init(p):
        return {"ms": np.ones_like(p), "mg": np.zeros_like(p), "mom": np.zeros_like(p)}

    return init, step


def _adadelta(lr, rho, eps):
    def step(p, g, s, t):
        s["acc"] = rho * s["acc"] + (1 - rho) * g * g
        update = np.sqrt(s["upd"] + eps) / np.sqrt(s["acc"] + eps) * g
        s["upd"] = rho * s["upd"] + (1 - rho) * update * update
        return p - lr * update

    return lambda p: {"acc": np.zeros_like(p), "upd": np.zeros_like(p)}, step


CASES = {
    "sgd": (lambda: tf.train.GradientDescentOptimizer(0.1), _gd(0.1)),
    "momentum": (
        lambda: tf.train.MomentumOptimizer(0.05, 0.9),
        _momentum(0.05, 0.9, False),
    ),
    "nesterov": (
        lambda: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
        _momentum(0.05, 0.9, True),
    ),
    "adam": (
        lambda: tf.train.AdamOptimizer(0.1, 0.8, 0.95, 1e-3),
        _adam(0.1, 0.8, 0.95, 1e-3),
    ),
    "adagrad": (lambda: tf.train.AdagradOptimizer(0.2), _adagrad(0.2, 0.1)),
    "rmsprop": (
        lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5, epsilon=1e-6),
        _rmsprop(0.01, 0.9, 0.5, 1e-6, False),
    ),
    "rmsprop_centered": (
        lambda: tf.train.RMSPropOptimizer(0.01, 0.8, 0.3, 1e-4, centered=True),
        _rmsprop(0.01, 0.8, 0.3, 1e-4, True),
    ),
    "adadelta": (
        lambda: tf.train.AdadeltaOptimizer(1.0, 0.9, 1e-6),
        _adadelta(1.0, 0.9, 1e-6),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_updates_match_tf1_formulas(case):
    make, (init, step) = CASES[case]
    w, b, loss = _regression()
    train = make().minimize(loss)
    params = [W0.astype(np.float64), B0.astype(np.float64)]
    slots = [init(p) for p in params]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t in range(1, STEPS + 1):
            # Variables fetched with the train op: their values after the step.
            got_w, got_b, _ = sess.run([w, b, train])
            grads = _np_grads(*params)
            params = [step(p, g, s, t) for p, g, s in zip(params, grads, slots)]
            np.testing.assert_allclose(got_w, params[0], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_b, params[1], rtol=1e-5, atol=1e-6)
        got = sess.run([w, b])
    np.testing.assert_allclose(got[0], params[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], params[1], rtol=1e-5, atol=1e-6)


def test_minimize_matches_a_raw_jax_loop_with_a_decaying_rate():
    w, b, loss = _regression()
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.2, step, 1, 0.5)
    train = tf.train.GradientDescentOptimizer(lr).minimize(loss, global_step=step)
    ops = tf.get_default_graph().get_operations()
    assert [op.type for op in ops].count("ApplyGradientDescent") == 1
    params = {"w": jnp.asarray(W0), "b": jnp.asarray(B0)}
    losses = []
    init = tf.global_variables_initializer()
    tf.get_default_graph().finalize()  # runs check_graph on the new ops
    with tf.Session() as sess:
        sess.run(init)
        for k in range(STEPS):
            got_loss, got_step, _ = sess.run([loss, step, train])
            assert got_step == k + 1  # the step Variable after the run
            np.testing.assert_allclose(got_loss, _loss_fn(params), rtol=1e-5)
            grads = jax.grad(_loss_fn)(params)
            params = jax.tree.map(lambda p, g, k=k: p - 0.2 * 0.5**k * g, params, grads)
            losses.append(got_loss)
        assert sess.run(step) == STEPS
        np.testing.assert_allclose(sess.run(w), params["w"], rtol=1e-5, atol=1e-6)
    assert all(a > c for a, c in itertools.pairwise(losses))


@pytest.mark.parametrize(
    "transform",
    [
        optax.chain(
            optax.clip_by_global_norm(0.5), optax.adamw(0.05, weight_decay=0.1)
        ),
        optax.sgd(0.05, momentum=0.9, nesterov=True),
    ],
    ids=["clip_adamw", "sgd_nesterov"],
)
def test_optax_optimizer_matches_raw_optax(transform):
    w, b, loss = _regression()
    train = tf.train.OptaxOptimizer(transform).minimize(loss)
    params = {"w": jnp.asarray(W0), "b": jnp.asarray(B0)}
    state = transform.init(params)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(STEPS):
            sess.run(train)
            updates, state = transform.update(jax.grad(_loss_fn)(params), state, params)
            params = optax.apply_updates(params, updates)
        got_w, got_b = sess.run([w, b])
    np.testing.assert_allclose(got_w, params["w"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_b, params["b"], rtol=1e-5, atol=1e-6)


def test_slots_are_named_as_tf1_and_saved_but_not_trained():
    w, b, loss = _regression()
    adam = tf.train.AdamOptimizer()
    adam.minimize(loss)
    assert adam.get_slot_names() == ["m", "v"]
    assert adam.get_slot(w, "m").name == "w/Adam:0"
    assert adam.get_slot(w, "v").name == "w/Adam_1:0"
    assert adam.get_slot(b, "v").name == "b/Adam_1:0"
    assert adam.get_slot(w, "nope") is None
    assert [v.name for v in adam.variables()] == [
        "b/Adam:0",
        "b/Adam_1:0",
        "beta1_power:0",
        "beta2_power:0",
        "w/Adam:0",
        "w/Adam_1:0",
    ]
    assert set(adam.variables()) <= set(tf.global_variables())
    assert tf.trainable_variables() == [w, b]
    rms = tf.train.RMSPropOptimizer(0.1, centered=True)
    rms.minimize(loss)
    assert [rms.get_slot(w, s).name for s in ("rms", "mg", "momentum")] == [
        "w/RMSProp:0",
        "w/RMSProp_1:0",
        "w/RMSProp_2:0",
    ]
    opt = tf.train.OptaxOptimizer(optax.adam(0.1))
    opt.minimize(loss)
    assert opt.get_slot_names() == ["0.mu", "0.nu"]
    assert opt.get_slot(w, "0.nu").name == "w/Optax_1:0"
    assert "Optax/0.count:0" in [v.name for v in opt.variables()]


def test_slots_start_at_tf1_initial_values():
    w, _, loss = _regression()
    adam = tf.train.AdamOptimizer(beta1=0.8)
    adagrad = tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.3)
    rms = tf.train.RMSPropOptimizer(0.1)
    for opt in (adam, adagrad, rms):
        opt.minimize(loss)
    beta1_power = next(v for v in adam.variables() if v.name == "beta1_power:0")
    fetches = [
        adam.get_slot(w, "m"),
        beta1_power,
        adagrad.get_slot(w, "accumulator"),
        rms.get_slot(w, "rms"),
    ]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        m, b1p, acc, ms = sess.run(fetches)
    np.testing.assert_array_equal(m, np.zeros((3, 1)))
    np.testing.assert_allclose(b1p, 0.8)
    np.testing.assert_allclose(acc, np.full((3, 1), 0.3))
    np.testing.assert_array_equal(ms, np.ones((3, 1)))


def test_fed_learning_rate_none_gradients_and_constraints():
    w, b, loss = _regression()
    unused = tf.Variable(np.ones(2, np.float32), name="unused")
    c = tf.Variable(
        np.array([0.5, 2.0], np.float32),
        name="c",
        constraint=tf.jax_op(lambda v: jnp.clip(v, 0.0, 1.0)),
    )
    lr = tf.placeholder(tf.float32, [], name="lr")
    opt = tf.train.GradientDescentOptimizer(lr)
    (gw,) = tf.gradients(loss, [w])
    grads_and_vars = [(gw, w), (None, unused), (tf.constant([-1.0, 1.0]), c)]
    train = opt.apply_gradients(grads_and_vars)
    assert opt.get_slot_names() == []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {lr: 0.25})
        got_w, got_unused, got_c = sess.run([w, unused, c])
    want_w = W0 - 0.25 * _np_grads(W0, B0)[0]
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got_unused, [1.0, 1.0])
    np.testing.assert_allclose(got_c, [0.75, 1.0])  # [0.75, 1.75] clipped


def test_error_messages_match_tf1():
    x = tf.constant(2.0)
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match=re.escape("No variables to optimize.")):
        opt.minimize(tf.multiply(x, x))
    v = tf.Variable(1.0, name="v")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "No gradients provided for any variable, check your graph for ops that do "
            "not support gradients, between variables [\"<tf.Variable 'v:0' shape=() "
            'dtype=float32>"] and loss Tensor("Mul_1:0", shape=(), dtype=float32).'
        ),
    ):
        opt.minimize(tf.multiply(x, x))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "No gradients provided for any variable: "
            "[\"<tf.Variable 'v:0' shape=() dtype=float32>\"]."
        ),
    ):
        opt.apply_gradients([(None, v)])
    with pytest.raises(ValueError, match=re.escape("No variables provided.")):
        opt.apply_gradients([])
    n = tf.Variable(1, name="n")
    with pytest.raises(ValueError, match=re.escape("Invalid type tf.int32 for Mul_")):
        opt.compute_gradients(tf.multiply(n, n), var_list=[v])
    # A variable the loss does not reach is not checked (TF1: [(None, n)]).
    assert opt.compute_gradients(tf.multiply(v, v), var_list=[n]) == [(None, n)]


def test_trainable_int32_global_step_is_left_out_of_the_update():
    # `tf.Variable(0, name="global_step")` is trainable: minimize() must skip
    # it as TF1 does (values from TF 2.21's compat.v1).
    v = tf.Variable(2.0, name="v")
    step = tf.Variable(0, name="global_step")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(v * v, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        got_v, got_step = sess.run([v, step])
    assert got_step == 1
    np.testing.assert_allclose(got_v, 1.6, rtol=1e-6)
