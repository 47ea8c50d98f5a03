"""``tf.linalg``: norms, diagonals, bands, inverses and solves."""

from jaxsession.ops.array.creation import eye as eye
from jaxsession.ops.array.shape import matrix_transpose as transpose
from jaxsession.ops.linalg import (
    cholesky as cholesky,
    matrix_band_part as band_part,
    matrix_determinant as det,
    matrix_diag as diag,
    matrix_diag_part as diag_part,
    matrix_inverse as inv,
    matrix_set_diag as set_diag,
    matrix_solve as solve,
    norm as norm,
    trace as trace,
)
from jaxsession.ops.math import einsum as einsum, matmul as matmul

__all__ = [
    "band_part",
    "cholesky",
    "det",
    "diag",
    "diag_part",
    "einsum",
    "eye",
    "inv",
    "matmul",
    "norm",
    "set_diag",
    "solve",
    "trace",
    "transpose",
]
