"""A Graph as TF1's ``GraphDef`` proto, for TensorBoard's graph tab.

Each op becomes a ``NodeDef`` with its name, op type and inputs in TF's
convention (``"op"`` for output 0, ``"op:1"``, ``"^op"`` for control
inputs, always last), its device (``tf.device``), an ``_output_shapes``
attr, a dtype attr (``dtype`` for ops without inputs, ``T`` otherwise) and
the op's scalar attributes. It depends on the tensorboardX protos only, so
``Graph.as_graph_def`` can use it.

Differs from TF1: a variable an op reads or writes appears as an extra input
naming the variable's op (TF1 ops take the variable as an explicit input);
attributes that are not scalars, strings or lists of them (a Const's value,
functions) are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tensorboardX.proto.attr_value_pb2 import AttrValue
from tensorboardX.proto.graph_pb2 import GraphDef
from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboardX.proto.types_pb2 import DataType

if TYPE_CHECKING:
    from jaxsession.graph.core import Graph

# The GraphDef version TF 1.15 wrote; TensorBoard only displays it.
_PRODUCER = 134

_DTYPE_ENUMS = {
    "float16": DataType.DT_HALF,
    "bfloat16": DataType.DT_BFLOAT16,
    "float32": DataType.DT_FLOAT,
    "float64": DataType.DT_DOUBLE,
    "int8": DataType.DT_INT8,
    "int16": DataType.DT_INT16,
    "int32": DataType.DT_INT32,
    "int64": DataType.DT_INT64,
    "uint8": DataType.DT_UINT8,
    "uint16": DataType.DT_UINT16,
    "uint32": 22,  # DT_UINT32: missing from tensorboardX's copy of types.proto
    "uint64": 23,  # DT_UINT64
    "bool": DataType.DT_BOOL,
    "complex64": DataType.DT_COMPLEX64,
    "complex128": DataType.DT_COMPLEX128,
    "string": DataType.DT_STRING,
}


def dtype_enum(dtype: Any) -> int:
    """The ``DataType`` enum value of a jaxsession DType (DT_INVALID if none)."""
    return _DTYPE_ENUMS.get(getattr(dtype, "name", ""), DataType.DT_INVALID)


def shape_proto(shape: tuple[int | None, ...] | None) -> TensorShapeProto:
    """A ``TensorShapeProto``: unknown rank, or dims with -1 for unknown sizes."""
    if shape is None:
        return TensorShapeProto(unknown_rank=True)
    dims = [TensorShapeProto.Dim(size=-1 if d is None else int(d)) for d in shape]
    return TensorShapeProto(dim=dims)


def tensor_input_name(tensor: Any) -> str:
    """TF's input string for a tensor: ``"op"`` for output 0, else ``"op:i"``."""
    if tensor.value_index == 0:
        return tensor.op.name
    return f"{tensor.op.name}:{tensor.value_index}"


def _attr_value(value: Any) -> AttrValue | None:
    if isinstance(value, bool):
        return AttrValue(b=value)
    if isinstance(value, int):
        return AttrValue(i=value)
    if isinstance(value, float):
        return AttrValue(f=value)
    if isinstance(value, str):
        return AttrValue(s=value.encode())
    if isinstance(value, bytes):
        return AttrValue(s=value)
    if isinstance(value, list | tuple) and value:
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return AttrValue(list=AttrValue.ListValue(i=list(value)))
        if all(isinstance(v, float | int) and not isinstance(v, bool) for v in value):
            return AttrValue(list=AttrValue.ListValue(f=[float(v) for v in value]))
        if all(isinstance(v, str) for v in value):
            return AttrValue(list=AttrValue.ListValue(s=[v.encode() for v in value]))
    return None


def _op_inputs(op: Any) -> list[str]:
    names = [tensor_input_name(t) for t in op.inputs]
    state = [*op.reads, *(var for var, _ in op.writes)]
    for var in state:
        var_op = getattr(var, "op", None)
        if var_op is not None and var_op is not op and var_op.name not in names:
            names.append(var_op.name)
    names.extend(f"^{c.name}" for c in op.control_inputs)
    return names


def node_def(op: Any, node: Any, add_shapes: bool = True) -> None:
    """Fills the ``NodeDef`` ``node`` from the Operation ``op``.

    Args:
        op: The Operation.
        node: The ``NodeDef`` to fill.
        add_shapes: Add the ``_output_shapes`` attr.
    """
    node.name = op.name
    node.op = op.type
    node.device = op.device
    node.input.extend(_op_inputs(op))
    if add_shapes:
        shapes = [shape_proto(aval.shape) for aval in op.out_avals]
        node.attr["_output_shapes"].list.shape.extend(shapes)
    if op.out_avals:
        key = "T" if op.inputs else "dtype"
        node.attr[key].type = dtype_enum(op.out_avals[0].dtype)
    for name, value in op.attrs.items():
        attr = _attr_value(value)
        if attr is not None and name not in node.attr:
            node.attr[name].CopyFrom(attr)


def graph_to_graph_def(
    graph: Graph, add_shapes: bool = True, from_version: int | None = None
) -> GraphDef:
    """The ``GraphDef`` of ``graph``: one ``NodeDef`` per op, in creation order.

    Args:
        graph: The Graph.
        add_shapes: Give each node an ``_output_shapes`` attr (TensorBoard
            shows them on the graph's edges).
        from_version: Only the ops added since ``graph.version`` was this.

    Returns:
        The GraphDef proto.
    """
    graph_def = GraphDef()
    graph_def.versions.producer = _PRODUCER
    for op in graph.get_operations()[from_version or 0 :]:
        node_def(op, graph_def.node.add(), add_shapes)
    return graph_def
