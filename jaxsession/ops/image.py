"""``tf.image`` on the device: resizing, crops, flips, colour, standardization.

Images are 3-D ``[height, width, channels]`` or 4-D ``[batch, height, width,
channels]``. Each function is one op (or a few) with a JAX lowering; sizes
that TF1 computes from ``tf.shape`` are read from the traced shapes, so
partially known images work. The random ones draw with TF1's seed rules
(``graph/random.py``). Colour and dtype conversion are in ``image_color.py``;
decoding and encoding run on the host (``image_codecs.py``).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxsession.graph import dtypes as dtypes_lib, random as random_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.ops.array._common import _ints, _static, partial_shape_value

__all__ = [
    "ResizeMethod",
    "central_crop",
    "crop_to_bounding_box",
    "flip_left_right",
    "flip_up_down",
    "pad_to_bounding_box",
    "random_crop",
    "random_flip_left_right",
    "random_flip_up_down",
    "resize",
    "resize_bicubic",
    "resize_bilinear",
    "resize_image_with_crop_or_pad",
    "resize_images",
    "resize_nearest_neighbor",
    "resize_with_crop_or_pad",
    "rot90",
    "transpose",
    "transpose_image",
]


class ResizeMethod:
    """The ``method`` of ``resize_images`` (TF1's integer codes)."""

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


# -- checks ---------------------------------------------------------------------


def _image(image: Any, what: str = "image", ranks: tuple[int, ...] = (3, 4)) -> Tensor:
    """``image`` as a tensor of one of ``ranks`` (unknown rank passes)."""
    x = convert_to_tensor(image, name=what)
    rank = x.shape.ndims
    if rank is not None and rank not in ranks:
        want = " or ".join(map(str, ranks))
        either = "either " if len(ranks) > 1 else ""
        raise ValueError(
            f"'{what}' must have {either}{want} dimensions: {x!r} has {rank}."
        )
    return x


def _dims(x: Tensor) -> tuple[int | None, int | None]:
    """The static height and width (None where unknown)."""
    if x.shape.ndims is None:
        return (None, None)
    return (x.shape[-3].value, x.shape[-2].value)


def _op(
    op_type: str,
    fn: Any,
    inputs: list[Any],
    name: str,
    hw: tuple[int, int] | None = None,
    **attrs: Any,
) -> Tensor:
    """One image op; ``hw``: the output's height and width, where TF1 knows them."""
    avals = None
    x = inputs[0]
    if hw is not None and x.shape.ndims is not None:
        avals = [Aval((*x.shape.as_tuple()[:-3], *hw, x.shape[-1].value), x.dtype)]
    return make_op(
        op_type, fn, inputs, name=name, attrs=attrs, out_avals=avals
    ).outputs[0]


# -- resizing -------------------------------------------------------------------


def _sources(
    in_size: int, out_size: int, align_corners: bool, half_pixel: bool, nearest: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output index: lower and upper source index and the weight of upper.

    TF's resize kernels compute in float32, so these do too.
    """
    f32 = np.float32
    scale = (
        f32((in_size - 1) / (out_size - 1))
        if align_corners and out_size > 1
        else f32(in_size / out_size)
    )
    i = np.arange(out_size, dtype=f32)
    if nearest:
        src = (i + f32(0.5)) * scale if half_pixel else i * scale
        # TF rounds half away from zero (roundf); floor(x + 0.5) for x >= 0.
        idx = np.floor(src + f32(0.5)) if align_corners else np.floor(src)
        idx = np.clip(idx, 0, in_size - 1).astype(np.int32)
        return idx, idx, np.zeros(out_size, f32)
    src = (i + f32(0.5)) * scale - f32(0.5) if half_pixel else i * scale
    floor = np.floor(src)
    lower = np.maximum(floor, 0).astype(np.int32)
    upper = np.minimum(np.ceil(src), in_size - 1).astype(np.int32)
    return lower, upper, (src - floor).astype(f32)


_TABLE_SIZE = 1024


def _cubic_taps(
    in_size: int, out_size: int, align_corners: bool, half_pixel: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per output index: 4 source indices and their weights, as TF's bicubic.

    TF quantizes the fraction to 1/1024 and uses Keys' cubic with a = -0.75
    (legacy) or -0.5 with out-of-range taps dropped (half-pixel centres).
    """
    f32 = np.float32
    a = -0.5 if half_pixel else -0.75
    scale = (
        f32((in_size - 1) / (out_size - 1))
        if align_corners and out_size > 1
        else f32(in_size / out_size)
    )
    i = np.arange(out_size, dtype=f32)
    src = (i + f32(0.5)) * scale - f32(0.5) if half_pixel else i * scale
    floor = np.floor(src)
    offset = np.rint((src - floor) * _TABLE_SIZE).astype(np.int64)

    def near(t: np.ndarray) -> np.ndarray:  # |t| <= 1
        return ((a + 2) * t - (a + 3)) * t * t + 1

    def far(t: np.ndarray) -> np.ndarray:  # 1 < |t| < 2
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a

    x = offset / _TABLE_SIZE
    y = (_TABLE_SIZE - offset) / _TABLE_SIZE
    weights = np.stack([far(x + 1), near(x), near(y), far(y + 1)], -1)
    taps = floor.astype(np.int64)[:, None] + np.arange(-1, 3)
    bounded = np.clip(taps, 0, in_size - 1)
    if half_pixel:
        weights = np.where(taps == bounded, weights, 0.0)
        weights = weights / weights.sum(-1, keepdims=True)
    return bounded.astype(np.int32), weights.astype(f32)


def _resize_cubic(x: Any, size: tuple[int, int], **flags: Any) -> Any:
    for axis, out in ((1, size[0]), (2, size[1])):
        taps, weights = _cubic_taps(x.shape[axis], out, **flags)
        gathered = jnp.take(x, taps.reshape(-1), axis=axis)
        shape = list(x.shape)
        shape[axis : axis + 1] = [out, 4]
        gathered = gathered.reshape(shape)
        wshape = [1] * len(shape)
        wshape[axis : axis + 2] = [out, 4]
        x = jnp.sum(gathered * weights.reshape(wshape), axis=axis + 1)
    return x


def _resize(
    x: Any,
    sizes: Any = None,
    *,
    size: tuple[int, int] | None,
    nearest: bool,
    align_corners: bool,
    half_pixel_centers: bool,
    cubic: bool = False,
) -> Any:
    if size is None:  # a size tensor, from static shapes when traced
        size = _ints(sizes, "size")
    squeeze = x.ndim == 3
    if squeeze:
        x = x[None]
    if not nearest:
        x = x.astype(jnp.float32)
    if cubic:
        out = _resize_cubic(
            x, size, align_corners=align_corners, half_pixel=half_pixel_centers
        )
        return out[0] if squeeze else out
    for axis, out in ((1, size[0]), (2, size[1])):
        lower, upper, weight = _sources(
            x.shape[axis], out, align_corners, half_pixel_centers, nearest
        )
        low = jnp.take(x, lower, axis=axis)
        if not nearest:
            high = jnp.take(x, upper, axis=axis)
            shape = [1] * x.ndim
            shape[axis] = out
            low = low + (high - low) * weight.reshape(shape)
        x = low
    return x[0] if squeeze else x


def _size(size: Any) -> tuple[int, int] | Tensor:
    """The new size: 2 ints, or a 1-D tensor whose value only the run knows.

    A tensor computed from ``tf.shape`` (``tf.shape(skip)[1:3]``) gets its
    value when the run is traced, as shape arithmetic stays static there.
    """
    if isinstance(size, Tensor):
        known = partial_shape_value(size) if size.shape.ndims == 1 else None
        if known is None or len(known) != 2:
            raise ValueError(
                f"'size' must be a 1-D int32 Tensor of 2 elements: {size!r}"
            )
        if None in known:
            return size
        size = known
    size = _static(size, "size")
    if not isinstance(size, tuple) or len(size) != 2:
        raise ValueError(f"'size' must be a 1-D int32 Tensor of 2 elements: {size!r}")
    if any(int(s) <= 0 for s in size):
        raise ValueError(f"'size' must be positive, got {list(size)}")
    return (int(size[0]), int(size[1]))


def _resize_op(
    op_type: str,
    images: Any,
    size: Any,
    nearest: bool,
    align_corners: bool,
    half_pixel_centers: bool,
    name: str | None,
    cubic: bool = False,
    ranks: tuple[int, ...] = (4,),
) -> Tensor:
    x = _image(images, "images", ranks)
    if align_corners and half_pixel_centers:
        raise ValueError("If half_pixel_centers is True, align_corners must be False.")
    size = _size(size)
    attrs = {
        "nearest": nearest,
        "align_corners": bool(align_corners),
        "half_pixel_centers": bool(half_pixel_centers),
        "cubic": cubic,
    }
    if isinstance(size, tuple):
        return _op(op_type, _resize, [x], name or op_type, size=size, **attrs)
    hw = partial_shape_value(size)
    shape = (
        None
        if x.shape.ndims is None
        else (*x.shape.as_tuple()[:-3], *hw, x.shape[-1].value)
    )
    avals = [Aval(shape, x.dtype if nearest else dtypes_lib.float32)]
    return make_op(
        op_type,
        _resize,
        [x, size],
        name=name or op_type,
        attrs={"size": None, **attrs},
        out_avals=avals,
    ).outputs[0]


def resize_bilinear(
    images: Any,
    size: Any,
    align_corners: bool = False,
    name: str | None = None,
    half_pixel_centers: bool = False,
) -> Tensor:
    """Bilinear resize of 4-D images to ``size`` ``[height, width]``.

    The result is float32 whatever the input dtype, as TF1's kernel gives.
    ``align_corners`` maps the corner pixels onto each other;
    ``half_pixel_centers`` samples at pixel centres (TF2's default).

    Raises:
        ValueError: bad rank, a ``size`` unknown while building, or both flags.
    """
    return _resize_op(
        "ResizeBilinear", images, size, False, align_corners, half_pixel_centers, name
    )


def resize_nearest_neighbor(
    images: Any,
    size: Any,
    align_corners: bool = False,
    name: str | None = None,
    half_pixel_centers: bool = False,
) -> Tensor:
    """Nearest-neighbour resize; keeps the dtype. Flags as ``resize_bilinear``.

    Raises:
        ValueError: as ``resize_bilinear``.
    """
    return _resize_op(
        "ResizeNearestNeighbor",
        images,
        size,
        True,
        align_corners,
        half_pixel_centers,
        name,
    )


def resize_bicubic(
    images: Any,
    size: Any,
    align_corners: bool = False,
    name: str | None = None,
    half_pixel_centers: bool = False,
) -> Tensor:
    """Bicubic resize (float32 result), TF1's kernel; flags as ``resize_bilinear``.

    Raises:
        ValueError: as ``resize_bilinear``.
    """
    return _resize_op(
        "ResizeBicubic",
        images,
        size,
        False,
        align_corners,
        half_pixel_centers,
        name,
        cubic=True,
    )


def _aspect_size(x: Tensor, size: tuple[int, int]) -> tuple[int, int]:
    h, w = _dims(x)
    if h is None or w is None:
        raise ValueError(
            f"preserve_aspect_ratio needs the height and width of {x!r} while building"
        )
    scale = min(size[0] / h, size[1] / w)
    return (math.floor(h * scale), math.floor(w * scale))


def resize_images(
    images: Any,
    size: Any,
    method: int = ResizeMethod.BILINEAR,
    align_corners: bool = False,
    preserve_aspect_ratio: bool = False,
    name: str | None = None,
) -> Tensor:
    """Resizes images to ``size`` with ``method`` (TF1's ``tf.image.resize``).

    TF1's sampling: corners not aligned and no half-pixel centres unless
    ``align_corners``. Bilinear gives float32; nearest neighbour keeps the
    dtype.

    Args:
        images: 3-D or 4-D images.
        size: ``[new_height, new_width]``, known while building.
        method: ``ResizeMethod.BILINEAR``, ``NEAREST_NEIGHBOR`` or ``BICUBIC``.
        align_corners: Whether the corner pixels map onto each other.
        preserve_aspect_ratio: Fit inside ``size`` keeping the aspect ratio.
        name: Name scope (default ``resize``).

    Returns:
        The resized images.

    Raises:
        ValueError: bad rank or size.
        NotImplementedError: ``AREA``.

    Differs from TF1: area resizing is not implemented.
    """
    if method not in (0, 1, 2):
        raise NotImplementedError(
            f"resize_images: method {method} is not implemented (bilinear=0, "
            "nearest neighbor=1 and bicubic=2 are)"
        )
    x = _image(images, "images")
    size = _size(size)
    with name_scope(name or "resize"):
        if preserve_aspect_ratio:
            size = _aspect_size(x, size)
        op_type = ("ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic")[method]
        return _resize_op(
            op_type,
            x,
            size,
            method == 1,
            align_corners,
            False,
            None,
            cubic=method == 2,
            ranks=(3, 4),
        )


resize = resize_images


# -- flips and rotations --------------------------------------------------------


def _flip(x: Any, *, axis: int) -> Any:
    return jnp.flip(x, x.ndim + axis)


def flip_left_right(image: Any) -> Tensor:
    """Mirrors images along their width.

    Raises:
        ValueError: the image is not 3-D or 4-D.
    """
    with name_scope("flip_left_right"):
        return _op("ReverseV2", _flip, [_image(image)], "ReverseV2", axis=-2)


def flip_up_down(image: Any) -> Tensor:
    """Mirrors images along their height.

    Raises:
        ValueError: the image is not 3-D or 4-D.
    """
    with name_scope("flip_up_down"):
        return _op("ReverseV2", _flip, [_image(image)], "ReverseV2", axis=-3)


def _random_flip(x: Any, *, key: Any, seed: tuple[int, int], axis: int) -> Any:
    # One coin for a 3-D image, one per image of a batch (as TF1 does).
    shape = (x.shape[0],) + (1,) * (x.ndim - 1) if x.ndim == 4 else ()
    coin = jax.random.uniform(random_lib.op_key(key, seed), shape) < 0.5
    return jnp.where(coin, jnp.flip(x, x.ndim + axis), x)


def _random_flip_op(image: Any, seed: int | None, axis: int, scope: str) -> Tensor:
    x = _image(image)
    with name_scope(scope):
        return make_op(
            "RandomFlip",
            _random_flip,
            [x],
            name="ReverseV2",
            random=True,
            attrs={"seed": random_lib.get_seed(seed), "axis": axis},
        ).outputs[0]


def random_flip_left_right(image: Any, seed: int | None = None) -> Tensor:
    """Mirrors each image along its width with probability 1/2.

    Raises:
        ValueError: the image is not 3-D or 4-D.
    """
    return _random_flip_op(image, seed, -2, "random_flip_left_right")


def random_flip_up_down(image: Any, seed: int | None = None) -> Tensor:
    """Mirrors each image along its height with probability 1/2.

    Raises:
        ValueError: the image is not 3-D or 4-D.
    """
    return _random_flip_op(image, seed, -3, "random_flip_up_down")


def _transpose_image(x: Any) -> Any:
    return jnp.swapaxes(x, -3, -2)


def transpose_image(image: Any, name: str | None = None) -> Tensor:
    """Swaps the height and width of images.

    Raises:
        ValueError: the image is not 3-D or 4-D.
    """
    with name_scope(name or "transpose"):
        return _op("Transpose", _transpose_image, [_image(image)], "transpose")


transpose = transpose_image


def _rot90(x: Any, *, k: int) -> Any:
    return jnp.rot90(x, k, axes=(x.ndim - 3, x.ndim - 2))


def rot90(image: Any, k: int = 1, name: str | None = None) -> Tensor:
    """Rotates images counter-clockwise by ``k`` quarter turns.

    Raises:
        ValueError: the image is not 3-D or 4-D.
        TypeError: ``k`` is not known while building.

    Differs from TF1: ``k`` must be known while building (TF1 accepts a fed
    tensor and builds a ``case`` over the four rotations).
    """
    x = _image(image)
    k = int(_static(k, "k")) % 4
    with name_scope(name or "rot90"):
        return _op("Rot90", _rot90, [x], "Rot90", k=k)


# -- crops and pads -------------------------------------------------------------


def _static_ints(values: Any, what: str) -> tuple[int, ...]:
    return tuple(int(v) for v in _static(list(values), what))


def _crop(x: Any, *, box: tuple[int, int, int, int]) -> Any:
    top, left, height, width = box
    return x[..., top : top + height, left : left + width, :]


def _pad(x: Any, *, box: tuple[int, int, int, int]) -> Any:
    top, left, height, width = box
    pads = [(0, 0)] * x.ndim
    pads[-3] = (top, height - top - x.shape[-3])
    pads[-2] = (left, width - left - x.shape[-2])
    return jnp.pad(x, pads)


def _check_box(x: Tensor, box: tuple[int, ...], crop: bool) -> None:
    top, left, height, width = box
    if min(box) < 0 or (crop and min(height, width) <= 0):
        raise ValueError(f"offsets and sizes must be non-negative, got {list(box)}")
    for size, offset, target, what in zip(
        _dims(x), (top, left), (height, width), ("height", "width")
    ):
        if size is None:
            continue
        if crop and size < target + offset:
            raise ValueError(
                f"{what} must be >= target + offset: {x!r} has {what} {size}, "
                f"the box needs {target} + {offset}."
            )
        if not crop and target - offset < size:
            raise ValueError(
                f"{what} must be <= target - offset: {x!r} has {what} {size}, "
                f"the box leaves {target} - {offset}."
            )


def _box_op(image: Any, box: Any, crop: bool) -> Tensor:
    x = _image(image)
    box = _static_ints(box, "box")
    _check_box(x, box, crop)
    scope, op_type, fn = (
        ("crop_to_bounding_box", "Slice", _crop)
        if crop
        else ("pad_to_bounding_box", "Pad", _pad)
    )
    with name_scope(scope):
        return _op(op_type, fn, [x], op_type, hw=box[2:], box=box)


def crop_to_bounding_box(
    image: Any,
    offset_height: Any,
    offset_width: Any,
    target_height: Any,
    target_width: Any,
) -> Tensor:
    """Crops the ``target_height x target_width`` box at the given offset.

    Raises:
        ValueError: bad rank, or the box does not fit inside the image.
    """
    box = (offset_height, offset_width, target_height, target_width)
    return _box_op(image, box, crop=True)


def pad_to_bounding_box(
    image: Any,
    offset_height: Any,
    offset_width: Any,
    target_height: Any,
    target_width: Any,
) -> Tensor:
    """Pads images with zeros to ``target_height x target_width``, at the offset.

    Raises:
        ValueError: bad rank, or the image does not fit inside the target.
    """
    box = (offset_height, offset_width, target_height, target_width)
    return _box_op(image, box, crop=False)


def _central_crop(x: Any, *, fraction: float) -> Any:
    starts = [int((s - s * fraction) / 2) for s in x.shape[-3:-1]]
    box = (
        starts[0],
        starts[1],
        x.shape[-3] - 2 * starts[0],
        x.shape[-2] - 2 * starts[1],
    )
    return _crop(x, box=box)


def central_crop(image: Any, central_fraction: float) -> Tensor:
    """Keeps the central ``central_fraction`` of each side of the images.

    Raises:
        ValueError: bad rank, or ``central_fraction`` outside (0, 1].
    """
    if central_fraction <= 0.0 or central_fraction > 1.0:
        raise ValueError("central_fraction must be within (0, 1]")
    x = _image(image)
    with name_scope("central_crop"):
        if central_fraction == 1.0:
            return x
        return _op(
            "Slice", _central_crop, [x], "Slice", fraction=float(central_fraction)
        )


def _crop_or_pad(x: Any, *, target: tuple[int, int]) -> Any:
    h, w = x.shape[-3], x.shape[-2]
    th, tw = target
    crop = (max((h - th) // 2, 0), max((w - tw) // 2, 0), min(h, th), min(w, tw))
    x = _crop(x, box=crop)
    pad = (max((th - h) // 2, 0), max((tw - w) // 2, 0), th, tw)
    return _pad(x, box=pad)


def resize_image_with_crop_or_pad(
    image: Any, target_height: int, target_width: int
) -> Tensor:
    """Centrally crops or zero-pads images to ``target_height x target_width``.

    Raises:
        ValueError: bad rank or non-positive target sizes.
    """
    x = _image(image)
    target = _static_ints((target_height, target_width), "target")
    if min(target) <= 0:
        raise ValueError(f"target sizes must be positive, got {list(target)}")
    with name_scope("resize_image_with_crop_or_pad"):
        return _op(
            "CropOrPad", _crop_or_pad, [x], "CropOrPad", hw=target, target=target
        )


resize_with_crop_or_pad = resize_image_with_crop_or_pad


def _random_crop(
    x: Any, *, key: Any, seed: tuple[int, int], size: tuple[int, ...]
) -> Any:
    limits = np.array(x.shape) - np.array(size) + 1
    if (limits < 1).any():
        raise ValueError(f"random_crop: size {list(size)} exceeds the shape {x.shape}")
    offsets = jax.random.randint(
        random_lib.op_key(key, seed), (len(size),), 0, jnp.asarray(limits)
    )
    return lax.dynamic_slice(x, list(offsets), size)


def random_crop(
    value: Any, size: Any, seed: int | None = None, name: str | None = None
) -> Tensor:
    """Crops a random ``size`` slice of ``value`` (any rank), uniformly placed.

    Raises:
        ValueError: ``size`` has the wrong length or exceeds a known dim of
            ``value``.
    """
    x = convert_to_tensor(value, name="value")
    size = _static_ints(np.asarray(_static(size, "size")).reshape(-1), "size")
    if x.shape.ndims is not None:
        if len(size) != x.shape.ndims:
            raise ValueError(
                f"random_crop: size {list(size)} must have one entry per dim of {x!r}"
            )
        for d, s in zip(x.shape.as_list(), size):
            if d is not None and s > d:
                raise ValueError(
                    f"random_crop: size {list(size)} exceeds the shape of {x!r}"
                )
    with name_scope(name or "random_crop"):
        return make_op(
            "RandomCrop",
            _random_crop,
            [x],
            name="RandomCrop",
            random=True,
            attrs={"seed": random_lib.get_seed(seed), "size": size},
            out_avals=[Aval(size, x.dtype)],
        ).outputs[0]
