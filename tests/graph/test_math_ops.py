"""math_ops against NumPy: elementwise ops, reductions, products, clipping, operators."""

import re

import numpy as np
import pytest
from scipy import special

import jaxsession as tf
import jaxsession.math as tfm
from jaxsession.graph.rules import constant_value
from jaxsession.ops import math as math_ops, reduction as reduction_ops
from tests.helpers.oracle import assert_run_matches, run_graph

RNG = np.random.default_rng(0)


def _f32(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def _i32(*shape, low=-9, high=10):
    return RNG.integers(low, high, size=shape).astype(np.int32)


def _assert_all_close(got, want, rtol=1e-5, atol=1e-6):
    assert got.keys() == want.keys()
    for key in want:
        g, w = np.asarray(got[key]), np.asarray(want[key])
        assert g.shape == w.shape, key
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=key)


# -- elementwise ----------------------------------------------------------------

UNARY_FLOAT = {
    "negative": np.negative,
    "abs": np.abs,
    "sign": np.sign,
    "square": np.square,
    "reciprocal": np.reciprocal,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "rint": np.rint,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "exp": np.exp,
    "expm1": np.expm1,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "erf": special.erf,
    "erfc": special.erfc,
    "is_nan": np.isnan,
    "is_inf": np.isinf,
    "is_finite": np.isfinite,
}
UNARY_POSITIVE = {
    "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x),
    "log": np.log,
    "log1p": np.log1p,
    "lgamma": special.gammaln,
    "digamma": special.digamma,
}
UNARY_UNIT = {"asin": np.arcsin, "acos": np.arccos}


def test_unary_float_ops_match_numpy():
    x = _f32(3, 4)
    x[0, :3] = [np.nan, np.inf, -np.inf]
    pos, unit = _f32(3, 4, low=0.1, high=3.0), _f32(5, low=-0.9, high=0.9)

    def build(a, p, u):
        out = {k: getattr(tf, k)(a) for k in UNARY_FLOAT}
        out.update({k: getattr(tf, k)(p) for k in UNARY_POSITIVE})
        out.update({k: getattr(tf, k)(u) for k in UNARY_UNIT})
        return out

    with np.errstate(all="ignore"):
        want = {k: f(x) for k, f in UNARY_FLOAT.items()}
    want.update({k: f(pos) for k, f in UNARY_POSITIVE.items()})
    want.update({k: f(unit) for k, f in UNARY_UNIT.items()})
    _assert_all_close(run_graph(build, x, pos, unit), want, rtol=2e-5, atol=1e-5)


def test_unary_int_ops_and_bankers_rounding():
    i = np.array([-7, -1, 0, 2, 9], np.int32)
    halves = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4], np.float32)

    def build(a, h):
        return {
            "neg": tf.negative(a),
            "abs": tf.abs(a),
            "sign": tf.sign(a),
            "square": tf.square(a),
            "round_int": tf.round(a),
            "round": tf.round(h),
            "recip": tf.reciprocal(tf.constant([1, 2, -1], tf.int32)),
        }

    got = run_graph(build, i, halves)
    np.testing.assert_array_equal(got["round"], [0, 2, 2, -0, -2, -2, 2])
    np.testing.assert_array_equal(got["recip"], [1, 0, -1])
    for k, f in {
        "neg": np.negative,
        "abs": np.abs,
        "sign": np.sign,
        "square": np.square,
        "round_int": lambda v: v,
    }.items():
        assert got[k].dtype == np.int32
        np.testing.assert_array_equal(got[k], f(i))


BINARY_FLOAT = {
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "divide": np.divide,
    "truediv": np.divide,
    "realdiv": np.divide,
    "div": np.divide,
    "floordiv": np.floor_divide,
    "mod": np.mod,
    "floormod": np.mod,
    "truncatemod": np.fmod,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "squared_difference": lambda a, b: (a - b) ** 2,
    "atan2": np.arctan2,
    "equal": np.equal,
    "not_equal": np.not_equal,
    "less": np.less,
    "less_equal": np.less_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
}


