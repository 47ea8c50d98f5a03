"""Norms, diagonals, bands and small linear algebra (``tf.norm``, ``tf.matrix_*``, ``tf.linalg``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxsession.graph.core import Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.ops.array._common import _static

__all__ = [
    "cholesky",
    "diag",
    "diag_part",
    "matrix_band_part",
    "matrix_determinant",
    "matrix_diag",
    "matrix_diag_part",
    "matrix_inverse",
    "matrix_set_diag",
    "matrix_solve",
    "norm",
    "trace",
]


def _unary(
    op_type: str,
    tf_name: str,
    fn: Callable[[Any], Any],
    what: str,
    default_name: str | None = None,
) -> Callable[..., Tensor]:
    def op(input: Any, name: str | None = None) -> Tensor:
        x = convert_to_tensor(input)
        return make_op(op_type, fn, [x], name=name or default_name or op_type).outputs[
            0
        ]

    op.__name__ = op.__qualname__ = tf_name
    op.__doc__ = f"{what} (``tf.{tf_name}``; op {op_type})."
    return op


def _matrix_diag(d: Any) -> Any:
    return d[..., :, None] * jnp.eye(d.shape[-1], dtype=d.dtype)


def _diag(d: Any) -> Any:
    flat = d.reshape(-1)
    return jnp.diag(flat).reshape(d.shape + d.shape)


def _diag_part(x: Any) -> Any:
    half = x.ndim // 2
    n = int(np.prod(x.shape[:half]))
    return jnp.diagonal(x.reshape(n, n)).reshape(x.shape[:half])


matrix_diag = _unary(
    "MatrixDiag", "matrix_diag", _matrix_diag, "Batched diagonal matrices", "diag"
)
matrix_diag_part = _unary(
    "MatrixDiagPart",
    "matrix_diag_part",
    lambda x: jnp.diagonal(x, axis1=-2, axis2=-1),
    "The main diagonals of a batch of matrices",
    "diag_part",
)
diag = _unary("Diag", "diag", _diag, "The tensor with ``diagonal`` on its diagonal")
diag_part = _unary("DiagPart", "diag_part", _diag_part, "The diagonal of a tensor")
trace = _unary(
    "Trace",
    "trace",
    lambda x: jnp.trace(x, axis1=-2, axis2=-1),
    "The sums of the main diagonals",
)
matrix_inverse = _unary(
    "MatrixInverse", "matrix_inverse", jnp.linalg.inv, "The inverses of square matrices"
)
matrix_determinant = _unary(
    "MatrixDeterminant",
    "matrix_determinant",
    jnp.linalg.det,
    "The determinants of square matrices",
)
cholesky = _unary(
    "Cholesky", "cholesky", jnp.linalg.cholesky, "The Cholesky factors (lower)"
)


def _set_diag(x: Any, d: Any) -> Any:
    eye = jnp.eye(x.shape[-2], x.shape[-1], dtype=bool)
    k = min(x.shape[-2], x.shape[-1])
    pad = [(0, 0)] * (d.ndim - 1) + [(0, max(x.shape[-2], x.shape[-1]) - k)]
    full = jnp.pad(d, pad)
    rows = full[..., : x.shape[-2], None]
    return jnp.where(eye, rows, x)


def matrix_set_diag(
    input: Any,
    diagonal: Any,
    name: str | None = None,
    k: int = 0,
    align: str = "RIGHT_LEFT",
) -> Tensor:
    """``input`` with its main diagonals replaced by ``diagonal`` (``tf.matrix_set_diag``).

    Raises:
        ValueError: ``k`` is not 0 (only the main diagonal is supported).
    """
    if k != 0:
        raise ValueError(f"matrix_set_diag supports k=0 only, got k={k}")
    x = convert_to_tensor(input)
    d = convert_to_tensor(diagonal, dtype=x.dtype)
    return make_op("MatrixSetDiag", _set_diag, [x, d], name=name or "set_diag").outputs[
        0
    ]


def _band(x: Any, lower: Any, upper: Any) -> Any:
    m, n = x.shape[-2], x.shape[-1]
    i = jnp.arange(m)[:, None]
    j = jnp.arange(n)[None, :]
    keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
    return jnp.where(keep, x, jnp.zeros((), x.dtype))


def matrix_band_part(
    input: Any,
    num_lower: Any,
    num_upper: Any,
    name: str | None = None,
) -> Tensor:
    """Keeps a band of each matrix, zeros elsewhere (``tf.matrix_band_part``).

    ``num_lower``/``num_upper`` diagonals below/above the main one are
    kept; a negative number keeps the whole triangle.
    """
    x = convert_to_tensor(input)
    lo = convert_to_tensor(num_lower, dtype_hint="int64")
    hi = convert_to_tensor(num_upper, dtype_hint="int64")
    return make_op(
        "MatrixBandPart", _band, [x, lo, hi], name=name or "MatrixBandPart"
    ).outputs[0]


def matrix_solve(
    matrix: Any, rhs: Any, adjoint: bool = False, name: str | None = None
) -> Tensor:
    """Solves ``matrix @ x = rhs`` (``tf.matrix_solve``)."""
    a = convert_to_tensor(matrix)
    b = convert_to_tensor(rhs, dtype=a.dtype)

    def solve(a: Any, b: Any, *, adjoint: bool) -> Any:
        if adjoint:
            a = jnp.conj(jnp.swapaxes(a, -1, -2))
        return jnp.linalg.solve(a, b)

    return make_op(
        "MatrixSolve",
        solve,
        [a, b],
        name=name or "MatrixSolve",
        attrs={"adjoint": adjoint},
    ).outputs[0]


# -- tf.norm -------------------------------------------------------------------------

_VECTOR_ORDS = ("euclidean", "fro", 1, 2, np.inf)
_MATRIX_ORDS = ("euclidean", "fro", 1, 2, np.inf)


def _norm(
    x: Any,
    *,
    ord: Any,
    axis: tuple[int, ...],
    keepdims: bool,
    matrix: bool,
) -> Any:
    a = jnp.abs(x)
    if matrix and ord == 2:
        # The spectral norm: the largest singular value.
        moved = jnp.moveaxis(x, axis, (-2, -1))
        top = jnp.linalg.svd(moved, compute_uv=False)[..., 0]
        out = jnp.expand_dims(top, axis)
    elif matrix and ord in (1, np.inf):
        rows, cols = axis
        # ord=1: the largest column sum; ord=inf: the largest row sum.
        summed, reduced = (rows, cols) if ord == 1 else (cols, rows)
        out = jnp.max(
            jnp.sum(a, axis=summed, keepdims=True), axis=reduced, keepdims=True
        )
    elif ord in ("euclidean", "fro", 2):
        out = jnp.sqrt(jnp.sum(jnp.square(a), axis=axis, keepdims=True))
    elif ord == np.inf:
        out = jnp.max(a, axis=axis, keepdims=True)
    elif ord == 1:
        out = jnp.sum(a, axis=axis, keepdims=True)
    else:
        out = jnp.sum(a**ord, axis=axis, keepdims=True) ** (1.0 / ord)
    return out if keepdims else jnp.squeeze(out, axis=axis)


def norm(
    tensor: Any,
    ord: Any = "euclidean",
    axis: Any = None,
    keepdims: bool | None = None,
    name: str | None = None,
    keep_dims: bool | None = None,
) -> Tensor:
    """The vector or matrix norm of ``tensor`` (``tf.norm``).

    Args:
        tensor: A float tensor.
        ord: ``"euclidean"``/``"fro"``, 1, 2 or ``np.inf`` for vectors (any
            p > 0 too); ``"euclidean"``/``"fro"``, 1 or ``np.inf`` for matrices.
        axis: None (the whole tensor as a vector), an int (vectors along it)
            or a pair (matrices over those axes).
        keepdims: Keep the reduced axes with size 1.
        name: Name scope (default "norm").
        keep_dims: TF1's old name of ``keepdims``.

    Returns:
        The norms.

    Raises:
        ValueError: a bad ``ord`` or ``axis``, with TF1's message.
    """
    keep = bool(keepdims if keepdims is not None else keep_dims)
    x = convert_to_tensor(tensor)
    rank = x.shape.ndims
    if axis is None:
        if rank is None:
            raise ValueError("tf.norm with axis=None needs a tensor of known rank")
        axes: tuple[int, ...] = tuple(range(rank))
        as_vector = True
    else:
        given = _static(axis, "axis")
        axes = tuple(given) if isinstance(given, tuple) else (given,)
        as_vector = len(axes) == 1
    _check_ord(ord, axes, as_vector, axis)
    if rank is not None:
        axes = tuple(a % rank for a in axes)
    with name_scope(name, "norm"):
        attrs = {"ord": ord, "axis": axes, "keepdims": keep, "matrix": not as_vector}
        return make_op(
            "Norm", _norm, [x], name=_norm_op_name(ord, keep), attrs=attrs
        ).outputs[0]


def _norm_op_name(ord: Any, keep: bool) -> str:
    # The name of TF1's last op: Squeeze, or the reduction kept dims end with.
    if not keep:
        return "Squeeze"
    if ord in ("euclidean", "fro", 2):
        return "Sqrt"
    return {1: "Sum", np.inf: "Max"}.get(ord, "Pow")


def _check_ord(ord: Any, axes: tuple[int, ...], as_vector: bool, axis: Any) -> None:
    if not as_vector and (len(axes) != 2 or axes[0] == axes[1]):
        raise ValueError(
            f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}"
        )
    ok_matrix = ord in _MATRIX_ORDS
    ok_vector = ord in _VECTOR_ORDS or (
        isinstance(ord, int | float) and not isinstance(ord, bool) and ord > 0
    )
    if as_vector and not ok_vector:
        raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
    if not as_vector and not ok_matrix:
        raise ValueError(
            f"'ord' must be a supported matrix norm in {list(_MATRIX_ORDS)}, got {ord}"
        )
