"""``tf.sparse``: SparseTensor, its placeholder and the ops that densify it."""

from jaxsession.ops.sparse import (
    SparseTensor as SparseTensor,
    SparseTensorValue as SparseTensorValue,
    sparse_placeholder as placeholder,
    sparse_tensor_dense_matmul as matmul,
    sparse_tensor_dense_matmul as sparse_dense_matmul,
    sparse_tensor_to_dense as to_dense,
)

__all__ = [
    "SparseTensor",
    "SparseTensorValue",
    "matmul",
    "placeholder",
    "sparse_dense_matmul",
    "to_dense",
]