def test_binary_float_ops_broadcast_and_match_numpy():
    a, b = _f32(3, 4), _f32(4)
    b[b == 0] = 0.5
    a[0, 0] = b[0]  # an equal pair for the comparisons

    def build(x, y):
        out = {k: getattr(tf, k)(x, y) for k in BINARY_FLOAT}
        out["pow"] = tf.pow(tf.abs(x), y)
        out["div_no_nan"] = tf.div_no_nan(x, y * tf.constant([0, 1, 1, 1], tf.float32))
        return out

    want = {k: f(a, b) for k, f in BINARY_FLOAT.items()}
    want["pow"] = np.abs(a) ** b
    yz = b * np.array([0, 1, 1, 1], np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        want["div_no_nan"] = np.where(yz == 0, 0, a / yz)
    _assert_all_close(run_graph(build, a, b), want, rtol=1e-5, atol=1e-5)


def test_integer_division_semantics_as_tf1():
    x = np.array([7, -7, 7, -7, 0], np.int32)
    y = np.array([2, 2, -2, -2, 3], np.int32)

    def build(a, b):
        return {
            "truediv": tf.truediv(a, b),
            "divide": tf.divide(a, b),
            "slash": a / b,
            "div": tf.div(a, b),
            "floordiv": a // b,
            "mod": a % b,
            "truncatediv": tf.truncatediv(a, b),
            "truncatemod": tf.truncatemod(a, b),
            "realdiv": tf.realdiv(a, b),
            "small": tf.truediv(tf.cast(a, tf.int16), tf.cast(b, tf.int16)),
        }

    out = {}
    got = run_graph(lambda a, b: out.update(build(a, b)) or out, x, y)
    assert out["truediv"].dtype is tf.float64 and out["slash"].dtype is tf.float64
    assert out["small"].dtype is tf.float32 and out["div"].dtype is tf.int32
    assert out["slash"].op.type == "RealDiv"
    assert re.fullmatch(r"truediv_\d", out["slash"].op.name)
    assert got["truediv"].dtype == np.float64
    for key in ("truediv", "divide", "slash", "small"):
        np.testing.assert_allclose(got[key], x / y)
    np.testing.assert_array_equal(got["div"], [3, -4, -4, 3, 0])
    np.testing.assert_array_equal(got["floordiv"], x // y)
    np.testing.assert_array_equal(got["mod"], x % y)
    np.testing.assert_array_equal(got["truncatediv"], [3, -3, -3, 3, 0])
    np.testing.assert_array_equal(got["truncatemod"], np.fmod(x, y))
    np.testing.assert_array_equal(got["realdiv"], [3, -3, -3, 3, 0])


def test_logical_ops_and_comparisons_on_ints():
    p = np.array([True, True, False, False])
    q = np.array([True, False, True, False])
    i, j = _i32(4), _i32(4)

    def build(a, b, m, n):
        return {
            "and": tf.logical_and(a, b),
            "or": tf.logical_or(a, b),
            "xor": tf.logical_xor(a, b),
            "not": tf.logical_not(a),
            "eq": tf.equal(m, n),
            "lt": tf.less(m, n),
            "ge": tf.greater_equal(m, n),
            "max": tf.maximum(m, n),
        }

    want = {
        "and": p & q,
        "or": p | q,
        "xor": p ^ q,
        "not": ~p,
        "eq": i == j,
        "lt": i < j,
        "ge": i >= j,
        "max": np.maximum(i, j),
    }
    _assert_all_close(run_graph(build, p, q, i, j), want)


# -- reductions -----------------------------------------------------------------

REDUCTIONS = {
    "reduce_sum": np.sum,
    "reduce_mean": np.mean,
    "reduce_max": np.max,
    "reduce_min": np.min,
    "reduce_prod": np.prod,
    "reduce_logsumexp": special.logsumexp,
    "reduce_variance": np.var,
    "reduce_std": np.std,
    "reduce_euclidean_norm": lambda x, axis, keepdims: np.sqrt(
        np.sum(x * x, axis=axis, keepdims=keepdims)
    ),
}
AXES = [None, 1, -1, [0, 2], (-3, 1), []]


def test_reductions_match_numpy_for_every_axis_form():
    x = _f32(2, 3, 4, low=0.5, high=1.5)

    def build(a):
        out = {}
        for name in REDUCTIONS:
            for i, axis in enumerate(AXES):
                fn = getattr(tf, name)
                out[f"{name}/{i}"] = fn(a, axis=axis)
                out[f"{name}/{i}/k"] = fn(a, axis=axis, keepdims=True)
            out[f"{name}/alias"] = fn(a, reduction_indices=[1], keep_dims=True)
        return out

    want = {}
    for name, f in REDUCTIONS.items():
        for i, axis in enumerate(AXES):
            ax = tuple(axis) if isinstance(axis, list | tuple) else axis
            want[f"{name}/{i}"] = f(x, axis=ax, keepdims=False)
            want[f"{name}/{i}/k"] = f(x, axis=ax, keepdims=True)
        want[f"{name}/alias"] = f(x, axis=(1,), keepdims=True)
    _assert_all_close(run_graph(build, x), want, rtol=2e-5, atol=1e-5)


def test_bool_and_int_reductions():
    b = RNG.random((3, 4)) > 0.5
    i = _i32(3, 4)

    def build(m, n):
        return {
            "any": tf.reduce_any(m, 1),
            "all": tf.reduce_all(m, 0),
            "any_all": tf.reduce_any(m),
            "sum": tf.reduce_sum(n, 0),
            "mean": tf.reduce_mean(n, 1),
            "max": tf.reduce_max(n, [0, 1]),
            "count": tf.count_nonzero(n, 1),
            "count_b": tf.count_nonzero(m),
            "count32": tf.count_nonzero(n, keep_dims=True, dtype=tf.int32),
        }

    got = run_graph(build, b, i)
    want = {
        "any": b.any(1),
        "all": b.all(0),
        "any_all": b.any(),
        "sum": i.sum(0),
        # TF1's integer mean truncates toward zero.
        "mean": np.trunc(i.sum(1) / 4).astype(np.int32),
        "max": i.max(),
        "count": np.count_nonzero(i, 1),
        "count_b": np.count_nonzero(b),
        "count32": np.count_nonzero(i, keepdims=True, axis=(0, 1)),
    }
    _assert_all_close(got, want)
    assert got["count"].dtype == np.int64 and got["count32"].dtype == np.int32
    assert got["sum"].dtype == np.int32 and got["mean"].dtype == np.int32


def test_reduction_errors():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Invalid reduction dimension 2 for input with 2 dimensions for 'Sum' "
            "(op: 'Sum') with input shapes: [2,3]."
        ),
    ):
        tf.reduce_sum(x, axis=2)
    with pytest.raises(
        ValueError, match="Cannot specify both 'keep_dims' and 'keepdims'"
    ):
        tf.reduce_mean(x, keepdims=True, keep_dims=True)
    with pytest.raises(
        ValueError, match="Cannot specify both 'reduction_indices' and 'axis'"
    ):
        tf.reduce_max(x, axis=0, reduction_indices=0)
    with pytest.raises(TypeError, match="Any does not accept float32 input"):
        tf.reduce_any(x)


