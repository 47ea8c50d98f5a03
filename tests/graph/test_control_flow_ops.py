"""Control flow: group/tuple/with_dependencies, cond, case, switch_case, while_loop."""

import re

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors
from jaxsession.graph.rules import constant_value

less = tf.jax_op(jnp.less, op_type="Less")
greater = tf.jax_op(jnp.greater, op_type="Greater")
equal = tf.jax_op(jnp.equal, op_type="Equal")
mod = tf.jax_op(jnp.mod, op_type="FloorMod")
floordiv = tf.jax_op(jnp.floor_divide, op_type="FloorDiv")
reduce_sum = tf.jax_op(jnp.sum, op_type="Sum")


def _session(init=True):
    sess = tf.Session()
    if init:
        sess.run(tf.global_variables_initializer())
    return sess


# -- grouping -------------------------------------------------------------------


def test_group_runs_nested_inputs_and_rejects_non_tensors():
    a, b, c = tf.Variable(0.0), tf.Variable(0.0), tf.Variable(0.0)
    g = tf.group([a.assign(1.0), (b.assign(2.0).op,)], {"k": c.assign(3.0)}, name="all")
    assert isinstance(g, tf.Operation) and g.type == "NoOp" and g.name == "all"
    assert len(g.control_inputs) == 3 and tf.no_op().type == "NoOp"
    with _session() as sess:
        sess.run(g)
        assert sess.run([a, b, c]) == [1.0, 2.0, 3.0]
    with pytest.raises(
        TypeError, match=re.escape("tf.group() expected Tensor arguments not 'None'")
    ):
        tf.group(a.assign(1.0), None)


def test_with_dependencies_and_tuple_gate_their_outputs():
    v = tf.Variable(1.0)
    x = tf.placeholder(tf.float32, [])
    gated = tf.with_dependencies([v.assign(5.0)], x * 2.0)
    assert gated.op.name == "control_dependency"
    w = tf.Variable(0.0)
    t1, none, t2 = tf.tuple([x + 1.0, None, x * 1.0], control_inputs=[w.assign(7.0)])
    assert none is None and t1.op.name.startswith("tuple/")
    with _session() as sess:
        assert sess.run(gated, {x: 3.0}) == 6.0
        assert sess.run(v) == 5.0
        assert sess.run(t2, {x: 3.0}) == 3.0
        assert sess.run(w) == 7.0 and sess.run(t1, {x: 3.0}) == 4.0


# -- cond -------------------------------------------------------------------------


def test_cond_values_and_nested_structures_for_both_predicates():
    x = tf.placeholder(tf.float32, [])
    out = tf.cond(
        less(x, 1.0),
        lambda: (x * 2.0, {"a": x, "b": [x - 1.0]}),
        lambda: (x * 3.0, {"a": x + 1.0, "b": [tf.constant(0.0)]}),
    )
    single = tf.cond(greater(x, 0.0), lambda: [x], lambda: [x * -1.0])
    strict = tf.cond(greater(x, 0.0), lambda: [x], lambda: [x * -1.0], strict=True)
    old = tf.cond(greater(x, 0.0), fn1=lambda: x + 10.0, fn2=lambda: x - 10.0)
    assert out[0].op.type == "Cond" and out[0].op.name == "cond"
    assert isinstance(single, tf.Tensor) and isinstance(strict, list)

    def reference(v):
        first = (
            (v * 2, {"a": v, "b": [v - 1]})
            if v < 1
            else (v * 3, {"a": v + 1, "b": [0.0]})
        )
        return first, abs(v), v + 10 if v > 0 else v - 10

    with _session(init=False) as sess:
        for v in (0.5, -2.0, 4.0):
            got = sess.run([out, single, strict[0], old], {x: v})
            want, a, o = reference(v)
            assert got[0] == want
            assert got[1:] == pytest.approx([a, a, o])


def test_cond_with_python_bool_calls_the_chosen_branch_only():
    calls = []
    out = tf.cond(
        True, lambda: calls.append("t") or tf.constant(1), lambda: calls.append("f")
    )
    assert calls == ["t"] and constant_value(out) == 1
    assert not [
        op for op in tf.get_default_graph().get_operations() if op.type == "Cond"
    ]


def test_cond_on_constant_pred_folds_at_build_time():
    out = tf.cond(
        tf.constant(False), lambda: tf.constant(1.0), lambda: tf.constant(2.0) * 3.0
    )
    assert constant_value(out) == 6.0


def test_cond_output_shape_is_most_specific_compatible_shape():
    x = tf.placeholder(tf.float32, [None, 3])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: x, lambda: x * 2.0)
    z = tf.cond(p, lambda: tf.constant(np.zeros((2, 3), np.float32)), lambda: x)
    w = tf.cond(p, lambda: tf.constant([1.0, 2.0]), lambda: tf.constant([[1.0]]))
    assert y.shape.as_list() == [None, 3]
    assert z.shape.as_list() == [None, 3]
    assert w.shape.ndims is None
    with _session(init=False) as sess:
        np.testing.assert_array_equal(
            sess.run(z, {p: False, x: np.ones((2, 3), np.float32)}), np.ones((2, 3))
        )


