"""The one generic op constructor, tensor conversion and ``jax_op``.

Every op is built by ``make_op`` from its JAX lowering function. Its output
shapes and dtypes come from running that function under ``jax.eval_shape``;
unknown (None) dims are given two different stand-in sizes and an output dim
that differs between the two runs is unknown. This accepts what TF1 accepts
for unknown batch dims (two ``?`` dims are compatible), which distinct
symbolic dims would not.

Calling convention of a lowering function::

    fn(*input_values, *read_values, [key=prng_key], **attrs) -> value | tuple

``apply_op`` is the only place that calls a lowering; the engine's
interpreter and the gradient subgraph evaluator both go through it.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.core import Aval, Operation, Tensor, get_default_graph

# Two stand-in sizes for unknown dims; highly composite so that reshapes with
# -1 divide evenly, and different so that unknown dims can be told apart.
_SENTINELS = (55440, 110880)
_RANK_GUESSES = (0, 2, 1, 3, 4)
_FOLD_MAX_ELEMENTS = 1 << 16

# Tensor -> its value when known while building (TF1's constant_value).
_CONSTANTS: weakref.WeakKeyDictionary[Tensor, np.ndarray] = weakref.WeakKeyDictionary()

# Per-op-type rule tables, filled by the op-family modules at import.
PRINT_RULES: dict[str, Callable[[Operation], str]] = {}
# Ops evaluated on the host before the device call, from the session's state
# (variable status, iterators): op type -> fn(op, ctx, input_values) -> a
# tuple with one value per output. ``ctx`` is the session: it has
# ``is_initialized(variable)`` and a ``resources`` dict. Their inputs must be
# fed or constant; their outputs enter the device call like feeds.
HOST_OPS: dict[str, Callable[[Operation, Any, list[Any]], tuple[Any, ...]]] = {}
# Ops evaluated on the host after the device call (summaries): op type ->
# fn(op, input_values) -> NumPy value. Their inputs are fetched from the
# device (or are earlier host ops' outputs); they never run on the device.
HOST_POST_OPS: dict[str, Callable[[Operation, list[Any]], Any]] = {}
# Ops that TF1 runs on any dtype and that run here as post ops when an input
# is a string, since strings never reach the device: op type -> as above.
HOST_STRING_OPS: dict[str, Callable[[Operation, list[Any]], Any]] = {}


def host_post_function(op: Operation) -> Callable[[Operation, list[Any]], Any] | None:
    """The host function of ``op`` if it runs after the device call, else None."""
    fn = HOST_POST_OPS.get(op.type)
    if fn is None and op.type in HOST_STRING_OPS:
        if any(t.dtype is dtypes_lib.string for t in op.inputs):
            return HOST_STRING_OPS[op.type]
    return fn


def constant_value(tensor: Any) -> np.ndarray | None:
    """The value of ``tensor`` if it is known while building, else None."""
    if isinstance(tensor, Tensor):
        return _CONSTANTS.get(tensor)
    return None


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a graph Tensor."""
    return isinstance(x, Tensor)


def _aval_of(x: Any) -> Aval:
    if isinstance(x, Tensor):
        return Aval(x.shape.as_tuple(), x.dtype)
    return x._aval  # a Variable


def _stand_in(aval: Aval, sentinel: int, rank: int) -> jax.ShapeDtypeStruct:
    shape = aval.shape if aval.shape is not None else (None,) * rank
    dims = tuple(sentinel if d is None else d for d in shape)
    if aval.dtype is dtypes_lib.string:
        raise TypeError("string tensors cannot be used by device ops")
    return jax.ShapeDtypeStruct(dims, aval.dtype.jax_dtype)


def _abstract_eval(
    fn: Callable[..., Any],
    args: Sequence[Any],
    consts: Sequence[np.ndarray | None],
    kwargs: dict[str, Any],
    sentinel: int,
    rank: int,
) -> list[jax.ShapeDtypeStruct]:
    """One stand-in run; ``args`` are Avals, Tensors or Variables."""
    in_avals = [a if isinstance(a, Aval) else _aval_of(a) for a in args]
    avals = [
        None if c is not None else _stand_in(a, sentinel, rank)
        for a, c in zip(in_avals, consts)
    ]
    abstract = [i for i, a in enumerate(avals) if a is not None]

    def call(*xs: Any) -> Any:
        vals = list(consts)
        for i, x in zip(abstract, xs):
            vals[i] = x
        return fn(*vals, **kwargs)

    out = jax.eval_shape(call, *[avals[i] for i in abstract])
    return list(out) if isinstance(out, tuple | list) else [out]


