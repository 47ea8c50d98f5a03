"""Debugging ops: ``tf.Print``, ``tf.print``, ``tf.check_numerics``, ``tf.Assert``.

Printing runs on the host while a run runs, through ``jax.debug.callback``,
so it prints every run (and every loop iteration), never while building.
Checks are ``rules.CHECK_OPS``: their report outputs come back with the
run's fetches, and a failed check makes the run keep its variables and raise
TF1's ``InvalidArgumentError`` with TF1's message.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import Operation, Tensor, get_default_graph, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import (
    AFTER_RUN,
    CHECK_OPS,
    EFFECT_OPS,
    NOT_DIFFERENTIABLE,
    constant_value,
    is_replaying,
)
from jaxsession.ops.array.shape import identity
from jaxsession.ops.control_flow import group
from jaxsession.ops.math import cast, equal
from jaxsession.ops.reduction import reduce_mean

__all__ = [
    "Assert",
    "Print",
    "add_check_numerics_ops",
    "check_numerics",
    "print",
    "verify_tensor_all_finite",
]

_DEFAULT_SUMMARIZE = 3


# -- TF's text of a tensor -------------------------------------------------------


def format_element(value: Any) -> str:
    """One element as TF's kernels print it: shortest float text, 1/0 for bools."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    if isinstance(value, np.bool_ | bool):
        return "1" if value else "0"
    if isinstance(value, np.floating):
        digits = (6, 9) if value.dtype.itemsize <= 4 else (15, 17)
        text = f"{value:.{digits[0]}g}"
        if type(value)(text) != value and not np.isnan(value):
            text = f"{value:.{digits[1]}g}"
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(text, text)
    return str(value)


def summarize_value(head: np.ndarray, shape: Sequence[int], summarize: int) -> str:
    """TF1's ``Tensor::SummarizeValue``: the first ``summarize`` values, nested.

    Args:
        head: The first values of the tensor in row-major order (at least
            ``min(summarize, size)`` of them).
        shape: The tensor's full shape.
        summarize: How many values to show; negative shows all.

    Returns:
        ``"[1 2][3...]..."``-style text, without the outer brackets.
    """
    flat = np.asarray(head).reshape(-1)
    size = int(np.prod(shape)) if len(shape) else 1
    limit = size if summarize < 0 else min(summarize, size)
    parts: list[str] = []
    if not len(shape):
        parts.append(" ".join(format_element(v) for v in flat[:limit]))
    else:
        _one_dim(0, tuple(shape), limit, flat, [0], parts)
    if size > limit:
        parts.append("...")
    return "".join(parts)


def _one_dim(
    dim: int,
    shape: tuple[int, ...],
    limit: int,
    flat: np.ndarray,
    index: list[int],
    out: list[str],
) -> None:
    # TF's PrintOneDim, kept line for line so "..." lands where TF puts it.
    if index[0] >= limit:
        return
    if dim == len(shape) - 1:
        for i in range(shape[dim]):
            if index[0] >= limit:
                if dim != 0:
                    out.append("...")
                return
            if i > 0:
                out.append(" ")
            out.append(format_element(flat[index[0]]))
            index[0] += 1
        return
    for _ in range(shape[dim]):
        opened = index[0] < limit
        if opened:
            out.append("[")
        _one_dim(dim + 1, shape, limit, flat, index, out)
        if index[0] < limit or opened:
            out.append("]")


def _format_v2(value: np.ndarray, summarize: int, depth: int = 0) -> str:
    """A value as ``tf.print`` shows it: nested rows, ``...`` in the middle."""
    value = np.asarray(value)
    if value.ndim == 0:
        return format_element(value[()])
    n = value.shape[0]
    cut = 0 <= summarize and 2 * summarize < n
    rows = range(summarize) if cut else range(n)
    items = [_format_v2(value[i], summarize, depth + 1) for i in rows]
    if cut:
        tail = range(n - summarize, n)
        items += ["...", *(_format_v2(value[i], summarize, depth + 1) for i in tail)]
    sep = " " if value.ndim == 1 else "\n" + " " * (depth + 1)
    return "[" + sep.join(items) + "]"


# -- the host side of printing -------------------------------------------------------


# Static text and device values in their order: ("s", text) or ("t", index).
_Slots = tuple[tuple[str, Any], ...]