def test_argmax_argmin_cumsum_cumprod():
    x = _f32(3, 4)

    def build(a):
        return {
            "argmax": tf.argmax(a),
            "argmax1": tf.argmax(a, 1),
            "dimension": tf.argmax(a, dimension=-1, output_type=tf.int32),
            "argmin": tf.argmin(a, axis=1),
            "cumsum": tf.cumsum(a, 1),
            "cumsum0": tf.cumsum(a),
            "excl": tf.cumsum(a, 1, exclusive=True),
            "rev": tf.cumsum(a, 1, reverse=True),
            "excl_rev": tf.cumsum(a, -1, exclusive=True, reverse=True),
            "cumprod_excl": tf.cumprod(a, 1, exclusive=True),
        }

    got = run_graph(build, x)
    rev = np.flip(np.cumsum(np.flip(x, 1), 1), 1)
    want = {
        "argmax": x.argmax(0),
        "argmax1": x.argmax(1),
        "dimension": x.argmax(-1),
        "argmin": x.argmin(1),
        "cumsum": np.cumsum(x, 1),
        "cumsum0": np.cumsum(x, 0),
        "excl": np.cumsum(x, 1) - x,
        "rev": rev,
        "excl_rev": rev - x,
        "cumprod_excl": np.cumprod(np.c_[np.ones((3, 1)), x[:, :-1]], 1),
    }
    _assert_all_close(got, want, atol=1e-5)
    assert got["argmax"].dtype == np.int64 and got["dimension"].dtype == np.int32


