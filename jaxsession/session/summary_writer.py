"""FileWriter (``tf.summary.FileWriter``) and the process-wide writer cache.

Events are written in TensorBoard's event-file format (TFRecord framing,
``Event`` protos) with tensorboardX's record writer and protos. As in TF1,
``add_*`` calls only queue the event; a background thread writes the queued
events in batches (when ``max_queue`` wait) and flushes the file every
``flush_secs``; ``flush()`` returns once every queued event is on disk.

``add_graph`` (and ``FileWriter(logdir, graph=...)``) writes the graph as a
``GraphDef`` event for TensorBoard's graph tab (see ``graph_def.py``).

``add_run_metadata`` writes a ``TaggedRunMetadata`` event with the serialized
RunMetadata, whose step stats a traced run filled (``tracing.py``).

``logdir`` may be a ``gs://`` or ``s3://`` URL: objects cannot be appended
to, so the event file is written to a local temporary file and uploaded
whole at each flush and at close (``checkpoint/storage.py``).

Differs from TF1: ``add_meta_graph`` writes nothing. A writer opened in the
same second as an existing event file of its directory adds ``.<n>`` to its
file name instead of overwriting that file.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tensorboardX.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata
from tensorboardX.proto.summary_pb2 import Summary

from jaxsession import errors
from jaxsession.checkpoint import storage
from jaxsession.engine import deferred
from jaxsession.engine.deferred import DeferredValue
from jaxsession.input.tfrecord import masked_crc32c, record_bytes

logger = logging.getLogger("jaxsession")

# How long the writer thread waits for the training thread to finish a
# deferred summary before it finishes the summary itself.
_DEFERRED_WAIT_SECS = 0.5
_OPEN_FILES: set[_EventFile] = set()


def _event_file_path(logdir: str, suffix: str) -> str:
    base = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}"
    path, n = storage.join(logdir, f"{base}{suffix}"), 0
    while storage.exists(path):
        n += 1
        path = storage.join(logdir, f"{base}.{n}{suffix}")
    return path


class _EventFile:
    """One open event file, its events written by a daemon thread in batches.

    The thread is woken when ``max_queue`` events wait, at a flush and
    every ``flush_secs``, not at every event: on a host with few cores
    each wake-up of a thread costs the training loop more than writing
    the event (benchmarks/RESULTS.md, session 6). An ``add`` with
    ``max_queue`` events still waiting blocks until the thread takes them.
    """

    def __init__(self, logdir: str, max_queue: int, flush_secs: float, suffix: str):
        storage.makedirs(logdir)
        self.path = _event_file_path(logdir, suffix)
        # A bucket object is uploaded whole, from this local copy, at each flush.
        self._local: str | None = None
        if storage.is_remote(self.path):
            fd, self._local = tempfile.mkstemp(prefix="jaxsession-events-")
            os.close(fd)
            _flush_before_clients_close()
        # TF's record framing with a native CRC32C: tensorboardX's RecordWriter
        # computes it in Python without the optional crc32c package (~0.4 ms
        # for a 3 KB histogram event).
        self._records = open(self._local or self.path, "wb")
        self._lock = threading.Lock()
        self._unflushed = False
        self._max_queue = max(1, max_queue)
        self._flush_secs = flush_secs
        # Guards the waiting events and the flush requests, and signals both ways.
        self._cond = threading.Condition()
        self._waiting: list[Any] = []
        self._asked = self._served = 0
        self._stopping = False
        self._write(Event(wall_time=time.time(), file_version="brain.Event:2"))
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        _OPEN_FILES.add(self)

    def _write(self, event: Event | _Pending) -> None:
        if isinstance(event, _Pending):
            event = event.finish()
            if event is None:
                return
        with self._lock:
            self._records.write(record_bytes(event.SerializeToString()))
            self._unflushed = True

    def _flush_file(self) -> None:
        with self._lock:
            # As TF1's EventsWriter: nothing written since the last flush, no
            # sync (nor, for a bucket, another upload of the same bytes).
            if not self._unflushed:
                return
            self._unflushed = False
            self._records.flush()
            os.fsync(self._records.fileno())
            if self._local is not None:
                storage.upload(self._local, self.path)

    def _loop(self) -> None:
        next_flush = time.monotonic() + self._flush_secs
        while True:
            with self._cond:
                while not (
                    self._stopping
                    or self._asked > self._served
                    or len(self._waiting) >= self._max_queue
                ):
                    left = next_flush - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                items, self._waiting = self._waiting, []
                asked, stopping = self._asked, self._stopping
                self._cond.notify_all()  # an add waiting for room
            try:
                for item in items:
                    self._write_logged(item)
                if asked > self._served or time.monotonic() >= next_flush:
                    self._flush_file()
                    next_flush = time.monotonic() + self._flush_secs
            except Exception:
                # A dead writer thread would make flush() wait forever.
                logger.exception("Writing to event file %s failed.", self.path)
            finally:
                with self._cond:
                    self._served = asked
                    self._cond.notify_all()
            if stopping:
                return

    def _write_logged(self, item: Any) -> None:
        try:
            self._write(item)
        except Exception:
            logger.exception("Writing to event file %s failed.", self.path)

    def add(self, event: Event) -> None:
        with self._cond:
            while len(self._waiting) >= self._max_queue and self._thread.is_alive():
                self._cond.notify_all()
                self._cond.wait(0.1)
            self._waiting.append(event)
            if len(self._waiting) >= self._max_queue:
                self._cond.notify_all()

    def _ask(self, stop: bool = False) -> None:
        """Has the thread write what waits and flush; returns once it has."""
        with self._cond:
            self._asked += 1
            ticket = self._asked
            self._stopping = self._stopping or stop
            self._cond.notify_all()
            while self._served < ticket and self._thread.is_alive():
                self._cond.wait(0.1)

    def flush(self) -> None:
        # Deferred summaries queued here are finished on this thread first.
        deferred.finish_all()
        self._ask()
        self._flush_file()

    def close(self) -> None:
        deferred.finish_all()
        self._ask(stop=True)
        self._thread.join()
        self._flush_file()
        with self._lock:
            self._records.close()
            if self._local is not None:
                Path(self._local).unlink()
        _OPEN_FILES.discard(self)


class _Pending:
    """A summary event whose metadata the writer thread settles (in write order).

    Its summary may be one a run is still finishing (``engine/deferred.py``).
    """

    __slots__ = ("event", "value", "writer")

    def __init__(
        self, writer: FileWriter, event: Event, value: Summary | DeferredValue
    ):
        self.writer, self.event, self.value = writer, event, value

    def finish(self) -> Event | None:
        """The event with its summary, or None (logged) if the summary failed."""
        value = self.value
        if isinstance(value, DeferredValue):
            # The training thread finishes it a run or two later, in its
            # own time; if it stops running, this thread does.
            value.wait(_DEFERRED_WAIT_SECS)
            try:
                value = _as_summary(value.result())
            except Exception as e:
                # The hook that fetched it raises the error in the training loop.
                logger.warning(
                    "A summary at step %d was not written: %s", self.event.step, e
                )
                return None
        self.event.summary.CopyFrom(self.writer._keep_first_metadata(value))
        return self.event


def _as_summary(summary: Summary | bytes | np.ndarray) -> Summary:
    """A ``Summary`` of its own: parsed from bytes, or a copy of the proto."""
    if isinstance(summary, np.ndarray):  # a 0-d string array
        summary = summary.item()
    if isinstance(summary, bytes | bytearray):
        return Summary.FromString(bytes(summary))
    copy = Summary()
    copy.CopyFrom(summary)
    return copy


_exit_flush = {"registered_late": False, "done": False}


@atexit.register
def _flush_open_files() -> None:
    # Registered twice (see below); the first of the two at exit flushes.
    if _exit_flush["done"]:
        return
    _exit_flush["done"] = True
    for events in list(_OPEN_FILES):
        events.flush()


def _flush_before_clients_close() -> None:
    # atexit runs last-registered first: registered after the bucket client
    # started (and registered its own shutdown), this flush uploads first.
    if not _exit_flush["registered_late"]:
        _exit_flush["registered_late"] = True
        atexit.register(_flush_open_files)


class FileWriter:
    """Writes summaries and events to an event file in ``logdir``.

    Args:
        logdir: Directory of the event file (created if missing).
        graph: A graph to add with ``add_graph`` (see the module docstring).
        max_queue: Events queued before ``add_*`` blocks until written.
        flush_secs: Seconds between flushes to disk by the writer thread.
        graph_def: Deprecated TF1 alias of ``graph``.
        filename_suffix: Appended to the event file name.
        session: Accepted and ignored (TF1's summary-ops writer mode).
    """

    def __init__(
        self,
        logdir: str,
        graph: Any = None,
        max_queue: int = 10,
        flush_secs: float = 120,
        graph_def: Any = None,
        filename_suffix: str | None = None,
        session: Any = None,
    ):
        self._logdir = os.fspath(logdir)
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._suffix = filename_suffix or ""
        self._events: _EventFile | None = _EventFile(
            self._logdir, max_queue, flush_secs, self._suffix
        )
        self._seen_summary_tags: set[str] = set()
        self._session_run_tags: set[str] = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    @property
    def event_file_path(self) -> str | None:
        """Path of the open event file, or None once closed."""
        return self._events.path if self._events is not None else None

    def get_logdir(self) -> str:
        """The directory of the event file."""
        return self._logdir

    def add_event(self, event: Event) -> None:
        """Queues an ``Event`` proto as it is."""
        self._enqueue(event)

    def _enqueue(self, item: Event | _Pending) -> None:
        if self._events is None:
            logger.warning(
                "Attempting to use a closed FileWriter. The operation will be a noop "
                "unless the FileWriter is explicitly reopened."
            )
            return
        self._events.add(item)  # type: ignore[arg-type]

    def _add_event(self, event: Event, step: Any) -> None:
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self.add_event(event)

    def add_summary(
        self, summary: Summary | bytes | DeferredValue, global_step: Any = None
    ) -> None:
        """Adds a ``Summary`` (a proto or its serialized bytes) at ``global_step``.

        Metadata is kept only on the first value of each tag, as TF1 does. A
        ``DeferredValue`` (a summary a run left to finish, not in TF1) is
        awaited on the writer thread; if it fails, nothing is written.

        Raises:
            google.protobuf.message.DecodeError: ``summary`` is bytes that do
                not parse.
        """
        if not isinstance(summary, DeferredValue):
            summary = _as_summary(summary)
        event = Event(wall_time=time.time())
        if global_step is not None:
            event.step = int(global_step)
        if type(self).add_event is not FileWriter.add_event:
            # A subclass sees every event through add_event, as in TF1.
            if isinstance(summary, DeferredValue):
                summary = _as_summary(summary.result())
            event.summary.CopyFrom(self._keep_first_metadata(summary))
            self.add_event(event)
            return
        # The writer thread settles each tag's first metadata, in write order.
        self._enqueue(_Pending(self, event, summary))

    def _keep_first_metadata(self, summary: Summary) -> Summary:
        """``summary`` with metadata left only on tags not seen before (writer thread)."""
        for value in summary.value:
            if not value.HasField("metadata"):
                continue
            if value.tag in self._seen_summary_tags:
                value.ClearField("metadata")
            else:
                self._seen_summary_tags.add(value.tag)
        return summary

    def add_session_log(self, session_log: SessionLog, global_step: Any = None) -> None:
        """Adds a ``SessionLog`` (START, STOP, CHECKPOINT) at ``global_step``."""
        self._add_event(Event(session_log=session_log), global_step)

    def add_graph(
        self, graph: Any, global_step: Any = None, graph_def: Any = None
    ) -> None:
        """Adds a graph event for TensorBoard's graph tab.

        Args:
            graph: A ``Graph`` (or a ``GraphDef`` proto, deprecated in TF1).
            global_step: Step of the event.
            graph_def: Deprecated TF1 alias of ``graph``.

        Raises:
            ValueError: both ``graph`` and ``graph_def`` are given.
            TypeError: the graph is neither a ``Graph`` nor a ``GraphDef``.
        """
        from jaxsession.graph import graph_def as graph_def_lib
        from jaxsession.graph.core import Graph

        if graph is not None and graph_def is not None:
            raise ValueError(
                "Please pass only graph, or graph_def (deprecated), but not both."
            )
        given = graph if graph is not None else graph_def
        if isinstance(given, Graph):
            proto = graph_def_lib.graph_to_graph_def(given)
        elif isinstance(given, graph_def_lib.GraphDef):
            proto = given
        else:
            raise TypeError(
                "The passed graph must be an instance of `Graph` or the deprecated "
                f"`GraphDef`, got {type(given).__name__}"
            )
        self._add_event(Event(graph_def=proto.SerializeToString()), global_step)

    def add_meta_graph(self, meta_graph_def: Any, global_step: Any = None) -> None:
        """Does nothing yet: the graph tab arrives later."""

    def add_run_metadata(
        self, run_metadata: Any, tag: str, global_step: Any = None
    ) -> None:
        """Adds a ``TaggedRunMetadata`` event named ``tag``.

        The payload is ``run_metadata.SerializeToString()`` when it has one,
        else empty.

        Raises:
            ValueError: ``tag`` was already used by this writer.
        """
        if tag in self._session_run_tags:
            raise ValueError("The provided tag was already used for this event type")
        self._session_run_tags.add(tag)
        serialize = getattr(run_metadata, "SerializeToString", None)
        payload = serialize() if serialize is not None else b""
        tagged = TaggedRunMetadata(tag=tag, run_metadata=payload)
        self._add_event(Event(tagged_run_metadata=tagged), global_step)

    def flush(self) -> None:
        """Writes every queued event to disk."""
        if self._events is not None:
            self._events.flush()

    def close(self) -> None:
        """Flushes and closes the event file; ``reopen`` starts a new one."""
        if self._events is not None:
            self._events.close()
            self._events = None

    def reopen(self) -> None:
        """After ``close``, opens a new event file in the same directory."""
        if self._events is None:
            self._events = _EventFile(
                self._logdir, self._max_queue, self._flush_secs, self._suffix
            )

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class FileWriterCache:
    """One FileWriter per log directory, shared by the whole process (TF1's SummaryWriterCache)."""

    _cache: dict[str, FileWriter] = {}
    _lock = threading.RLock()

    @staticmethod
    def get(logdir: str) -> FileWriter:
        """The cached writer for ``logdir``, created (with the default graph) if missing."""
        from jaxsession.graph.core import get_default_graph

        with FileWriterCache._lock:
            key = os.fspath(logdir)
            if key not in FileWriterCache._cache:
                FileWriterCache._cache[key] = FileWriter(key, graph=get_default_graph())
            return FileWriterCache._cache[key]

    @staticmethod
    def clear() -> None:
        """Closes and forgets every cached writer."""
        with FileWriterCache._lock:
            for writer in FileWriterCache._cache.values():
                writer.close()
            FileWriterCache._cache = {}


SummaryWriterCache = FileWriterCache


def summary_iterator(path: str) -> Iterator[Event]:
    """Yields the ``Event`` protos of one event file (``tf.train.summary_iterator``).

    Args:
        path: An event file written by a FileWriter (or TensorFlow).

    Yields:
        Each event, in file order.

    Raises:
        errors.DataLossError: a record is truncated or its checksum is wrong.
    """
    data = storage.read_bytes(path)
    pos = 0
    while pos < len(data):
        if pos + 12 > len(data):
            raise _data_loss("Truncated record header", pos, path)
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8 : pos + 12])
        end = pos + 12 + length
        if end + 4 > len(data):
            raise _data_loss("Truncated record", pos, path)
        body = data[pos + 12 : end]
        (body_crc,) = struct.unpack("<I", data[end : end + 4])
        if header_crc != masked_crc32c(header) or body_crc != masked_crc32c(body):
            raise _data_loss("Corrupted record", pos, path)
        yield Event.FromString(body)
        pos = end + 4


def _data_loss(what: str, pos: int, path: str) -> errors.DataLossError:
    return errors.DataLossError(None, None, f"{what} at byte {pos} of {path}")
