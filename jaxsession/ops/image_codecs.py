"""``tf.image`` decoding and encoding, run on the host with Pillow.

Decoding (``decode_jpeg``, ``decode_png``, ``decode_image``) is a host op
evaluated before the device call: its contents must be fed, constant or an
iterator's ``get_next()`` (host values all), and the decoded pixels enter the
run like a fed value. Inside a ``Dataset.map`` function it is refused, since
map functions are compiled. Encoding (``encode_png``, ``encode_jpeg``)
runs after the device call on the fetched pixels, as image summaries do.
Pillow is the optional ``jaxsession[image]`` extra; without it these ops
raise ImportError naming the extra.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import HOST_OPS, HOST_POST_OPS, NOT_DIFFERENTIABLE

__all__ = [
    "decode_image",
    "decode_jpeg",
    "decode_png",
    "encode_jpeg",
    "encode_png",
]

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - the test extra has Pillow
        raise ImportError(
            "tf.image decoding and encoding need Pillow: "
            "pip install 'jaxsession[image]'"
        ) from e
    return Image


def _codec_op(
    op_type: str,
    host: Callable[[Operation, list[Any]], Any],
    x: Tensor,
    name: str,
    attrs: dict[str, Any],
    aval: Aval,
) -> Tensor:
    """A codec op, run on the host by the engine (``HOST_OPS``/``HOST_POST_OPS``).

    Inside a ``Dataset.map`` function the region is evaluated op by op on the
    host, which calls the lowering with the host values: it codes them there.
    """
    op_ref: list[Operation] = []

    def lower(*values: Any, **_: Any) -> tuple[Any, ...]:
        out = host(op_ref[0], list(values))
        return out if isinstance(out, tuple) else (out,)

    op = make_op(op_type, lower, [x], name=name, attrs=attrs, out_avals=[aval])
    op_ref.append(op)
    return op.outputs[0]


def _contents(op: Operation, value: Any) -> bytes:
    value = np.asarray(value, dtype=object)
    if value.ndim != 0:
        raise errors.InvalidArgumentError(
            None,
            op,
            f"{op.name}: contents must be a scalar string, got shape {value.shape}",
        )
    item = value.item()
    return item.encode() if isinstance(item, str) else bytes(item)


def _to_array(op: Operation, image: Any, channels: int, dtype: np.dtype) -> np.ndarray:
    if channels:
        image = image.convert(_MODES[channels])
    elif image.mode not in ("L", "LA", "RGB", "RGBA", "I;16", "I;16B"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    if dtype == np.uint16 and arr.dtype == np.uint8:
        arr = arr.astype(np.uint16) * 257  # TF scales 8-bit PNGs to 16 bits
    elif dtype == np.uint8 and arr.dtype != np.uint8:
        arr = (arr.astype(np.uint32) // 257).astype(np.uint8)
    return np.ascontiguousarray(arr, dtype=dtype)


def _decode(op: Operation, ctx: Any, inputs: list[Any]) -> tuple[np.ndarray]:
    del ctx
    image_mod = _pil()
    data = _contents(op, inputs[0])
    kinds = op.attrs["formats"]
    try:
        image = image_mod.open(io.BytesIO(data))
        if image.format not in kinds:
            raise ValueError(f"a {image.format} image, expected {' or '.join(kinds)}")
        frames = getattr(image, "n_frames", 1)
        dtype = np.dtype(op.attrs["dtype"])
        if image.format == "GIF" and op.attrs["animations"]:
            out = []
            for i in range(frames):
                image.seek(i)
                out.append(_to_array(op, image.convert("RGB"), 3, dtype))
            return (np.stack(out),)
        image.load()
        return (_to_array(op, image, op.attrs["channels"], dtype),)
    except (OSError, ValueError, SyntaxError) as e:
        raise errors.InvalidArgumentError(
            None, op, f"{op.name}: cannot decode the contents: {e}"
        ) from None


def _decode_op(
    op_type: str,
    contents: Any,
    channels: int | None,
    formats: tuple[str, ...],
    dtype: Any,
    shape: tuple[int | None, ...] | None,
    name: str | None,
    animations: bool = False,
) -> Tensor:
    _pil()
    channels = int(channels or 0)
    if channels not in (0, 1, 3, 4):
        raise ValueError(f"{op_type}: channels must be 0, 1, 3 or 4, got {channels}")
    x = convert_to_tensor(contents, dtype=dtypes_lib.string, name="contents")
    if x.shape.ndims not in (None, 0):
        raise ValueError(f"{op_type}: contents must be a scalar string, got {x!r}")
    dtype = dtypes_lib.as_dtype(dtype)
    attrs = {
        "channels": channels,
        "formats": formats,
        "dtype": dtype.np_dtype,
        "animations": animations,
    }
    return _codec_op(
        op_type,
        lambda op, values: _decode(op, None, values),
        x,
        name or op_type,
        attrs,
        Aval(shape, dtype),
    )


def decode_jpeg(
    contents: Any,
    channels: int = 0,
    ratio: int = 1,
    fancy_upscaling: bool = True,
    try_recover_truncated: bool = False,
    acceptable_fraction: float = 1,
    dct_method: str = "",
    name: str | None = None,
) -> Tensor:
    """Decodes a JPEG string to a ``[height, width, channels]`` uint8 image.

    ``channels``: 0 keeps the file's, 1 gives grayscale, 3 RGB. The
    remaining arguments are accepted and ignored.

    Raises:
        ValueError: bad ``channels``, or ``contents`` is not a scalar string.
        ImportError: Pillow is not installed (the ``jaxsession[image]`` extra).

    Differs from TF1: decoded by Pillow's libjpeg; pixels may differ from
    TF's by a few levels where the decoders' upsampling differs.
    """
    del ratio, fancy_upscaling, try_recover_truncated, acceptable_fraction
    del dct_method
    shape = (None, None, channels or None)
    return _decode_op(
        "DecodeJpeg", contents, channels, ("JPEG",), dtypes_lib.uint8, shape, name
    )


def decode_png(
    contents: Any,
    channels: int = 0,
    dtype: Any = dtypes_lib.uint8,
    name: str | None = None,
) -> Tensor:
    """Decodes a PNG string to a ``[height, width, channels]`` uint8/uint16 image.

    Raises:
        ValueError: bad ``channels``, or ``contents`` is not a scalar string.
        ImportError: Pillow is not installed (the ``jaxsession[image]`` extra).
    """
    shape = (None, None, channels or None)
    return _decode_op("DecodePng", contents, channels, ("PNG",), dtype, shape, name)


def decode_image(
    contents: Any,
    channels: int | None = None,
    dtype: Any = dtypes_lib.uint8,
    name: str | None = None,
    expand_animations: bool = True,
) -> Tensor:
    """Decodes a PNG, JPEG, GIF or BMP string; GIFs give ``[frames, h, w, 3]``.

    Raises:
        ValueError: bad ``channels``, or ``contents`` is not a scalar string.
        ImportError: Pillow is not installed (the ``jaxsession[image]`` extra).

    Differs from TF1: only uint8 results (TF1 also converts to float dtypes).
    """
    if dtypes_lib.as_dtype(dtype) is not dtypes_lib.uint8:
        raise NotImplementedError("decode_image: only dtype=tf.uint8 is supported")
    shape = None if expand_animations else (None, None, channels or None)
    return _decode_op(
        "DecodeImage",
        contents,
        channels,
        ("PNG", "JPEG", "GIF", "BMP"),
        dtype,
        shape,
        name or "decode_image",
        animations=expand_animations,
    )


def _encode(op: Operation, inputs: list[Any]) -> bytes:
    image_mod = _pil()
    arr = np.asarray(inputs[0])
    channels = arr.shape[-1]
    mode = _MODES[channels]
    if arr.dtype == np.uint16:
        if channels != 1:
            raise errors.UnimplementedError(
                None, op, f"{op.name}: 16-bit PNGs are written for 1 channel only"
            )
        image = image_mod.fromarray(arr[..., 0].astype(np.uint16), "I;16")
    else:
        image = image_mod.fromarray(arr[..., 0] if channels == 1 else arr, mode)
    out = io.BytesIO()
    if op.attrs["format"] == "PNG":
        level = op.attrs["compression"]
        image.save(out, "PNG", compress_level=6 if level < 0 else level)
    else:
        image.save(out, "JPEG", quality=op.attrs["quality"])
    return out.getvalue()


def _encode_value(op: Operation, inputs: list[Any]) -> tuple[np.ndarray]:
    """``_encode`` as a string scalar (the op's value in a ``Dataset.map``)."""
    return (np.array(_encode(op, inputs), dtype=object),)


def _encode_op(
    image: Any, name: str, channel_set: tuple[int, ...], **attrs: Any
) -> Tensor:
    _pil()
    x = convert_to_tensor(image, name="image")
    if x.shape.ndims not in (None, 3) or (
        x.shape.ndims == 3 and x.shape[-1].value not in (None, *channel_set)
    ):
        raise ValueError(
            f"{name}: image must be [height, width, channels] with channels in "
            f"{list(channel_set)}, got {x!r}"
        )
    if x.dtype not in (dtypes_lib.uint8, dtypes_lib.uint16):
        raise TypeError(f"{name}: image must be uint8 (or uint16 PNG), got {x!r}")
    return _codec_op(name, _encode_value, x, name, attrs, Aval((), dtypes_lib.string))


def encode_png(image: Any, compression: int = -1, name: str | None = None) -> Tensor:
    """PNG-encodes a ``[height, width, channels]`` uint8/uint16 image.

    ``compression``: 0-9, -1 for the default. Runs on the host after the
    device call.

    Raises:
        ValueError: the image is not 3-D with 1-4 channels.
        TypeError: the image is not uint8 or uint16.
    """
    del name
    return _encode_op(
        image, "EncodePng", (1, 2, 3, 4), format="PNG", compression=int(compression)
    )


def encode_jpeg(
    image: Any,
    format: str = "",
    quality: int = 95,
    progressive: bool = False,
    optimize_size: bool = False,
    chroma_downsampling: bool = True,
    density_unit: str = "in",
    x_density: int = 300,
    y_density: int = 300,
    xmp_metadata: str = "",
    name: str | None = None,
) -> Tensor:
    """JPEG-encodes a ``[height, width, 1 or 3]`` uint8 image at ``quality``.

    The other arguments are accepted and ignored. Runs on the host after
    the device call.

    Raises:
        ValueError: the image is not 3-D with 1 or 3 channels.
        TypeError: the image is not uint8.
    """
    del format, progressive, optimize_size, chroma_downsampling, density_unit
    del x_density, y_density, xmp_metadata, name
    return _encode_op(image, "EncodeJpeg", (1, 3), format="JPEG", quality=int(quality))


for _op_type in ("DecodeJpeg", "DecodePng", "DecodeImage"):
    HOST_OPS[_op_type] = _decode
for _op_type in ("EncodePng", "EncodeJpeg"):
    HOST_POST_OPS[_op_type] = _encode
NOT_DIFFERENTIABLE.update(
    {"DecodeJpeg", "DecodePng", "DecodeImage", "EncodePng", "EncodeJpeg"}
)
