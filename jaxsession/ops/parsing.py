"""Parsing ops: ``tf.train.Example`` features, raw bytes, base64, whole files.

They run on the host (``graph/rules.py``'s ``HOST_OPS``), before the device
call, as TF1's CPU kernels did: their string inputs must be fed, constant,
or the outputs of other host ops (a reader, a queue's dequeue, an
iterator); their outputs enter the device call like feeds. Inside a
``Dataset.map`` function they run on the host with the rest of the function.

Differs from TF1: a ``VarLenFeature`` gives a dense Tensor, each row padded
with the feature's default (0 or ``b''``) to the longest, not a SparseTensor.
"""

from __future__ import annotations

import base64
import binascii
import csv
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from google.protobuf.message import DecodeError

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import HOST_OPS, NOT_DIFFERENTIABLE, constant_value
from jaxsession.ops.example_proto import Example, SequenceExample

__all__ = [
    "FixedLenFeature",
    "FixedLenSequenceFeature",
    "VarLenFeature",
    "decode_base64",
    "decode_csv",
    "decode_raw",
    "encode_base64",
    "parse_example",
    "parse_single_example",
    "parse_single_sequence_example",
    "read_file",
]


class FixedLenFeature(NamedTuple):
    """A feature of fixed shape (``tf.io.FixedLenFeature``).

    Attributes:
        shape: The feature's shape; its values fill it in row-major order.
        dtype: ``tf.float32``, ``tf.int64`` or ``tf.string``.
        default_value: Used when an example lacks the feature; without it,
            a missing feature is an error.
    """

    shape: Any
    dtype: Any
    default_value: Any = None


class FixedLenSequenceFeature(NamedTuple):
    """A feature of any number of elements of ``shape`` (``tf.io.FixedLenSequenceFeature``).

    Parsed to ``[n, *shape]`` (``[batch, longest, *shape]`` by ``parse_example``,
    padded with ``default_value`` or 0); ``allow_missing`` must be True.
    """

    shape: Any
    dtype: Any
    allow_missing: bool = False
    default_value: Any = None


class VarLenFeature(NamedTuple):
    """A feature of any length (``tf.io.VarLenFeature``), given densely here.

    Differs from TF1: parsed as a dense Tensor padded with 0 (``b''`` for
    strings), not a SparseTensor.
    """

    dtype: Any


_KINDS = {"int64": "int64_list", "float32": "float_list", "string": "bytes_list"}
_TYPE_OF_KIND = {"int64_list": "int64", "float_list": "float", "bytes_list": "string"}


class _Spec(NamedTuple):
    """One parsed feature, hashable (an op attribute)."""

    key: str
    dtype: str
    shape: tuple[int, ...] | None  # None: a VarLenFeature
    default: tuple[Any, ...] | None
    sequence: bool = False  # a FixedLenSequenceFeature: default is the padding


def _specs(features: dict[str, Any]) -> tuple[_Spec, ...]:
    if not isinstance(features, dict) or not features:
        raise ValueError(f"features must be a non-empty dict, got {features!r}")
    out = []
    for key in sorted(features):
        spec = features[key]
        dtype = dtypes_lib.as_dtype(spec.dtype)
        if dtype.name not in _KINDS:
            raise ValueError(
                f"Unsupported dtype {dtype.name} for feature {key!r}: expected "
                "float32, int64 or string"
            )
        if isinstance(spec, VarLenFeature):
            out.append(_Spec(key, dtype.name, None, None))
        elif isinstance(spec, FixedLenFeature):
            shape = tuple(int(d) for d in np.atleast_1d(spec.shape or ()))
            out.append(_Spec(key, dtype.name, shape, _default(key, spec, shape, dtype)))
        elif isinstance(spec, FixedLenSequenceFeature):
            if not spec.allow_missing:
                raise ValueError(
                    "Unsupported: FixedLenSequenceFeature requires allow_missing to be True."
                )
            shape = tuple(int(d) for d in np.atleast_1d(spec.shape or ()))
            pad = spec.default_value
            if pad is None:
                pad = b"" if dtype.name == "string" else 0
            out.append(_Spec(key, dtype.name, shape, (pad,), sequence=True))
        else:
            raise ValueError(
                f"Unsupported feature spec for {key!r}: {type(spec).__name__} "
                "(FixedLenFeature, FixedLenSequenceFeature or VarLenFeature)"
            )
    return tuple(out)