# -- products -------------------------------------------------------------------


def test_matmul_tensordot_einsum_add_n():
    a, b = _f32(3, 4), _f32(4, 5)
    ba, bb = _f32(2, 3, 4), _f32(2, 5, 4)

    def build(x, y, bx, by):
        return (
            tf.matmul(x, y),
            tf.matmul(y, x, transpose_a=True, transpose_b=True),
            tf.matmul(bx, by, transpose_b=True),
            x @ y,
            tf.tensordot(bx, y, 1),
            tf.tensordot(bx, x, [[1, 2], [0, 1]]),
            tf.einsum("ij,jk->ik", x, y),
            tf.einsum("bij,bkj->bik", bx, by),
            tf.add_n([x, x, x]),
            tf.accumulate_n([y, y]),
            tf.scalar_mul(2.0, x),
        )

    def ref(x, y, bx, by):
        return (
            x @ y,
            (y.T @ x.T),
            bx @ by.transpose(0, 2, 1),
            x @ y,
            np.tensordot(bx, y, 1),
            np.tensordot(bx, x, [[1, 2], [0, 1]]),
            x @ y,
            np.einsum("bij,bkj->bik", bx, by),
            3 * x,
            2 * y,
            2 * x,
        )

    assert_run_matches(build, ref, a, b, ba, bb, rtol=1e-5, atol=1e-5)


def test_matmul_and_add_n_errors():
    a = tf.placeholder(tf.float32, [2, 3], name="a")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Dimensions must be equal, but are 3 and 4 for 'MatMul' (op: 'MatMul') "
            "with input shapes: [2,3], [4,5]."
        ),
    ):
        tf.matmul(a, tf.ones([4, 5]))
    with pytest.raises(ValueError, match="Shape must be rank >= 2 but is rank 1"):
        tf.matmul(a, tf.ones([3]))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Shapes of all inputs must match for 'AddN' (op: 'AddN') with input "
            "shapes: [2,3], [3,2]."
        ),
    ):
        tf.add_n([a, tf.ones([3, 2])])
    with pytest.raises(TypeError, match="AddN inputs must have one dtype"):
        tf.add_n([a, tf.ones([2, 3], tf.float64)])
    with pytest.raises(ValueError, match="inputs must be a list of at least one"):
        tf.add_n([])
    assert tf.add_n([a]) is a
    with pytest.raises(ValueError, match="Only scalar multiply works"):
        tf.scalar_mul([1.0, 2.0], a)


# -- where ----------------------------------------------------------------------


def test_where_selects_elementwise_and_by_rows():
    x, y = _f32(3, 4), _f32(3, 4)
    rows = np.array([True, False, True])

    def build(a, b, r):
        return (
            tf.where(a > b, a, b),
            tf.where(r, a, b),
            tf.where(True, a, b),
            tf.where(tf.constant([[True, False], [False, True]])),
        )

    def ref(a, b, r):
        return (
            np.maximum(a, b),
            np.where(r[:, None], a, b),
            a,
            np.array([[0, 0], [1, 1]]),
        )

    assert_run_matches(build, ref, x, y, rows)


def test_where_errors():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with pytest.raises(
        tf.errors.UnimplementedError,
        match=re.escape(
            "Where: tf.where(condition) with one argument returns the coordinates of "
            "the True entries of <tf.Tensor 'Greater:0' shape=(?, 3) dtype=bool>, whose "
            "number depends on its value"
        ),
    ):
        tf.where(x > 0)
    with pytest.raises(
        ValueError, match="x and y must both be non-None or both be None"
    ):
        tf.where(x > 0, x)
    y = tf.placeholder(tf.float32, [2, 3], name="y")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "condition must be a scalar, have the shape of x and y, or be a vector as "
            "long as their first dimension for 'Select' (op: 'Select') with input "
            "shapes: [4], [2,3], [2,3]."
        ),
    ):
        tf.where(tf.ones([4], tf.bool), y, y)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "x and y must have the same shape for 'Select' (op: 'Select') with input "
            "shapes: [2,3], [2,3], [2,4]."
        ),
    ):
        tf.where(y > 0, y, tf.ones([2, 4]))
    with pytest.raises(TypeError, match="Select does not accept float32 input"):
        tf.where(x, x, x)