def _infer_avals(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    out_dtypes: Sequence[Any] | None,
) -> list[Aval]:
    consts = [constant_value(a) for a in args]
    in_avals = [_aval_of(a) for a in args]
    try:
        first, shapes_ = _eval_shapes(fn, in_avals, consts, kwargs)
    except (TypeError, ValueError) as e:
        # The stand-ins of unknown dims need not broadcast against known dims
        # (TF1 accepts (3,) + (?,)): retry with the unknown dims that a static
        # broadcast pins down set to their known size.
        refined = _broadcast_refined(in_avals)
        if refined is None:
            raise
        try:
            first, shapes_ = _eval_shapes(fn, refined, consts, kwargs)
        except (TypeError, ValueError):
            raise e from None
    declared = [a.dtype for a in in_avals]
    dts = out_dtypes or [_declared_dtype(o.dtype, declared) for o in first]
    return [Aval(s, dtypes_lib.as_dtype(d)) for s, d in zip(shapes_, dts)]


def _eval_shapes(
    fn: Callable[..., Any],
    in_avals: Sequence[Aval],
    consts: Sequence[np.ndarray | None],
    kwargs: dict[str, Any],
) -> tuple[list[jax.ShapeDtypeStruct], list[Any]]:
    """The outputs of one stand-in run and the merged output shapes."""
    abstract = [a for a, c in zip(in_avals, consts) if c is None]
    if any(a.shape is None for a in abstract):
        first, error = None, None
        for rank in _RANK_GUESSES:
            try:
                first = _abstract_eval(
                    fn, in_avals, consts, kwargs, _SENTINELS[0], rank
                )
                break
            except Exception as e:
                error = e
        if first is None:
            raise error
        return first, [None] * len(first)
    first = _abstract_eval(fn, in_avals, consts, kwargs, _SENTINELS[0], 0)
    shapes_ = [tuple(o.shape) for o in first]
    if any(None in a.shape for a in abstract):
        second = _abstract_eval(fn, in_avals, consts, kwargs, _SENTINELS[1], 0)
        shapes_ = [_merge_runs(a.shape, b.shape) for a, b in zip(first, second)]
    return first, shapes_


def _broadcast_refined(in_avals: Sequence[Aval]) -> list[Aval] | None:
    """``in_avals`` with unknown dims set from their static broadcast, or None.

    None when the shapes do not broadcast statically or nothing is pinned down.
    """
    if any(a.shape is None for a in in_avals):
        return None
    try:
        # The initial () keeps a single input's shape a TensorShape too.
        out = functools.reduce(
            shapes.broadcast_static_shape, [a.shape for a in in_avals], ()
        ).as_list()
    except ValueError:
        return None
    refined = []
    for a in in_avals:
        tail = out[len(out) - len(a.shape) :]
        shape = tuple(o if d is None else d for d, o in zip(a.shape, tail))
        refined.append(Aval(shape, a.dtype))
    if all(r.shape == a.shape for r, a in zip(refined, in_avals)):
        return None
    return refined


def _merge_runs(
    a: tuple[int, ...], b: tuple[int, ...]
) -> tuple[int | None, ...] | None:
    if len(a) != len(b):
        return None
    return tuple(x if x == y else None for x, y in zip(a, b))


def _declared_dtype(
    jax_dtype: Any, declared: Sequence[dtypes_lib.DType]
) -> dtypes_lib.DType:
    # An int64 input computes as int32 on a 32-bit JAX; keep the declared type.
    for d in declared:
        if d is not dtypes_lib.string and d.jax_dtype == jax_dtype:
            return d
    return dtypes_lib.as_dtype(jax_dtype)


def _shape_error(
    op_type: str, name: str, args: Sequence[Any], err: Exception
) -> ValueError:
    in_shapes = ", ".join(_fmt_shape(_aval_of(a).shape) for a in args)
    msg = str(err).split("\n")[0].rstrip(".")
    for sentinel in _SENTINELS:
        msg = msg.replace(str(sentinel), "?")
    return ValueError(
        f"{msg} for '{name}' (op: '{op_type}') with input shapes: {in_shapes}."
    )


