"""Summary ops (``tf.summary.scalar`` ...) and the SUMMARIES collection.

A summary op's value is a serialized ``Summary`` protocol buffer (a scalar
string). Protocol buffers cannot be built on the device, so every summary op
type is registered in ``HOST_POST_OPS``: the engine computes the op's inputs on
the device, fetches them and builds the protobuf on the host after the call.
The lowering functions registered with the ops are never called.

Tags follow TF1: an op's tag is its unique name under the current name scope
(``scalar("loss", x)`` inside ``name_scope("train")`` has tag ``train/loss``;
a second ``loss`` gets ``train/loss_1``), with ``family`` prefixed.

Differs from TF1: a tensor whose static shape is wrong for the summary is
rejected when the op is built (ValueError, TF1's message); TF1 fails at run
time, as we still do when the shape is only known then.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import re
import struct
import wave
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from tensorboardX import summary as tbx_summary
from tensorboardX.proto import types_pb2
from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboardX.proto.tensor_pb2 import TensorProto
from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import GraphKeys, Operation, Tensor, get_default_graph
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import HOST_POST_BATCHES, HOST_POST_OPS, QUEUE_FILL_SUMMARY
from jaxsession.library.wire import field
from jaxsession.ops import math as math_ops

__all__ = [
    "audio",
    "histogram",
    "image",
    "merge",
    "merge_all",
    "scalar",
    "tensor_summary",
    "text",
]

logger = logging.getLogger("jaxsession")

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")
_STRING_AVAL = Aval((), dtypes_lib.string)
_IMAGE_DTYPES = (
    dtypes_lib.uint8,
    dtypes_lib.float32,
    dtypes_lib.float16,
    dtypes_lib.float64,
)


# -- building -----------------------------------------------------------------------


def _clean_tag(name: str | None) -> str | None:
    if name is None:
        return None
    new_name = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
    if new_name != name:
        logger.info("Summary name %s is illegal; using %s instead.", name, new_name)
    return new_name


@contextlib.contextmanager
def _summary_scope(name: str, family: str | None = None) -> Iterator[tuple[str, str]]:
    """Yields ``(tag, scope)``: the tag is the unique scope name (TF1's rule)."""
    name, family = _clean_tag(name), _clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    with get_default_graph().name_scope(base) as scope:
        inner = scope.rstrip("/")
        yield (inner if family is None else f"{family}/{inner}"), scope


def _collect(value: Tensor, collections: Sequence[str] | None) -> None:
    keys = [GraphKeys.SUMMARIES] if collections is None else collections
    for key in keys:
        get_default_graph().add_to_collection(key, value)


def _host_only(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("summary ops are evaluated on the host, never lowered")


def _summary_op(
    op_type: str, inputs: Sequence[Tensor], name: str, **attrs: Any
) -> Tensor:
    op = make_op(
        op_type, _host_only, inputs, name=name, attrs=attrs, out_avals=[_STRING_AVAL]
    )
    return op.outputs[0]


def _require_real(tensor: Tensor, param: str) -> None:
    d = tensor.dtype
    if not (d.is_floating or d.is_integer) or d.is_complex:
        raise TypeError(
            f"Value passed to parameter '{param}' has DataType {d.name} not in list of "
            "allowed values: float32, float64, int32, uint8, int16, int8, int64, "
            "bfloat16, uint16, float16, uint32, uint64"
        )


def _static_shape(tensor: Tensor) -> tuple[int | None, ...] | None:
    return tensor.shape.as_tuple() if tensor.shape.ndims is not None else None


def scalar(
    name: str,
    tensor: Any,
    collections: Sequence[str] | None = None,
    family: str | None = None,
) -> Tensor:
    """A summary holding one scalar value (``tf.summary.scalar``).

    Args:
        name: Name of the op; with the name scope it is the summary tag.
        tensor: A real numeric scalar.
        collections: Collections to add the op to (default ``[SUMMARIES]``).
        family: Optional tag prefix, shown as a TensorBoard tab.

    Returns:
        A scalar string tensor: the serialized ``Summary``.

    Raises:
        TypeError: ``tensor`` is not real numeric.
        ValueError: ``tensor`` is statically known not to be a scalar.
    """
    with _summary_scope(name, family) as (tag, scope):
        tensor = convert_to_tensor(tensor)
        _require_real(tensor, "values")
        shape = _static_shape(tensor)
        if shape is not None and shape != ():
            raise ValueError(_scalar_shape_message(tag, shape))
        value = _summary_op("ScalarSummary", [tensor], scope, tag=tag)
    _collect(value, collections)
    return value


def queue_fill_summary(
    size: Tensor, capacity: int, min_after_dequeue: int, name: str
) -> Tensor:
    """TF1's scalar summary of a queue's fill, as ``tf.train.batch`` & co. add it.

    Args:
        size: The queue's size (int32 scalar).
        capacity: The queue's capacity.
        min_after_dequeue: Elements a shuffling queue keeps; 0 for a FIFO.
        name: The summary's name (its tag under the enclosing name scope).

    Returns:
        The summary tensor (also in the SUMMARIES collection): the fraction
        of ``capacity - min_after_dequeue`` filled beyond ``min_after_dequeue``.
    """
    if min_after_dequeue:
        size = math_ops.maximum(0, size - min_after_dequeue)
    fraction = math_ops.cast(size, dtypes_lib.float32) * (
        1.0 / (capacity - min_after_dequeue)
    )
    return scalar(name, fraction)


QUEUE_FILL_SUMMARY.append(queue_fill_summary)


def histogram(
    name: str,
    values: Any,
    collections: Sequence[str] | None = None,
    family: str | None = None,
) -> Tensor:
    """A histogram of ``values`` with TF1's exponential buckets (``tf.summary.histogram``).

    For float16/bfloat16/float32 values the bucket counts, min, max and sums
    are computed on the device, inside the run (``HistogramStats``); only
    those come back to build the protocol buffer. Differs from TF1: there,
    ``sum`` and ``sum_squares`` are accumulated in double; here in float32
    (the squares scaled by the largest magnitude, so they do not overflow),
    and subnormal values, though bucketed as TF1 does, count as 0 in min,
    max and the sums where the device flushes them.

    Args:
        name: Name of the op; with the name scope it is the summary tag.
        values: A real numeric tensor of any shape.
        collections: Collections to add the op to (default ``[SUMMARIES]``).
        family: Optional tag prefix.

    Returns:
        A scalar string tensor: the serialized ``Summary``.

    Raises:
        TypeError: ``values`` is not real numeric.
    """
    with _summary_scope(name, family) as (tag, scope):
        values = convert_to_tensor(values)
        _require_real(values, "values")
        if values.dtype in _DEVICE_HISTOGRAM_DTYPES:
            # Only the statistics and bucket counts leave the device.
            stats = make_op(
                "HistogramStats", _device_histogram, [values], name=scope + "stats"
            ).outputs
            value = _summary_op("HistogramSummary", stats, scope, tag=tag, stats=True)
        else:
            value = _summary_op("HistogramSummary", [values], scope, tag=tag)
    _collect(value, collections)
    return value


def image(
    name: str,
    tensor: Any,
    max_outputs: int = 3,
    collections: Sequence[str] | None = None,
    family: str | None = None,
) -> Tensor:
    """PNG images of a ``[batch, height, width, channels]`` tensor (``tf.summary.image``).

    Channels are 1 (grayscale), 3 (RGB) or 4 (RGBA). uint8 values are used
    as they are; float values are scaled as TF1 does: if all are
    non-negative the largest becomes 255, otherwise 0 maps to 128 and the
    largest magnitude to 255 (or 1); non-finite pixels are drawn red. Tags
    are ``<tag>/image/<i>``, or ``<tag>/image`` when ``max_outputs`` is 1.
    The first ``max_outputs`` images are cut and scaled on the device,
    inside the run (``ImageToUint8``): only their bytes come back.

    Args:
        name: Name of the op; with the name scope it is the summary tag.
        tensor: A 4-D uint8 or float tensor.
        max_outputs: At most this many images of the batch are kept.
        collections: Collections to add the op to (default ``[SUMMARIES]``).
        family: Optional tag prefix.

    Returns:
        A scalar string tensor: the serialized ``Summary``.

    Raises:
        ValueError: the static shape is not 4-D with 1, 3 or 4 channels.
    """
    with _summary_scope(name, family) as (tag, scope):
        tensor = convert_to_tensor(tensor)
        if tensor.dtype not in _IMAGE_DTYPES:
            raise TypeError(
                f"Value passed to parameter 'tensor' has DataType {tensor.dtype.name} not "
                "in list of allowed values: uint8, float32, float16, float64"
            )
        shape = _static_shape(tensor)
        if shape is not None and not _image_shape_ok(shape):
            raise ValueError(_image_shape_message(shape))
        max_images = int(max_outputs)
        if shape is not None and max_images > 0:
            kept = shape[0] if shape[0] is None else min(shape[0], max_images)
            tensor = make_op(
                "ImageToUint8",
                _device_images,
                [tensor],
                name=scope + "uint8",
                attrs={"max_images": max_images},
                out_avals=[Aval((kept, *shape[1:]), dtypes_lib.uint8)],
            ).outputs[0]
        value = _summary_op(
            "ImageSummary", [tensor], scope, tag=tag, max_images=max_images
        )
    _collect(value, collections)
    return value


def audio(
    name: str,
    tensor: Any,
    sample_rate: Any,
    max_outputs: int = 3,
    collections: Sequence[str] | None = None,
    family: str | None = None,
) -> Tensor:
    """16-bit WAV clips of a ``[batch, frames(, channels)]`` float tensor (``tf.summary.audio``).

    Values are clipped to [-1, 1]. Tags are ``<tag>/audio/<i>``, or
    ``<tag>/audio`` when ``max_outputs`` is 1.

    Args:
        name: Name of the op; with the name scope it is the summary tag.
        tensor: A 2-D or 3-D float tensor.
        sample_rate: Samples per second (a number or a float32 scalar tensor).
        max_outputs: At most this many clips of the batch are kept.
        collections: Collections to add the op to (default ``[SUMMARIES]``).
        family: Optional tag prefix.

    Returns:
        A scalar string tensor: the serialized ``Summary``.

    Raises:
        ValueError: the static shape is not 2-D or 3-D.
    """
    with _summary_scope(name, family) as (tag, scope):
        tensor = convert_to_tensor(tensor, dtype=dtypes_lib.float32)
        rate = convert_to_tensor(
            sample_rate, dtype=dtypes_lib.float32, name="sample_rate"
        )
        shape = _static_shape(tensor)
        if shape is not None and len(shape) not in (2, 3):
            raise ValueError(_audio_shape_message(shape))
        value = _summary_op(
            "AudioSummaryV2",
            [tensor, rate],
            scope,
            tag=tag,
            max_outputs=int(max_outputs),
        )
    _collect(value, collections)
    return value


def tensor_summary(
    name: str,
    tensor: Any,
    summary_description: str | None = None,
    collections: Sequence[str] | None = None,
    summary_metadata: SummaryMetadata | None = None,
    family: str | None = None,
    display_name: str | None = None,
) -> Tensor:
    """A summary holding a whole tensor (``tf.summary.tensor_summary``).

    Args:
        name: Name of the op; with the name scope it is the summary tag.
        tensor: A tensor of any shape and dtype (strings too).
        summary_description: Stored in the metadata.
        collections: Collections to add the op to (default ``[SUMMARIES]``).
        summary_metadata: A ``SummaryMetadata`` proto (e.g. naming a plugin).
        family: Optional tag prefix.
        display_name: Stored in the metadata.

    Returns:
        A scalar string tensor: the serialized ``Summary``.
    """
    metadata = SummaryMetadata()
    if summary_metadata is not None:
        metadata.CopyFrom(summary_metadata)
    if summary_description is not None:
        metadata.summary_description = summary_description
    if display_name is not None:
        metadata.display_name = display_name
    with _summary_scope(name, family) as (tag, scope):
        tensor = convert_to_tensor(tensor)
        value = _summary_op(
            "TensorSummaryV2",
            [tensor],
            scope,
            tag=tag,
            serialized_summary_metadata=metadata.SerializeToString(),
        )
    _collect(value, collections)
    return value


def text(name: str, tensor: Any, collections: Sequence[str] | None = None) -> Tensor:
    """A string tensor shown in TensorBoard's text tab (``tf.summary.text``).

    Args:
        name: Name of the op; with the name scope it is the summary tag.
        tensor: A string tensor of any shape.
        collections: Collections to add the op to (default ``[SUMMARIES]``).

    Returns:
        A scalar string tensor: the serialized ``Summary``.

    Raises:
        ValueError: ``tensor`` is not a string tensor.
    """
    tensor = convert_to_tensor(tensor)
    if tensor.dtype is not dtypes_lib.string:
        raise ValueError(
            f"Expected tensor {tensor.name} to have dtype string, got {tensor.dtype.name}"
        )
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name="text")
    )
    return tensor_summary(
        name=name, tensor=tensor, summary_metadata=metadata, collections=collections
    )


