"""``tf.image`` colour and dtype conversion: brightness, contrast, HSV, gray.

Adjustments work in float32 as TF1's do: an integer image is converted to
[0, 1] floats, adjusted and converted back with saturation.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsession.graph import dtypes as dtypes_lib, random as random_lib
from jaxsession.graph.core import Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import NOT_DIFFERENTIABLE
from jaxsession.ops.image import _image, _op

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "convert_image_dtype",
    "grayscale_to_rgb",
    "hsv_to_rgb",
    "per_image_standardization",
    "random_brightness",
    "random_contrast",
    "random_hue",
    "random_saturation",
    "rgb_to_grayscale",
    "rgb_to_hsv",
]


# -- dtypes ---------------------------------------------------------------------


def _convert(x: Any, *, dtype: Any, saturate: bool) -> Any:
    src, dst = np.dtype(x.dtype), np.dtype(dtype)
    if src == dst:
        return x
    src_int, dst_int = src.kind in "iu", dst.kind in "iu"
    if src_int and dst_int:
        smax, dmax = int(np.iinfo(src).max), int(np.iinfo(dst).max)
        if smax > dmax:
            x = x // ((smax + 1) // (dmax + 1))
        if saturate:
            x = jnp.clip(x, np.iinfo(dst).min, dmax)
        if smax > dmax:
            return x.astype(dst)
        return x.astype(dst) * ((dmax + 1) // (smax + 1))
    if src_int:
        return x.astype(dst) * np.asarray(1.0 / np.iinfo(src).max, dst)
    if dst_int:
        scaled = x * np.asarray(np.iinfo(dst).max + 0.5, src)
        if saturate:
            info = np.iinfo(dst)
            scaled = jnp.clip(scaled, float(info.min), float(info.max))
        return scaled.astype(dst)
    return x.astype(dst)


def convert_image_dtype(
    image: Any, dtype: Any, saturate: bool = False, name: str | None = None
) -> Tensor:
    """Converts ``image`` to ``dtype``, rescaling as TF1 does.

    Floats hold values in [0, 1], integers in [0, MAX]: int -> float divides
    by the input's MAX, float -> int multiplies by ``MAX + 0.5`` and truncates,
    int -> int shifts by the ratio of the MAXes; ``saturate`` clips before a
    cast that could overflow.

    Raises:
        TypeError: ``dtype`` is not an integer or float type.
    """
    x = convert_to_tensor(image, name="image")
    dtype = dtypes_lib.as_dtype(dtype)
    if not (dtype.is_integer or dtype.is_floating):
        raise TypeError(
            f"DataType {dtype.name} is not supported by convert_image_dtype"
        )
    if x.dtype == dtype:
        return x
    with name_scope(name or "convert_image"):
        return make_op(
            "ConvertImage",
            _convert,
            [x],
            name="convert_image",
            attrs={"dtype": np.dtype(dtype.jax_dtype), "saturate": bool(saturate)},
            out_dtypes=[dtype],
        ).outputs[0]


def _standardize(x: Any) -> Any:
    x = x.astype(jnp.float32)
    axes = (-3, -2, -1)
    n = math.prod(x.shape[-3:])
    mean = jnp.mean(x, axis=axes, keepdims=True)
    std = jnp.std(x, axis=axes, keepdims=True)
    return (x - mean) / jnp.maximum(std, np.float32(1.0 / math.sqrt(n)))


def per_image_standardization(image: Any) -> Tensor:
    """Scales each image to zero mean and unit variance (float32 result).

    Divides by ``max(stddev, 1 / sqrt(num_elements))`` so uniform images
    do not divide by zero.

    Raises:
        ValueError: the image is not 3-D or 4-D.
    """
    x = _image(image)
    with name_scope("per_image_standardization"):
        return _op(
            "PerImageStandardization", _standardize, [x], "per_image_standardization"
        )


# -- colour ---------------------------------------------------------------------


def _in_float(fn: Any) -> Any:
    """``fn`` applied to the image in float32, converted back (saturating)."""

    def lowered(x: Any, *args: Any, saturate: bool = True, **attrs: Any) -> Any:
        dtype = x.dtype
        flt = x
        if dtype not in (jnp.float16, jnp.float32):
            flt = _convert(x, dtype=np.dtype(np.float32), saturate=False)
        out = fn(flt, *[jnp.asarray(a, flt.dtype) for a in args], **attrs)
        return _convert(out.astype(flt.dtype), dtype=dtype, saturate=saturate)

    return lowered


def _brightness(x: Any, delta: Any) -> Any:
    return x + delta


def _contrast(x: Any, factor: Any) -> Any:
    mean = jnp.mean(x, axis=(-3, -2), keepdims=True)
    return (x - mean) * factor + mean


def _rgb_to_hsv(rgb: Any) -> Any:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value = jnp.max(rgb, axis=-1)
    rng = value - jnp.min(rgb, axis=-1)
    safe = jnp.where(rng > 0, rng, 1)
    sat = jnp.where(value > 0, rng / jnp.where(value > 0, value, 1), 0)
    hue = jnp.where(
        value == r,
        (g - b) / safe,
        jnp.where(value == g, 2 + (b - r) / safe, 4 + (r - g) / safe),
    )
    hue = jnp.where(rng > 0, hue / 6, 0)
    hue = jnp.where(hue < 0, hue + 1, hue)
    return jnp.stack([hue, sat, value], axis=-1)


def _hsv_to_rgb(hsv: Any) -> Any:
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    dh = h * 6
    dr = jnp.clip(jnp.abs(dh - 3) - 1, 0, 1)
    dg = jnp.clip(2 - jnp.abs(dh - 2), 0, 1)
    db = jnp.clip(2 - jnp.abs(dh - 4), 0, 1)
    one = 1 - s
    return jnp.stack([(one + s * d) * v for d in (dr, dg, db)], axis=-1)


def _saturation(x: Any, factor: Any) -> Any:
    hsv = _rgb_to_hsv(x)
    hsv = hsv.at[..., 1].set(jnp.clip(hsv[..., 1] * factor, 0, 1))
    return _hsv_to_rgb(hsv)


def _hue(x: Any, delta: Any) -> Any:
    hsv = _rgb_to_hsv(x)
    hue = jnp.mod(hsv[..., 0] + delta, 1.0)
    return _hsv_to_rgb(hsv.at[..., 0].set(hue))


def _colour_op(
    op_type: str, fn: Any, image: Any, amount: Any, scope: str, rgb: bool = False
) -> Tensor:
    x = _image(image)
    if rgb and x.shape.ndims is not None and x.shape[-1].value not in (None, 3):
        raise ValueError(f"{scope}: {x!r} must have 3 (RGB) channels")
    amount = convert_to_tensor(amount, dtype=dtypes_lib.float32, name="amount")
    with name_scope(scope):
        return make_op(op_type, _in_float(fn), [x, amount], name=op_type).outputs[0]


def adjust_brightness(image: Any, delta: Any) -> Tensor:
    """Adds ``delta`` to images in float [0, 1] terms; converts back saturating.

    Raises:
        ValueError: the image is not 3-D or 4-D.
    """
    return _colour_op(
        "AdjustBrightness", _brightness, image, delta, "adjust_brightness"
    )


def adjust_contrast(images: Any, contrast_factor: Any) -> Tensor:
    """Scales each channel's distance from its mean by ``contrast_factor``.

    Raises:
        ValueError: the image is not 3-D or 4-D.
    """
    return _colour_op(
        "AdjustContrastv2", _contrast, images, contrast_factor, "adjust_contrast"
    )


def adjust_saturation(
    image: Any, saturation_factor: Any, name: str | None = None
) -> Tensor:
    """Multiplies the HSV saturation of RGB images by ``saturation_factor``.

    Raises:
        ValueError: the image is not 3-D/4-D RGB.
    """
    return _colour_op(
        "AdjustSaturation",
        _saturation,
        image,
        saturation_factor,
        name or "adjust_saturation",
        rgb=True,
    )


def adjust_hue(image: Any, delta: Any, name: str | None = None) -> Tensor:
    """Rotates the HSV hue of RGB images by ``delta`` (a fraction of a turn).

    Raises:
        ValueError: the image is not 3-D/4-D RGB.
    """
    return _colour_op("AdjustHue", _hue, image, delta, name or "adjust_hue", rgb=True)


def _uniform_scalar(lo: float, hi: float, seed: int | None) -> Tensor:
    def draw(*, key: Any, seed: tuple[int, int]) -> Any:
        return jax.random.uniform(random_lib.op_key(key, seed), (), jnp.float32, lo, hi)

    return make_op(
        "RandomUniform",
        draw,
        [],
        name="random_uniform",
        random=True,
        attrs={"seed": random_lib.get_seed(seed)},
    ).outputs[0]


def random_brightness(image: Any, max_delta: float, seed: int | None = None) -> Tensor:
    """``adjust_brightness`` by a delta drawn uniformly from [-max_delta, max_delta).

    Raises:
        ValueError: ``max_delta`` is negative.
    """
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, _uniform_scalar(-max_delta, max_delta, seed))


def random_contrast(
    image: Any, lower: float, upper: float, seed: int | None = None
) -> Tensor:
    """``adjust_contrast`` by a factor drawn uniformly from [lower, upper).

    Raises:
        ValueError: ``upper <= lower`` or ``lower < 0``.
    """
    _check_range(lower, upper)
    return adjust_contrast(image, _uniform_scalar(lower, upper, seed))


def _check_range(lower: float, upper: float) -> None:
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")


def random_saturation(
    image: Any, lower: float, upper: float, seed: int | None = None
) -> Tensor:
    """``adjust_saturation`` by a factor drawn uniformly from [lower, upper).

    Raises:
        ValueError: ``upper <= lower`` or ``lower < 0``, or the image is not RGB.
    """
    _check_range(lower, upper)
    return adjust_saturation(image, _uniform_scalar(lower, upper, seed))


def random_hue(image: Any, max_delta: float, seed: int | None = None) -> Tensor:
    """``adjust_hue`` by a delta drawn uniformly from [-max_delta, max_delta).

    Raises:
        ValueError: ``max_delta`` is outside [0, 0.5], or the image is not RGB.
    """
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_hue(image, _uniform_scalar(-max_delta, max_delta, seed))


def _gray(x: Any) -> Any:
    weights = jnp.asarray([0.2989, 0.5870, 0.1140], x.dtype)
    return jnp.tensordot(x, weights, [[-1], [0]])[..., None]


def rgb_to_grayscale(images: Any, name: str | None = None) -> Tensor:
    """Luma of RGB images (weights 0.2989, 0.5870, 0.1140), one channel.

    Raises:
        ValueError: the last dimension is not 3.
    """
    x = convert_to_tensor(images, name="images")
    if x.shape.ndims is not None and x.shape[-1].value not in (None, 3):
        raise ValueError(f"rgb_to_grayscale: {x!r} must have 3 (RGB) channels")
    with name_scope(name or "rgb_to_grayscale"):
        return make_op(
            "RGBToGrayscale",
            _in_float(_gray),
            [x],
            name="rgb_to_grayscale",
            attrs={"saturate": False},
        ).outputs[0]


def _tile3(x: Any) -> Any:
    return jnp.concatenate([x, x, x], axis=-1)


def grayscale_to_rgb(images: Any, name: str | None = None) -> Tensor:
    """Repeats the single channel of grayscale images three times.

    Raises:
        ValueError: rank below 2 or a last dimension other than 1.
    """
    x = convert_to_tensor(images, name="images")
    if x.shape.ndims is not None and (
        x.shape.ndims < 2 or x.shape[-1].value not in (None, 1)
    ):
        raise ValueError(
            f"grayscale_to_rgb: {x!r} must be at least 2-D with a last dimension of 1"
        )
    with name_scope(name or "grayscale_to_rgb"):
        return _op("GrayscaleToRGB", _tile3, [x], "grayscale_to_rgb")


def rgb_to_hsv(images: Any, name: str | None = None) -> Tensor:
    """RGB (floats in [0, 1]) to HSV, hue as a fraction of a turn.

    Raises:
        ValueError: the last dimension is not 3.
    """
    x = convert_to_tensor(images, name="images")
    return _op("RGBToHSV", _rgb_to_hsv, [x], name or "RGBToHSV")


def hsv_to_rgb(images: Any, name: str | None = None) -> Tensor:
    """HSV (hue as a fraction of a turn) to RGB.

    Raises:
        ValueError: the last dimension is not 3.
    """
    x = convert_to_tensor(images, name="images")
    return _op("HSVToRGB", _hsv_to_rgb, [x], name or "HSVToRGB")


# TF1 registers no gradient for HSVToRGB.
NOT_DIFFERENTIABLE.add("HSVToRGB")