def test_cond_branches_assign_variables_and_draw_random_numbers():
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    assigned = tf.cond(p, lambda: v.assign(1.0), lambda: v.assign(2.0))
    counter = tf.Variable(0)
    op_out = tf.cond(p, lambda: counter.assign_add(1).op, lambda: tf.no_op())
    r = tf.cond(
        p,
        lambda: tf.random_uniform([3], seed=1),
        lambda: tf.constant(np.zeros(3, np.float32)),
    )
    with _session() as sess:
        assert sess.run(assigned, {p: True}) == 1.0 and sess.run(v) == 1.0
        assert sess.run(assigned, {p: False}) == 2.0 and sess.run(v) == 2.0
        assert sess.run(op_out, {p: True}) and sess.run(op_out, {p: False})
        assert sess.run(counter) == 1
        a, b = sess.run(r, {p: True}), sess.run(r, {p: True})
        assert np.all((a >= 0) & (a < 1)) and not np.array_equal(a, b)
        np.testing.assert_array_equal(sess.run(r, {p: False}), np.zeros(3))


def test_cond_errors_name_structures_and_dtypes():
    p = tf.placeholder(tf.bool, [])
    one, two = tf.constant(1.0), tf.constant(2)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "true_fn and false_fn must return the same nested structure: true_fn "
            "returned (Tensor(float32, shape=()), Tensor(float32, shape=())), "
            "false_fn returned [Tensor(float32, shape=())]."
        ),
    ):
        tf.cond(p, lambda: (one, one), lambda: [one])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Outputs of true_fn and false_fn must have the same type: float32, int32"
        ),
    ):
        tf.cond(p, lambda: one, lambda: two)
    with pytest.raises(
        ValueError, match=re.escape("true_fn must have a return value.")
    ):
        tf.cond(p, lambda: None, lambda: one)
    with pytest.raises(TypeError, match=re.escape("cond pred must be a bool tensor")):
        tf.cond(one, lambda: one, lambda: one)
    with pytest.raises(TypeError, match=re.escape("false_fn must be callable.")):
        tf.cond(p, lambda: one, one)
    with pytest.raises(
        TypeError, match=re.escape("true_fn and fn1 may not be set simultaneously")
    ):
        tf.cond(p, lambda: one, lambda: one, fn1=lambda: one)


# -- case, switch_case ---------------------------------------------------------------


def test_case_picks_first_true_pred_or_default():
    x = tf.placeholder(tf.int32, [])
    out = tf.case(
        [(less(x, 0), lambda: x * -1), (less(x, 10), lambda: x * 2)],
        default=lambda: x + 100,
    )
    no_default = tf.case(
        [(less(x, 0), lambda: tf.constant(-1)), (less(x, 10), lambda: tf.constant(1))]
    )
    by_dict = tf.case(
        {less(x, 5): lambda: tf.constant(5)}, default=lambda: tf.constant(50)
    )
    with _session(init=False) as sess:
        for v in (-3, 4, 7, 20):
            want = -v if v < 0 else 2 * v if v < 10 else v + 100
            got = sess.run([out, no_default, by_dict], {x: v})
            assert got == [want, -1 if v < 0 else 1, 5 if v < 5 else 50]


def test_switch_case_with_out_of_range_index_runs_default():
    i = tf.placeholder(tf.int32, [])
    out = tf.switch_case(
        i,
        [lambda: tf.constant(10), lambda: tf.constant(11)],
        default=lambda: tf.constant(-1),
    )
    with _session(init=False) as sess:
        assert [sess.run(out, {i: k}) for k in (0, 1, 2, -1)] == [10, 11, -1, -1]


# -- while_loop ----------------------------------------------------------------------


def test_while_loop_sums_and_returns_the_body_structure():
    n = tf.placeholder(tf.int32, [])
    step = tf.placeholder(tf.float32, [2])
    i, acc = tf.while_loop(
        lambda i, acc: less(i, n),
        lambda i, acc: (i + 1, acc + step),
        (0, tf.constant([0.0, 0.0])),
    )
    single = tf.while_loop(lambda k: less(k, 100), lambda k: k * 2, [1])
    nested = tf.while_loop(
        lambda s: less(s["i"], 3),
        lambda s: [{"i": s["i"] + 1, "v": s["v"] * 2.0}],
        [{"i": 0, "v": 1.5}],
    )
    assert (
        isinstance(single, tf.Tensor) and i.op.type == "While" and i.op.name == "while"
    )
    with _session(init=False) as sess:
        got = sess.run([i, acc, single, nested], {n: 4, step: [1.0, 0.5]})
    assert got[0] == 4 and got[1].tolist() == [4.0, 2.0] and got[2] == 128
    assert got[3] == [{"i": 3, "v": 12.0}]


