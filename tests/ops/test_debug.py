"""tf.Print, tf.print, check_numerics, Assert, the assert_* family and py_func.

Written as a TF1 user writes them; messages and printed text are TF 2.21
compat.v1's (checked with TensorFlow when these tests were written).
"""

import re

import numpy as np
import pytest

import jaxsession as tf


def test_print_writes_tf1_format_to_stderr_each_run(capfd):
    x = tf.placeholder(tf.float32, [None])
    y = tf.Print(x, [x, tf.reduce_sum(x)], "loss: ", summarize=2)
    assert y.name == "Print:0"
    with tf.Session() as sess:
        out = sess.run(y, {x: [1.0, 2.0, 3.0]})
        sess.run(y, {x: [[0.5]][0]})
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])
    assert capfd.readouterr().err.splitlines() == [
        "loss: [1 2...][6]",
        "loss: [0.5][0.5]",
    ]


def test_print_nested_dims_strings_bools_and_first_n(capfd):
    x = tf.placeholder(tf.float32, None)
    y = tf.Print(x, [x, tf.cast(x, tf.int32), x > 1, "str"], "m ", first_n=1)
    with tf.Session() as sess:
        sess.run(y, {x: [[1.5, 0.1, 1e-5], [123456789.0, -2, 3]]})
        sess.run(y, {x: 1.0})  # past first_n: silent
    assert (
        capfd.readouterr().err
        == "m [[1.5 0.1 1e-05]...][[1 0 0]...][[1 0 0]...][str]\n"
    )


def test_print_in_training_step_prints_once_despite_gradient(capfd):
    w = tf.Variable(2.0)
    loss = tf.Print(tf.square(w), [w], "w=")
    train = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        sess.run(train)
        final = sess.run(w)
    assert capfd.readouterr().err.splitlines() == ["w=[2]", "w=[1]"]
    assert final == pytest.approx(0.5)


def test_tf_print_op_in_control_dependencies(capfd):
    x = tf.placeholder(tf.float32, [None])
    pr = tf.print("x:", x, tf.constant([[1, 2], [3, 4]]), sep="|")
    with tf.control_dependencies([pr]):
        y = tf.identity(x)
    with tf.Session() as sess:
        sess.run(y, {x: [1.5, 2.0]})
    assert capfd.readouterr().err == "x:|[1.5 2]|[[1 2]\n [3 4]]\n"


def test_tf_print_to_stdout_and_file(capfd, tmp_path):
    import sys

    path = tmp_path / "log.txt"
    a = tf.print(tf.range(10), output_stream=sys.stdout)
    b = tf.print("saved", output_stream=f"file://{path}", end="!\n")
    with tf.Session() as sess:
        sess.run([a, b])
        sess.run(b)
    assert capfd.readouterr().out == "[0 1 2 ... 7 8 9]\n"
    assert path.read_text() == "saved!\nsaved!\n"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ([1.0, np.nan], "NaN"),
        ([np.inf, 1.0], "Inf"),
        ([np.nan, -np.inf], "Inf and NaN"),
    ],
)
def test_check_numerics_fails_run_and_keeps_variables(value, kind):
    x = tf.placeholder(tf.float32, [2])
    w = tf.Variable([1.0, 1.0])
    step = tf.Variable(0)
    checked = tf.check_numerics(x * w, "bad batch")
    train = tf.group(tf.assign_add(w, checked), tf.assign_add(step, 1))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {x: [1.0, 2.0]})
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape(f"bad batch : Tensor had {kind} values"),
        ) as info:
            sess.run(train, {x: value})
        assert "CheckNumerics" in str(info.value)
        np.testing.assert_array_equal(sess.run(w), [2.0, 3.0])
        assert sess.run(step) == 1
        sess.run(train, {x: [1.0, 1.0]})
        np.testing.assert_array_equal(sess.run(w), [4.0, 6.0])


def test_check_numerics_rejects_integers():
    with pytest.raises(TypeError, match="DataType int32 not in list of allowed"):
        tf.check_numerics(tf.constant([1]), "ints")


def test_add_check_numerics_ops_guards_every_float_tensor():
    x = tf.placeholder(tf.float32, [])
    y = tf.log(x)
    check = tf.add_check_numerics_ops()
    with tf.Session() as sess:
        assert sess.run([y, check], {x: 1.0})[0] == 0.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="Log:0 : Tensor had"):
            sess.run([y, check], {x: -1.0})


def test_assert_as_control_dependency_prints_data():
    x = tf.placeholder(tf.float32, [None])
    v = tf.Variable(0.0)
    a = tf.Assert(tf.reduce_all(x > 0), ["x must be positive", x, 3], summarize=2)
    assert a.name == "Assert/Assert"
    with tf.control_dependencies([a]):
        up = tf.assign_add(v, tf.reduce_sum(x))
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(up, {x: [1.0, 2.0]}) == 3.0
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape("assertion failed: [x must be positive] [-1 2...] [3]"),
        ):
            sess.run(up, {x: [-1.0, 2.0, 3.0]})
        assert sess.run(v) == 3.0


