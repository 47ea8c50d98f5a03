"""TensorFlow's V2 checkpoint format (the "tensor bundle"), read without TensorFlow.

A checkpoint with prefix ``P`` is ``P.index`` and ``P.data-SSSSS-of-NNNNN``.
The index is a LevelDB-style table (data blocks of prefix-compressed entries
with restart points, an index block, a 48-byte footer; each block followed by
a compression byte and a masked CRC32C) mapping each tensor name to a
``BundleEntryProto``: dtype, shape, shard, offset, size and the masked CRC32C
of the bytes. The empty key holds a ``BundleHeaderProto`` (shard count,
endianness). A tensor saved in slices (a TF1 partitioned variable) has an
entry listing its slices, each stored under an OrderedCode-encoded key.

The protos are decoded here by hand (a few varint fields), so reading needs
neither TensorFlow nor generated protobuf code; every checksum is checked.
"""

# TF1 checkpoint prefixes are strings compared verbatim (see _format.py).
# ruff: noqa: PTH113, PTH202

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import google_crc32c
import jax.numpy as jnp
import numpy as np

from jaxsession import errors
from jaxsession.checkpoint._format import VarSpec

_MAGIC = 0xDB4775248B80FB57
_FOOTER = 48
_TRAILER = 5  # compression type byte + masked CRC32C
_NO_COMPRESSION, _SNAPPY = 0, 1

# TF's DataType enum -> NumPy dtype (strings are object arrays of bytes).
_DTYPES = {
    1: np.float32,
    2: np.float64,
    3: np.int32,
    4: np.uint8,
    5: np.int16,
    6: np.int8,
    7: object,
    8: np.complex64,
    9: np.int64,
    10: np.bool_,
    14: jnp.bfloat16,
    17: np.uint16,
    18: np.complex128,
    19: np.float16,
    22: np.uint32,
    23: np.uint64,
}


@dataclass(frozen=True)
class Entry:
    """One tensor's ``BundleEntryProto``."""

    dtype: int
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc32c: int | None
    slices: tuple[tuple[tuple[int, int], ...], ...]  # per slice: (start, length)


def index_file(prefix: str) -> str:
    """The index file of the checkpoint ``prefix``."""
    return prefix + ".index"


def data_file(prefix: str, shard: int, num_shards: int) -> str:
    """The data file holding shard ``shard`` of ``num_shards``."""
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def is_bundle(prefix: str) -> bool:
    """Whether ``prefix`` names a TF V2 checkpoint (its index file exists)."""
    return os.path.isfile(index_file(prefix))


def data_loss(prefix: str, what: str) -> errors.DataLossError:
    """The error for a truncated or corrupted checkpoint ``prefix``."""
    return errors.DataLossError(
        None, None, f"TF checkpoint {prefix} is truncated or corrupted: {what}"
    )


def masked_crc32c(data: bytes) -> int:
    """TF's masked CRC32C of ``data`` (a CRC stored next to data it covers)."""
    return _mask(google_crc32c.value(data))


def _mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# -- decoding -----------------------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("varint runs past the end")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of each field of a serialized protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise ValueError("field runs past the end")
        yield number, value


def _int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _shape(buf: bytes) -> tuple[int, ...]:
    dims = []
    for number, value in _fields(buf):
        if number == 2:  # Dim
            size = dict(_fields(value)).get(1, 0)
            dims.append(_int64(size))
        elif number == 3 and value:
            raise ValueError("a stored tensor of unknown rank")
    return tuple(dims)


def _slice(buf: bytes) -> tuple[tuple[int, int], ...]:
    extents = []
    for number, value in _fields(buf):
        if number == 1:
            extent = dict(_fields(value))
            # No length: the whole dimension (kFullExtent).
            extents.append((_int64(extent.get(1, 0)), _int64(extent.get(2, -1))))
    return tuple(extents)


def _entry(buf: bytes) -> Entry:
    dtype, shard, offset, size, crc = 0, 0, 0, 0, None
    shape: tuple[int, ...] = ()
    slices = []
    for number, value in _fields(buf):
        if number == 1:
            dtype = value
        elif number == 2:
            shape = _shape(value)
        elif number == 3:
            shard = value
        elif number == 4:
            offset = value
        elif number == 5:
            size = value
        elif number == 6:
            crc = value
        elif number == 7:
            slices.append(_slice(value))
    return Entry(dtype, shape, shard, offset, size, crc, tuple(slices))