def merge(
    inputs: Sequence[Any],
    collections: Sequence[str] | None = None,
    name: str | None = None,
) -> Tensor:
    """One summary holding all values of ``inputs`` (``tf.summary.merge``).

    Args:
        inputs: String tensors of serialized ``Summary`` protos.
        collections: Collections to add the merged op to (default: none).
        name: Op name (default ``Merge``).

    Returns:
        A scalar string tensor: the serialized merged ``Summary``.
    """
    graph = get_default_graph()
    with graph.name_scope(name or "Merge"):
        tensors = [convert_to_tensor(x) for x in inputs]
        for t in tensors:
            if t.dtype is not dtypes_lib.string:
                raise TypeError(
                    f"Tensors in list passed to 'inputs' of 'MergeSummary' Op have types "
                    f"[{', '.join(x.dtype.name for x in tensors)}] that do not all "
                    "match string."
                )
        # TF1 names the op inside its own scope: "Merge/MergeSummary".
        value = _summary_op("MergeSummary", tensors, name or "MergeSummary")
    for key in collections or []:
        graph.add_to_collection(key, value)
    return value


def merge_all(
    key: str = GraphKeys.SUMMARIES, scope: str | None = None, name: str | None = None
) -> Tensor | None:
    """Merges every summary in collection ``key`` (``tf.summary.merge_all``).

    Args:
        key: The collection holding the summaries.
        scope: Keep only summaries whose name matches this regex prefix.
        name: Op name of the merge.

    Returns:
        The merged summary tensor, or None if the collection is empty.
    """
    summary_ops = get_default_graph().get_collection(key, scope=scope)
    if not summary_ops:
        return None
    return merge(summary_ops, name=name)