def _split_data(data: Sequence[Any], what: str) -> tuple[list[Tensor], _Slots]:
    """Tensors that go to the device, and where each piece of ``data`` goes."""
    tensors: list[Tensor] = []
    slots = []
    for item in data:
        if isinstance(item, str | bytes):
            slots.append(("s", format_element(item)))
            continue
        t = convert_to_tensor(item)
        if t.dtype is dtypes_lib.string:
            known = constant_value(t)
            if known is None:
                raise ValueError(
                    f"{what} can print the string tensor {t.name} only when its "
                    "value is known while building; string values never reach "
                    "the device."
                )
            slots.append(("s", " ".join(format_element(v) for v in np.ravel(known))))
            continue
        slots.append(("t", len(tensors)))
        tensors.append(t)
    return tensors, tuple(slots)


def _write(stream: Any, text: str) -> None:
    """Writes ``text`` where ``tf.print``'s ``output_stream`` says."""
    if stream in ("stderr", "stdout"):
        target = getattr(sys, stream)
        target.write(text)
        target.flush()
    elif isinstance(stream, str):
        path = Path(stream.removeprefix("file://"))
        with path.open("a") as f:
            f.write(text)
    else:
        stream(text.rstrip("\n"))


def _stream_of(output_stream: Any) -> Any:
    # Resolved by name when printing, so a redirected sys.stderr is honoured.
    if output_stream is None or output_stream is sys.__stderr__:
        return "stderr"
    if output_stream is sys.stderr:
        return "stderr"
    if output_stream is sys.__stdout__ or output_stream is sys.stdout:
        return "stdout"
    if isinstance(output_stream, str) and output_stream.startswith("file://"):
        return output_stream
    if callable(output_stream):
        return output_stream
    if hasattr(output_stream, "write"):
        return lambda text: output_stream.write(text + "\n")
    raise ValueError(
        f"Unsupported output stream {output_stream!r}: use sys.stderr, "
        "sys.stdout, 'file://<path>' or a logging function."
    )


# -- the print buffer --------------------------------------------------------------

# What print callbacks produced during the current run, in order: (key of the
# op, whether a gradient's forward pass printed it, stream, text, quota).
# Flushed by the engine after the run (``rules.AFTER_RUN``): an op printed by
# the run itself drops its copies from gradients' forward passes, so each
# tf.Print shows once per run, as in TF1; a quota ``[printed, first_n]``
# counts the lines written.
_PENDING: list[tuple[int, bool, Any, str, list[int] | None]] = []


def _flush() -> None:
    pending = _PENDING[:]
    del _PENDING[: len(pending)]
    direct = {entry[0] for entry in pending if not entry[1]}
    seen_replay: set[tuple[int, str]] = set()
    for key, replayed, stream, text, quota in pending:
        if replayed:
            if key in direct or (key, text) in seen_replay:
                continue
            seen_replay.add((key, text))
        if quota is not None:
            if 0 <= quota[1] <= quota[0]:
                continue
            quota[0] += 1
        _write(stream, text)


def _buffered(
    key: int, stream: Any, make_text: Any, quota: list[int] | None = None
) -> Any:
    """A host callback that buffers ``make_text(*values)`` for the flush."""
    replayed = is_replaying()

    def emit(*values: Any) -> None:
        _PENDING.append((key, replayed, stream, make_text(*values), quota))

    return emit


# -- tf.Print and tf.print -------------------------------------------------------


def Print(
    input_: Any,
    data: Sequence[Any],
    message: str | None = None,
    first_n: int | None = None,
    summarize: int | None = None,
    name: str | None = None,
) -> Tensor:
    """``input_`` unchanged, printing ``message`` and ``data`` each time it runs.

    Prints to stderr as TF1 does: ``message`` then each of ``data`` as
    ``[v0 v1 v2...]`` (its first ``summarize`` values), once per run even
    when the run also re-evaluates it for a gradient.

    Args:
        input_: The tensor passed through.
        data: Tensors (or strings) to print.
        message: Text printed first.
        first_n: Print only the first ``first_n`` runs (None or negative:
            every run).
        summarize: Values printed per tensor (default 3; negative: all).
        name: Op name.

    Returns:
        A tensor equal to ``input_``.

    Raises:
        ValueError: a string tensor of ``data`` is not known while building.
    """
    x = convert_to_tensor(input_)
    tensors, slots = _split_data(list(data), "tf.Print")
    limit = _DEFAULT_SUMMARIZE if summarize is None else summarize
    quota = [0, -1 if first_n is None else first_n]

    def text_of(*values: Any) -> str:
        text = "".join("[" + _slot_text(slot, values, limit) + "]" for slot in slots)
        return (message or "") + text + "\n"

    def lower(x: Any, *values: Any, message: str, summarize: int) -> Any:
        jax.debug.callback(_buffered(id(quota), "stderr", text_of, quota), *values)
        return x

    op = make_op(
        "Print",
        lower,
        [x, *tensors],
        name=name or "Print",
        attrs={"message": message or "", "summarize": limit},
        out_avals=[x._aval],
    )
    return op.outputs[0]


