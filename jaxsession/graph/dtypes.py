"""DType objects named as TF1's, and conversion to NumPy and JAX dtypes.

The graph keeps the TF1 dtype a user asked for (``int64``, ``float64``); on the
device JAX's canonical dtype is used (32-bit unless ``jax_enable_x64`` is on),
and fetched values are cast back to the declared dtype on the host.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np


class DType:
    """A tensor element type, as ``tf.DType``.

    Args:
        name: The TF1 name (``"float32"``).
        np_type: The NumPy scalar type, or ``object`` for strings.
    """

    __slots__ = ("_name", "_np")

    def __init__(self, name: str, np_type: Any):
        self._name = name
        self._np = np.dtype(np_type)

    @property
    def name(self) -> str:
        """The TF1 name of this dtype."""
        return self._name

    @property
    def as_numpy_dtype(self) -> type:
        """The NumPy scalar type."""
        return self._np.type

    @property
    def np_dtype(self) -> np.dtype:
        """The NumPy dtype object."""
        return self._np

    @property
    def jax_dtype(self) -> np.dtype:
        """The dtype values of this type have on the device."""
        if self is string:
            raise TypeError("string tensors have no device dtype")
        return jax.dtypes.canonicalize_dtype(self._np)

    @property
    def base_dtype(self) -> DType:
        """This dtype (TF1 reference dtypes do not exist here)."""
        return self

    @property
    def real_dtype(self) -> DType:
        """The real part's dtype for complex types, else this dtype."""
        return {complex64: float32, complex128: float64}.get(self, self)

    @property
    def is_floating(self) -> bool:
        """Whether this is a floating-point type."""
        return self._np.kind == "f" or self is bfloat16

    @property
    def is_integer(self) -> bool:
        """Whether this is a (signed or unsigned) integer type."""
        return self._np.kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        """Whether this is an unsigned integer type."""
        return self._np.kind == "u"

    @property
    def is_complex(self) -> bool:
        """Whether this is a complex type."""
        return self._np.kind == "c"

    @property
    def is_bool(self) -> bool:
        """Whether this is the boolean type."""
        return self is bool_

    @property
    def min(self) -> Any:
        """The smallest representable value."""
        return _limits(self._np).min

    @property
    def max(self) -> Any:
        """The largest representable value."""
        return _limits(self._np).max

    @property
    def size(self) -> int:
        """Bytes per element."""
        return self._np.itemsize

    def is_compatible_with(self, other: Any) -> bool:
        """Whether ``other`` converts to this same dtype."""
        return as_dtype(other) is self

    def __repr__(self) -> str:
        return f"tf.{self._name}"

    def __str__(self) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if other is None:
            return False
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self._name)

    def __reduce__(self):
        return as_dtype, (self._name,)


def _limits(np_dtype: np.dtype) -> Any:
    return np.finfo(np_dtype) if np_dtype.kind in "fc" else np.iinfo(np_dtype)


float16 = DType("float16", np.float16)
bfloat16 = DType("bfloat16", jax.numpy.bfloat16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
uint16 = DType("uint16", np.uint16)
uint32 = DType("uint32", np.uint32)
uint64 = DType("uint64", np.uint64)
bool_ = DType("bool", np.bool_)
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)
string = DType("string", object)
half = float16
double = float64

__all__ = [
    "DType",
    "as_dtype",
    "bfloat16",
    "bool_",
    "complex64",
    "complex128",
    "double",
    "float16",
    "float32",
    "float64",
    "half",
    "int8",
    "int16",
    "int32",
    "int64",
    "string",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
]

_ALL = (
    float16,
    bfloat16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
    bool_,
    complex64,
    complex128,
)
_BY_NAME = {d.name: d for d in (*_ALL, string)}
_BY_NAME.update({"half": float16, "double": float64, "float": float32})
_BY_NP = {d.np_dtype: d for d in _ALL}


def as_dtype(value: Any) -> DType:
    """Converts a DType, name, NumPy or JAX dtype or Python type to a DType.

    Raises:
        TypeError: ``value`` names no supported dtype.
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]
        raise TypeError(f"cannot convert {value!r} to a dtype")
    if value in (str, bytes):
        return string
    try:
        np_dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"cannot convert {value!r} to a dtype") from None
    if np_dtype.kind in "OSU":
        return string
    if np_dtype in _BY_NP:
        return _BY_NP[np_dtype]
    raise TypeError(f"cannot convert {value!r} to a dtype")


def infer_dtype(value: Any) -> DType:
    """The dtype TF1 gives a Python or NumPy value (floats are float32)."""
    if isinstance(value, np.ndarray | np.generic) or hasattr(value, "dtype"):
        return as_dtype(value.dtype)
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return float32
    if arr.dtype.kind in "iu":
        return int32
    if arr.dtype.kind == "c":
        return complex64
    return as_dtype(arr.dtype)