BINARY = [
    ("assert_equal", "=="),
    ("assert_none_equal", "!="),
    ("assert_less", "<"),
    ("assert_less_equal", "<="),
    ("assert_greater", ">"),
    ("assert_greater_equal", ">="),
]


@pytest.mark.parametrize(("name", "sym"), BINARY)
def test_binary_asserts_fail_at_run_time_with_tf_message(name, sym):
    x = tf.placeholder(tf.float32, [None])
    y = tf.placeholder(tf.float32, [None])
    check = getattr(tf.debugging, name)(x, y)
    assert check.name == f"{name}/Assert/Assert"
    xs, ys = [1.0, 2.0, 3.0], [2.0, 2.0, 2.0]
    holds = getattr(
        np,
        {
            "==": "equal",
            "!=": "not_equal",
            "<": "less",
            "<=": "less_equal",
            ">": "greater",
            ">=": "greater_equal",
        }[sym],
    )(xs, ys).all()
    with tf.Session() as sess:
        if holds:
            sess.run(check, {x: xs, y: ys})
            return
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(check, {x: xs, y: ys})
    assert str(info.value).startswith(
        f"assertion failed: [Condition x {sym} y did not hold element-wise:] "
        "[x (Placeholder:0) = ] [1 2 3] [y (Placeholder_1:0) = ] [2 2 2]"
    )


def test_unary_asserts_messages():
    x = tf.placeholder(tf.float32, [None])
    neg = tf.assert_negative(x)
    nonpos = tf.assert_non_positive(x, message="m")
    ok = tf.assert_positive(x)
    with tf.Session() as sess:
        sess.run(ok, {x: [1.0, 2.0]})
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(neg, {x: [1.0, 2.0]})
        assert str(info.value).startswith(
            "assertion failed: [] [Condition x < 0 did not hold element-wise:] "
            "[x (Placeholder:0) = ] [1 2]"
        )
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(nonpos, {x: [1.0]})
        assert str(info.value).startswith(
            "assertion failed: [m.  ] [Condition x <= 0 did not hold "
            "element-wise:x (Placeholder:0) = ] [1]"
        )


def test_static_asserts_raise_while_building():
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=re.escape(
            "Condition x < y did not hold element-wise:\nx (Const:0) = \n[1 2]\n"
            "y (Const_1:0) = \n[1 3]"
        ),
    ):
        tf.assert_less(tf.constant([1, 2]), tf.constant([1, 3]))
    ok = tf.assert_equal(tf.constant([1]), tf.constant([1]))
    assert ok.type == "NoOp"
    x = tf.placeholder(tf.float32, [None])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Tensor Placeholder:0 must have rank 2.  Received rank 1, shape (?,)"
        ),
    ):
        tf.assert_rank(x, 2)
    with pytest.raises(
        TypeError, match=r"Const_\d+:0 must be of type tf.float32; got tf.int32"
    ):
        tf.assert_type(tf.constant(1), tf.float32)
    with pytest.raises(
        TypeError, match=r"Found: Const_\d+:0 of dtype <dtype: 'float32'>"
    ):
        tf.assert_integer(tf.constant(1.0))
    assert tf.assert_rank_at_least(x, 1).type == "NoOp"


def test_assert_rank_checks_at_run_time_for_unknown_rank():
    x = tf.placeholder(tf.float32)
    check = tf.assert_rank(x, 2)
    with tf.Session() as sess:
        sess.run(check, {x: np.zeros([2, 2])})
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape(
                "[Tensor Placeholder:0 must have rank] [2] [Received shape: ] [3]"
            ),
        ):
            sess.run(check, {x: np.zeros([3])})


def test_assert_near():
    x = tf.placeholder(tf.float32, [2])
    check = tf.debugging.assert_near(x, [1.0, 2.0], atol=0.1)
    with tf.Session() as sess:
        sess.run(check, {x: [1.05, 2.0]})
        with pytest.raises(
            tf.errors.InvalidArgumentError, match="not equal to tolerance"
        ):
            sess.run(check, {x: [1.5, 2.0]})


def test_py_func_on_fed_values_runs_on_host():
    calls = []

    def scale(a, b):
        calls.append(a.shape)
        return (a * b).astype(np.float32), np.int64(a.size)

    x = tf.placeholder(tf.float32, [None])
    y, n = tf.py_func(scale, [x, 3.0], [tf.float32, tf.int64])
    assert y.dtype == tf.float32 and y.shape.ndims is None
    with tf.Session() as sess:
        out, count = sess.run([y + 1.0, n], {x: [1.0, 2.0]})
    np.testing.assert_array_equal(out, [4.0, 7.0])
    assert count == 2 and calls == [(2,)]