def _snappy(data: bytes) -> bytes:
    """Decompresses a raw Snappy block (LevelDB's optional block compression)."""
    length, pos = _varint(data, 0)
    out = bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            n = tag >> 2
            if n >= 60:
                extra = n - 59
                n = int.from_bytes(data[pos : pos + extra], "little")
                pos += extra
            out += data[pos : pos + n + 1]
            pos += n + 1
            continue
        if kind == 1:
            n = ((tag >> 2) & 7) + 4
            back = ((tag >> 5) << 8) | data[pos]
            pos += 1
        else:
            n = (tag >> 2) + 1
            width = 2 if kind == 2 else 4
            back = int.from_bytes(data[pos : pos + width], "little")
            pos += width
        if not 0 < back <= len(out):
            raise ValueError("snappy copy reaches before the start")
        for _ in range(n):  # copies may overlap their own output
            out.append(out[-back])
    if len(out) != length:
        raise ValueError(f"snappy block has {len(out)} bytes, expected {length}")
    return bytes(out)


class _Table:
    """The key -> value pairs of a LevelDB-style table file held in memory."""

    def __init__(self, data: bytes):
        self._data = data
        if len(data) < _FOOTER:
            raise ValueError(f"{len(data)} bytes, shorter than the table footer")
        footer = data[-_FOOTER:]
        if struct.unpack("<Q", footer[-8:])[0] != _MAGIC:
            raise ValueError("bad table magic number")
        _, pos = _varint(footer, 0)  # metaindex handle: TF writes none
        _, pos = _varint(footer, pos)
        offset, pos = _varint(footer, pos)
        size, _ = _varint(footer, pos)
        self._index = self._block(offset, size)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        for _, handle in _block_entries(self._index):
            offset, pos = _varint(handle, 0)
            size, _ = _varint(handle, pos)
            yield from _block_entries(self._block(offset, size))

    def _block(self, offset: int, size: int) -> bytes:
        end = offset + size
        if end + _TRAILER > len(self._data) - _FOOTER:
            raise ValueError(f"block at {offset} runs past the end")
        raw = self._data[offset : end + 1]
        stored = int.from_bytes(self._data[end + 1 : end + _TRAILER], "little")
        if masked_crc32c(raw) != stored:
            raise ValueError(f"block at {offset} fails its checksum")
        kind = raw[-1]
        if kind == _SNAPPY:
            return _snappy(raw[:-1])
        if kind != _NO_COMPRESSION:
            raise ValueError(f"block at {offset} has unknown compression {kind}")
        return raw[:-1]


def _block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    restarts = struct.unpack("<I", block[-4:])[0]
    end = len(block) - 4 * (restarts + 1)
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        size, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, block[pos : pos + size]
        pos += size


# -- slice keys (OrderedCode, as TF's EncodeTensorNameSlice writes them) -------------


def _num_increasing(value: int) -> bytes:
    body = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([len(body)]) + body


def _signed_num_increasing(value: int) -> bytes:
    magnitude = ~value if value < 0 else value
    length = 1
    while magnitude >= 1 << (7 * length - 1):
        length += 1
    body = bytearray((value & ((1 << (8 * length)) - 1)).to_bytes(length, "big"))
    # The leading `length` bits (after the sign) say the length; they are ones
    # for a positive number and zeros for a negative one.
    header = ((1 << (length + 1)) - 2) << (8 * length - length - 1)
    header_bytes = header.to_bytes(length, "big") if length > 1 else bytes([header])
    for i, h in enumerate(header_bytes[:2]):
        body[i] ^= h
    return bytes(body)


def slice_key(name: str, extents: tuple[tuple[int, int], ...]) -> bytes:
    """The index key of one slice of ``name``."""
    escaped = name.encode().replace(b"\xff", b"\xff\x00").replace(b"\x00", b"\x00\xff")
    key = _num_increasing(0) + escaped + b"\x00\x01" + _num_increasing(len(extents))
    for start, length in extents:
        key += _signed_num_increasing(start) + _signed_num_increasing(length)
    return key


# -- the reader ---------------------------------------------------------------------