# -- host evaluation ---------------------------------------------------------------


def _as_bytes(summary: Summary) -> np.ndarray:
    return np.array(summary.SerializeToString(), dtype=object)


def _invalid(op: Operation, message: str) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(None, op, message)


def _scalar_shape_message(tag: str, shape: Sequence[int | None]) -> str:
    return f"tags and values not the same shape: [] != {errors.format_dims(shape)} (tag '{tag}')"


def _eval_scalar(op: Operation, inputs: list[Any]) -> np.ndarray:
    value = np.asarray(inputs[0])
    if value.shape != ():
        raise _invalid(op, _scalar_shape_message(op.attrs["tag"], value.shape))
    return _as_bytes(tbx_summary.scalar(op.attrs["tag"], value))


def _default_bucket_limits() -> np.ndarray:
    # TF's histogram.cc: edges growing by 10% from 1e-12 to 1e20, mirrored.
    positive = [1.0e-12]
    while positive[-1] * 1.1 < 1.0e20:
        positive.append(positive[-1] * 1.1)
    positive.append(np.finfo(np.float64).max)
    pos = np.array(positive)
    return np.concatenate([-pos[::-1], [0.0], pos])


_BUCKET_LIMITS = _default_bucket_limits()


def _collapse_empty(
    limits: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # histogram.cc EncodeToProto: each run of empty buckets becomes one bucket
    # ending where the run ends: an empty bucket stays only as a run's last.
    counts = np.asarray(counts)
    full = counts > 0
    keep = full.copy()
    keep[:-1] |= full[1:]
    keep[-1] = True
    return limits[keep], counts[keep].astype(np.float64)


_BIG = float(np.finfo(np.float64).max)


_DOUBLE = struct.Struct("<d")


def _histogram_bytes(
    tag: str,
    scalars: Sequence[float],
    limits: np.ndarray,
    counts: np.ndarray,
) -> bytes:
    """The serialized ``Summary`` of one ``HistogramProto``, byte for byte as protobuf writes it.

    Written by hand, without building messages: this runs on every summary
    step. Proto3's rules: fields in number order; a double is left out when
    all its bits are 0 (-0.0 is written); repeated doubles are packed.

    Args:
        tag: The summary tag.
        scalars: ``min, max, num, sum, sum_squares`` (HistogramProto fields 1-5,
            all doubles).
        limits: The bucket limits (field 6).
        counts: The bucket counts (field 7).
    """
    parts = [
        bytes((number << 3 | 1,)) + _DOUBLE.pack(x)
        for number, x in enumerate(scalars, 1)
        if x or math.copysign(1.0, x) < 0
    ]
    for number, array in ((6, limits), (7, counts)):
        if len(array):
            parts.append(field(number, np.asarray(array, "<f8").tobytes()))
    # Summary.value (1) of a Value: tag (1), histo (5).
    name = field(1, tag.encode()) if tag else b""
    return field(1, name + field(5, b"".join(parts)))


# The bucket limits rounded up to float32: for a float32 value v and a limit
# L, ``v < L`` exactly when ``v < L rounded up``, so counting on the device
# in float32 puts every value in TF1's bucket.
def _limits_f32() -> np.ndarray:
    with np.errstate(over="ignore"):
        down = _BUCKET_LIMITS.astype(np.float32)  # the outermost become +-inf
    up = np.nextafter(down, np.float32(np.inf))
    return np.where(down.astype(np.float64) < _BUCKET_LIMITS, up, down)


_LIMITS_F32 = _limits_f32()
_TINY = float(np.finfo(np.float32).tiny)
_DEVICE_HISTOGRAM_DTYPES = (dtypes_lib.float32, dtypes_lib.float16, dtypes_lib.bfloat16)


# The bucket of a float32 is found from its bits, in integers, so that a device
# that flushes subnormals still places them as NumPy does: the bits of
# non-negative floats sort as the floats. The limits are not symmetric in float32
# (all are rounded up), so each side has its own table of magnitudes. A
# magnitude's top 12 bits (exponent and 4 mantissa bits) cut the line into bins
# narrower than the 10% between limits, so a bin holds at most one limit and a
# table of the limits below each bin leaves one comparison to make.
_BIN_SHIFT = 19
_INF_BITS = int(np.float32(np.inf).view(np.int32))


def _bucket_tables() -> tuple[int, int, np.ndarray, np.ndarray]:
    """``(sides, rows, first, magnitudes)`` for :func:`_bucket_index`.

    ``magnitudes`` holds the bits of the positive limits, then of the negative
    limits' magnitudes, both ascending, then a sentinel above every float;
    ``first[side * rows + bin]`` is the index in ``magnitudes`` of its side's
    first limit at or above the bin's start.
    """
    sides = len(_LIMITS_F32) // 2  # limits on each side of 0
    positive = _LIMITS_F32[sides + 1 :].view(np.int32)
    negative = (-_LIMITS_F32[:sides][::-1]).view(np.int32)
    starts = np.arange((_INF_BITS >> _BIN_SHIFT) + 1, dtype=np.int64) << _BIN_SHIFT
    first = [
        np.searchsorted(bits.astype(np.int64), starts) + offset
        for bits, offset in ((positive, 0), (negative, sides))
    ]
    sentinel = [np.iinfo(np.int32).max]
    magnitudes = np.concatenate([positive, negative, sentinel]).astype(np.int32)
    return sides, len(starts), np.concatenate(first).astype(np.int32), magnitudes


_SIDE_LIMITS, _BIN_ROWS, _BIN_FIRST, _LIMIT_BITS = _bucket_tables()


def _bucket_index(xp: Any, bits: Any) -> Any:
    """``searchsorted(_LIMITS_F32, v, side="right")`` of float32 ``v`` from its bits.

    Args:
        xp: ``numpy`` or ``jax.numpy``.
        bits: The int32 bit patterns of the values.

    Returns:
        The int32 bucket index of each value, equal to NumPy's searchsorted for
        every float32 (NaNs after every limit).
    """
    magnitude = bits & 0x7FFFFFFF
    clipped = xp.minimum(magnitude, _INF_BITS)
    # A negative v is at or above the negative limits -m with m >= |v|: all but
    # those with m < |v|, i.e. m at or below the float just under |v|. -0 and
    # NaNs count as positive (as searchsorted sorts them).
    negative = (bits < 0) & (clipped > 0) & (magnitude <= _INF_BITS)
    clipped = clipped - negative.astype(xp.int32)
    first = xp.asarray(_BIN_FIRST)[
        (clipped >> _BIN_SHIFT) + negative.astype(xp.int32) * _BIN_ROWS
    ]
    # Magnitudes at or below ``clipped``, plus _SIDE_LIMITS on the negative side.
    below = first + (xp.asarray(_LIMIT_BITS)[first] <= clipped).astype(xp.int32)
    return xp.where(negative, 2 * _SIDE_LIMITS - below, _SIDE_LIMITS + 1 + below)


def _device_histogram(values: Any) -> Any:
    """The int32 bucket counts and statistics of ``values``, on the device, in one array.

    One output per histogram rather than two: each output of a run costs
    its own transfer. The array is the count per TF1 bucket, then the bits
    of the float32 ``[min, max, sum, sum_squares / scale**2]``, scale being
    the largest magnitude. Few reductions: each is a step of the program.
    """
    import jax
    import jax.numpy as jnp

    flat = jnp.ravel(values).astype(jnp.float32)
    if flat.size == 0:
        big = np.finfo(np.float32).max
        stats = jnp.array([big, -big, 0.0, 0.0], jnp.float32)
        counts = jnp.zeros(len(_LIMITS_F32), jnp.int32)
    else:
        index = _bucket_index(jnp, jax.lax.bitcast_convert_type(flat, jnp.int32))
        counts = jnp.zeros(len(_LIMITS_F32), jnp.int32).at[index].add(1)
        low, high = jnp.min(flat), jnp.max(flat)  # NaN if any value is
        # Squares scaled by the largest magnitude, so that they cannot overflow.
        scale = jnp.maximum(jnp.maximum(jnp.abs(low), jnp.abs(high)), _TINY)
        squares = jnp.sum(jnp.square(flat / scale))
        stats = jnp.stack([low, high, jnp.sum(flat), squares])
    return jnp.concatenate([counts, jax.lax.bitcast_convert_type(stats, jnp.int32)])


_Stats = tuple[tuple[float, float, float, float, float], np.ndarray, np.ndarray]


def _histogram_stats(values: np.ndarray) -> _Stats:
    """TF1's histogram of ``values``: ((min, max, num, sum, sum_squares), limits, counts)."""
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    index = np.searchsorted(_BUCKET_LIMITS, flat, side="right")
    counts = np.bincount(index, minlength=len(_BUCKET_LIMITS)).astype(np.float64)
    low = float(flat.min()) if flat.size else _BIG
    high = float(flat.max()) if flat.size else -_BIG
    total, squares = float(flat.sum()), float(np.dot(flat, flat))
    scalars = (low, high, float(flat.size), total, squares)
    return (scalars, *_collapse_empty(_BUCKET_LIMITS, counts))


def _eval_histogram(op: Operation, inputs: list[Any]) -> np.ndarray:
    if op.attrs.get("stats"):
        (out,) = _eval_histograms([op], [inputs])
        if isinstance(out, BaseException):
            raise out
        return out
    values = np.asarray(inputs[0], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise _invalid(op, f"Nan in summary histogram for: {op.name}")
    return np.array(
        _histogram_bytes(op.attrs["tag"], *_histogram_stats(values)), dtype=object
    )


def _eval_histograms(ops: list[Operation], inputs: list[list[Any]]) -> list[Any]:
    """The serialized Summaries of many histograms, their device statistics together.

    The run's histograms share each NumPy call (a call costs about a
    microsecond, a histogram needs a dozen). Returns one value per op, or
    the error that op raises (a NaN among its values).
    """
    out: list[Any] = [None] * len(ops)
    device = []
    for i, (op, args) in enumerate(zip(ops, inputs)):
        if op.attrs.get("stats"):
            device.append(i)
        else:
            try:
                out[i] = _eval_histogram(op, args)
            except errors.OpError as e:
                out[i] = e
    if not device:
        return out
    packed = np.stack([np.asarray(inputs[i][0]) for i in device])
    n = len(_LIMITS_F32)
    counts = packed[:, :n]
    stats = packed[:, n:].view(np.float32).tolist()
    nums = counts.sum(axis=1, dtype=np.int64).tolist()
    # _collapse_empty's buckets, of every row at once; flat indices, as a 2-D
    # nonzero() is several times slower.
    full = counts > 0
    keep = full.copy()
    keep[:, :-1] |= full[:, 1:]
    keep[:, -1] = True
    flat = np.flatnonzero(keep)
    rows = flat // n
    limits = _BUCKET_LIMITS[flat - rows * n]
    # A row of ``packed`` is n counts and 4 statistics long.
    kept = packed.ravel()[flat + rows * 4].astype("<f8")
    ends = np.searchsorted(flat, np.arange(1, len(device) + 1) * n).tolist()
    start = 0
    for i, (low, high, total, squares), num, end in zip(device, stats, nums, ends):
        op = ops[i]
        if not (math.isfinite(low) and math.isfinite(high)):
            out[i] = _invalid(op, f"Nan in summary histogram for: {op.name}")
        else:
            # The device's scale, exactly: abs and max of float32 values are exact.
            scale = max(abs(low), abs(high), _TINY)
            if not num:
                low, high = _BIG, -_BIG
            scalars = (low, high, float(num), total, squares * scale * scale)
            stats_bytes = _histogram_bytes(
                op.attrs["tag"], scalars, limits[start:end], kept[start:end]
            )
            out[i] = np.array(stats_bytes, dtype=object)
        start = end
    return out


def _image_shape_ok(shape: Sequence[int | None]) -> bool:
    return len(shape) == 4 and shape[3] in (1, 3, 4, None)


def _image_shape_message(shape: Sequence[int | None]) -> str:
    return (
        f"Tensor must be 4-D with last dim 1, 3, or 4, not {errors.format_dims(shape)}"
    )


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """TF1's float-to-uint8 image transform (summary_image_op.cc)."""
    if image.dtype == np.uint8:
        return image
    values = image.astype(np.float32)
    finite = np.all(np.isfinite(values), axis=-1)
    good = values[finite]
    low = float(good.min()) if good.size else np.inf
    high = float(good.max()) if good.size else -np.inf
    if low < 0:
        max_val = max(abs(low), abs(high))
        scale, offset = (0.0 if max_val < 1e-6 else 127.0 / max_val), 128.0
    else:
        scale, offset = (0.0 if high < 1e-6 else 255.0 / high), 0.0
    out = np.zeros(values.shape, np.uint8)
    out[finite] = (values[finite] * np.float32(scale) + np.float32(offset)).astype(
        np.uint8
    )
    bad_color = np.array([255, 0, 0, 255], np.uint8)[: values.shape[-1]]
    out[~finite] = bad_color
    return out


def _device_images(batch: Any, max_images: int) -> Any:
    """``_to_uint8`` of the first ``max_images`` images, on the device.

    A batch of the wrong rank or channels passes through uncut, for the
    summary op to name the problem.
    """
    import jax.numpy as jnp

    if batch.ndim != 4 or batch.shape[3] not in (1, 3, 4):
        return batch
    batch = batch[:max_images]
    if batch.dtype == jnp.uint8:
        return batch
    values = batch.astype(jnp.float32)
    finite = jnp.all(jnp.isfinite(values), axis=-1, keepdims=True)
    axes = (1, 2, 3)
    low = jnp.min(jnp.where(finite, values, jnp.inf), axis=axes, keepdims=True)
    high = jnp.max(jnp.where(finite, values, -jnp.inf), axis=axes, keepdims=True)
    signed = low < 0
    top = jnp.where(signed, jnp.maximum(jnp.abs(low), jnp.abs(high)), high)
    scale = jnp.where(top < 1e-6, 0.0, jnp.where(signed, 127.0, 255.0) / top)
    offset = jnp.where(signed, 128.0, 0.0).astype(jnp.float32)
    scaled = (values * scale.astype(jnp.float32) + offset).astype(jnp.uint8)
    bad = jnp.asarray(np.array([255, 0, 0, 255], np.uint8)[: batch.shape[3]])
    return jnp.where(finite, scaled, bad)


def _encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an ``[height, width, channels]`` uint8 image (1, 3 or 4 channels)."""
    height, width, channels = image.shape
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = np.asarray(image, np.uint8).reshape(height, width * channels)
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows]).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _output_tags(tag: str, kind: str, max_outputs: int, count: int) -> list[str]:
    # The tag depends on the number requested, not the number produced (TF1).
    if max_outputs > 1:
        return [f"{tag}/{kind}/{i}" for i in range(count)]
    return [f"{tag}/{kind}"] * count


def _eval_image(op: Operation, inputs: list[Any]) -> np.ndarray:
    batch = np.asarray(inputs[0])
    if batch.ndim != 4 or batch.shape[3] not in (1, 3, 4):
        raise _invalid(op, _image_shape_message(batch.shape))
    max_images = op.attrs["max_images"]
    count = min(max_images, batch.shape[0])
    values = []
    for tag, img in zip(
        _output_tags(op.attrs["tag"], "image", max_images, count), batch
    ):
        pixels = _to_uint8(img)
        h, w, c = pixels.shape
        encoded = Summary.Image(
            height=h, width=w, colorspace=c, encoded_image_string=_encode_png(pixels)
        )
        values.append(Summary.Value(tag=tag, image=encoded))
    return _as_bytes(Summary(value=values))


def _audio_shape_message(shape: Sequence[int | None]) -> str:
    return f"Tensor must be 3-D or 2-D, got: {errors.format_dims(shape)}"


def _encode_wav(clip: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV bytes of a ``[frames, channels]`` float clip in [-1, 1]."""
    samples = np.clip(np.round(clip * 32768.0), -32768, 32767).astype("<i2")
    with io.BytesIO() as buffer:
        with wave.open(buffer, "wb") as out:
            out.setnchannels(clip.shape[1])
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(samples.tobytes())
        return buffer.getvalue()


def _eval_audio(op: Operation, inputs: list[Any]) -> np.ndarray:
    clips, rate = np.asarray(inputs[0], np.float32), float(inputs[1])
    if clips.ndim not in (2, 3):
        raise _invalid(op, _audio_shape_message(clips.shape))
    if rate <= 0:
        raise _invalid(op, "sample_rate must be > 0")
    if clips.ndim == 2:
        clips = clips[:, :, None]
    max_outputs = op.attrs["max_outputs"]
    count = min(max_outputs, clips.shape[0])
    values = []
    for tag, clip in zip(
        _output_tags(op.attrs["tag"], "audio", max_outputs, count), clips
    ):
        encoded = Summary.Audio(
            sample_rate=rate,
            num_channels=clip.shape[1],
            length_frames=clip.shape[0],
            encoded_audio_string=_encode_wav(clip, round(rate)),
            content_type="audio/wav",
        )
        values.append(Summary.Value(tag=tag, audio=encoded))
    return _as_bytes(Summary(value=values))


_DT_ENUM = {
    np.dtype(np.float16): types_pb2.DT_HALF,
    np.dtype(np.float32): types_pb2.DT_FLOAT,
    np.dtype(np.float64): types_pb2.DT_DOUBLE,
    np.dtype(np.int8): types_pb2.DT_INT8,
    np.dtype(np.int16): types_pb2.DT_INT16,
    np.dtype(np.int32): types_pb2.DT_INT32,
    np.dtype(np.int64): types_pb2.DT_INT64,
    np.dtype(np.uint8): types_pb2.DT_UINT8,
    np.dtype(np.uint16): types_pb2.DT_UINT16,
    # tensorboardX's copy of types.proto predates these two TF enum values.
    np.dtype(np.uint32): 22,
    np.dtype(np.uint64): 23,
    np.dtype(np.bool_): types_pb2.DT_BOOL,
    np.dtype(np.complex64): types_pb2.DT_COMPLEX64,
    np.dtype(np.complex128): types_pb2.DT_COMPLEX128,
}


def _make_tensor_proto(value: Any) -> TensorProto:
    """A ``TensorProto`` of a NumPy value (strings go to ``string_val``)."""
    array = np.asarray(value)
    shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in array.shape])
    if array.dtype == object or array.dtype.kind in "SU":
        strings = [
            s if isinstance(s, bytes) else str(s).encode() for s in array.reshape(-1)
        ]
        return TensorProto(
            dtype=types_pb2.DT_STRING, tensor_shape=shape, string_val=strings
        )
    if array.dtype not in _DT_ENUM:
        array = array.astype(np.float32)
    content = (
        np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
    )
    return TensorProto(
        dtype=_DT_ENUM[array.dtype], tensor_shape=shape, tensor_content=content
    )


