"""The declarative grid of TF1 cases checked against TensorFlow itself.

Pure data plus numpy: importable without TensorFlow and without jaxsession.
Each case is a dict:

* ``id``: unique, also the seed of its input values.
* ``fn``: the public name called, relative to the ``tf`` module
  (``"nn.relu"``, ``"layers.dense"``); ``"Tensor.__add__"`` calls a method
  of the first argument.
* ``kind``: how ``harness.py`` builds it (``"op"`` by default; ``"metric"``,
  ``"optimizer"``, ``"schedule"``, ``"initializer"``, ``"cond"``...).
* ``args`` / ``kw``: positional and keyword inputs; each may be an input spec
  (below) or a plain Python value passed as is.
* ``rec``: what is recorded, letters of ``s`` (static shape and dtype),
  ``v`` (values), ``g`` (gradients of the sum of the float outputs w.r.t. the
  float placeholders), ``n`` (tensor and variable names).
* ``tol``: ``(rtol, atol)`` where the default 1e-5/1e-6 is too tight.

Input specs: ``X(dtype, shape)`` a placeholder (``shape=None``: unknown
rank; ``None`` dims: unknown size), fed with seeded numpy values of shape
``feed``; ``L(v)`` a literal; ``A("path")`` a public attribute of ``tf``
(called with ``args``/``kw`` when given); ``LIST(...)`` a Python list of specs;
``IDX(...)`` a ``__getitem__`` key; ``VAR(values)`` a ``tf.Variable``.
"""

import zlib

import numpy as np

REC = "svg"


def X(dtype, shape, feed=None, lo=None, hi=None, value=None, simplex=False):
    """A placeholder of ``dtype`` and (partial) ``shape``.

    ``simplex``: values normalised to sum to one along the last axis.
    """
    if feed is None:
        if shape is None:
            raise ValueError("unknown rank needs a feed shape")
        feed = [2 if d is None else d for d in shape]
    return {
        "ph": dtype,
        "shape": None if shape is None else list(shape),
        "feed": list(feed),
        "lo": lo,
        "hi": hi,
        "value": value,
        "simplex": simplex,
    }


def F(shape, **k):
    """A float32 placeholder."""
    return X("float32", shape, **k)


def D(shape, **k):
    """A float64 placeholder."""
    return X("float64", shape, **k)


def I(shape, lo=-5, hi=6, **k):  # noqa: E743
    """An int32 placeholder."""
    return X("int32", shape, lo=lo, hi=hi, **k)


def I64(shape, lo=-5, hi=6, **k):
    """An int64 placeholder."""
    return X("int64", shape, lo=lo, hi=hi, **k)


def B(shape, **k):
    """A bool placeholder."""
    return X("bool", shape, **k)


def L(v):
    """A literal passed as is (lists stay lists)."""
    return {"lit": v}


def A(path, *args, **kw):
    """A public attribute of the ``tf`` module, called when args are given."""
    return {"attr": path, "args": list(args), "kw": kw, "call": bool(args or kw)}


def CALL(path, *args, **kw):
    """A public callable of ``tf`` called with no or some arguments."""
    return {"attr": path, "args": list(args), "kw": kw, "call": True}


def LIST(*specs):
    """A Python list of inputs."""
    return {"list": list(specs)}


def IDX(*items):
    """A ``__getitem__`` key: ints, ``(a, b, c)`` slices, ``"..."``, ``"new"``."""
    return {"index": [list(i) if isinstance(i, tuple) else i for i in items]}


def VAR(values, dtype="float32"):
    """A ``tf.Variable`` named ``v`` holding ``values``."""
    return {"var": values, "dtype": dtype}


CASES = []


def case_adder(cases):
    """A ``case`` function that appends to ``cases`` (for ``cases_<area>.py``)."""

    def case(id, fn, *args, kw=None, rec=REC, kind="op", **extra):
        """Adds one case to the grid."""
        c = {"id": id, "fn": fn, "kind": kind, "args": list(args), "kw": kw or {}}
        c["rec"] = rec
        c.update(extra)
        cases.append(c)

    return case


case = case_adder(CASES)


def feed_value(case_id, path, spec):
    """The seeded numpy value fed to the placeholder ``spec`` at ``path``."""
    if spec.get("value") is not None:
        return np.asarray(spec["value"], dtype=spec["ph"])
    rng = np.random.default_rng(zlib.crc32(f"{case_id}/{path}".encode()))
    shape = tuple(spec["feed"])
    dt = spec["ph"]
    if dt == "bool":
        return rng.random(shape) < 0.5
    lo = spec["lo"]
    hi = spec["hi"]
    if dt.startswith("int") or dt.startswith("uint"):
        return rng.integers(
            -5 if lo is None else lo, 6 if hi is None else hi, shape
        ).astype(dt)
    lo = -2.0 if lo is None else lo
    hi = 2.0 if hi is None else hi
    v = rng.uniform(lo, hi, shape)
    if spec.get("simplex"):
        v = v / v.sum(axis=-1, keepdims=True)
    return v.astype(dt)


# --------------------------------------------------------------------------
# Elementwise unary math.
POS = {"lo": 0.2, "hi": 3.0}
UNIT = {"lo": -0.9, "hi": 0.9}
UNARY = {
    "abs": {},
    "acos": UNIT,
    "asin": UNIT,
    "atan": {},
    "ceil": {},
    "cos": {},
    "cosh": {},
    "digamma": POS,
    "erf": {},
    "erfc": {},
    "exp": {},
    "expm1": {},
    "floor": {},
    "lgamma": POS,
    "log": POS,
    "log1p": POS,
    "log_sigmoid": {},
    "negative": {},
    "reciprocal": POS,
    "rint": {},
    "round": {},
    "rsqrt": POS,
    "sigmoid": {},
    "sign": {},
    "sin": {},
    "sinh": {},
    "sqrt": POS,
    "square": {},
    "tan": UNIT,
    "tanh": {},
    "is_finite": {},
    "is_inf": {},
    "is_nan": {},
    "nn.relu": {},
    "nn.relu6": {"lo": -3.0, "hi": 8.0},
    "nn.elu": {},
    "nn.selu": {},
    "nn.softplus": {},
    "nn.softsign": {},
    "nn.leaky_relu": {},
    "nn.sigmoid": {},
    "nn.tanh": {},
    "math.softplus": {},
    "nn.l2_loss": {},
    "identity": {},
    "stop_gradient": {},
    "zeros_like": {},
    "ones_like": {},
    "size": {},
    "rank": {},
    "shape": {},
    "to_int32": {},
    "to_int64": {},
    "to_double": {},
    "to_float": {},
    "matrix_transpose": {},
}
for _name, _rng in UNARY.items():
    _tol = {"tol": [1e-4, 1e-5]} if _name in ("digamma", "lgamma", "tan") else {}
    case(f"{_name}/f32", _name, F([None, 3], **_rng), rec="svgn", **_tol)
for _name in ("abs", "negative", "square", "sign", "exp", "sqrt", "tanh", "sigmoid"):
    case(f"{_name}/f64", _name, D([2, 3], lo=0.1))
for _name in ("abs", "negative", "square", "sign", "zeros_like", "ones_like"):
    case(f"{_name}/i32", _name, I([None, 3]))
    case(f"{_name}/i64", _name, I64([4]))
case("abs/unknown_rank", "abs", F(None, feed=[2, 2]))
case("exp/scalar", "exp", F([]))
case("sqrt/int_error", "sqrt", I([3]))
case("nn.relu/i32", "nn.relu", I([3]))
case("logical_not/bool", "logical_not", B([None, 2]), rec="svn")
case("negative/bool_error", "negative", B([3]))
case("zeros_like/dtype", "zeros_like", F([None, 2]), kw={"dtype": A("int32")})
case("ones_like/bool", "ones_like", B([2]))
case("shape/out_type", "shape", F([None, 3]), kw={"out_type": A("int64")})
case("shape/unknown_rank", "shape", F(None, feed=[2, 1, 3]))
case("rank/unknown_rank", "rank", F(None, feed=[2, 1, 3]))
case("size/int64", "size", F([None, 3]), kw={"out_type": A("int64")})
case("shape_n", "shape_n", LIST(F([None, 3]), F([4])))
case("shape_n/dtype_error", "shape_n", LIST(F([None, 3]), I([4])))
case("nn.leaky_relu/alpha", "nn.leaky_relu", F([5]), kw={"alpha": 0.3})

# Elementwise binary math, including broadcasting with None dims.
BINARY = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "truediv",
    "div",
    "realdiv",
    "floordiv",
    "floormod",
    "mod",
    "maximum",
    "minimum",
    "squared_difference",
    "atan2",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "div_no_nan",
    "truncatediv",
    "truncatemod",
]
for _name in BINARY:
    case(f"{_name}/f32", _name, F([None, 3]), F([3], lo=0.5, hi=2.0), rec="svgn")