def _collatz_steps(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def test_nested_cond_in_while_matches_python():
    n0 = tf.placeholder(tf.int32, [])

    def body(n, steps):
        nxt = tf.cond(equal(mod(n, 2), 0), lambda: floordiv(n, 2), lambda: 3 * n + 1)
        return nxt, steps + 1

    _, steps = tf.while_loop(lambda n, s: greater(n, 1), body, [n0, 0])
    tf.get_default_graph().finalize()
    with _session(init=False) as sess:
        for v in (1, 6, 27):
            assert sess.run(steps, {n0: v}) == _collatz_steps(v)


def test_maximum_iterations_static_dynamic_and_without_back_prop():
    limit = tf.placeholder(tf.int32, [])

    def loop(**kw):
        return tf.while_loop(lambda k: less(k, 1000), lambda k: k + 3, [0], **kw)

    static, plain, dynamic = (
        loop(maximum_iterations=5),
        loop(maximum_iterations=5, back_prop=False),
        loop(maximum_iterations=limit),
    )
    short = tf.while_loop(
        lambda k: less(k, 4), lambda k: k + 3, [0], maximum_iterations=50
    )
    tf.get_default_graph().finalize()  # runs the graph checker (tests set the flag)
    with _session(init=False) as sess:
        assert sess.run([static, plain, dynamic, short], {limit: 7}) == [15, 15, 21, 6]


def test_while_body_assigns_variables_each_iteration():
    v = tf.Variable(0.0)
    total = tf.Variable(10.0)

    def body(i):
        with tf.control_dependencies([v.assign_add(1.0)]):
            seen = v.read_value()
        with tf.control_dependencies([total.assign_add(seen)]):
            return i + 1

    out = tf.while_loop(lambda i: less(i, 4), body, [0])
    bounded = tf.while_loop(lambda i: less(i, 4), body, [0], maximum_iterations=2)
    with _session() as sess:
        assert sess.run(out) == 4
        # v: 1, 2, 3, 4; total adds each: 10 + 10.
        assert sess.run([v, total]) == [4.0, 20.0]
        assert sess.run(bounded) == 2 and sess.run([v, total]) == [6.0, 31.0]


def test_random_numbers_differ_between_iterations():
    def body(i, first, last):
        sample = tf.random_normal([], seed=3)
        return i + 1, tf.cond(equal(i, 0), lambda: sample, lambda: first), sample

    _, first, last = tf.while_loop(lambda i, a, b: less(i, 2), body, [0, 0.0, 0.0])
    with _session(init=False) as sess:
        a, b = sess.run([first, last])
        a2, _ = sess.run([first, last])
    assert a != b and a != a2 and 0.0 not in (a, b)


def test_shape_invariants_relax_static_shapes_only():
    x = tf.constant([1.0, 2.0])
    relaxed = tf.while_loop(
        lambda x: less(reduce_sum(x), 100.0),
        lambda x: x * 2.0,
        [x],
        shape_invariants=[tf.TensorShape([None])],
    )
    assert relaxed.shape.as_list() == [None]
    with _session(init=False) as sess:
        assert sess.run(relaxed).tolist() == [64.0, 128.0]
    grows = tf.while_loop(
        lambda x: less(reduce_sum(x), 10.0),
        lambda x: tf.stack([x, x]),
        [tf.constant([[1.0]])],
        shape_invariants=[tf.TensorShape(None)],
    )
    with (
        _session(init=False) as sess,
        pytest.raises(
            errors.InvalidArgumentError,
            match=re.escape("XLA loops need loop variables of a fixed shape"),
        ),
    ):
        sess.run(grows)


def test_while_loop_errors_name_the_loop_variable_and_shapes():
    x = tf.constant([1.0, 2.0], name="x")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Input tensor 'x:0' enters the loop with shape (2,), but has shape (2, 2) "
            "after one iteration. To allow the shape to vary across iterations, use "
            "the `shape_invariants` argument"
        ),
    ):
        tf.while_loop(lambda x: tf.constant(True), lambda x: tf.stack([x, x]), [x])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The shape invariant specified for x:0 is not compatible with the initial "
            "shape of the loop variable. It enters the loop with shape (2,), but the "
            "specified shape invariant is (3,)."
        ),
    ):
        tf.while_loop(
            lambda x: tf.constant(True),
            lambda x: x,
            [x],
            shape_invariants=[tf.TensorShape([3])],
        )
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Loop var i0:0 enters the loop with type int32, but has type float32"
        ),
    ):
        tf.while_loop(
            lambda i: less(i, 3),
            lambda i: tf.constant(1.0),
            [tf.constant(0, name="i0")],
        )
    with pytest.raises(ValueError, match="body must return the same nested structure"):
        tf.while_loop(lambda i, j: less(i, 3), lambda i, j: [i], [0, 1])
    with pytest.raises(ValueError, match=re.escape("No loop variables provided")):
        tf.while_loop(lambda: True, lambda: 1, [])