# -- clipping and casts ---------------------------------------------------------


def test_clipping_matches_numpy():
    t, u = _f32(3, 4), _f32(5)
    big = np.sqrt(np.sum(t**2) + np.sum(u**2))

    def build(a, b):
        clipped, norm = tf.clip_by_global_norm([a, None, b], 1.0)
        same, _ = tf.clip_by_global_norm([a, b], 100.0)
        nan, _ = tf.clip_by_global_norm([a], 1.0, use_norm=np.float32(np.inf))
        return {
            "value": tf.clip_by_value(a, -0.5, 0.5),
            "value_t": tf.clip_by_value(a, tf.constant([-1.0, 0, 0, 0]), 0.2),
            "norm": tf.clip_by_norm(a, 1.0),
            "norm1": tf.clip_by_norm(a, 1.0, axes=[1]),
            "zero": tf.clip_by_norm(tf.zeros([3]), 1.0),
            "gnorm": tf.global_norm([a, None, b]),
            "g0": clipped[0],
            "g2": clipped[2],
            "gn": norm,
            "same": same[1],
            "nan": nan[0],
        }

    row = np.sqrt((t**2).sum(1, keepdims=True))
    want = {
        "value": np.clip(t, -0.5, 0.5),
        "value_t": np.clip(t, np.array([-1.0, 0, 0, 0]), 0.2),
        "norm": t / np.sqrt((t**2).sum()),
        "norm1": t / np.maximum(row, 1.0),
        "zero": np.zeros(3),
        "gnorm": big,
        "g0": t / big,
        "g2": u / big,
        "gn": big,
        "same": u,
        "nan": np.full_like(t, np.nan),
    }
    _assert_all_close(run_graph(build, t, u), want)


def test_clipping_errors_and_none_entries():
    a = tf.ones([2, 3])
    clipped, _ = tf.clip_by_global_norm([None, a], 1.0)
    assert clipped[0] is None and clipped[1].shape.as_list() == [2, 3]
    with pytest.raises(TypeError, match="t_list should be a sequence, got Tensor"):
        tf.clip_by_global_norm(a, 1.0)
    with pytest.raises(ValueError, match="t_list has only None"):
        tf.global_norm([None])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Dimensions must be equal, but are 3 and 4 for 'clip_by_value' "
            "(op: 'ClipByValue')"
        ),
    ):
        tf.clip_by_value(a, tf.zeros([4]), 1.0)
    with pytest.raises(ValueError, match="clip bounds change t's shape"):
        tf.clip_by_value(a, tf.zeros([5, 2, 3]), 1.0)


def test_cast_and_aliases():
    x = np.array([-1.7, -0.5, 0.0, 0.5, 2.9], np.float32)

    def build(a):
        i = tf.cast(a, tf.int32)
        return {
            "int": i,
            "bool": tf.cast(a, tf.bool),
            "back": tf.cast(i, tf.float32),
            "to_int64": tf.to_int64(a),
            "to_int32": tf.to_int32(a),
            "to_float": tf.to_float(i),
            "to_double": tf.to_double(a),
            "py": tf.cast([1.5, 2.5], tf.int32),
        }

    got = run_graph(build, x)
    want = {
        "int": [-1, 0, 0, 0, 2],
        "bool": x != 0,
        "back": [-1, 0, 0, 0, 2],
        "to_int64": [-1, 0, 0, 0, 2],
        "to_int32": [-1, 0, 0, 0, 2],
        "to_float": [-1, 0, 0, 0, 2],
        "to_double": x,
        "py": [1, 2],
    }
    _assert_all_close(got, want)
    assert got["to_int64"].dtype == np.int64 and got["to_double"].dtype == np.float64
    t = tf.placeholder(tf.float32, [2])
    assert tf.cast(t, tf.float32) is t
    assert tf.to_float(tf.ones([2], tf.int32)).op.name == "ToFloat"


