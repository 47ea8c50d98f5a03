"""TF1's readers: records of the files named by a queue of filenames.

``reader.read(filename_queue)`` is a host op giving ``(key, value)``
strings: the next record of the current file, or of the next file it
dequeues when that one is done. A reader's position lives in each session
(``("reader", reader)`` in its resources) and is shared by the threads that
run its op, so each record is read once. The end of a closed filename queue
raises ``errors.OutOfRangeError`` naming the queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Operation, Tensor
from jaxsession.graph.make_op import make_op
from jaxsession.graph.rules import HOST_OPS, NOT_DIFFERENTIABLE
from jaxsession.input import tfrecord
from jaxsession.input.file_datasets import fixed_length_records
from jaxsession.input.queues import (
    QueueBase,
    _host_only,
    _state,
    _unimplemented,
    released,
)

Records = Callable[[str], Iterator[tuple[bytes, bytes]]]


class _ReaderState:
    """Where a reader is, in one session."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: Iterator[tuple[bytes, bytes]] | None = None
        self.produced = 0
        self.completed = 0


def _reader_state(op: Operation, ctx: Any) -> _ReaderState:
    key = ("reader", op.attrs["reader"])
    state = ctx.resources.get(key)
    if state is None:
        state = ctx.resources[key] = _ReaderState()
    return state


def _next_record(op: Operation, state: _ReaderState, queue: Any) -> tuple[bytes, bytes]:
    reader: ReaderBase = op.attrs["reader"]
    while True:
        if state.records is not None:
            record = next(state.records, None)
            if record is not None:
                state.produced += 1
                return record
            state.records = None
            state.completed += 1
        (work,) = queue.take(op, 1, False)[0]
        name = work.decode() if isinstance(work, bytes) else str(work)
        state.records = reader._records(name)


def _read(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[Any, ...]:
    state, queue = _reader_state(op, ctx), _state(op, inputs)
    if not state.lock.acquire(blocking=False):
        # Another thread reads (maybe waiting for a file): wait without the
        # run lock, which that thread needs to finish.
        with released(queue.lock):
            state.lock.acquire()
    try:
        n = op.attrs["n"]
        if n is None:
            key, value = _next_record(op, state, queue)
            return _string(key), _string(value)
        rows: list[tuple[bytes, bytes]] = []
        while len(rows) < n:
            try:
                rows.append(_next_record(op, state, queue))
            except errors.OutOfRangeError:
                if not rows:
                    raise
                break
        keys, values = zip(*rows)
        return _strings(keys), _strings(values)
    finally:
        state.lock.release()


def _string(value: bytes) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def _strings(values: Sequence[bytes]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _count(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[Any]:
    state = _reader_state(op, ctx)
    return (np.int64(getattr(state, op.attrs["what"])),)


def _reset(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[()]:
    ctx.resources.pop(("reader", op.attrs["reader"]), None)
    return ()


HOST_OPS.update({"ReaderReadV2": _read, "ReaderCount": _count, "ReaderResetV2": _reset})
NOT_DIFFERENTIABLE.add("ReaderReadV2")


class ReaderBase:
    """Reads records from the files a queue names (``tf.ReaderBase``).

    Args:
        records: ``records(path)`` -> ``(key, value)`` pairs of one file.
        name: The reader's name (its ops are named after it).
    """

    supports_serialize = False

    def __init__(self, records: Records, name: str):
        self._records = records
        self.name = name

    def _op(
        self, op_type: str, inputs: list, avals: list, name: str, **attrs: Any
    ) -> Operation:
        return make_op(
            op_type,
            _host_only,
            inputs,
            name=name,
            attrs={"reader": self, **attrs},
            out_avals=avals,
        )

    def _read(
        self, queue: Any, n: int | None, name: str | None
    ) -> tuple[Tensor, Tensor]:
        ref = queue.queue_ref if isinstance(queue, QueueBase) else queue
        shape = () if n is None else (None,)
        op = self._op(
            "ReaderReadV2",
            [ref],
            [Aval(shape, dtypes_lib.string)] * 2,
            name or ("ReaderReadV2" if n is None else "ReaderReadUpToV2"),
            n=n,
        )
        return op.outputs[0], op.outputs[1]

    def read(self, queue: Any, name: str | None = None) -> tuple[Tensor, Tensor]:
        """``(key, value)``: the next record, from the next file of ``queue`` if needed."""
        return self._read(queue, None, name)

    def read_up_to(
        self, queue: Any, num_records: int, name: str | None = None
    ) -> tuple[Tensor, Tensor]:
        """Up to ``num_records`` records as vectors (fewer at the end of the input)."""
        return self._read(queue, int(num_records), name)

    def _counter(self, what: str, name: str | None) -> Tensor:
        return self._op(
            "ReaderCount",
            [],
            [Aval((), dtypes_lib.int64)],
            name or "ReaderCount",
            what=what,
        ).outputs[0]

    def num_records_produced(self, name: str | None = None) -> Tensor:
        """How many records this reader has produced (int64)."""
        return self._counter("produced", name)

    def num_work_units_completed(self, name: str | None = None) -> Tensor:
        """How many files this reader has finished (int64)."""
        return self._counter("completed", name)

    def reset(self, name: str | None = None) -> Operation:
        """An op forgetting the reader's position."""
        return self._op("ReaderResetV2", [], [], name or "ReaderResetV2")


def _tfrecords(options: Any) -> Records:
    def records(path: str) -> Iterator[tuple[bytes, bytes]]:
        for offset, data in tfrecord.iter_records(path, options):
            yield f"{path}:{offset}".encode(), data

    return records


def TFRecordReader(name: str | None = None, options: Any = None) -> ReaderBase:
    """Reads the records of TFRecord files; keys are ``"path:offset"`` (``tf.TFRecordReader``)."""
    return ReaderBase(_tfrecords(options), name or "TFRecordReaderV2")


def TextLineReader(
    skip_header_lines: int | None = None, name: str | None = None
) -> ReaderBase:
    """Reads lines without their line ends; keys are ``"path:line"`` (``tf.TextLineReader``)."""
    skip = skip_header_lines or 0

    def records(path: str) -> Iterator[tuple[bytes, bytes]]:
        with tfrecord.open_read(path) as f:
            for i, line in enumerate(f, 1):
                if i > skip:
                    yield f"{path}:{i}".encode(), line.rstrip(b"\n").removesuffix(b"\r")

    return ReaderBase(records, name or "TextLineReaderV2")


def WholeFileReader(name: str | None = None) -> ReaderBase:
    """Reads each file whole; the key is its path (``tf.WholeFileReader``)."""

    def records(path: str) -> Iterator[tuple[bytes, bytes]]:
        with tfrecord.open_read(path) as f:
            yield path.encode(), f.read()

    return ReaderBase(records, name or "WholeFileReaderV2")


def FixedLengthRecordReader(
    record_bytes: int,
    header_bytes: int | None = None,
    footer_bytes: int | None = None,
    hop_bytes: int | None = None,
    name: str | None = None,
    encoding: str | None = None,
) -> ReaderBase:
    """Reads records of ``record_bytes`` bytes; keys are ``"path:index"`` (``tf.FixedLengthRecordReader``)."""

    def records(path: str) -> Iterator[tuple[bytes, bytes]]:
        chunks = fixed_length_records(
            path, record_bytes, header_bytes or 0, footer_bytes or 0
        )
        for i, data in enumerate(chunks):
            yield f"{path}:{i}".encode(), data

    return ReaderBase(records, name or "FixedLengthRecordReaderV2")


IdentityReader = _unimplemented("IdentityReader", "tf.data.Dataset")