def _fmt_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def make_op(
    op_type: str,
    fn: Callable[..., Any],
    inputs: Sequence[Any] = (),
    *,
    name: str | None = None,
    attrs: dict[str, Any] | None = None,
    reads: Sequence[Any] = (),
    writes: Sequence[tuple[Any, int]] = (),
    random: bool = False,
    out_avals: Sequence[Aval] | None = None,
    out_dtypes: Sequence[Any] | None = None,
    control_inputs: Sequence[Operation] = (),
    graph: Any = None,
) -> Operation:
    """Builds one op from its JAX lowering function.

    Args:
        op_type: The TF1 op type name (``"MatMul"``).
        fn: The lowering: ``fn(*inputs, *reads, [key=], **attrs)``.
        inputs: Tensors or values convertible to tensors.
        name: Op name (made unique under the current name scope).
        attrs: Static keyword arguments of ``fn``; printed with the op.
        reads: Variables whose values ``fn`` receives after the inputs.
        writes: ``(variable, output_index)`` pairs the op assigns.
        random: Whether ``fn`` takes a PRNG ``key``.
        out_avals: Output types, to skip inference.
        out_dtypes: Output dtypes overriding the inferred ones.
        control_inputs: Extra control dependencies.
        graph: The graph; by default that of the inputs or the default graph.

    Returns:
        The new Operation.

    Raises:
        ValueError: shapes or dtypes do not fit, naming the op and input shapes.
    """
    attrs = dict(attrs or {})
    if graph is None:
        graph = _graph_of(inputs, reads)
    tensors = [convert_to_tensor(x) for x in inputs]
    name = name or op_type
    with graph.as_default():
        if out_avals is None:
            kwargs = dict(attrs)
            if random:
                kwargs["key"] = jax.random.PRNGKey(0)
            try:
                out_avals = _infer_avals(fn, [*tensors, *reads], kwargs, out_dtypes)
            except (TypeError, ValueError, IndexError) as e:
                raise _shape_error(
                    op_type, _error_name(graph, name), [*tensors, *reads], e
                ) from e
        for var, index in writes:
            _check_write(var, out_avals[index], name)
        op = graph.create_op(
            op_type,
            tensors,
            out_avals,
            _tuple_lowering(fn),
            name=name,
            attrs=attrs,
            reads=reads,
            writes=writes,
            random=random,
            control_inputs=control_inputs,
        )
    _maybe_fold(op)
    return op


def _error_name(graph: Any, name: str) -> str:
    # The name the op would have got: "scope/" names a scope's own op.
    if name.endswith("/"):
        return name[:-1]
    return graph.unique_name(name, mark_as_used=False)


def _graph_of(inputs: Sequence[Any], reads: Sequence[Any]) -> Any:
    for x in (*inputs, *reads):
        g = getattr(x, "graph", None)
        if g is not None:
            return g
    return get_default_graph()


def _check_write(var: Any, aval: Aval, op_name: str) -> None:
    want = shapes.TensorShape(var._aval.shape)
    if not want.is_compatible_with(shapes.TensorShape(aval.shape)):
        raise ValueError(
            f"Shapes {want} and {shapes.TensorShape(aval.shape)} are incompatible: "
            f"op '{op_name}' assigns a value of shape {shapes.TensorShape(aval.shape)} "
            f"to variable '{var.op.name}' of shape {want}."
        )