def _slot_text(slot: tuple[str, Any], values: Sequence[Any], limit: int) -> str:
    kind, what = slot
    if kind == "s":
        return what
    value = np.asarray(values[what])
    return summarize_value(
        value.reshape(-1)[: max(limit, 0) or None], value.shape, limit
    )


def print(
    *inputs: Any,
    output_stream: Any = None,
    summarize: int = _DEFAULT_SUMMARIZE,
    sep: str = " ",
    end: str = "\n",
    name: str | None = None,
) -> Operation:
    """An op printing ``inputs`` when it runs (``tf.print``; op PrintV2).

    Run it, or put it in ``tf.control_dependencies``: in a graph, as in TF1,
    nothing else runs it.

    Args:
        *inputs: Tensors and Python values, printed separated by ``sep``.
        output_stream: ``sys.stderr`` (the default), ``sys.stdout``, a file,
            ``"file://<path>"`` (appended to) or a logging function such as
            ``tf.logging.info``.
        summarize: Values printed at each end of every dimension (default 3;
            negative: all).
        sep: Text between inputs.
        end: Text after the last input.
        name: Op name.

    Returns:
        The print Operation.

    Raises:
        ValueError: an unsupported ``output_stream``, or a string tensor
            not known while building.
    """
    stream = _stream_of(output_stream)
    data = [x if isinstance(x, Tensor | str | bytes) else _as_data(x) for x in inputs]
    tensors, slots = _split_data(data, "tf.print")

    def text_of(*values: Any) -> str:
        pieces = [
            text if kind == "s" else _format_v2(values[text], summarize)
            for kind, text in slots
        ]
        return sep.join(pieces) + end

    def lower(*values: Any, sep: str, end: str, summarize: int) -> tuple[()]:
        jax.debug.callback(_buffered(id(text_of), stream, text_of), *values)
        return ()

    return make_op(
        "PrintV2",
        lower,
        tensors,
        name=name or "PrintV2",
        attrs={"sep": sep, "end": end, "summarize": summarize},
        out_avals=[],
    )


def _as_data(x: Any) -> Any:
    # Python values print as Python prints them; nested tensors are packed.
    try:
        return convert_to_tensor(x) if _has_tensor(x) else builtins.str(x)
    except (TypeError, ValueError):
        return builtins.str(x)


def _has_tensor(x: Any) -> bool:
    if isinstance(x, list | tuple):
        return any(_has_tensor(v) for v in x)
    return isinstance(x, Tensor)


# -- tf.check_numerics ---------------------------------------------------------------


def _check_numerics(x: Any, *, message: str) -> tuple[Any, Any, Any]:
    code = jnp.any(jnp.isnan(x)).astype(jnp.int32) + 2 * jnp.any(jnp.isinf(x)).astype(
        jnp.int32
    )
    return x, code == 0, code


_NUMERIC_KINDS = {1: "NaN", 2: "Inf", 3: "Inf and NaN"}


def _numerics_error(op: Operation, reports: list[Any]) -> errors.OpError:
    kind = _NUMERIC_KINDS[int(reports[1])]
    return errors.InvalidArgumentError(
        None,
        op,
        f"{op.attrs['message']} : Tensor had {kind} values\n\t [[{errors.op_site(op)}]]",
    )