for _name in (
    "add",
    "subtract",
    "multiply",
    "divide",
    "truediv",
    "div",
    "floordiv",
    "floormod",
    "mod",
    "maximum",
    "minimum",
    "equal",
    "less",
    "truncatediv",
    "truncatemod",
    "squared_difference",
    "div_no_nan",
):
    case(f"{_name}/i32", _name, I([None, 3]), I([3], lo=1, hi=4))
case("floordiv/i32_neg", "floordiv", I([6]), I([6], lo=-3, hi=-1))
case("floormod/i32_neg", "floormod", I([6]), I([6], lo=-3, hi=-1))
case("truncatediv/i32_neg", "truncatediv", I([6]), I([6], lo=-3, hi=-1))
case("add/i64", "add", I64([None], feed=[3]), I64([3]))
case("add/f64", "add", D([None, 3]), D([1, 3]))
case("pow/f32", "pow", F([3], **POS), F([3]))
case("pow/i32", "pow", I([3], lo=0, hi=4), I([3], lo=0, hi=3))
case("add/broadcast_none", "add", F([None, 1]), F([1, None], feed=[1, 4]))
case("add/broadcast_rank", "add", F([None, 2, 3]), F([3]))
case("add/unknown_rank", "add", F(None, feed=[2, 3]), F([3]))
case("add/mismatch_error", "add", F([2, 3]), F([4]))
case("add/dtype_error", "add", I64([3]), I([3]))
case("add/python_scalar", "add", F([None, 2]), L(1.5))
case("multiply/int_float_error", "multiply", I([3]), L(2.5))
case("multiply/int_literal", "multiply", I([3]), L(2))
case("div_no_nan/zeros", "div_no_nan", F([4]), F([4], value=[0.0, 1.0, 0.0, 2.0]))
case("divide/by_zero", "divide", F([3]), F([3], value=[0.0, 1.0, -0.0]))
case("logical_and", "logical_and", B([None, 2]), B([2]))
case("logical_or", "logical_or", B([None, 2]), B([2]))
case("logical_xor", "logical_xor", B([None, 2]), B([2]))
case("equal/bool", "equal", B([4]), B([4]))
case("equal/mismatch_error", "equal", F([3]), I([3]))
case("maximum/f64", "maximum", D([3]), D([3]))
case("scalar_mul", "scalar_mul", L(2.0), F([None, 3]))
case("clip_by_value", "clip_by_value", F([None, 4]), L(-0.5), L(0.5))
case("clip_by_value/i32", "clip_by_value", I([5]), L(-1), L(2))
case("clip_by_norm", "clip_by_norm", F([2, 3]), L(1.0))
case("clip_by_norm/axes", "clip_by_norm", F([2, 3]), L(1.0), kw={"axes": [1]})
case("clip_by_global_norm", "clip_by_global_norm", LIST(F([2, 3]), F([4])), L(1.0))
case("global_norm", "global_norm", LIST(F([2, 3]), F([4])))
case("add_n", "add_n", LIST(F([None, 3]), F([None, 3]), F([2, 3])))
case("add_n/i32", "add_n", LIST(I([3]), I([3])))
case("accumulate_n", "accumulate_n", LIST(F([2, 3]), F([2, 3])))

# Python operators on tensors.
for _op in ("__add__", "__sub__", "__mul__", "__truediv__", "__lt__", "__pow__"):
    case(
        f"Tensor.{_op}/f32",
        f"Tensor.{_op}",
        F([None, 3], **POS),
        F([3], **POS),
        rec="svgn",
    )
for _op in ("__floordiv__", "__mod__", "__truediv__", "__and__"):
    _in = (B([3]), B([3])) if _op == "__and__" else (I([3]), I([3], lo=1, hi=4))
    case(f"Tensor.{_op}/int", f"Tensor.{_op}", *_in)
case("Tensor.__neg__", "Tensor.__neg__", F([None, 2]), rec="svgn")
case("Tensor.__radd__", "Tensor.__radd__", F([2]), L(3.0))
case("Tensor.__rsub__", "Tensor.__rsub__", F([2]), L(3.0))
case("Tensor.__matmul__", "Tensor.__matmul__", F([None, 3]), F([3, 2]))
case("Tensor.__abs__", "Tensor.__abs__", F([3]))
case(
    "Tensor.__getitem__/slices",
    "Tensor.__getitem__",
    F([None, 4, 3]),
    IDX((1, None, None), (None, None, 2), 0),
    rec="svgn",
)
case(
    "Tensor.__getitem__/ellipsis", "Tensor.__getitem__", F([2, None, 3]), IDX("...", -1)
)
case(
    "Tensor.__getitem__/newaxis",
    "Tensor.__getitem__",
    F([None, 3]),
    IDX((None, None, None), "new", 1),
)
case("Tensor.__getitem__/unknown", "Tensor.__getitem__", F(None, feed=[3, 2]), IDX(1))
case("Tensor.__getitem__/neg_step", "Tensor.__getitem__", F([5]), IDX((None, None, -2)))

# Reductions.
REDUCE = [
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "reduce_prod",
    "reduce_logsumexp",
    "math.reduce_variance",
    "math.reduce_std",
    "math.reduce_euclidean_norm",
]
for _name in REDUCE:
    case(f"{_name}/all", _name, F([None, 3]), rec="svgn")
    case(f"{_name}/axis1", _name, F([None, 3]), kw={"axis": 1})
    case(
        f"{_name}/keepdims",
        _name,
        F([None, 4, 3]),
        kw={"axis": [0, 2], "keepdims": True},
    )
    case(f"{_name}/neg_axis", _name, F(None, feed=[2, 3]), kw={"axis": -1})
for _name in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"):
    case(f"{_name}/i32", _name, I([None, 3], lo=-3, hi=4), kw={"axis": 0})
case(
    "reduce_sum/keep_dims_legacy",
    "reduce_sum",
    F([2, 3]),
    kw={"axis": 1, "keep_dims": True},
)
case(
    "reduce_sum/reduction_indices",
    "reduce_sum",
    F([2, 3]),
    kw={"reduction_indices": [0]},
)
case("reduce_sum/axis_error", "reduce_sum", F([2, 3]), kw={"axis": 2})
case("reduce_sum/bool_error", "reduce_sum", B([3]))
case("reduce_all", "reduce_all", B([None, 3]), kw={"axis": 1})
case("reduce_any", "reduce_any", B([None, 3]), kw={"axis": 0, "keepdims": True})
case("count_nonzero", "count_nonzero", I([None, 4], lo=-1, hi=2), kw={"axis": 1})
case("count_nonzero/f32", "count_nonzero", F([4], value=[0.0, 1.0, 0.0, 3.0]))
case("argmax", "argmax", F([None, 4]), kw={"axis": 1}, rec="svn")
case("argmin", "argmin", F([None, 4]), kw={"axis": 0})
case("argmax/int32", "argmax", F([3, 4]), kw={"axis": 1, "output_type": A("int32")})
case("argmax/dimension", "argmax", F([3, 4]), kw={"dimension": 0})
case("math.argmax/unknown", "math.argmax", F(None, feed=[3, 4]), kw={"axis": -1})
case("cumsum", "cumsum", F([None, 4]), kw={"axis": 1})
case("cumsum/excl_rev", "cumsum", F([5]), kw={"exclusive": True, "reverse": True})
case("cumsum/i32", "cumsum", I([5]))
case("cumprod", "cumprod", F([2, 3], **POS), kw={"axis": 1})
case("cumprod/exclusive", "cumprod", F([4], **POS), kw={"exclusive": True})

# Matrix products.
case("matmul", "matmul", F([2, 3]), F([3, 4]), rec="svgn")
case("matmul/none_dims", "matmul", F([None, 3]), F([3, None], feed=[3, 2]))
case(
    "matmul/transpose",
    "matmul",
    F([3, None]),
    F([4, 3]),
    kw={"transpose_a": True, "transpose_b": True},
)
case("matmul/batched", "matmul", F([None, 2, 3]), F([None, 3, 4]), rec="svgn")
case("matmul/broadcast_batch", "matmul", F([2, 2, 3]), F([3, 4]))
case("matmul/unknown_rank", "matmul", F(None, feed=[2, 3]), F([3, 4]))
case("matmul/mismatch_error", "matmul", F([2, 3]), F([4, 5]))
case("matmul/i32", "matmul", I([2, 3]), I([3, 2]))
case("matmul/f64", "matmul", D([2, 3]), D([3, 2]))
case("matmul/dtype_error", "matmul", F([2, 3]), D([3, 2]))
case("tensordot", "tensordot", F([2, 3, 4]), F([4, 5]), kw={"axes": 1})
case(
    "tensordot/pairs",
    "tensordot",
    F([None, 3, 4]),
    F([4, 3]),
    kw={"axes": [[1, 2], [1, 0]]},
)
case("einsum", "einsum", L("ij,jk->ik"), F([None, 3]), F([3, 2]))
case("einsum/batch", "einsum", L("bij,bjk->bik"), F([None, 2, 3]), F([None, 3, 2]))
case("einsum/trace", "einsum", L("ii->"), F([3, 3]))