# -- operators ------------------------------------------------------------------

OPERATORS = {
    "add": (lambda a, b: a + b, "add", "Add"),
    "radd": (lambda a, b: 2 + a, "add", "Add"),
    "sub": (lambda a, b: a - b, "sub", "Sub"),
    "rsub": (lambda a, b: 2 - a, "sub", "Sub"),
    "mul": (lambda a, b: a * b, "mul", "Mul"),
    "rmul": (lambda a, b: np.float32(3) * a, "mul", "Mul"),
    "div": (lambda a, b: a / b, "truediv", "RealDiv"),
    "rdiv": (lambda a, b: 1 / a, "truediv", "RealDiv"),
    "floordiv": (lambda a, b: a // b, "floordiv", "FloorDiv"),
    "rfloordiv": (lambda a, b: 7 // b, "floordiv", "FloorDiv"),
    "mod": (lambda a, b: a % b, "mod", "FloorMod"),
    "rmod": (lambda a, b: 5 % b, "mod", "FloorMod"),
    "pow": (lambda a, b: abs(a) ** 2, "pow", "Pow"),
    "rpow": (lambda a, b: 2**a, "pow", "Pow"),
    "neg": (lambda a, b: -a, "Neg", "Neg"),
    "abs": (lambda a, b: abs(a), "Abs", "Abs"),
    "lt": (lambda a, b: a < b, "Less", "Less"),
    "le": (lambda a, b: a <= 0.5, "LessEqual", "LessEqual"),
    "gt": (lambda a, b: 0.5 > a, "Less", "Less"),
    "ge": (lambda a, b: a >= b, "GreaterEqual", "GreaterEqual"),
}
MATRIX_OPERATORS = {
    "matmul": (lambda m: m @ m, "matmul", "MatMul"),
    "and": (lambda m: (m > 0) & (m < 1), "and", "LogicalAnd"),
    "or": (lambda m: (m > 0) | (m < -1), "or", "LogicalOr"),
    "xor": (lambda m: (m > 0) ^ (m < 1), "xor", "LogicalXor"),
    "rand": (lambda m: np.bool_(True) & (m > 0), "and", "LogicalAnd"),
    "invert": (lambda m: ~(m > 0), "LogicalNot", "LogicalNot"),
}


@pytest.mark.parametrize("kind", ["tensor", "variable"])
def test_operators_match_numpy_with_tf1_op_names(kind):
    a_val = _f32(4, low=0.5, high=3)
    b_val = np.array([1.5, -2.0, 0.75, 3.0], np.float32)
    m_val = _f32(3, 3)
    if kind == "tensor":
        a, m = tf.constant(a_val), tf.constant(m_val)
        a, m = (
            tf.placeholder_with_default(a, [4]),
            tf.placeholder_with_default(m, [3, 3]),
        )
    else:
        a, m = tf.Variable(a_val, name="a"), tf.Variable(m_val, name="m")
    b = tf.constant(b_val)
    fetch = {k: f(a, b) for k, (f, _, _) in OPERATORS.items()}
    fetch.update({k: f(m) for k, (f, _, _) in MATRIX_OPERATORS.items()})
    for k, (_, op_name, op_type) in (OPERATORS | MATRIX_OPERATORS).items():
        assert re.fullmatch(f"{op_name}(_\\d+)?", fetch[k].op.name), k
        assert fetch[k].op.type == op_type, k
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(fetch)
    want = {k: f(a_val, b_val) for k, (f, _, _) in OPERATORS.items()}
    want.update({k: f(m_val) for k, (f, _, _) in MATRIX_OPERATORS.items()})
    _assert_all_close(got, want, rtol=1e-5, atol=1e-5)


def test_equality_stays_identity_and_tensors_hash():
    a, b = tf.ones([2]), tf.ones([2])
    v = tf.Variable([1.0, 2.0])
    assert (a == a) is True and (a == b) is False and (a != b) is True
    assert (v == v) is True and (v != a) is True
    assert {a: 1, b: 2, v: 3}[b] == 2


# -- dtype and shape rules ------------------------------------------------------


def test_python_numbers_take_the_tensor_dtype():
    i = tf.placeholder(tf.int32, [3])
    d = tf.placeholder(tf.float64, [3])
    i64 = tf.placeholder(tf.int64, [3])
    assert (i + 2).dtype is tf.int32 and (2 * i).dtype is tf.int32
    assert (d + 1.5).dtype is tf.float64 and (1 - d).dtype is tf.float64
    assert (i64 * 3).dtype is tf.int64 and (i64 / 2).dtype is tf.float64
    assert (i < 2).dtype is tf.bool and tf.argmax(d).dtype is tf.int64
    with pytest.raises(TypeError, match=r"Expected int32, got 1\.5"):
        i + 1.5


def test_dtype_errors_name_both_tensors_and_the_allowed_types():
    x = tf.placeholder(tf.float32, [3], name="x")
    n = tf.placeholder(tf.int32, [3], name="n")
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Input 'y' of op has type int32 that does not match type float32 of argument "
            "'x': <tf.Tensor 'x:0' shape=(3,) dtype=float32> and "
            "<tf.Tensor 'n:0' shape=(3,) dtype=int32>."
        ),
    ):
        x * n
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Sqrt does not accept int32 input <tf.Tensor 'n:0' shape=(3,) dtype=int32>: "
            "expected a float or complex tensor"
        ),
    ):
        tf.sqrt(n)
    with pytest.raises(TypeError, match="LogicalAnd does not accept int32 input"):
        n & n
    with pytest.raises(TypeError, match="Invalid dtype uint32 in __truediv__"):
        tf.ones([2], tf.uint32) / tf.ones([2], tf.uint32)


