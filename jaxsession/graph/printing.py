"""Long listings: ``Graph.as_text()`` and ``Plan.as_text()``, one op per line.

The format is an API that tests compare exactly::

    x:0 f32[?,3] = Placeholder
    w:0 f32[3,2] = VariableV2 reads(w)
    MatMul:0 f32[?,2] = MatMul x:0, w:0 {transpose_a=False, transpose_b=False}
    init = NoOp ^w/Assign

Placeholders and variables come first, then the other ops in creation order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from jaxsession.graph.avals import Aval
from jaxsession.graph.rules import PRINT_RULES, constant_value

if TYPE_CHECKING:
    from jaxsession.graph.core import Graph, Operation

_SHORT = {
    "float16": "f16",
    "bfloat16": "bf16",
    "float32": "f32",
    "float64": "f64",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "uint16": "u16",
    "uint32": "u32",
    "uint64": "u64",
    "bool": "bool",
    "complex64": "c64",
    "complex128": "c128",
    "string": "str",
}
_SOURCES = ("Placeholder", "PlaceholderWithDefault", "VariableV2")
_MAX_ATTR_CHARS = 40


def aval_text(aval: Aval) -> str:
    """``f32[?,10]``; an unknown rank prints as ``f32[*]``."""
    dims = (
        "*"
        if aval.shape is None
        else ",".join("?" if d is None else str(d) for d in aval.shape)
    )
    return f"{_SHORT[aval.dtype.name]}[{dims}]"


def _attr_text(value: Any) -> str | None:
    if hasattr(value, "op") and hasattr(value, "name"):
        return value.op.name
    if isinstance(value, tuple) and value and hasattr(value[0], "op"):
        return "(" + ", ".join(v.op.name for v in value) + ")"
    text = repr(value)
    return text if len(text) <= _MAX_ATTR_CHARS else None


def op_text(op: Operation) -> str:
    """One op as a line of the listing."""
    if op.type in PRINT_RULES:
        return PRINT_RULES[op.type](op)
    outs = ", ".join(
        f"{t.name} {aval_text(a)}" for t, a in zip(op.outputs, op.out_avals)
    )
    lhs = outs if outs else op.name
    parts = [op.type]
    args = [t.name for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs]
    if args:
        parts.append(", ".join(args))
    if op.type == "Const":
        parts.append(_const_text(op))
    if op.reads:
        parts.append("reads(" + ", ".join(v.op.name for v in op.reads) + ")")
    if op.writes:
        parts.append("writes(" + ", ".join(v.op.name for v, _ in op.writes) + ")")
    attrs = [(k, _attr_text(v)) for k, v in sorted(op.attrs.items())]
    attrs = [f"{k}={v}" for k, v in attrs if v is not None and op.type != "Placeholder"]
    if attrs:
        parts.append("{" + ", ".join(attrs) + "}")
    return f"{lhs} = {' '.join(parts)}"


def _const_text(op: Operation) -> str:
    value = constant_value(op.outputs[0])
    if value is None:
        return "<value>"
    if value.size <= 4:
        return np.array2string(value, separator=", ").replace("\n", "")
    return f"<{value.size} values>"


def graph_as_text(graph: Graph) -> str:
    """Every op of ``graph``: sources first, then the rest in creation order."""
    ops = graph.get_operations()
    first = [op for op in ops if op.type in _SOURCES]
    rest = [op for op in ops if op.type not in _SOURCES]
    return "\n".join(op_text(op) for op in first + rest)


def plan_as_text(plan: Any) -> str:
    """A plan's feeds, state and ops in execution order."""
    lines = []
    if plan.feeds:
        lines.append("feeds: " + ", ".join(t.name for t in plan.feeds))
    for label, vs in (
        ("reads+writes", plan.rw_vars),
        ("reads", plan.ro_vars),
        ("writes", plan.wo_vars),
    ):
        if vs:
            lines.append(f"state {label}: " + ", ".join(v.op.name for v in vs))
    lines.extend(op_text(op) for op in plan.ops)
    lines.append("fetch: " + ", ".join(t.name for t in plan.fetches))
    return "\n".join(lines)


def window(graph: Graph, op: Operation, radius: int = 3) -> str:
    """The listing lines around ``op``, the op's line marked with ``>>``."""
    ops = graph.get_operations()
    index = ops.index(op)
    lo, hi = max(0, index - radius), min(len(ops), index + radius + 1)
    lines = []
    for o in ops[lo:hi]:
        mark = ">> " if o is op else "   "
        lines.append(mark + op_text(o))
    return "\n".join(lines)