def test_py_func_in_a_training_step():
    w = tf.Variable([1.0, 2.0])
    seen = []

    def clip(g):
        seen.append(g.copy())
        return np.clip(g, -1, 1).astype(np.float32)

    grad = tf.gradients(tf.reduce_sum(tf.square(w)), w)[0]
    clipped = tf.numpy_function(clip, [grad], tf.float32)
    train = tf.assign_sub(w, 0.5 * tf.reshape(clipped, [2]))
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(train)
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), [0.0, 1.0])
    np.testing.assert_allclose(seen[-1], [1.0, 3.0])


def test_py_func_error_fails_run_with_tf1_class_and_keeps_state():
    w = tf.Variable(1.0)

    def check(v):
        if v > 1.5:
            raise ValueError("too big")
        return v

    train = tf.assign_add(w, tf.py_func(check, [w + 0.0], tf.float32))
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(train) == 2.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="ValueError: too big"):
            sess.run(train)
        assert sess.run(w) == 2.0
    x = tf.placeholder(tf.float32, [])

    def end(a):
        raise StopIteration

    stop = tf.py_func(end, [x], tf.float32)
    with tf.Session() as sess, pytest.raises(tf.errors.OutOfRangeError):
        sess.run(stop, {x: 1.0})


def test_debugging_namespace_and_finite_tests():
    x = tf.constant([1.0, np.nan, np.inf])
    with tf.Session() as sess:
        got = sess.run(
            [tf.debugging.is_nan(x), tf.debugging.is_inf(x), tf.debugging.is_finite(x)]
        )
    np.testing.assert_array_equal(got[0], [False, True, False])
    np.testing.assert_array_equal(got[1], [False, False, True])
    np.testing.assert_array_equal(got[2], [True, False, False])


def test_failed_check_in_a_multi_step_run_keeps_the_steps_before_it():
    x = tf.placeholder(tf.float32, [])
    w = tf.Variable(0.0)
    step = tf.assign_add(w, tf.check_numerics(x, "bad step"))
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(step, {x: np.array([1.0, 2.0, 3.0], np.float32)}, steps_per_run=3)
        assert sess.run(w) == 6.0
        with pytest.raises(
            tf.errors.InvalidArgumentError, match="bad step : Tensor had NaN"
        ):
            sess.run(
                step, {x: np.array([1.0, np.nan, 5.0], np.float32)}, steps_per_run=3
            )
        assert sess.run(w) == 7.0


def test_print_in_a_while_loop_prints_every_iteration_of_every_run(capfd):
    def body(i):
        return tf.Print(i, [i], "i=") + 1

    out = tf.while_loop(lambda i: i < 2, body, [tf.constant(0)])
    with tf.Session() as sess:
        assert sess.run(out) == 2
        assert capfd.readouterr().err == "i=[0]\ni=[1]\n"
        sess.run(out)
    assert capfd.readouterr().err == "i=[0]\ni=[1]\n"


def test_py_func_with_set_shape_is_not_probed():
    calls = []

    def count(a):
        calls.append(a.copy())
        return (a + 1).astype(np.float32)

    w = tf.Variable([1.0, 2.0])
    y = tf.py_func(count, [w * 2.0], tf.float32)
    y.set_shape([2])
    with tf.Session() as sess:
        sess.run(w.initializer)
        np.testing.assert_array_equal(sess.run(y), [3.0, 5.0])
    assert len(calls) == 1


def test_print_first_n_counts_runs_not_gradient_copies(capfd):
    w = tf.Variable(4.0)
    loss = tf.Print(tf.square(w), [w], "w=", first_n=2)
    train = tf.train.GradientDescentOptimizer(0.125).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        for _ in range(3):
            sess.run([train, loss])
    assert capfd.readouterr().err.splitlines() == ["w=[4]", "w=[3]"]


def test_a_check_inside_a_loop_body_is_refused_when_the_loop_is_built():
    # XLA cannot raise from inside a loop: a check there would never fail a
    # run, so it is refused at build time rather than silently ignored.
    x = tf.placeholder(tf.float32, [3])

    def body(i, v):
        checked = tf.check_numerics(v, "v went bad")
        return i + 1, checked * 2.0

    with pytest.raises(
        tf.errors.UnimplementedError, match=r"CheckNumerics.*while_loop"
    ):
        tf.while_loop(lambda i, v: i < 3, body, [tf.constant(0), x])

    def asserting(i, v):
        with tf.control_dependencies([tf.Assert(tf.reduce_all(v > 0), [v])]):
            return i + 1, tf.identity(v)

    with pytest.raises(tf.errors.UnimplementedError, match="Assert"):
        tf.while_loop(lambda i, v: i < 3, asserting, [tf.constant(0), x])