def _tuple_lowering(fn: Callable[..., Any]) -> Callable[..., tuple[Any, ...]]:
    def lower(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        out = fn(*args, **kwargs)
        return tuple(out) if isinstance(out, tuple | list) else (out,)

    lower.__wrapped__ = fn
    lower.__name__ = getattr(fn, "__name__", "lower")
    return lower


def _maybe_fold(op: Operation) -> None:
    if op.stateful or op.type in HOST_OPS or op.type in HOST_POST_OPS or not op.inputs:
        return
    consts = [constant_value(t) for t in op.inputs]
    if any(c is None for c in consts):
        return
    if any(a.shape is None or None in a.shape for a in op.out_avals):
        return
    size = sum(int(np.prod(a.shape)) for a in op.out_avals)
    if size > _FOLD_MAX_ELEMENTS:
        return
    try:
        outs = apply_op(op, consts)
    except Exception:
        return
    for t, v in zip(op.outputs, outs):
        _CONSTANTS[t] = np.asarray(v)


def set_constant(tensor: Tensor, value: np.ndarray) -> None:
    """Records the build-time value of ``tensor`` (for Const-like ops)."""
    _CONSTANTS[tensor] = value


def apply_op(
    op: Operation,
    input_values: Sequence[Any],
    read_values: Sequence[Any] = (),
    key: Any = None,
) -> tuple[Any, ...]:
    """Runs one op's lowering on values; the only caller of ``op.lower``.

    Inputs that are all concrete (NumPy) for a pure op are evaluated eagerly
    and returned as NumPy, so shape arithmetic stays static under ``jit``.
    """
    kwargs = dict(op.attrs)
    if op.random:
        kwargs["key"] = key
    if _foldable(op, input_values):
        with jax.ensure_compile_time_eval():
            outs = op.lower(*input_values, **kwargs)
        return tuple(_to_numpy(o) for o in outs)
    return op.lower(*input_values, *read_values, **kwargs)


def _foldable(op: Operation, input_values: Sequence[Any]) -> bool:
    if op.stateful or op.type in HOST_OPS or op.type in HOST_POST_OPS:
        return False
    if not all(isinstance(v, np.ndarray | np.generic) for v in input_values):
        return False
    for aval in op.out_avals:
        if aval.shape is None or None in aval.shape:
            return False
        if int(np.prod(aval.shape)) > _FOLD_MAX_ELEMENTS:
            return False
    return True


def _to_numpy(value: Any) -> Any:
    if isinstance(value, jax.core.Tracer):
        return value
    return np.asarray(value)


# -- conversion -----------------------------------------------------------------


def convert_to_tensor(
    value: Any,
    dtype: Any = None,
    name: str | None = None,
    preferred_dtype: Any = None,
    dtype_hint: Any = None,
) -> Tensor:
    """Converts a Tensor, Variable, array, number or nested list to a Tensor.

    Raises:
        ValueError: ``value`` is a Tensor of another dtype than ``dtype``.
        TypeError: ``value`` cannot be converted.
    """
    if isinstance(value, Tensor):
        if dtype is not None and dtypes_lib.as_dtype(dtype) is not value.dtype:
            raise ValueError(
                f"Tensor conversion requested dtype {dtypes_lib.as_dtype(dtype).name} "
                f"for Tensor with dtype {value.dtype.name}: {value!r}"
            )
        return value
    if hasattr(value, "_as_tensor"):
        return convert_to_tensor(value._as_tensor(), dtype=dtype)
    if isinstance(value, Operation):
        raise TypeError(
            f"Can't convert Operation '{value.name}' to Tensor "
            f"(target dtype={dtype}, name={name})"
        )
    if isinstance(value, list | tuple) and _contains_tensor(value):
        from jaxsession.ops.array_ops import stack

        return stack(
            [convert_to_tensor(v, dtype=dtype) for v in value], name=name or "packed"
        )
    from jaxsession.ops.array_ops import constant

    if dtype is None and preferred_dtype is None:
        preferred_dtype = dtype_hint
    if dtype is None and preferred_dtype is not None:
        try:
            return constant(value, dtype=preferred_dtype, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=dtype, name=name or "Const")


def _contains_tensor(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return any(_contains_tensor(v) for v in value)
    return isinstance(value, Tensor) or hasattr(value, "_as_tensor")


def convert_n_to_tensor(values: Sequence[Any], dtype: Any = None) -> list[Tensor]:
    """Converts each of ``values`` with ``convert_to_tensor``."""
    return [convert_to_tensor(v, dtype=dtype) for v in values]


def _tensor_like(x: Any) -> bool:
    return isinstance(x, Tensor) or hasattr(x, "_as_tensor")


def binary_inputs(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Converts two operands, giving a Python number the other's dtype (TF1).

    Raises:
        TypeError: the two dtypes differ, naming both tensors.
    """
    x_is, y_is = _tensor_like(x), _tensor_like(y)
    if x_is:
        x = convert_to_tensor(x)
    if y_is:
        y = convert_to_tensor(y)
    if x_is and not y_is:
        y = convert_to_tensor(y, dtype=x.dtype)
    elif y_is and not x_is:
        x = convert_to_tensor(x, dtype=y.dtype)
    elif not x_is:
        x = convert_to_tensor(x)
        y = convert_to_tensor(y, dtype=x.dtype)
    if x.dtype is not y.dtype:
        raise TypeError(
            f"Input 'y' of op has type {y.dtype.name} that does not match type "
            f"{x.dtype.name} of argument 'x': {x!r} and {y!r}."
        )
    return x, y


# -- jax_op ---------------------------------------------------------------------


def jax_op(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    op_type: str | None = None,
) -> Callable[..., Any]:
    """Lifts any JAX function into a graph op constructor.

    Positional arguments of the returned constructor become op inputs
    (tensors, variables or arrays); keyword arguments are static attributes.
    The function may return any pytree of arrays; the constructor returns the
    same pytree of Tensors.

    Example::

        def mlp_apply(params_w, x):
            return jax.nn.relu(x @ params_w)

        y = tf.jax_op(mlp_apply)(w, x)

    Args:
        fn: A function of JAX arrays, traceable by ``jax.jit``.
        name: Default op name.
        op_type: Op type shown in listings (default: the function's name).

    Returns:
        A function building the op and returning its output tensors.
    """
    type_name = op_type or getattr(fn, "__name__", "JaxOp")

    def build(*args: Any, **kwargs: Any) -> Any:
        treedef_box: list[Any] = []

        def flat_fn(*xs: Any, **kw: Any) -> tuple[Any, ...]:
            leaves, treedef = jax.tree_util.tree_flatten(fn(*xs, **kw))
            if not treedef_box:
                treedef_box.append(treedef)
            return tuple(leaves)

        op = make_op(type_name, flat_fn, args, name=name or type_name, attrs=kwargs)
        return jax.tree_util.tree_unflatten(treedef_box[0], op.outputs)

    build.__name__ = f"jax_op_{type_name}"
    build.__doc__ = f"Graph op built from {type_name}."
    return build