def test_shape_errors_name_the_op_and_both_shapes():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Dimensions must be equal, but are 3 and 4 for 'add' (op: 'Add') with input "
            "shapes: [2,3], [4]."
        ),
    ):
        x + tf.ones([4])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Dimensions must be equal, but are 2 and 5 for 'Maximum' (op: 'Maximum') "
            "with input shapes: [2,3], [5,1]."
        ),
    ):
        tf.maximum(x, tf.ones([5, 1]))


def test_unknown_dims_infer_tf1_shapes():
    x = tf.placeholder(tf.float32, [None, 3])
    col = tf.placeholder(tf.float32, [None, 1])
    r = tf.placeholder(tf.float32)
    shapes = {
        "sum1": tf.reduce_sum(x, axis=1),
        "sum0": tf.reduce_sum(x, 0),
        "keep": tf.reduce_mean(x, 1, keepdims=True),
        "all": tf.reduce_max(x),
        "argmax": tf.argmax(x, 1),
        "cumsum": tf.cumsum(x, 1),
        "known": x + tf.ones([2, 3]),
        "outer": col * tf.ones([1, 4]),
        "same": x - x,
        "cmp": x > col,
        "matmul": tf.matmul(tf.placeholder(tf.float32, [None, None]), tf.ones([3, 4])),
        "batch": tf.matmul(tf.placeholder(tf.float32, [None, 2, 3]), tf.ones([3, 5])),
        "add_n": tf.add_n([x, tf.ones([2, 3])]),
        "select": tf.where(tf.placeholder(tf.bool, [None]), x, x),
        "rank_sum": tf.reduce_sum(r, 0),
        "rank_add": r + 1.0,
        "rank_all": tf.reduce_sum(r),
        "rank_count": tf.count_nonzero(r),
        "tensordot": tf.tensordot(
            tf.placeholder(tf.float32, [None, 7, 3]), tf.ones([3, 2]), 1
        ),
    }
    want = {
        "sum1": [None],
        "sum0": [3],
        "keep": [None, 1],
        "all": [],
        "argmax": [None],
        "cumsum": [None, 3],
        "known": [2, 3],
        "outer": [None, 4],
        "same": [None, 3],
        "cmp": [None, 3],
        "matmul": [None, 4],
        "batch": [None, 2, 5],
        "add_n": [2, 3],
        "select": [None, 3],
        "rank_sum": None,
        "rank_add": None,
        "tensordot": [None, 7, 2],
        "rank_all": [],
        "rank_count": [],
    }
    assert {
        k: v.shape.as_list() if v.shape.ndims is not None else None
        for k, v in shapes.items()
    } == want
    with tf.Session() as sess:
        got = sess.run(shapes["known"], {x: np.ones((2, 3), np.float32)})
    np.testing.assert_array_equal(got, np.full((2, 3), 2.0))


