"""TFRecord files: TF's framing of records, written and read without TensorFlow.

Each record is ``uint64 length``, ``uint32 masked_crc32c(length)``, the
data, ``uint32 masked_crc32c(data)`` (little-endian), in a file that may be
compressed as a whole with GZIP or ZLIB. Files written here read in
TensorFlow and the other way round.

Differs from TF1: paths are local files (no ``gs://``).
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import google_crc32c

from jaxsession import errors

_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")


def masked_crc32c(data: bytes) -> int:
    """TF's masked CRC32C of ``data``."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def record_bytes(data: bytes) -> bytes:
    """``data`` framed as one TFRecord: length, its CRC, the data, its CRC."""
    header = struct.pack("<Q", len(data))
    return b"".join(
        (
            header,
            _FOOTER.pack(masked_crc32c(header)),
            data,
            _FOOTER.pack(masked_crc32c(data)),
        )
    )


class TFRecordCompressionType:
    """The compression of a TFRecord file (``tf.python_io.TFRecordCompressionType``)."""

    NONE = 0
    ZLIB = 1
    GZIP = 2


_NAMES = {"": 0, "NONE": 0, "ZLIB": 1, "GZIP": 2}


def _compression(value: Any) -> int:
    if value is None:
        return TFRecordCompressionType.NONE
    if isinstance(value, TFRecordOptions):
        return value.compression_type
    if isinstance(value, int):
        if value not in (0, 1, 2):
            raise ValueError(f"Unknown TFRecord compression type {value!r}")
        return value
    if value not in _NAMES:
        raise ValueError(
            f"Unknown TFRecord compression type {value!r}: expected '', 'ZLIB' or 'GZIP'"
        )
    return _NAMES[value]


class TFRecordOptions:
    """Options of a TFRecord file (``tf.io.TFRecordOptions``).

    Args:
        compression_type: None, ``''``, ``'ZLIB'``, ``'GZIP'`` or a
            ``TFRecordCompressionType`` value.
        compression_level: zlib's level (0-9); -1 for its default.
    """

    compression_type_map = {0: "", 1: "ZLIB", 2: "GZIP"}

    def __init__(self, compression_type: Any = None, compression_level: int = -1):
        self.compression_type = _compression(compression_type)
        self.compression_level = compression_level

    @classmethod
    def get_compression_type_string(cls, options: Any) -> str:
        """``''``, ``'ZLIB'`` or ``'GZIP'`` for options, a type, or None."""
        return cls.compression_type_map[_compression(options)]


class _Compressed:
    """Writes ``raw`` through a zlib compressor; closing finishes and closes both."""

    def __init__(self, raw: BinaryIO, compressor: Any):
        self._raw, self._z = raw, compressor

    def write(self, data: bytes) -> int:
        self._raw.write(self._z.compress(data))
        return len(data)

    def flush(self) -> None:
        self._raw.write(self._z.flush(zlib.Z_SYNC_FLUSH))
        self._raw.flush()

    def close(self) -> None:
        if not self._raw.closed:
            self._raw.write(self._z.flush())
            self._raw.close()


def _open_write(path: str, compression: int, level: int) -> BinaryIO:
    raw = open(path, "wb")
    if compression == TFRecordCompressionType.NONE:
        return raw
    # wbits 31: a gzip stream (no file name or time in its header); 15: zlib.
    wbits = 31 if compression == TFRecordCompressionType.GZIP else 15
    return _Compressed(raw, zlib.compressobj(level, zlib.DEFLATED, wbits))  # type: ignore[return-value]


class TFRecordWriter:
    """Writes records to a TFRecord file (``tf.python_io.TFRecordWriter``).

    Args:
        path: The file to (over)write.
        options: A ``TFRecordOptions``, a compression type string, or None.

    Raises:
        errors.NotFoundError: the file's folder does not exist.
    """

    def __init__(self, path: str, options: Any = None):
        self._path = str(path)
        opts = options if isinstance(options, TFRecordOptions) else None
        level = opts.compression_level if opts is not None else -1
        try:
            self._file = _open_write(self._path, _compression(options), level)
        except FileNotFoundError as e:
            raise errors.NotFoundError(
                None, None, f"{self._path}; {e.strerror}"
            ) from None

    def write(self, record: bytes) -> None:
        """Appends one record (bytes; str is UTF-8 encoded)."""
        if isinstance(record, str):
            record = record.encode()
        self._file.write(record_bytes(bytes(record)))

    def flush(self) -> None:
        """Flushes what was written to the file."""
        self._file.flush()

    def close(self) -> None:
        """Finishes the file."""
        self._file.close()

    def __enter__(self) -> TFRecordWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_read(path: str, compression: Any = None) -> BinaryIO:
    """``path`` opened for reading its (decompressed) bytes.

    Raises:
        errors.NotFoundError: the file does not exist.
    """
    kind = _compression(compression)
    try:
        raw = open(path, "rb")
    except (FileNotFoundError, IsADirectoryError) as e:
        raise errors.NotFoundError(None, None, f"{path}; {e.strerror}") from None
    if kind == TFRecordCompressionType.NONE:
        return raw
    with raw:
        data = raw.read()
    if kind == TFRecordCompressionType.GZIP:
        return gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")  # type: ignore[return-value]
    return io.BytesIO(zlib.decompress(data))


def _data_loss(what: str, path: str, offset: int, detail: str = "") -> errors.OpError:
    return errors.DataLossError(
        None, None, f"{what} record at {offset} in file {path!r}{detail}"
    )


def read_record(f: BinaryIO, path: str, offset: int) -> bytes | None:
    """The record at ``offset`` of the open file ``f``, or None at the end.

    Raises:
        errors.DataLossError: the record is truncated or its checksum is wrong,
            naming the file and the record's offset.
    """
    head = f.read(_HEADER.size)
    if not head:
        return None
    if len(head) < _HEADER.size:
        raise _data_loss("truncated", path, offset)
    length, crc = _HEADER.unpack(head)
    if masked_crc32c(head[:8]) != crc:
        raise _data_loss("corrupted", path, offset, " (length checksum mismatch)")
    data = f.read(length)
    foot = f.read(_FOOTER.size)
    if len(data) < length or len(foot) < _FOOTER.size:
        raise _data_loss("truncated", path, offset)
    if masked_crc32c(data) != _FOOTER.unpack(foot)[0]:
        raise _data_loss("corrupted", path, offset, " (data checksum mismatch)")
    return data


def iter_records(path: str, compression: Any = None) -> Iterator[tuple[int, bytes]]:
    """``(offset, record)`` for each record of a TFRecord file."""
    with open_read(str(path), compression) as f:
        offset = 0
        while (data := read_record(f, str(path), offset)) is not None:
            yield offset, data
            offset += _HEADER.size + len(data) + _FOOTER.size


def tf_record_iterator(path: str, options: Any = None) -> Iterator[bytes]:
    """The records of a TFRecord file (``tf.python_io.tf_record_iterator``).

    Raises:
        errors.NotFoundError: the file does not exist.
        errors.DataLossError: a record is truncated or corrupted.
    """
    for _, data in iter_records(path, options):
        yield data