# Shapes and layout.
case("reshape", "reshape", F([2, 6]), L([3, -1]), rec="svgn")
case("reshape/none", "reshape", F([None, 6]), L([-1, 2, 3]))
case("reshape/unknown_rank", "reshape", F(None, feed=[2, 3]), L([3, 2]))
case("reshape/error", "reshape", F([2, 3]), L([4, 2]))
case("reshape/tensor_shape", "reshape", F([2, 3]), I([2], value=[3, 2]))
case("reshape/i64", "reshape", I64([2, 3]), L([-1]))
case("transpose", "transpose", F([None, 3, 4]), rec="svgn")
case("transpose/perm", "transpose", F([None, 3, 4]), kw={"perm": [0, 2, 1]})
case("transpose/unknown", "transpose", F(None, feed=[2, 3]), kw={"perm": [1, 0]})
case("concat/axis0", "concat", LIST(F([None, 3]), F([2, 3])), L(0), rec="svgn")
case("concat/axis1", "concat", LIST(F([None, 3]), F([None, 2])), L(1))
case("concat/neg_axis", "concat", LIST(F([2, None]), F([2, 4])), L(-1))
case("concat/i32", "concat", LIST(I([2]), I([3])), L(0))
case("concat/single", "concat", LIST(F([2, 3])), L(0))
case("concat/rank_error", "concat", LIST(F([2, 3]), F([3])), L(0))
case("concat/dtype_error", "concat", LIST(F([2]), I([2])), L(0))
case("stack", "stack", LIST(F([None, 3]), F([2, 3])), rec="svgn")
case("stack/axis1", "stack", LIST(F([2, 3]), F([2, 3]), F([2, 3])), kw={"axis": 1})
case("stack/neg_axis", "stack", LIST(I([4]), I([4])), kw={"axis": -1})
case("stack/error", "stack", LIST(F([2]), F([3])))
case("unstack", "unstack", F([3, None]), rec="svgn")
case("unstack/axis1", "unstack", F([None, 2]), kw={"axis": 1})
case("unstack/unknown_error", "unstack", F([None, 2]))
case("split/num", "split", F([None, 6]), L(3), kw={"axis": 1}, rec="svgn")
case("split/sizes", "split", F([5, 2]), L([2, 3]), kw={"axis": 0})
case("split/neg", "split", F([2, 6]), L([1, -1, 2]), kw={"axis": 1})
case("split/uneven_error", "split", F([5, 2]), L(2))
case("gather", "gather", F([5, 3]), I([None], lo=0, hi=5, feed=[4]), rec="svgn")
case("gather/axis1", "gather", F([None, 5]), I([2, 2], lo=0, hi=5), kw={"axis": 1})
case("gather/i64_indices", "gather", I([5]), I64([3], lo=0, hi=5))
case("gather/unknown", "gather", F(None, feed=[4, 2]), I([3], lo=0, hi=4))
case("gather_nd", "gather_nd", F([3, 4]), I([None, 2], lo=0, hi=3))
case("gather_nd/partial", "gather_nd", F([3, 4, 2]), I([2, 1], lo=0, hi=3))
case("slice", "slice", F([None, 4]), L([0, 1]), L([-1, 2]), rec="svgn")
case("slice/static", "slice", F([3, 4]), L([1, 0]), L([2, 3]))
case("strided_slice", "strided_slice", F([5, 4]), L([1, 0]), L([5, 4]), L([2, 1]))
case(
    "strided_slice/masks",
    "strided_slice",
    F([None, 4, 3]),
    L([0, 1]),
    L([0, 3]),
    L([1, 1]),
    kw={"begin_mask": 1, "end_mask": 1, "shrink_axis_mask": 0},
)
case("pad", "pad", F([None, 3]), L([[1, 0], [2, 1]]), rec="svgn")
case(
    "pad/constant_values",
    "pad",
    I([2, 2]),
    L([[1, 1], [0, 0]]),
    kw={"constant_values": 7},
)
case("pad/reflect", "pad", F([3, 4]), L([[1, 1], [2, 2]]), kw={"mode": "REFLECT"})
case("pad/symmetric", "pad", F([3, 4]), L([[1, 2], [3, 0]]), kw={"mode": "SYMMETRIC"})
case("pad/error", "pad", F([3, 4]), L([[1, 1]]))
case("tile", "tile", F([None, 3]), L([2, 1]), rec="svgn")
case("tile/i32", "tile", I([2]), L([3]))
case("one_hot", "one_hot", I([None], lo=0, hi=4, feed=[5]), L(4), rec="svgn")
case(
    "one_hot/values",
    "one_hot",
    I([3], lo=-1, hi=4),
    L(3),
    kw={"on_value": 5.0, "off_value": -1.0, "axis": 0},
)
case(
    "one_hot/dtype", "one_hot", I64([2, 2], lo=0, hi=3), L(3), kw={"dtype": A("int32")}
)
case("one_hot/unknown_rank", "one_hot", I(None, lo=0, hi=3, feed=[2]), L(3))
case("where/cond_only", "where", B([None, 3]), rec="svn")
case("where/select", "where", B([None, 3]), F([None, 3]), F([None, 3]), rec="svgn")
case("where/select_vector", "where", B([None]), F([None, 3]), F([None, 3]))
case("where/broadcast_error", "where", B([3]), F([3]), F([1]))
case("where_v2", "where_v2", B([None, 1]), F([3]), F([None, 3]))
case("where_v2/scalar", "where_v2", B([4]), F([4]), L(0.0))
case("expand_dims", "expand_dims", F([None, 3]), L(0), rec="svgn")
case("expand_dims/neg", "expand_dims", F([None, 3]), L(-1))
case("expand_dims/unknown", "expand_dims", F(None, feed=[2]), L(1))
case("expand_dims/dim_kw", "expand_dims", F([2]), kw={"dim": 1})
case("squeeze", "squeeze", F([1, 3, 1]), rec="svgn")
case("squeeze/axis", "squeeze", F([None, 1, 3]), kw={"axis": [1]})
case("squeeze/none_dims", "squeeze", F([None, 1, 3]))
case("squeeze/squeeze_dims", "squeeze", F([2, 1]), kw={"squeeze_dims": [1]})
case("squeeze/error", "squeeze", F([2, 3]), kw={"axis": [1]})
case("reverse", "reverse", F([None, 3]), L([1]), rec="svgn")
case("reverse_v2", "reverse_v2", I([2, 3]), L([0, 1]))
case("broadcast_to", "broadcast_to", F([3]), L([2, 3]))
case("broadcast_to/error", "broadcast_to", F([3]), L([2, 4]))
case("boolean_mask", "boolean_mask", F([4, 2]), B([4]))
case("boolean_mask/none", "boolean_mask", F([None, 2]), B([None]), rec="svn")
case("sequence_mask", "sequence_mask", I([None], lo=0, hi=5), kw={"maxlen": 4})
case(
    "sequence_mask/dtype",
    "sequence_mask",
    I([3], lo=0, hi=4),
    L(5),
    kw={"dtype": A("float32")},
)
case("meshgrid", "meshgrid", F([3]), F([2]))
case("meshgrid/ij", "meshgrid", F([3]), F([2]), kw={"indexing": "ij"})
case("fill", "fill", L([2, 3]), L(1.5), rec="svn")
case("fill/dims_tensor", "fill", I([2], value=[2, 1]), L(7))
case("zeros", "zeros", L([2, 3]), rec="svn")
case("zeros/dtype", "zeros", L([3]), kw={"dtype": A("int64")})
case("ones", "ones", L([2, 1]), kw={"dtype": A("bool")})
case("ones/tensor_shape", "ones", I([2], value=[1, 3]))
case("eye", "eye", L(3), rec="svn")
case("eye/rect", "eye", L(2), kw={"num_columns": 3, "dtype": A("int32")})
case("range", "range", L(5), rec="svn")
case("range/float", "range", L(1.0), L(2.0), L(0.25))
case("range/neg", "range", L(5), L(0), L(-2))
case("range/dtype", "range", L(3), kw={"dtype": A("float32")})
case("range/tensor", "range", I([], value=4))
case("linspace", "linspace", L(0.0), L(1.0), L(5))
case("lin_space", "lin_space", L(-1.0), L(1.0), L(3))
case("constant", "constant", L([[1, 2], [3, 4]]), rec="svn")
case("constant/dtype", "constant", L([1, 2]), kw={"dtype": A("float32")})
case("constant/broadcast", "constant", L(1.5), kw={"shape": [2, 2]})
case("constant/float64_literal", "constant", L(1.0), kw={"dtype": A("float64")})
case("constant/bad_value_error", "constant", L([1.5]), kw={"dtype": A("int32")})
case("convert_to_tensor", "convert_to_tensor", L([1.0, 2.0]))
case(
    "convert_to_tensor/dtype", "convert_to_tensor", L([1, 2]), kw={"dtype": A("int64")}
)
case(
    "placeholder_with_default",
    "placeholder_with_default",
    L([1.0, 2.0]),
    kw={"shape": [None]},
    rec="svn",
)
case("cast/f2i", "cast", F([None, 3]), A("int32"), rec="svgn")
case("cast/i2f", "cast", I([3]), A("float32"))
case("cast/b2f", "cast", B([3]), A("float32"))
case("cast/f2b", "cast", F([4], value=[0.0, 0.5, -1.0, 0.0]), A("bool"))
case("cast/f2f64", "cast", F([3]), A("float64"))
case("cast/i64_2_i32", "cast", I64([3]), A("int32"))
case("cast/string_dtype", "cast", F([3]), L("int32"))
case("identity/i32", "identity", I([None]))
case("tuple", "tuple", LIST(F([2]), F([3])))
case("group", "group", F([2]), rec="n")
case("no_op", "no_op", rec="n")

