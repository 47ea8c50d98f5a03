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

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.avals import _SENTINELS, Aval, _aval_of, infer_avals
from jaxsession.graph.constant import constant
from jaxsession.graph.core import Graph, Operation, Tensor, get_default_graph
from jaxsession.graph.rules import (
    EFFECT_OPS,
    HOST_OPS,
    HOST_POST_OPS,
    NOT_FOLDABLE,
    SHAPE_RULES,
    constant_value,
    may_enclose_effect,
    note_effect_op,
    set_constant,
)

_FOLD_MAX_ELEMENTS = 1 << 16


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a graph Tensor."""
    return isinstance(x, Tensor)


def _shape_error(
    op_type: str, name: str, args: Sequence[Any], err: Exception
) -> ValueError:
    reason = str(err).split("\n")[0].rstrip(".")
    for sentinel in _SENTINELS:
        reason = reason.replace(str(sentinel), "?")
    shapes_ = [_aval_of(a).shape for a in args]
    return errors.op_shape_error(op_type, name, shapes_, reason)


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
    graph: Graph | None = None,
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
                out_avals = infer_avals(fn, [*tensors, *reads], kwargs, out_dtypes)
            except (TypeError, ValueError, IndexError) as e:
                raise _shape_error(
                    op_type, _error_name(graph, name), [*tensors, *reads], e
                ) from e
            out_avals = _apply_shape_rule(op_type, tensors, attrs, out_avals)
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
    if op.type in EFFECT_OPS:
        note_effect_op(op)
    _maybe_fold(op)
    return op


def _apply_shape_rule(
    op_type: str, tensors: Sequence[Tensor], attrs: dict[str, Any], avals: list[Aval]
) -> list[Aval]:
    """``avals`` with the dims ``SHAPE_RULES[op_type]`` knows filled in.

    Only unknown ranks and unknown dims are refined: what eval_shape proved
    stays. A rule that disagrees with a known dim is ignored for that dim.
    """
    rule = SHAPE_RULES.get(op_type)
    if rule is None:
        return avals
    ruled = rule([t.shape.as_tuple() for t in tensors], attrs)
    if ruled is None or len(ruled) != len(avals):
        return avals
    out = []
    for aval, shape in zip(avals, ruled):
        if shape is not None and aval.shape is None:
            aval = Aval(tuple(shape), aval.dtype)
        elif shape is not None and len(shape) == len(aval.shape):
            dims = tuple(r if d is None else d for d, r in zip(aval.shape, shape))
            aval = Aval(dims, aval.dtype)
        out.append(aval)
    return out


def _error_name(graph: Graph, name: str) -> str:
    # The name the op would have got: "scope/" names a scope's own op.
    if name.endswith("/"):
        return name[:-1]
    return graph.unique_name(name, mark_as_used=False)


def _graph_of(inputs: Sequence[Any], reads: Sequence[Any]) -> Graph:
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


def _has_effect(op: Operation) -> bool:
    """Whether evaluating ``op`` while building would change what a run does."""
    kind = op.type
    return (
        op.stateful
        or kind in HOST_OPS
        or kind in HOST_POST_OPS
        or kind in EFFECT_OPS
        or may_enclose_effect(op)
    )


def _maybe_fold(op: Operation) -> None:
    if _has_effect(op) or not op.inputs:
        return
    if op.type in NOT_FOLDABLE:
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
        set_constant(t, np.asarray(v))


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
    if _has_effect(op):
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


# ``stack`` (an array op) packs a list holding tensors, as TF1's array_ops
# registers its autopacking conversion; set by ``register_list_conversion``.
_LIST_CONVERSION: Callable[..., Tensor] | None = None


def register_list_conversion(fn: Callable[..., Tensor]) -> None:
    """Sets how ``convert_to_tensor`` packs a list holding tensors.

    Args:
        fn: ``fn(tensors, name=...)`` returning one Tensor (``tf.stack``).
    """
    global _LIST_CONVERSION
    _LIST_CONVERSION = fn


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
        if _LIST_CONVERSION is None:
            raise TypeError(
                f"Cannot convert a list of tensors to a Tensor (name={name}): "
                "import jaxsession.ops.array.combine, which registers the packing."
            )
        return _LIST_CONVERSION(
            [convert_to_tensor(v, dtype=dtype) for v in value], name=name or "packed"
        )
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


def check_input_dtype(
    tensor: Tensor, param: str, allowed: Sequence[Any], op_type: str
) -> None:
    """Raises TF1's build-time TypeError if ``tensor``'s dtype is not allowed.

    ``allowed`` lists dtypes (or names) in the order TF's op definition does;
    the message is TF's, naming the op type as well.

    Raises:
        TypeError: ``tensor.dtype`` is not in ``allowed``.
    """
    names = [dtypes_lib.as_dtype(d).name for d in allowed]
    if tensor.dtype.name not in names:
        raise TypeError(
            f"Value passed to parameter '{param}' has DataType {tensor.dtype.name} "
            f"not in list of allowed values: {', '.join(names)} (op {op_type}: "
            f"{tensor!r})"
        )


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