def check_numerics(tensor: Any, message: str, name: str | None = None) -> Tensor:
    """``tensor`` unchanged; a run where it has a NaN or Inf fails (``tf.check_numerics``).

    Args:
        tensor: A floating tensor.
        message: The start of the error message.
        name: Op name.

    Returns:
        A tensor equal to ``tensor``.

    Raises:
        TypeError: ``tensor`` is not floating.
        errors.InvalidArgumentError: at run time, ``"<message> : Tensor had
            NaN values"`` (or ``Inf``, ``Inf and NaN``); the run's variables
            keep their values.
    """
    x = convert_to_tensor(tensor)
    if not x.dtype.is_floating:
        raise TypeError(
            f"Value passed to parameter 'tensor' has DataType {x.dtype.name} not in "
            "list of allowed values: bfloat16, float16, float32, float64"
        )
    op = make_op(
        "CheckNumerics",
        _check_numerics,
        [x],
        name=name or "CheckNumerics",
        attrs={"message": message},
    )
    return op.outputs[0]


def add_check_numerics_ops() -> Operation:
    """One op checking every floating tensor of the default graph (TF1's).

    Returns:
        A group of ``check_numerics`` of every float output made so far.
    """
    checks = []
    for op in list(get_default_graph().get_operations()):
        if op.type in CHECK_OPS:
            continue
        for t in op.outputs:
            if t.dtype.is_floating:
                message = f"{op.name}:{t.value_index}"
                checks.append(check_numerics(t, message).op)
    return group(*checks, name="CheckNumerics")


# -- tf.Assert ---------------------------------------------------------------------


def _assert_lowering(cond: Any, *data: Any, layout: _Slots, summarize: int) -> tuple:
    heads = []
    for value in data:
        flat = jnp.reshape(value, (-1,))
        heads.append(flat if summarize < 0 else flat[:summarize])
        heads.append(jnp.asarray(jnp.shape(value), jnp.int32))
    return (jnp.all(cond), *heads)


def _assert_error(op: Operation, reports: list[Any]) -> errors.OpError:
    limit = op.attrs["summarize"]
    pieces = []
    for kind, what in op.attrs["layout"]:
        if kind == "s":
            pieces.append(what)
        else:
            head, shape = reports[1 + 2 * what], reports[2 + 2 * what]
            pieces.append(summarize_value(head, tuple(shape), limit))
    text = " ".join(f"[{p}]" for p in pieces)
    return errors.InvalidArgumentError(
        None, op, f"assertion failed: {text}\n\t [[{errors.op_site(op)}]]"
    )


def Assert(
    condition: Any,
    data: Sequence[Any],
    summarize: int | None = None,
    name: str | None = None,
) -> Operation:
    """An op that fails the run when ``condition`` is false (``tf.Assert``).

    Run it, or put it in ``tf.control_dependencies``. The failing run keeps
    its variables and raises with ``data`` printed.

    Args:
        condition: A bool tensor (all elements must hold).
        data: Tensors and strings printed when it fails.
        summarize: Values printed per tensor (default 3; negative: all).
        name: Name scope (default "Assert").

    Returns:
        The assert Operation.

    Raises:
        errors.InvalidArgumentError: at run time, ``"assertion failed: [..]
            [..]"``, naming the op and where it was created.
    """
    limit = _DEFAULT_SUMMARIZE if summarize is None else summarize
    with name_scope(name, "Assert"):
        cond = convert_to_tensor(condition, dtype=dtypes_lib.bool_)
        tensors, layout = _split_data(list(data), "tf.Assert")
        return make_op(
            "Assert",
            _assert_lowering,
            [cond, *tensors],
            name="Assert",
            attrs={"layout": layout, "summarize": limit},
        )


# -- tables --------------------------------------------------------------------------

CHECK_OPS["CheckNumerics"] = (1, _numerics_error)
CHECK_OPS["Assert"] = (0, _assert_error)
EFFECT_OPS.update(("Print", "PrintV2", "Assert", "CheckNumerics"))
AFTER_RUN.append(_flush)
NOT_DIFFERENTIABLE.update(("Assert", "PrintV2"))


def verify_tensor_all_finite(
    t: Any, msg: str, name: str | None = None, x: Any = None, message: str | None = None
) -> Tensor:
    """``check_numerics`` under TF1's other name (``tf.verify_tensor_all_finite``)."""
    return check_numerics(t if x is None else x, message or msg, name=name)


def zero_fraction(value: Any, name: str | None = None) -> Tensor:
    """The fraction of ``value``'s elements that are zero (``tf.nn.zero_fraction``)."""
    with name_scope(name, "zero_fraction"):
        x = convert_to_tensor(value, name="value")
        zero = convert_to_tensor(0, dtype=x.dtype)
        fraction = reduce_mean(cast(equal(x, zero), dtypes_lib.float32))
        return identity(fraction, name="fraction")