# nn: softmax family.
case("nn.softmax", "nn.softmax", F([None, 4]), rec="svgn")
case("nn.softmax/axis0", "nn.softmax", F([3, 4]), kw={"axis": 0})
case("nn.softmax/dim", "nn.softmax", F([3, 4]), kw={"dim": 0})
case("nn.softmax/3d", "nn.softmax", F([2, None, 3]))
case("nn.softmax/unknown", "nn.softmax", F(None, feed=[2, 3]))
case("nn.log_softmax", "nn.log_softmax", F([None, 4]), rec="svgn")
case("nn.log_softmax/axis0", "nn.log_softmax", F([3, 4]), kw={"axis": 0})
case("math.log_softmax", "math.log_softmax", F([2, 3]))
case(
    "nn.softmax_cross_entropy_with_logits",
    "nn.softmax_cross_entropy_with_logits",
    kw={"labels": F([None, 4], lo=0.0, hi=1.0, simplex=True), "logits": F([None, 4])},
    rec="svgn",
)
case(
    "nn.softmax_cross_entropy_with_logits_v2",
    "nn.softmax_cross_entropy_with_logits_v2",
    kw={"labels": F([None, 4], lo=0.0, hi=1.0, simplex=True), "logits": F([None, 4])},
    rec="svgn",
)
case(
    "nn.softmax_cross_entropy_with_logits_v2/3d",
    "nn.softmax_cross_entropy_with_logits_v2",
    kw={"labels": F([2, 3, 4], lo=0.0, hi=1.0, simplex=True), "logits": F([2, 3, 4])},
)
case(
    "nn.softmax_cross_entropy_with_logits_v2/dim0",
    "nn.softmax_cross_entropy_with_logits_v2",
    kw={
        "labels": F([4, 2], value=[[0.2, 0.5], [0.3, 0.5], [0.1, 0.0], [0.4, 0.0]]),
        "logits": F([4, 2]),
        "dim": 0,
    },
)
case(
    "nn.softmax_cross_entropy_with_logits_v2/unnormalised",
    "nn.softmax_cross_entropy_with_logits_v2",
    kw={"labels": F([2, 3], lo=0.0, hi=1.0), "logits": F([2, 3])},
)
case(
    "nn.softmax_cross_entropy_with_logits/shape_error",
    "nn.softmax_cross_entropy_with_logits",
    kw={"labels": F([2, 3]), "logits": F([2, 4])},
)
case(
    "nn.sparse_softmax_cross_entropy_with_logits",
    "nn.sparse_softmax_cross_entropy_with_logits",
    kw={"labels": I([None], lo=0, hi=4), "logits": F([None, 4])},
    rec="svgn",
)
case(
    "nn.sparse_softmax_cross_entropy_with_logits/i64",
    "nn.sparse_softmax_cross_entropy_with_logits",
    kw={"labels": I64([2, 3], lo=0, hi=5), "logits": F([2, 3, 5])},
)
case(
    "nn.sparse_softmax_cross_entropy_with_logits/rank_error",
    "nn.sparse_softmax_cross_entropy_with_logits",
    kw={"labels": I([2, 1], lo=0, hi=4), "logits": F([2, 4])},
)
case(
    "nn.sparse_softmax_cross_entropy_with_logits/float_labels_error",
    "nn.sparse_softmax_cross_entropy_with_logits",
    kw={"labels": F([2]), "logits": F([2, 4])},
)
case(
    "nn.sigmoid_cross_entropy_with_logits",
    "nn.sigmoid_cross_entropy_with_logits",
    kw={"labels": F([None, 3], lo=0.0, hi=1.0), "logits": F([None, 3])},
    rec="svgn",
)
case(
    "nn.sigmoid_cross_entropy_with_logits/shape_error",
    "nn.sigmoid_cross_entropy_with_logits",
    kw={"labels": F([2, 3]), "logits": F([2, 4])},
)
case(
    "nn.weighted_cross_entropy_with_logits",
    "nn.weighted_cross_entropy_with_logits",
    kw={
        "labels": F([None, 3], lo=0.0, hi=1.0),
        "logits": F([None, 3]),
        "pos_weight": 2.0,
    },
    rec="svgn",
)
case("nn.log_poisson_loss", "nn.log_poisson_loss", F([4], lo=0.0, hi=3.0), F([4]))
case(
    "nn.log_poisson_loss/full",
    "nn.log_poisson_loss",
    F([4], lo=0.5, hi=3.0),
    F([4]),
    kw={"compute_full_loss": True},
)

# nn: convolution and pooling.
for _pad in ("SAME", "VALID"):
    for _s in (1, 2):
        case(
            f"nn.conv2d/{_pad}/s{_s}",
            "nn.conv2d",
            F([None, 5, 5, 2]),
            F([3, 3, 2, 3]),
            kw={"strides": [1, _s, _s, 1], "padding": _pad},
            rec="svgn",
            tol=[1e-4, 1e-5],
        )
        case(
            f"nn.max_pool/{_pad}/s{_s}",
            "nn.max_pool",
            F([None, 5, 5, 2]),
            kw={"ksize": [1, 2, 2, 1], "strides": [1, _s, _s, 1], "padding": _pad},
            rec="svgn",
        )
        case(
            f"nn.avg_pool/{_pad}/s{_s}",
            "nn.avg_pool",
            F([None, 5, 5, 2]),
            kw={"ksize": [1, 3, 3, 1], "strides": [1, _s, _s, 1], "padding": _pad},
            rec="svgn",
        )
case(
    "nn.conv2d/none_spatial",
    "nn.conv2d",
    F([2, None, None, 2], feed=[2, 4, 4, 2]),
    F([2, 2, 2, 1]),
    kw={"strides": [1, 1, 1, 1], "padding": "SAME"},
)
case(
    "nn.conv2d/dilations",
    "nn.conv2d",
    F([1, 6, 6, 1]),
    F([2, 2, 1, 1]),
    kw={"strides": [1, 1, 1, 1], "padding": "VALID", "dilations": [1, 2, 2, 1]},
    rec="sv",
)
case(
    "nn.conv2d/channel_error",
    "nn.conv2d",
    F([1, 4, 4, 2]),
    F([2, 2, 3, 1]),
    kw={"strides": [1, 1, 1, 1], "padding": "SAME"},
)
case(
    "nn.conv2d/padding_error",
    "nn.conv2d",
    F([1, 4, 4, 1]),
    F([2, 2, 1, 1]),
    kw={"strides": [1, 1, 1, 1], "padding": "FULL"},
)
case(
    "nn.max_pool/int_ksize",
    "nn.max_pool",
    F([1, 4, 4, 1]),
    kw={"ksize": 2, "strides": 2, "padding": "VALID"},
)
case("nn.bias_add", "nn.bias_add", F([None, 3]), F([3]), rec="svgn")
case("nn.bias_add/4d", "nn.bias_add", F([2, 2, 2, 3]), F([3]))
case("nn.bias_add/error", "nn.bias_add", F([2, 3]), F([4]))
case("nn.lrn", "nn.lrn", F([1, 2, 2, 5]), kw={"depth_radius": 2}, tol=[1e-4, 1e-5])
case(
    "nn.local_response_normalization",
    "nn.local_response_normalization",
    F([1, 2, 2, 4]),
)