def _default(key: str, spec: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    if spec.default_value is None:
        return None
    value = np.asarray(spec.default_value, dtype=_np_dtype(dtype.name))
    size = int(np.prod(shape))
    if value.size == 1 and size != 1:
        value = np.full(shape, value.reshape(()).item(), dtype=value.dtype)
    if value.size != size:
        raise ValueError(
            f"default_value of feature {key!r} has {value.size} values; its shape "
            f"{list(shape)} needs {size}"
        )
    return tuple(value.ravel().tolist())


def _np_dtype(name: str) -> Any:
    return object if name == "string" else np.dtype(name)


def _as_bytes(x: Any) -> bytes:
    return x.encode() if isinstance(x, str) else bytes(x)


def _strings(value: Any) -> np.ndarray:
    """A host string value as an object array of bytes (NumPy ``S`` arrays drop trailing NULs)."""
    arr = np.asarray(value, dtype=object)
    if arr.dtype != object:  # pragma: no cover - asarray(dtype=object) always is
        arr = arr.astype(object)
    return arr


def _invalid(op: Operation, message: str) -> errors.OpError:
    return errors.InvalidArgumentError(None, op, f"{message} (op {op.name!r})")


def _parse_proto(op: Operation, serialized: Any, message: Any = Example) -> Any:
    try:
        return message.FromString(_as_bytes(serialized))
    except (DecodeError, TypeError):
        shown = _as_bytes(serialized)[:40]
        raise _invalid(op, f"Could not parse example input, value: {shown!r}") from None


def _values(op: Operation, spec: _Spec, features: Any) -> list[Any] | None:
    if spec.key not in features:
        return None
    feature = features[spec.key]
    kind = feature.WhichOneof("kind")
    if kind is None:
        return []
    if kind != _KINDS[spec.dtype]:
        raise _invalid(
            op,
            f"Key: {spec.key}.  Data types don't match. Data type: "
            f"{_TYPE_OF_KIND[kind]} but expected type: {_TYPE_OF_KIND[_KINDS[spec.dtype]]}",
        )
    return list(getattr(feature, kind).value)


def _fixed(op: Operation, spec: _Spec, values: list[Any] | None, index: int) -> list:
    """A FixedLenFeature's values in one example (its default when missing)."""
    assert spec.shape is not None
    if values is None:
        if spec.default is None:
            raise _invalid(
                op,
                f"Feature: {spec.key} (data type: {spec.dtype}) is required but "
                "could not be found.",
            )
        return list(spec.default)
    size = math.prod(spec.shape)
    if len(values) != size:
        raise _invalid(
            op,
            f"Key: {spec.key}, Index: {index}.  Number of values != expected.  "
            f"values size: {len(values)} but output shape: {list(spec.shape)}",
        )
    return values


def _padded(op: Operation, spec: _Spec, rows: list[list[Any] | None]) -> np.ndarray:
    """A Var/FixedLenSequenceFeature's rows, padded to the longest."""
    item = spec.shape if spec.sequence else ()
    size = math.prod(item or ())
    rows = [r or [] for r in rows]
    for i, r in enumerate(rows):
        if len(r) % size:
            raise _invalid(
                op,
                f"Key: {spec.key}, Index: {i}.  Number of values is not a multiple "
                f"of the elements' size {size} (shape {list(item)})",
            )
    width = max((len(r) // size for r in rows), default=0)
    fill = spec.default[0] if spec.sequence else b"" if spec.dtype == "string" else 0
    out = np.full((len(rows), width, *item), fill, dtype=_np_dtype(spec.dtype))
    for i, r in enumerate(rows):
        out[i, : len(r) // size] = np.asarray(r, dtype=out.dtype).reshape(-1, *item)
    return out


def _parse_batch(op: Operation, serialized: Any, specs: tuple[_Spec, ...]) -> list[Any]:
    protos = [_parse_proto(op, s) for s in _strings(serialized).ravel()]
    return _columns(op, [p.features.feature for p in protos], specs)


def _columns(
    op: Operation, feature_maps: list[Any], specs: tuple[_Spec, ...]
) -> list[np.ndarray]:
    """Each spec's values over ``feature_maps`` (examples, or a sequence's steps)."""
    out = []
    for spec in specs:
        rows = [_values(op, spec, features) for features in feature_maps]
        if spec.shape is None or spec.sequence:
            out.append(_padded(op, spec, rows))
        else:
            flat = [v for i, r in enumerate(rows) for v in _fixed(op, spec, r, i)]
            column = np.asarray(flat, dtype=_np_dtype(spec.dtype))
            out.append(column.reshape((len(rows), *spec.shape)))
    return out


def _parse_single_host(op: Operation, inputs: Sequence[Any]) -> tuple[Any, ...]:
    serialized = _strings(inputs[0])
    if serialized.ndim != 0:
        raise _invalid(
            op, f"serialized must be a scalar, got shape {list(serialized.shape)}"
        )
    return tuple(v[0] for v in _parse_batch(op, serialized, op.attrs["specs"]))


def _parse_many_host(op: Operation, inputs: Sequence[Any]) -> tuple[Any, ...]:
    serialized = _strings(inputs[0])
    if serialized.ndim != 1:
        raise _invalid(
            op, f"serialized must be a vector, got shape {list(serialized.shape)}"
        )
    return tuple(_parse_batch(op, serialized, op.attrs["specs"]))


def _host_op(
    op_type: str,
    host: Any,
    inputs: Sequence[Any],
    avals: Sequence[Aval],
    name: str | None,
    attrs: dict[str, Any] | None = None,
) -> Operation:
    """An op evaluated on the host by ``host(op, input_values)``."""
    op_ref: list[Operation] = []

    def lower(*values: Any, **_: Any) -> tuple[Any, ...]:
        # Inside a Dataset.map function the subgraph calls the lowering on
        # host values.
        return host(op_ref[0], list(values))

    op = make_op(op_type, lower, inputs, name=name, attrs=attrs, out_avals=list(avals))
    op_ref.append(op)
    return op


def _string_tensor(value: Any, what: str) -> Tensor:
    t = convert_to_tensor(value, dtype=dtypes_lib.string)
    if t.dtype is not dtypes_lib.string:
        raise TypeError(f"{what} must be a string tensor, got {t.dtype.name}")
    return t


def _item_shape(spec: _Spec) -> tuple[int | None, ...]:
    if spec.shape is None:
        return (None,)
    return (None, *spec.shape) if spec.sequence else spec.shape


def _parse(
    op_type: str, serialized: Any, features: dict[str, Any], name: str | None
) -> dict[str, Tensor]:
    specs = _specs(features)
    t = _string_tensor(serialized, "serialized")
    batch = ()
    if op_type == "ParseExample":
        batch = t.shape.as_tuple()[:1] if t.shape.ndims else (None,)
    avals = [
        Aval(
            (*batch, *_item_shape(s)),
            dtypes_lib.as_dtype(s.dtype),
        )
        for s in specs
    ]
    op = _host_op(
        op_type, _HOST[op_type], [t], avals, name or op_type, {"specs": specs}
    )
    return dict(zip((s.key for s in specs), op.outputs))


def parse_single_example(
    serialized: Any,
    features: dict[str, Any],
    name: str | None = None,
    example_names: Any = None,
) -> dict[str, Tensor]:
    """Parses one serialized ``Example`` into a dict of Tensors (``tf.parse_single_example``).

    Args:
        serialized: A scalar string Tensor.
        features: Feature key -> ``FixedLenFeature`` or ``VarLenFeature``.
        name: The op's name.
        example_names: Unused (TF1 names examples in its messages).

    Returns:
        Feature key -> Tensor: a FixedLenFeature's of its shape, a
        VarLenFeature's of shape ``[n]``.

    Raises:
        ValueError: a bad feature spec, naming its key.
        errors.InvalidArgumentError: (at run time) a required feature is
            missing, has the wrong type or the wrong number of values,
            naming its key; or the input is no Example.
    """
    return _parse("ParseSingleExample", serialized, features, name)


def parse_example(
    serialized: Any,
    features: dict[str, Any],
    name: str | None = None,
    example_names: Any = None,
) -> dict[str, Tensor]:
    """Parses a vector of serialized ``Example``s into batched Tensors (``tf.parse_example``).

    Returns:
        Feature key -> Tensor with a leading batch dimension; a
        VarLenFeature's is ``[batch, longest]``, padded with its default.

    Raises:
        ValueError: a bad feature spec.
        errors.InvalidArgumentError: (at run time) as ``parse_single_example``.
    """
    return _parse("ParseExample", serialized, features, name)


def _step_specs(features: dict[str, Any] | None) -> tuple[_Spec, ...]:
    """Sequence features: a FixedLenSequenceFeature is one fixed value per step."""
    out = []
    for key, spec in sorted((features or {}).items()):
        if isinstance(spec, FixedLenSequenceFeature):
            spec = FixedLenFeature(spec.shape, spec.dtype)
        out.extend(_specs({key: spec}))
    return tuple(out)


def _parse_sequence_host(op: Operation, inputs: Sequence[Any]) -> tuple[Any, ...]:
    proto = _parse_proto(op, _strings(inputs[0])[()], SequenceExample)
    context = [c[0] for c in _columns(op, [proto.context.feature], op.attrs["context"])]
    lists = proto.feature_lists.feature_list
    steps = []
    for spec in op.attrs["steps"]:
        features = lists[spec.key].feature if spec.key in lists else []
        steps.extend(_columns(op, [{spec.key: f} for f in features], (spec,)))
    return (*context, *steps)


def parse_single_sequence_example(
    serialized: Any,
    context_features: dict[str, Any] | None = None,
    sequence_features: dict[str, Any] | None = None,
    example_name: Any = None,
    name: str | None = None,
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Parses one ``SequenceExample`` (``tf.parse_single_sequence_example``).

    Args:
        serialized: A scalar string Tensor.
        context_features: Key -> ``FixedLenFeature``/``VarLenFeature`` of
            the context, parsed as by ``parse_single_example``.
        sequence_features: Key -> ``FixedLenSequenceFeature`` (``[steps,
            *shape]``) or ``VarLenFeature`` (``[steps, longest]``, padded)
            of the feature lists; a missing list gives zero steps.
        example_name: Unused.
        name: The op's name.

    Returns:
        ``(context, sequences)``: dicts of Tensors.

    Raises:
        errors.InvalidArgumentError: (at run time) as ``parse_single_example``,
            for the context and for each step.
    """
    context = _specs(context_features) if context_features else ()
    steps = _step_specs(sequence_features)
    avals = [Aval(_item_shape(c), dtypes_lib.as_dtype(c.dtype)) for c in context]
    avals += [
        Aval((None, *_item_shape(c)), dtypes_lib.as_dtype(c.dtype)) for c in steps
    ]
    op = _host_op(
        "ParseSingleSequenceExample",
        _HOST["ParseSingleSequenceExample"],
        [_string_tensor(serialized, "serialized")],
        avals,
        name or "ParseSingleSequenceExample",
        {"context": context, "steps": steps},
    )
    outs = iter(op.outputs)
    return (
        {c.key: next(outs) for c in context},
        {c.key: next(outs) for c in steps},
    )


def _decode_raw_host(op: Operation, inputs: Sequence[Any]) -> tuple[Any, ...]:
    strings = _strings(inputs[0])
    dtype = np.dtype(op.attrs["out_type"]).newbyteorder(
        "<" if op.attrs["little_endian"] else ">"
    )
    rows = (
        [np.frombuffer(_as_bytes(s), dtype=dtype) for s in strings.ravel()]
        if (_check_sizes(op, strings, dtype.itemsize))
        else []
    )
    width = len(rows[0]) if rows else 0
    if any(len(r) != width for r in rows):
        raise _invalid(
            op,
            "DecodeRaw requires input strings to all be the same size, but element "
            f"0 has size {width * dtype.itemsize} != "
            f"{next(len(r) for r in rows if len(r) != width) * dtype.itemsize}",
        )
    out = np.stack(rows) if rows else np.zeros((0, 0), dtype)
    return (out.reshape((*strings.shape, width)).astype(dtype.newbyteorder("=")),)


def _check_sizes(op: Operation, strings: np.ndarray, itemsize: int) -> bool:
    for s in strings.ravel():
        if len(_as_bytes(s)) % itemsize:
            raise _invalid(
                op,
                f"Input to DecodeRaw has length {len(_as_bytes(s))} that is not a "
                f"multiple of {itemsize}, the size of {op.attrs['out_type']}",
            )
    return strings.size > 0


def decode_raw(
    input_bytes: Any = None,
    out_type: Any = None,
    little_endian: bool = True,
    name: str | None = None,
    bytes: Any = None,
) -> Tensor:
    """Reinterprets the bytes of each string as a vector of ``out_type`` (``tf.decode_raw``).

    Returns:
        A Tensor of shape ``input.shape + [n]``.

    Raises:
        errors.InvalidArgumentError: (at run time) a string's length is no
            multiple of the type's size, or the strings differ in length.
    """
    t = _string_tensor(input_bytes if input_bytes is not None else bytes, "input_bytes")
    dtype = dtypes_lib.as_dtype(out_type)
    shape = t.shape.as_tuple()
    op = _host_op(
        "DecodeRaw",
        _HOST["DecodeRaw"],
        [t],
        [Aval(None if shape is None else (*shape, None), dtype)],
        name or "DecodeRaw",
        {"out_type": dtype.np_dtype.name, "little_endian": bool(little_endian)},
    )
    return op.outputs[0]


def _map_strings(op: Operation, value: Any, fn: Any) -> np.ndarray:
    strings = _strings(value)
    out = np.empty(strings.shape, dtype=object)
    out.ravel()[:] = [fn(op, _as_bytes(s)) for s in strings.ravel()]
    return out


def _encode(op: Operation, s: bytes) -> bytes:
    out = base64.urlsafe_b64encode(s)
    return out if op.attrs["pad"] else out.rstrip(b"=")


def _decode(op: Operation, s: bytes) -> bytes:
    try:
        return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        raise _invalid(op, f"Invalid character found in base64: {s[:40]!r}") from None


def _string_map_op(op_type: str, value: Any, name: str | None, **attrs: Any) -> Tensor:
    t = _string_tensor(value, "input")
    op = _host_op(
        op_type,
        _HOST[op_type],
        [t],
        [Aval(t.shape.as_tuple(), dtypes_lib.string)],
        name or op_type,
        attrs,
    )
    return op.outputs[0]


def encode_base64(input: Any, pad: bool = False, name: str | None = None) -> Tensor:
    """Web-safe base64 of each string (``-`` and ``_``), ``=``-padded only if ``pad``."""
    return _string_map_op("EncodeBase64", input, name, pad=bool(pad))


def decode_base64(input: Any, name: str | None = None) -> Tensor:
    """Decodes web-safe base64 strings, padded or not.

    Raises:
        errors.InvalidArgumentError: (at run time) a string is no base64.
    """
    return _string_map_op("DecodeBase64", input, name)


def _read(op: Operation, path: bytes) -> bytes:
    try:
        with open(path.decode(), "rb") as f:
            return f.read()
    except OSError as e:
        raise errors.NotFoundError(
            None, op, f"{path.decode()}; {e.strerror} (op {op.name!r})"
        ) from None


def read_file(filename: Any, name: str | None = None) -> Tensor:
    """The contents of the file ``filename`` names, as a string (``tf.read_file``).

    Raises:
        errors.NotFoundError: (at run time) the file cannot be read, naming it.
    """
    return _string_map_op("ReadFile", filename, name)


_CSV_TYPES = ("float32", "float64", "int32", "int64", "string")


def _csv_default(i: int, default: Any) -> tuple[str, Any]:
    """The dtype name and default (None: required) of column ``i``."""
    if isinstance(default, Tensor):
        dtype, known = default.dtype, constant_value(default)
        if known is None:
            raise ValueError(
                f"record_defaults[{i}] must be a constant, got {default.name}"
            )
        values = np.asarray(known).ravel().tolist()
    else:
        values = list(np.ravel(np.asarray(default, dtype=object)))
        dtype = dtypes_lib.infer_dtype(values[0]) if values else dtypes_lib.float32
    if dtype.name not in _CSV_TYPES:
        raise ValueError(
            f"record_defaults[{i}] has dtype {dtype.name}; expected one of {_CSV_TYPES}"
        )
    if len(values) > 1:
        raise ValueError(f"record_defaults[{i}] must have at most one value")
    return dtype.name, (
        _as_bytes(values[0]) if dtype.name == "string" else values[0]
    ) if values else None


def _csv_field(op: Operation, text: str, column: int, row: int) -> Any:
    dtype, default = op.attrs["columns"][column]
    if text == op.attrs["na_value"] or text == "":
        if default is None:
            raise _invalid(
                op, f"Field {column} is required but missing in record {row}!"
            )
        return default
    if dtype == "string":
        return text.encode()
    try:
        return (int if dtype.startswith("int") else float)(text)
    except ValueError:
        raise _invalid(
            op, f"Field {column} in record {row} is not a valid {dtype}: {text}"
        ) from None


def _decode_csv_host(op: Operation, inputs: Sequence[Any]) -> tuple[Any, ...]:
    records = _strings(inputs[0])
    columns, select = op.attrs["columns"], op.attrs["select_cols"]
    quoting = {} if op.attrs["quote"] else {"quoting": csv.QUOTE_NONE}
    rows = []
    for row, record in enumerate(records.ravel()):
        text = _as_bytes(record).decode()
        fields = next(csv.reader([text], delimiter=op.attrs["delim"], **quoting), [""])
        if select is not None:
            fields = [fields[c] if c < len(fields) else "" for c in select]
        if len(fields) != len(columns):
            raise _invalid(
                op,
                f"Expect {len(columns)} fields but have {len(fields)} in record {row}",
            )
        rows.append([_csv_field(op, f, c, row) for c, f in enumerate(fields)])
    return tuple(
        np.asarray([r[c] for r in rows], dtype=_np_dtype(columns[c][0])).reshape(
            records.shape
        )
        for c in range(len(columns))
    )


def decode_csv(
    records: Any,
    record_defaults: Sequence[Any],
    field_delim: str = ",",
    use_quote_delim: bool = True,
    name: str | None = None,
    na_value: str = "",
    select_cols: Sequence[int] | None = None,
) -> list[Tensor]:
    """Splits CSV records into columns (``tf.decode_csv``).

    Args:
        records: A string Tensor; each string is one CSV line.
        record_defaults: Per column, ``[value]`` (its dtype and default for
            an empty field) or ``[]``/an empty Tensor (a required column).
        field_delim: The field separator.
        use_quote_delim: Whether ``"`` quotes fields.
        name: The op's name.
        na_value: A field equal to it counts as empty.
        select_cols: Only these columns (sorted), one default each.

    Returns:
        One Tensor per column, of ``records``' shape.

    Raises:
        ValueError: a bad default, or ``select_cols`` does not match them.
        errors.InvalidArgumentError: (at run time) a record has the wrong
            number of fields, misses a required one or has one that is no
            number, naming the record and field.
    """
    if select_cols is not None and len(select_cols) != len(record_defaults):
        raise ValueError("Length of select_cols and record_defaults do not match.")
    columns = tuple(_csv_default(i, d) for i, d in enumerate(record_defaults))
    t = _string_tensor(records, "records")
    op = _host_op(
        "DecodeCSV",
        _HOST["DecodeCSV"],
        [t],
        [Aval(t.shape.as_tuple(), dtypes_lib.as_dtype(c[0])) for c in columns],
        name or "DecodeCSV",
        {
            "columns": columns,
            "delim": field_delim,
            "quote": bool(use_quote_delim),
            "na_value": na_value,
            "select_cols": None if select_cols is None else tuple(select_cols),
        },
    )
    return list(op.outputs)


def _strings_by(fn: Any) -> Any:
    return lambda op, inputs: (_map_strings(op, inputs[0], fn),)


# op type -> fn(op, input_values) -> output values, run on the host.
_HOST = {
    "ParseSingleExample": _parse_single_host,
    "ParseExample": _parse_many_host,
    "DecodeRaw": _decode_raw_host,
    "EncodeBase64": _strings_by(_encode),
    "DecodeBase64": _strings_by(_decode),
    "ReadFile": _strings_by(_read),
    "DecodeCSV": _decode_csv_host,
    "ParseSingleSequenceExample": _parse_sequence_host,
}


def _register(op_type: str, host: Any) -> None:
    HOST_OPS[op_type] = lambda op, ctx, values: host(op, values)
    NOT_DIFFERENTIABLE.add(op_type)


for _type, _fn in _HOST.items():
    _register(_type, _fn)