class BundleReader:
    """The tensors of a TF V2 checkpoint.

    Args:
        prefix: The checkpoint prefix (``.../model.ckpt-N``).

    Raises:
        errors.NotFoundError: no ``prefix.index``.
        errors.DataLossError: the index is not a valid table of entries.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix
        index = index_file(prefix)
        try:
            with open(index, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise errors.NotFoundError(
                None, None, f"Failed to find any matching files for {prefix}"
            ) from None
        self.entries: dict[str, Entry] = {}
        self._slices: dict[bytes, Entry] = {}
        self.num_shards, self._big_endian = 1, False
        try:
            for key, value in _Table(raw).items():
                if not key:
                    header = dict(_fields(value))
                    self.num_shards = header.get(1, 1)
                    self._big_endian = header.get(2, 0) == 1
                elif key[0] == 0:
                    self._slices[key] = _entry(value)
                else:
                    self.entries[key.decode()] = _entry(value)
        except (ValueError, UnicodeDecodeError, struct.error) as e:
            raise data_loss(prefix, f"{index}: {e}") from None
        # A tensor of a dtype read nowhere here (a DT_VARIANT) is left out;
        # reading it by name says why.
        self.variables = {
            name: VarSpec(e.shape, np.dtype(_DTYPES[e.dtype]))
            for name, e in self.entries.items()
            if e.dtype in _DTYPES
        }

    def _dtype(self, name: str, entry: Entry) -> np.dtype:
        if entry.dtype not in _DTYPES:
            raise errors.UnimplementedError(
                None,
                None,
                f"TF checkpoint {self.prefix}: tensor {name} has DataType enum "
                f"{entry.dtype}, which cannot be read here",
            )
        return np.dtype(_DTYPES[entry.dtype])

    def _data_files(self) -> list[str]:
        return [
            data_file(self.prefix, s, self.num_shards) for s in range(self.num_shards)
        ]

    def bad_files(self) -> list[str]:
        """What is wrong with the data files: missing, or shorter than their tensors."""
        needed: dict[int, int] = {}
        for entry in [*self.entries.values(), *self._slices.values()]:
            end = entry.offset + entry.size
            needed[entry.shard] = max(needed.get(entry.shard, 0), end)
        bad = []
        for shard, file in enumerate(self._data_files()):
            try:
                size = os.path.getsize(file)
            except OSError:
                bad.append(f"{file} is missing")
                continue
            if size < needed.get(shard, 0):
                bad.append(f"{file} has {size} bytes, its tensors need {needed[shard]}")
        return bad

    def read(self, name: str) -> np.ndarray:
        """The stored value of ``name``, checksum checked.

        Raises:
            errors.NotFoundError: no such tensor.
            errors.DataLossError: its bytes are missing or fail their checksum.
        """
        entry = self.entries.get(name)
        if entry is None:
            raise errors.NotFoundError(
                None, None, f"Key {name} not found in checkpoint {self.prefix}"
            )
        dtype = self._dtype(name, entry)
        if not entry.slices:
            return self._tensor(name, entry, dtype)
        out = np.zeros(entry.shape, dtype)
        for extents in entry.slices:
            part = self._slices.get(slice_key(name, extents))
            if part is None:
                raise data_loss(
                    self.prefix, f"slice {list(extents)} of tensor {name} is missing"
                )
            where = tuple(
                slice(None) if length == -1 else slice(start, start + length)
                for start, length in extents
            )
            out[where] = self._tensor(name, part, dtype)
        return out

    def _tensor(self, name: str, entry: Entry, dtype: np.dtype) -> np.ndarray:
        file = data_file(self.prefix, entry.shard, self.num_shards)
        try:
            with open(file, "rb") as f:
                f.seek(entry.offset)
                raw = f.read(entry.size)
        except OSError as e:
            raise data_loss(self.prefix, f"tensor {name}: {e}") from None
        if len(raw) != entry.size:
            raise data_loss(
                self.prefix,
                f"tensor {name} needs bytes {entry.offset}..{entry.offset + entry.size}"
                f" of {file}, which has {entry.offset + len(raw)}",
            )
        try:
            if dtype.kind == "O":
                value, crc = _strings(raw, int(np.prod(entry.shape)))
            else:
                stored = dtype.newbyteorder(">" if self._big_endian else "<")
                value, crc = np.frombuffer(raw, stored), _mask(google_crc32c.value(raw))
            value = value.reshape(entry.shape)
        except ValueError:
            raise data_loss(
                self.prefix,
                f"tensor {name} has {entry.size} bytes, not a {dtype.name} tensor "
                f"of shape {list(entry.shape)}",
            ) from None
        if entry.crc32c is not None and crc != entry.crc32c:
            raise data_loss(
                self.prefix, f"tensor {name} in {file} fails its CRC32C checksum"
            )
        return value.astype(dtype)

    def read_many(self, names: Mapping[str, VarSpec]) -> dict[str, np.ndarray]:
        """The values of ``names``, in the dtypes their specs ask for."""
        return {n: self.read(n).astype(s.dtype, copy=False) for n, s in names.items()}


def _strings(raw: bytes, count: int) -> tuple[np.ndarray, int]:
    """A string tensor's elements, and the masked CRC32C TF computes of them.

    TF writes the lengths as varints, then a masked CRC32C of the lengths
    (each taken as 4 little-endian bytes), then the bytes; the entry's
    checksum covers the lengths (as 4 bytes each), that CRC and the bytes.
    """
    lengths, pos = [], 0
    for _ in range(count):
        n, pos = _varint(raw, pos)
        lengths.append(n)
    crc = google_crc32c.value(
        b"".join(struct.pack("<I", n & 0xFFFFFFFF) for n in lengths)
    )
    if raw[pos : pos + 4] != struct.pack("<I", _mask(crc)):
        raise ValueError("string lengths fail their checksum")
    crc = google_crc32c.extend(crc, raw[pos : pos + 4])
    pos = start = pos + 4
    out = np.empty(count, object)
    for i, n in enumerate(lengths):
        out[i] = raw[pos : pos + n]
        pos += n
    if pos != len(raw):
        raise ValueError("string lengths do not add up")
    return out, _mask(google_crc32c.extend(crc, raw[start:]))