# nn: dropout, normalisation, misc.
case(
    "nn.dropout/keep_prob_placeholder",
    "nn.dropout",
    F([None, 4]),
    kw={"keep_prob": X("float32", None, feed=[])},
    rec="s",
)
case("nn.dropout/keep_prob_1", "nn.dropout", F([None, 4]), kw={"keep_prob": 1.0})
case("nn.dropout/rate_0", "nn.dropout", F([None, 4]), kw={"rate": 0.0})
case(
    "nn.dropout/rate_half_shape", "nn.dropout", F([None, 4]), kw={"rate": 0.5}, rec="s"
)
case("nn.dropout/keep_prob_error", "nn.dropout", F([3]), kw={"keep_prob": 1.5})
case("nn.l2_normalize", "nn.l2_normalize", F([None, 3]), kw={"axis": 1}, rec="svgn")
case("nn.l2_normalize/dim", "nn.l2_normalize", F([3, 2]), kw={"dim": 0})
case("math.l2_normalize/all", "math.l2_normalize", F([2, 2]))
case("nn.moments", "nn.moments", F([None, 3]), L([0]), rec="svgn")
case(
    "nn.moments/keep_dims",
    "nn.moments",
    F([2, 3, 4]),
    L([0, 1]),
    kw={"keep_dims": True},
)
case(
    "nn.batch_normalization",
    "nn.batch_normalization",
    F([None, 3]),
    F([3]),
    F([3], **POS),
    F([3]),
    F([3]),
    L(1e-3),
    rec="svgn",
)
case(
    "nn.batch_normalization/no_offset",
    "nn.batch_normalization",
    F([2, 3]),
    F([3]),
    F([3], **POS),
    L(None),
    L(None),
    L(1e-3),
)
case(
    "nn.fused_batch_norm/inference",
    "nn.fused_batch_norm",
    F([2, 2, 2, 3]),
    F([3]),
    F([3]),
    kw={"mean": F([3]), "variance": F([3], **POS), "is_training": False},
    tol=[1e-4, 1e-5],
)
case(
    "nn.fused_batch_norm/training",
    "nn.fused_batch_norm",
    F([2, 2, 2, 3]),
    F([3]),
    F([3]),
    tol=[1e-4, 1e-4],
    rec="sv",
)
case(
    "nn.embedding_lookup",
    "nn.embedding_lookup",
    F([5, 3]),
    I([None], lo=0, hi=5),
    rec="svgn",
)
case(
    "nn.embedding_lookup/2d_ids",
    "nn.embedding_lookup",
    F([5, 3]),
    I([2, 2], lo=0, hi=5),
)
case("nn.top_k", "nn.top_k", F([None, 5]), kw={"k": 2}, rec="svgn")
case("nn.top_k/unsorted_k1", "nn.top_k", F([4]), kw={"k": 1})
case("nn.in_top_k", "nn.in_top_k", F([3, 4]), I([3], lo=0, hi=4), L(2))
case("math.in_top_k", "math.in_top_k", F([3, 4]), I([3], lo=0, hi=4), L(1))

# Random ops: static shape and dtype only.
for _name, _args, _kw in (
    ("random_normal", [L([2, 3])], {}),
    ("random_uniform", [L([2, 3])], {"minval": -1.0}),
    ("random_uniform/int", [L([4])], {"minval": 0, "maxval": 10, "dtype": A("int32")}),
    ("random_uniform/int_no_max_error", [L([4])], {"dtype": A("int32")}),
    ("truncated_normal", [L([3])], {"stddev": 0.5}),
    ("random_shuffle", [F([None, 2])], {}),
    ("multinomial", [F([None, 3])], {"num_samples": 4}),
    ("random_gamma", [L([5])], {"alpha": 2.0}),
    ("random.normal", [L([2])], {"dtype": A("float64")}),
    ("random.uniform", [I([2], value=[2, 3])], {}),
    ("random.truncated_normal", [L([2, 2])], {}),
    ("random.shuffle", [I([5])], {}),
    ("random.categorical", [F([2, 3])], {"num_samples": 2}),
    ("random.multinomial", [F([2, 3])], {"num_samples": 1, "output_dtype": A("int32")}),
    ("random.gamma", [L([3])], {"alpha": F([2], **POS)}),
    ("random_normal/seeded", [L([2])], {"seed": 3}),
):
    case(_name, _name.split("/")[0], *_args, kw=_kw, rec="s")

# Control flow (builders in harness.py).
case("cond", "cond", B([], value=True), F([None, 3]), kind="cond", rec="svgn")
case("cond/false", "cond", B([], value=False), F([2, 3]), kind="cond")
case("while_loop", "while_loop", F([None, 2]), kind="while_loop", rec="svgn")
case("case", "case", I([], value=1), F([3]), kind="case", rec="svg")
case(
    "switch_case", "switch_case", I([], value=2), F([3]), kind="switch_case", rec="svg"
)
case("gradients/stop", "gradients", F([3]), kind="grad_stop", rec="v")
case("hessians", "hessians", F([3]), kind="hessians", rec="sv")

# State.
case("assign", "assign", VAR([1.0, 2.0, 3.0]), F([3]), steps=2, rec="svn")
case("assign_add", "assign_add", VAR([1.0, 2.0, 3.0]), F([3]), steps=2, rec="svn")
case("assign_sub", "assign_sub", VAR([1.0, 2.0, 3.0]), F([3]), steps=2, rec="svn")
case("assign_add/i32", "assign_add", VAR([1, 2], "int32"), I([2]), steps=2, rec="sv")
case("assign/shape_error", "assign", VAR([1.0, 2.0, 3.0]), F([2]), rec="sv")
case("get_variable", "get_variable", L("w"), kind="get_variable", rec="svn")

# tf.losses: float and int labels, reductions, weights.
LOSS_IN = {
    "absolute_difference": ("labels", "predictions"),
    "mean_squared_error": ("labels", "predictions"),
    "huber_loss": ("labels", "predictions"),
    "log_loss": ("labels", "predictions"),
    "hinge_loss": ("labels", "logits"),
    "sigmoid_cross_entropy": ("multi_class_labels", "logits"),
}
for _name, (_lab, _pred) in LOSS_IN.items():
    _fn = f"losses.{_name}"
    _pk = {"lo": 0.05, "hi": 0.95} if _name == "log_loss" else {}
    case(
        _fn,
        _fn,
        kw={_lab: F([None, 3], lo=0.0, hi=1.0), _pred: F([None, 3], **_pk)},
        rec="svgn",
    )
    case(
        f"{_fn}/int_labels",
        _fn,
        kw={_lab: I([None, 3], lo=0, hi=2), _pred: F([None, 3], **_pk)},
    )
    case(
        f"{_fn}/weights",
        _fn,
        kw={
            _lab: F([4, 3], lo=0.0, hi=1.0),
            _pred: F([4, 3], **_pk),
            "weights": F([4, 1], lo=0.0, hi=2.0),
        },
    )
    case(
        f"{_fn}/none",
        _fn,
        kw={
            _lab: F([None, 3], lo=0.0, hi=1.0),
            _pred: F([None, 3], **_pk),
            "reduction": A("losses.Reduction.NONE"),
        },
    )
