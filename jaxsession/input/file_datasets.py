"""Datasets read from files: TFRecord, text lines, fixed-length records.

Each element is one record (a scalar string), read on the host as the
iterator asks for it; several files are read one after the other. The
filenames may be a string, a list of them, a string Tensor (a constant, or
a placeholder fed to the iterator's initializer) or a Dataset of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from jaxsession.graph import dtypes as dtypes_lib, shapes
from jaxsession.graph.core import Tensor
from jaxsession.graph.rules import constant_value
from jaxsession.input import tfrecord
from jaxsession.input.dataset import Dataset

__all__ = ["FixedLengthRecordDataset", "TFRecordDataset", "TextLineDataset"]


def _scalar(record: bytes) -> np.ndarray:
    # An object array: NumPy's bytes arrays would drop trailing NUL bytes.
    out = np.empty((), dtype=object)
    out[()] = record
    return out


def _filenames(filenames: Any) -> tuple[Tensor | None, list[str]]:
    """The filenames' tensor (when known only at run time), or their list."""
    if isinstance(filenames, Tensor):
        if filenames.dtype is not dtypes_lib.string:
            raise TypeError(
                f"filenames must be a string tensor, got {filenames.dtype.name}"
            )
        known = constant_value(filenames)
        if known is None:
            return filenames, []
        filenames = known
    names = np.asarray(filenames, dtype=object).ravel().tolist()
    return None, [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def _file_dataset(filenames: Any, read: Any) -> Dataset:
    """A dataset of the records ``read(path)`` yields, file after file."""
    if isinstance(filenames, Dataset):
        source, tensor, names, inputs = filenames, None, [], filenames._inputs
    else:
        source = None
        tensor, names = _filenames(filenames)
        inputs = () if tensor is None else (tensor,)

    def paths(values: dict[Tensor, Any]) -> Iterator[str]:
        if source is not None:
            for name in source._producer(values):
                yield from _filenames(name)[1]
        elif tensor is not None:
            yield from _filenames(np.asarray(values[tensor], dtype=object))[1]
        else:
            yield from names

    def produce(values: dict[Tensor, Any]) -> Iterator[Any]:
        for path in paths(values):
            for record in read(path):
                yield _scalar(record)

    return Dataset(produce, dtypes_lib.string, shapes.TensorShape([]), inputs)


def TFRecordDataset(
    filenames: Any,
    compression_type: Any = None,
    buffer_size: int | None = None,
    num_parallel_reads: int | None = None,
) -> Dataset:
    """The records of TFRecord files (``tf.data.TFRecordDataset``).

    Args:
        filenames: A filename, a list of them, or a string Tensor.
        compression_type: ``''``/None, ``'ZLIB'`` or ``'GZIP'``.
        buffer_size: Unused (reads are buffered by Python).
        num_parallel_reads: Unused: files are read in order.

    Returns:
        A Dataset of scalar strings. Iterating it raises
        ``errors.DataLossError`` naming the file and offset of a corrupted
        record, and ``errors.NotFoundError`` for a missing file.
    """
    kind = tfrecord.TFRecordOptions(compression_type).compression_type
    return _file_dataset(
        filenames, lambda path: (r for _, r in tfrecord.iter_records(path, kind))
    )


def _lines(path: str, compression: int) -> Iterator[bytes]:
    with tfrecord.open_read(path, compression) as f:
        for line in f:
            yield line.rstrip(b"\n").removesuffix(b"\r")


def TextLineDataset(
    filenames: Any,
    compression_type: Any = None,
    buffer_size: int | None = None,
    num_parallel_reads: int | None = None,
) -> Dataset:
    """The lines of text files, without their line ends (``tf.data.TextLineDataset``)."""
    kind = tfrecord.TFRecordOptions(compression_type).compression_type
    return _file_dataset(filenames, lambda path: _lines(path, kind))


def fixed_length_records(
    path: str, record_bytes: int, header_bytes: int = 0, footer_bytes: int = 0
) -> Iterator[bytes]:
    """The records of ``record_bytes`` bytes between a header and a footer."""
    with tfrecord.open_read(path) as f:
        data = f.read()
    end = len(data) - footer_bytes
    for start in range(header_bytes, end - record_bytes + 1, record_bytes):
        yield data[start : start + record_bytes]


def FixedLengthRecordDataset(
    filenames: Any,
    record_bytes: int,
    header_bytes: int | None = None,
    footer_bytes: int | None = None,
    buffer_size: int | None = None,
    compression_type: Any = None,
) -> Dataset:
    """Records of ``record_bytes`` bytes each (``tf.data.FixedLengthRecordDataset``)."""
    return _file_dataset(
        filenames,
        lambda path: fixed_length_records(
            path, record_bytes, header_bytes or 0, footer_bytes or 0
        ),
    )