def test_constant_inputs_fold_at_build_time():
    assert constant_value(tf.constant(7) // 2 + tf.abs(-3)) == 6
    assert constant_value(tf.reduce_sum(tf.constant([[1, 2], [3, 4]]), 1)).tolist() == [
        3,
        7,
    ]


def test_gradients_through_math_ops():
    x_val = _f32(2, 3, low=0.5, high=2)

    def build(x):
        y = tf.reduce_sum(tf.sigmoid(x) * tf.log(x)) + tf.reduce_mean(tf.square(x))
        z = tf.reduce_sum(tf.clip_by_norm(tf.zeros([3]) * x[0], 1.0))
        return tf.gradients(y, x)[0], tf.gradients(z, x)[0]

    def ref(x):
        s = 1 / (1 + np.exp(-x))
        return s * (1 - s) * np.log(x) + s / x + 2 * x / x.size, np.zeros_like(x)

    assert_run_matches(build, ref, x_val, rtol=1e-4, atol=1e-5)


def test_tf_math_namespace_exports_every_math_op():
    assert set(math_ops.__all__) | set(reduction_ops.__all__) <= set(dir(tfm))
    assert set(math_ops.__all__) | set(reduction_ops.__all__) <= set(dir(tf))
    assert tfm.reduce_sum is tf.reduce_sum and tfm.floormod is tf.mod
    assert tf.reduce_sum.__doc__.startswith("The sum of elements along ``axis``")


# -- TF1 dtypes, errors and names (TF 2.21 oracle) -----------------------------


def test_matmul_of_bools_raises_type_error_at_build():
    b = tf.placeholder(tf.bool, [2, 2])
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Value passed to parameter 'a' has DataType bool not in list of allowed "
            "values: bfloat16, float16, float32, float64, int32, int64"
        ),
    ):
        tf.matmul(b, b)
    with pytest.raises(TypeError, match="DataType int8 not in list"):
        tf.matmul(tf.ones([2, 2], tf.int8), tf.ones([2, 2], tf.int8))
    # BatchMatMulV2 names its input x and also accepts int16.
    with pytest.raises(TypeError, match="parameter 'x' has DataType bool"):
        tf.matmul(tf.ones([1, 2, 2], tf.bool), tf.ones([1, 2, 2], tf.bool))
    assert tf.matmul(
        tf.ones([1, 2, 2], tf.int16), tf.ones([2, 2], tf.int16)
    ).op.type == ("BatchMatMulV2")


def test_truncatediv_accepts_floats_and_rounds_toward_zero():
    x = tf.constant([7.5, -7.5, 1.0])
    y = tf.constant([2.0, 2.0, -0.3])
    q = tf.truncatediv(x, y)
    assert q.name == "TruncateDiv:0" and q.dtype == tf.float32
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(q), [3.0, -3.0, -3.0])
        np.testing.assert_array_equal(
            sess.run(tf.truncatediv(tf.constant([-7, 7]), tf.constant([2, 2]))),
            [-3, 3],
        )


def test_div_no_nan_default_name():
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.div_no_nan(x, x).name == "div_no_nan:0"
    assert tf.div_no_nan(x, x, name="d").name == "d:0"
    assert tf.div_no_nan(x, x).op.type == "DivNoNan"


def test_global_norm_names_as_tf1():
    a, b = tf.ones([2, 3]), tf.ones([4])
    assert tf.global_norm([a, b]).name == "global_norm/global_norm:0"
    assert tf.global_norm([a], name="gn").name == "gn/global_norm:0"
    _, norm = tf.clip_by_global_norm([a, b], 1.0)
    assert norm.name == "global_norm_1/global_norm:0"