case(
    "losses.huber_loss/delta",
    "losses.huber_loss",
    kw={"labels": F([5]), "predictions": F([5]), "delta": 0.5},
)
case(
    "losses.mean_squared_error/shape_error",
    "losses.mean_squared_error",
    kw={"labels": F([2, 3]), "predictions": F([2, 4])},
)
case(
    "losses.softmax_cross_entropy",
    "losses.softmax_cross_entropy",
    kw={
        "onehot_labels": F([None, 4], lo=0.0, hi=1.0, simplex=True),
        "logits": F([None, 4]),
    },
    rec="svgn",
)
case(
    "losses.softmax_cross_entropy/int_labels",
    "losses.softmax_cross_entropy",
    kw={
        "onehot_labels": I([3, 4], value=[[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]),
        "logits": F([3, 4]),
    },
)
case(
    "losses.softmax_cross_entropy/smoothing",
    "losses.softmax_cross_entropy",
    kw={
        "onehot_labels": F([3, 4], lo=0.0, hi=1.0, simplex=True),
        "logits": F([3, 4]),
        "label_smoothing": 0.1,
    },
)
case(
    "losses.softmax_cross_entropy/weights",
    "losses.softmax_cross_entropy",
    kw={
        "onehot_labels": F([3, 4], lo=0.0, hi=1.0, simplex=True),
        "logits": F([3, 4]),
        "weights": F([3], lo=0.0, hi=2.0),
    },
)
case(
    "losses.sigmoid_cross_entropy/smoothing",
    "losses.sigmoid_cross_entropy",
    kw={
        "multi_class_labels": F([3, 2], lo=0.0, hi=1.0),
        "logits": F([3, 2]),
        "label_smoothing": 0.2,
    },
)
case(
    "losses.sparse_softmax_cross_entropy",
    "losses.sparse_softmax_cross_entropy",
    kw={"labels": I([None], lo=0, hi=4), "logits": F([None, 4])},
    rec="svgn",
)
case(
    "losses.sparse_softmax_cross_entropy/i64",
    "losses.sparse_softmax_cross_entropy",
    kw={"labels": I64([3], lo=0, hi=4), "logits": F([3, 4])},
)
case(
    "losses.sparse_softmax_cross_entropy/weights",
    "losses.sparse_softmax_cross_entropy",
    kw={
        "labels": I([3], lo=0, hi=4),
        "logits": F([3, 4]),
        "weights": F([3], lo=0.0, hi=2.0),
    },
)
case(
    "losses.sparse_softmax_cross_entropy/2d_labels",
    "losses.sparse_softmax_cross_entropy",
    kw={"labels": I([3, 1], lo=0, hi=4), "logits": F([3, 4])},
)
for _red in (
    "NONE",
    "SUM",
    "MEAN",
    "SUM_BY_NONZERO_WEIGHTS",
    "SUM_OVER_BATCH_SIZE",
    "SUM_OVER_NONZERO_WEIGHTS",
):
    case(
        f"losses.compute_weighted_loss/{_red}",
        "losses.compute_weighted_loss",
        F([None, 3], feed=[4, 3]),
        kw={
            "weights": F([4, 3], value=[[1.0, 0.0, 2.0]] * 2 + [[0.0, 0.0, 0.0]] * 2),
            "reduction": A(f"losses.Reduction.{_red}"),
        },
    )
case(
    "losses.compute_weighted_loss/scalar_weight",
    "losses.compute_weighted_loss",
    F([2, 3]),
    kw={"weights": 0.5},
)
# TF1 had these in tf.contrib.layers: TF raises AttributeError (see differences.py).
case(
    "losses.l2_regularizer",
    "losses.l2_regularizer",
    F([2, 3]),
    kw={"scale": 0.1},
    kind="factory",
    rec="svgn",
)
case(
    "losses.l1_regularizer",
    "losses.l1_regularizer",
    F([2, 3]),
    kw={"scale": 0.1},
    kind="factory",
    rec="svgn",
)
case("losses.collection", "losses.get_total_loss", kind="loss_collection", rec="svn")

# tf.layers: shapes, names and values with constant initializers.
CI = A("constant_initializer", 0.1)
case(
    "layers.dense",
    "layers.dense",
    F([None, 3]),
    L(4),
    kw={"kernel_initializer": CI},
    rec="svgn",
)
case(
    "layers.dense/twice",
    "layers.dense",
    F([None, 3]),
    L(2),
    kw={
        "kernel_initializer": CI,
        "bias_initializer": A("ones_initializer", dtype=A("float32")),
    },
    repeat=2,
    rec="svgn",
)
case(
    "layers.dense/named_relu",
    "layers.dense",
    F([2, 3]),
    L(2),
    kw={
        "kernel_initializer": CI,
        "activation": A("nn.relu"),
        "name": "fc",
        "use_bias": False,
    },
    rec="svgn",
)
case(
    "layers.dense/3d",
    "layers.dense",
    F([None, 2, 3]),
    L(2),
    kw={"kernel_initializer": CI},
    rec="svgn",
)
case("layers.dense/unknown_last_error", "layers.dense", F([None, None]), L(2))
case(
    "layers.dense/regularizer",
    "layers.dense",
    F([2, 3]),
    L(2),
    kw={"kernel_initializer": CI, "kernel_regularizer": {"l2reg": 0.5}},
    kind="layer_losses",
    rec="svn",
)
case(
    "layers.conv2d",
    "layers.conv2d",
    F([None, 5, 5, 2]),
    L(3),
    L(3),
    kw={"kernel_initializer": CI},
    rec="svgn",
    tol=[1e-4, 1e-5],
)
case(
    "layers.conv2d/same_s2",
    "layers.conv2d",
    F([None, 5, 5, 2]),
    L(2),
    L([2, 2]),
    kw={
        "kernel_initializer": CI,
        "strides": 2,
        "padding": "same",
        "activation": A("nn.relu"),
    },
    rec="svgn",
)
case("layers.flatten", "layers.flatten", F([None, 2, 3, 2]), rec="svgn")
case(
    "layers.flatten/none_inner",
    "layers.flatten",
    F([None, None, 3], feed=[2, 2, 3]),
    rec="svgn",
)
case(
    "layers.dropout/inference",
    "layers.dropout",
    F([None, 4]),
    kw={"rate": 0.5},
    rec="svgn",
)
case(
    "layers.dropout/training_placeholder",
    "layers.dropout",
    F([None, 4]),
    kw={"rate": 0.5, "training": B([])},
    rec="sn",
)
case(
    "layers.max_pooling2d",
    "layers.max_pooling2d",
    F([None, 4, 4, 2]),
    L(2),
    L(2),
    rec="svgn",
)
case(
    "layers.average_pooling2d",
    "layers.average_pooling2d",
    F([None, 5, 5, 1]),
    L(3),
    L(1),
    kw={"padding": "same"},
    rec="svgn",
)
case(
    "layers.batch_normalization/inference",
    "layers.batch_normalization",
    F([None, 3]),
    rec="svgn",
    tol=[1e-4, 1e-5],
)
case(
    "layers.batch_normalization/training",
    "layers.batch_normalization",
    F([4, 3]),
    kw={"training": True},
    rec="svgn",
    tol=[1e-4, 1e-4],
)
case(
    "layers.batch_normalization/update_ops",
    "layers.batch_normalization",
    F([4, 3]),
    kw={"training": True, "momentum": 0.5},
    kind="bn_update",
    rec="svn",
    tol=[1e-4, 1e-5],
)

# tf.metrics: values after one update.
case(
    "metrics.accuracy",
    "metrics.accuracy",
    kw={
        "labels": I([None], lo=0, hi=3, feed=[6]),
        "predictions": I([None], lo=0, hi=3, feed=[6]),
    },
    kind="metric",
    rec="svn",
)
case(
    "metrics.accuracy/weights",
    "metrics.accuracy",
    kw={
        "labels": I([6], lo=0, hi=2),
        "predictions": I([6], lo=0, hi=2),
        "weights": F([6], lo=0.0, hi=1.0),
    },
    kind="metric",
)
case("metrics.mean", "metrics.mean", F([None, 3]), kind="metric", rec="svn")
case(
    "metrics.mean/weights",
    "metrics.mean",
    F([4]),
    kw={"weights": F([4], lo=0.0, hi=1.0)},
    kind="metric",
)
case(
    "metrics.mean_squared_error",
    "metrics.mean_squared_error",
    kw={"labels": F([None, 2]), "predictions": F([None, 2])},
    kind="metric",
    rec="svn",
)
case(
    "metrics.precision",
    "metrics.precision",
    kw={"labels": B([8]), "predictions": B([8])},
    kind="metric",
    rec="svn",
)
case(
    "metrics.recall",
    "metrics.recall",
    kw={"labels": I([8], lo=0, hi=2), "predictions": B([8])},
    kind="metric",
    rec="svn",
)
case(
    "metrics.auc",
    "metrics.auc",
    kw={"labels": B([8]), "predictions": F([8], lo=0.0, hi=1.0), "num_thresholds": 20},
    kind="metric",
    rec="svn",
    tol=[1e-4, 1e-5],
)

# Optimizers: one and two steps on a tiny quadratic with constant init.
OPTS = {
    "GradientDescentOptimizer": {"learning_rate": 0.1},
    "MomentumOptimizer": {"learning_rate": 0.1, "momentum": 0.9},
    "AdamOptimizer": {"learning_rate": 0.1},
    "RMSPropOptimizer": {"learning_rate": 0.1},
    "AdagradOptimizer": {"learning_rate": 0.1},
    "AdadeltaOptimizer": {"learning_rate": 1.0},
}
for _name, _kw in OPTS.items():
    case(
        f"train.{_name}",
        f"train.{_name}",
        kw=_kw,
        kind="optimizer",
        rec="svn",
        tol=[1e-5, 1e-6],
    )
case(
    "train.MomentumOptimizer/nesterov",
    "train.MomentumOptimizer",
    kw={"learning_rate": 0.1, "momentum": 0.9, "use_nesterov": True},
    kind="optimizer",
    rec="svn",
)
case(
    "train.RMSPropOptimizer/momentum_centered",
    "train.RMSPropOptimizer",
    kw={"learning_rate": 0.1, "momentum": 0.5, "centered": True},
    kind="optimizer",
    rec="svn",
    tol=[1e-5, 1e-6],
)
case(
    "train.AdamOptimizer/named",
    "train.AdamOptimizer",
    kw={"learning_rate": 0.01, "beta1": 0.5, "epsilon": 1e-3, "name": "Opt"},
    kind="optimizer",
    rec="svn",
)
case(
    "train.GradientDescentOptimizer/global_step",
    "train.GradientDescentOptimizer",
    kw={"learning_rate": 0.1},
    kind="optimizer",
    global_step=True,
    rec="svn",
)
case(
    "train.AdamOptimizer/global_step",
    "train.AdamOptimizer",
    kw={"learning_rate": 0.1},
    kind="optimizer",
    global_step=True,
    rec="svn",
)
case(
    "train.GradientDescentOptimizer/lr_tensor",
    "train.GradientDescentOptimizer",
    kw={"learning_rate": F([], value=0.5)},
    kind="optimizer",
    rec="svn",
)
case(
    "train.ExponentialMovingAverage",
    "train.ExponentialMovingAverage",
    kw={"decay": 0.9},
    kind="ema",
    rec="svn",
)
case(
    "train.ExponentialMovingAverage/num_updates",
    "train.ExponentialMovingAverage",
    kw={"decay": 0.99, "num_updates": I([], value=3)},
    kind="ema",
    rec="svn",
)

# Learning-rate schedules at a few steps.
SCHED = {
    "exponential_decay": {"learning_rate": 0.1, "decay_steps": 4, "decay_rate": 0.5},
    "exponential_decay/staircase": {
        "learning_rate": 0.1,
        "decay_steps": 4,
        "decay_rate": 0.5,
        "staircase": True,
    },
    "piecewise_constant": {
        "boundaries": [3, 10],
        "values": [1.0, 0.5, 0.1],
        "step_arg": "x",
    },
    "polynomial_decay": {
        "learning_rate": 0.1,
        "decay_steps": 10,
        "end_learning_rate": 0.01,
        "power": 2.0,
    },
    "polynomial_decay/cycle": {"learning_rate": 0.1, "decay_steps": 4, "cycle": True},
    "natural_exp_decay": {"learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5},
    "inverse_time_decay": {"learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5},
    "inverse_time_decay/staircase": {
        "learning_rate": 0.1,
        "decay_steps": 5,
        "decay_rate": 0.5,
        "staircase": True,
    },
    "cosine_decay": {"learning_rate": 0.1, "decay_steps": 20},
    "cosine_decay/alpha": {"learning_rate": 0.1, "decay_steps": 20, "alpha": 0.1},
}
for _name, _kw in SCHED.items():
    case(
        f"train.{_name}",
        "train." + _name.split("/")[0],
        kw=_kw,
        kind="schedule",
        steps=[0, 3, 10, 25],
        rec="svn",
    )
case(
    "train.get_or_create_global_step",
    "train.get_or_create_global_step",
    kind="global_step",
    rec="svn",
)

# Initializers: shape and dtype; values when deterministic.
INITS = [
    ("zeros_initializer", {}, [2, 3], "float32", "svn"),
    ("zeros_initializer/int", {"dtype": A("int32")}, [3], "int32", "sv"),
    ("ones_initializer", {}, [2, 2], "float32", "svn"),
    ("ones_initializer/f64", {}, [2], "float64", "sv"),
    ("constant_initializer", {"value": 0.5}, [3], "float32", "svn"),
    (
        "constant_initializer/list",
        {"value": [1.0, 2.0, 3.0, 4.0]},
        [2, 2],
        "float32",
        "sv",
    ),
    ("constant_initializer/int", {"value": 3}, [2], "int32", "sv"),
    ("random_normal_initializer", {"stddev": 0.1}, [3, 4], "float32", "sn"),
    (
        "random_uniform_initializer",
        {"minval": -1.0, "maxval": 1.0},
        [3, 4],
        "float32",
        "sn",
    ),
    ("truncated_normal_initializer", {}, [5], "float32", "sn"),
    ("glorot_uniform_initializer", {}, [3, 4], "float32", "sn"),
    ("glorot_normal_initializer", {}, [3, 4], "float32", "sn"),
    ("variance_scaling_initializer", {}, [3, 4], "float32", "sn"),
    (
        "variance_scaling_initializer/fan_avg",
        {"mode": "fan_avg", "distribution": "uniform"},
        [3, 4],
        "float64",
        "sn",
    ),
]
for _name, _kw, _shape, _dt, _rec in INITS:
    case(
        _name,
        _name.split("/")[0],
        kw=_kw,
        kind="initializer",
        shape=_shape,
        dtype=_dt,
        rec=_rec,
    )
    case(
        f"{_name}/call",
        _name.split("/")[0],
        kw=_kw,
        kind="initializer_call",
        shape=_shape,
        dtype=_dt,
        rec=_rec.replace("n", ""),
    )
case(
    "zeros_initializer/get_variable_no_shape_error",
    "zeros_initializer",
    kind="initializer",
    shape=None,
    dtype="float32",
    rec="s",
)

IDS = [c["id"] for c in CASES]
assert len(IDS) == len(set(IDS)), sorted(i for i in IDS if IDS.count(i) > 1)

# Candidate sampling: static shape and dtype only.
SAMPLER_KW = {"num_true": 1, "num_sampled": 3, "unique": True, "range_max": 6}
case(
    "nn.uniform_candidate_sampler",
    "nn.uniform_candidate_sampler",
    I64([2, 1], lo=0, hi=6),
    kw=SAMPLER_KW,
    rec="s",
)
case(
    "nn.log_uniform_candidate_sampler",
    "nn.log_uniform_candidate_sampler",
    I64([2, 1], lo=0, hi=6),
    kw=SAMPLER_KW,
    rec="s",
)
SAMPLED_LOSS_KW = {
    "weights": F([6, 3]),
    "biases": F([6]),
    "labels": I64([None, 1], lo=0, hi=6),
    "inputs": F([None, 3]),
    "num_sampled": 2,
    "num_classes": 6,
}
case("nn.nce_loss", "nn.nce_loss", kw=SAMPLED_LOSS_KW, rec="s")
case("nn.sampled_softmax_loss", "nn.sampled_softmax_loss", kw=SAMPLED_LOSS_KW, rec="s")
case(
    "placeholder",
    "placeholder",
    A("float32"),
    kw={"shape": [None, 3], "name": "x"},
    rec="sn",
)
case("placeholder/unknown_rank", "placeholder", A("int64"), rec="sn")

# Common TF1 API that a TF1 program may call (probes for missing names).
case(
    "layers.Dense/class",
    "layers.Dense",
    F([None, 3]),
    kw={"units": 2, "kernel_initializer": CI},
    kind="factory",
    rec="svgn",
)
case(
    "layers.conv2d_transpose",
    "layers.conv2d_transpose",
    F([None, 3, 3, 2]),
    L(2),
    L(2),
    kw={"strides": 2, "kernel_initializer": CI},
    rec="svgn",
)
case(
    "nn.conv2d_transpose",
    "nn.conv2d_transpose",
    F([1, 3, 3, 2]),
    F([2, 2, 4, 2]),
    L([1, 6, 6, 4]),
    kw={"strides": [1, 2, 2, 1], "padding": "SAME"},
    tol=[1e-4, 1e-5],
)
case(
    "nn.depthwise_conv2d",
    "nn.depthwise_conv2d",
    F([1, 4, 4, 2]),
    F([2, 2, 2, 1]),
    kw={"strides": [1, 1, 1, 1], "padding": "VALID"},
    tol=[1e-4, 1e-5],
)
case("nn.xw_plus_b", "nn.xw_plus_b", F([None, 3]), F([3, 2]), F([2]))
case(
    "unsorted_segment_sum", "unsorted_segment_sum", F([4, 2]), I([4], lo=0, hi=3), L(3)
)
case("scatter_nd", "scatter_nd", I([2, 1], value=[[0], [2]]), F([2, 3]), L([4, 3]))
case("matrix_diag", "matrix_diag", F([None, 3]))
case(
    "initializers.zeros",
    "initializers.zeros",
    kind="initializer",
    shape=[2],
    dtype="float32",
    rec="sv",
)
case(
    "initializers.identity",
    "initializers.identity",
    kind="initializer",
    shape=[2, 3],
    dtype="float32",
    rec="sv",
)
case(
    "orthogonal_initializer",
    "orthogonal_initializer",
    kind="initializer",
    shape=[3, 3],
    dtype="float32",
    rec="s",
)

# Name uniquification, more dtypes, more errors.
case("nn.relu/repeat", "nn.relu", F([2]), repeat=3, rec="svn")
case("add/repeat", "add", F([2]), F([2]), repeat=2, rec="svn")
case(
    "layers.conv2d/twice",
    "layers.conv2d",
    F([None, 4, 4, 1]),
    L(2),
    L(2),
    kw={"kernel_initializer": CI},
    repeat=2,
    rec="svn",
)
case("cast/f2u8", "cast", F([4], lo=0.0, hi=200.0), A("uint8"))
case("add/u8", "add", X("uint8", [3], lo=0, hi=100), X("uint8", [3], lo=0, hi=100))
case("multiply/i64_literal", "multiply", I64([3]), L(3))
case("reduce_mean/i64", "reduce_mean", I64([None, 3]), kw={"axis": 1})
case("matmul/bool_error", "matmul", B([2, 2]), B([2, 2]))
case("nn.softmax/i32_error", "nn.softmax", I([2, 3]))
case(
    "random_uniform/int64",
    "random_uniform",
    L([3]),
    kw={"maxval": 5, "dtype": A("int64")},
    rec="s",
)
case(
    "gradients/unconnected",
    "gradients",
    F([3]),
    F([2]),
    kind="grad_unconnected",
    rec="svn",
)
case("gather/out_of_range", "gather", F([3]), I([2], value=[0, 7]))
case(
    "layers.dense/auto_reuse",
    "layers.dense",
    F([None, 3]),
    L(2),
    kw={"kernel_initializer": CI, "name": "fc", "reuse": A("AUTO_REUSE")},
    repeat=2,
    rec="svgn",
)
case(
    "layers.dense/reuse_error",
    "layers.dense",
    F([None, 3]),
    L(2),
    kw={"name": "fc"},
    repeat=2,
    kind="op_repeat_named",
    rec="s",
)
case("Variable", "Variable", L([1.0, 2.0]), repeat=2, rec="svn")
case(
    "Variable/int_not_trainable",
    "Variable",
    L([1, 2]),
    kw={"trainable": False, "name": "counter"},
    rec="svn",
)
case("constant/int_literal", "constant", L(1), rec="svn")
case("constant/big_int", "constant", L(2**40))
case("constant/mixed_list", "constant", L([1, 2.5]))
case("add/i64_big_literal", "add", I64([2]), L(2**40))
case("add/i32_big_literal_wraps", "add", I([2]), L(2**40))
case("range/i64", "range", L(4), kw={"dtype": A("int64")})
case("cast/f2i64", "cast", F([3], lo=-1e3, hi=1e3), A("int64"))
case(
    "add/i64_big_values",
    "add",
    I64([2], lo=2**33, hi=2**34),
    I64([2], lo=2**33, hi=2**34),
)
case("reduce_sum/i64_big_values", "reduce_sum", I64([3], lo=2**33, hi=2**34))
case("cast/i64_big_to_f64", "cast", I64([2], lo=2**40, hi=2**41), A("float64"))

# Edge values: ties, boundaries, zeros, rounding, integer division by zero.
TIES = [1.0, 1.0, -2.0, 0.0]
case("maximum/ties", "maximum", F([4], value=TIES), F([4], value=[1.0, 0.5, -2.0, 0.0]))
case("minimum/ties", "minimum", F([4], value=TIES), F([4], value=[1.0, 0.5, -2.0, 0.0]))
case("reduce_max/ties", "reduce_max", F([4], value=[3.0, 1.0, 3.0, 3.0]))
case(
    "reduce_min/ties_axis",
    "reduce_min",
    F([2, 2], value=[[1.0, 1.0], [0.0, 2.0]]),
    kw={"axis": 1},
)
case(
    "clip_by_value/boundaries",
    "clip_by_value",
    F([5], value=[-1.0, -0.5, 0.0, 0.5, 1.0]),
    L(-0.5),
    L(0.5),
)
case("nn.relu/zero", "nn.relu", F([3], value=[-1.0, 0.0, 1.0]))
case("nn.relu6/boundaries", "nn.relu6", F([4], value=[0.0, 3.0, 6.0, 7.0]))
case("abs/zero", "abs", F([3], value=[-1.0, 0.0, 1.0]))
case("sqrt/zero", "sqrt", F([2], value=[0.0, 4.0]))
case("round/half_even", "round", F([6], value=[0.5, 1.5, 2.5, -0.5, -1.5, 2.4]))
case("rint/half_even", "rint", F([4], value=[0.5, 1.5, 2.5, -0.5]))
case(
    "argmax/ties",
    "argmax",
    F([2, 3], value=[[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),
    kw={"axis": 1},
)
case("nn.top_k/ties", "nn.top_k", F([5], value=[1.0, 3.0, 3.0, 2.0, 3.0]), kw={"k": 3})
case("reduce_prod/zero", "reduce_prod", F([4], value=[2.0, 0.0, 3.0, 0.5]))
case("reduce_prod/two_zeros", "reduce_prod", F([3], value=[0.0, 0.0, 3.0]))
case("cumprod/zero", "cumprod", F([4], value=[2.0, 0.0, 3.0, 0.5]))
case(
    "floormod/f32_neg",
    "floormod",
    F([4], value=[-3.5, 3.5, -1.0, 2.0]),
    F([4], value=[2.0, -2.0, 3.0, -0.75]),
)
case("floordiv/i32_by_zero", "floordiv", I([2], value=[3, -3]), I([2], value=[0, 0]))
case(
    "truncatemod/i32_by_zero",
    "truncatemod",
    I([2], value=[3, -3]),
    I([2], value=[0, 2]),
)
case("pow/i32_negative_exponent", "pow", I([2], value=[2, 3]), I([2], value=[-1, 2]))
case(
    "nn.softmax/neg_inf",
    "nn.softmax",
    F([2, 3], value=[[0.0, -float("inf"), 1.0], [1000.0, 0.0, -1000.0]]),
)
case("nn.log_softmax/large", "nn.log_softmax", F([3], value=[1000.0, 0.0, -1000.0]))
case(
    "nn.sigmoid_cross_entropy_with_logits/large",
    "nn.sigmoid_cross_entropy_with_logits",
    kw={
        "labels": F([4], value=[0.0, 1.0, 0.0, 1.0]),
        "logits": F([4], value=[100.0, 100.0, -100.0, -100.0]),
    },
)
case(
    "nn.l2_normalize/zero",
    "nn.l2_normalize",
    F([2, 2], value=[[0.0, 0.0], [3.0, 4.0]]),
    kw={"axis": 1},
)
case("nn.softplus/large", "nn.softplus", F([3], value=[-100.0, 0.0, 100.0]))
case("log/zero", "log", F([2], value=[0.0, 1.0]))
case(
    "reduce_logsumexp/neg_inf",
    "reduce_logsumexp",
    F([2, 2], value=[[-float("inf"), -float("inf")], [1.0, 2.0]]),
    kw={"axis": 1},
)
case(
    "nn.conv2d/unknown_rank",
    "nn.conv2d",
    F(None, feed=[1, 3, 3, 1]),
    F([2, 2, 1, 2]),
    kw={"strides": [1, 1, 1, 1], "padding": "SAME"},
    rec="s",
)
case(
    "reduce_sum/unknown_rank_keepdims",
    "reduce_sum",
    F(None, feed=[2, 3]),
    kw={"axis": 1, "keepdims": True},
    rec="s",
)
case(
    "concat/unknown_rank",
    "concat",
    LIST(F(None, feed=[2, 3]), F([None, 3])),
    L(0),
    rec="s",
)
case("stack/unknown_rank", "stack", LIST(F(None, feed=[2]), F([2])), rec="s")
case("tile/none", "tile", F([None, 2]), L([3, 2]), rec="s")
case("pad/none", "pad", F([None, 2]), L([[1, 1], [0, 2]]), rec="s")
case("squeeze/unknown_rank", "squeeze", F(None, feed=[1, 2]), rec="s")
case("slice/partial", "slice", F([None, 5]), L([1, 1]), L([1, -1]), rec="s")
case("split/none_dim", "split", F([None, 4]), L(2), kw={"axis": 0}, rec="s")
case("where/select_unknown", "where", B(None, feed=[3]), F([3]), F([3]), rec="s")
case(
    "matmul/batched_unknown_batch",
    "matmul",
    F([None, None, 3], feed=[2, 2, 3]),
    F([3, 2]),
    rec="s",
)
case("expand_dims/axis_error", "expand_dims", F([2]), L(3))
case("transpose/perm_error", "transpose", F([2, 3]), kw={"perm": [0, 0]})

# Scopes, unique names, compute/apply gradients.
case(
    "name_scope/variable_scope",
    "name_scope",
    F([None, 3]),
    kind="name_scopes",
    rec="svgn",
)
case(
    "train.AdamOptimizer/clip_apply",
    "train.AdamOptimizer",
    kw={"learning_rate": 0.1},
    kind="optimizer_clip",
    rec="svn",
)
case(
    "train.MomentumOptimizer/clip_apply",
    "train.MomentumOptimizer",
    kw={"learning_rate": 0.1, "momentum": 0.9},
    kind="optimizer_clip",
    rec="svn",
)
case(
    "dynamic_shapes/from_tf_shape",
    "shape",
    F([None, 3]),
    F([2]),
    kind="dynamic_shapes",
    rec="svg",
)
case("reshape/shape_of_other", "reshape", F([None, 6]), A("shape", F([None, 2, 3])))
case("zeros/shape_of_other", "zeros", A("shape", F([None, 3])), rec="sv")
case("reduce_sum/axis_tensor", "reduce_sum", F([2, 3]), kw={"axis": I([], value=1)})
case(
    "nn.max_pool/ties",
    "nn.max_pool",
    F(
        [1, 2, 4, 1],
        value=[[[[1.0], [1.0], [2.0], [2.0]], [[1.0], [1.0], [2.0], [2.0]]]],
    ),
    kw={"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"},
)
case(
    "nn.sparse_softmax_cross_entropy_with_logits/label_out_of_range",
    "nn.sparse_softmax_cross_entropy_with_logits",
    kw={"labels": I([2], value=[1, 5]), "logits": F([2, 3])},
)
case("div/i32_neg", "div", I([4], value=[7, -7, 7, -7]), I([4], value=[2, 2, -2, -2]))
case(
    "Tensor.__floordiv__/f32",
    "Tensor.__floordiv__",
    F([4], value=[7.5, -7.5, 1.0, -1.0]),
    F([4], value=[2.0, 2.0, -0.3, 0.3]),
)
case(
    "Tensor.__mod__/f32",
    "Tensor.__mod__",
    F([4], value=[7.5, -7.5, 1.0, -1.0]),
    F([4], value=[2.0, 2.0, -0.3, 0.3]),
)
case(
    "random_uniform/shape_of_other", "random_uniform", A("shape", F([None, 3])), rec="s"
)
case("random_normal/shape_of_other", "random_normal", A("shape", F([None, 3])), rec="s")
case("fill/shape_of_other", "fill", A("shape", F([None, 3])), L(1.0), rec="s")