def _eval_tensor(op: Operation, inputs: list[Any]) -> np.ndarray:
    metadata = SummaryMetadata.FromString(op.attrs["serialized_summary_metadata"])
    tensor = _make_tensor_proto(inputs[0])
    value = Summary.Value(tag=op.attrs["tag"], metadata=metadata, tensor=tensor)
    return _as_bytes(Summary(value=[value]))


def _eval_merge(op: Operation, inputs: list[Any]) -> np.ndarray:
    parts: list[bytes] = []
    seen: set[str] = set()
    for item in inputs:
        for serialized in np.asarray(item, dtype=object).reshape(-1):
            try:
                summary = Summary.FromString(serialized)
            except Exception as e:
                raise _invalid(op, "Could not parse one of the summary inputs") from e
            for value in summary.value:
                # Tensor summaries may leave the tag empty; only named ones clash.
                if value.tag and value.tag in seen:
                    raise _invalid(
                        op, f"Duplicate tag {value.tag} found in summary inputs"
                    )
                seen.add(value.tag)
            # Serialized Summaries joined are the Summary of all their values
            # (a repeated field's encoding), without copying the messages.
            parts.append(summary.SerializeToString())
    return np.array(b"".join(parts), dtype=object)


HOST_POST_BATCHES["HistogramSummary"] = _eval_histograms
_HOST_FUNCTIONS: dict[str, Callable[[Operation, list[Any]], np.ndarray]] = {
    "ScalarSummary": _eval_scalar,
    "HistogramSummary": _eval_histogram,
    "ImageSummary": _eval_image,
    "AudioSummaryV2": _eval_audio,
    "TensorSummaryV2": _eval_tensor,
    "MergeSummary": _eval_merge,
}
HOST_POST_OPS.update(_HOST_FUNCTIONS)
