"""Checkpoint writes in flight in this process, which readers wait for.

A TF1 program reads a checkpoint (``latest_checkpoint``, another Saver's
restore) or exits right after ``save()``; Saver writes in the background, so
every reader first waits for the writes of every Saver here.

A collective write (multi-process) meets the other processes at barriers; a
dead peer would hold it there for the barrier's whole timeout. Waits for it
therefore end with ``PeerLostError`` once the peer watch knows a process is
lost (within the heartbeat timeout), leaving the write behind: writer
threads are daemons, so that the exit does not wait for them either.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import thread as _futures_thread  # noqa: F401 (see below)

from jaxsession.distributed import health

logger = logging.getLogger("jaxsession")

# Writer thread -> the checkpoint prefix it writes.
_IN_FLIGHT: dict[threading.Thread, str] = {}
_IN_FLIGHT_LOCK = threading.Lock()


def start(thread: threading.Thread, prefix: str) -> None:
    """Starts ``thread``, the write of checkpoint ``prefix``, and tracks it until ``finished``."""
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT[thread] = prefix
    health.MEETING.add(thread)
    thread.start()


def in_flight() -> set[str]:
    """The prefixes of the checkpoints being written in this process."""
    with _IN_FLIGHT_LOCK:
        return set(_IN_FLIGHT.values())


def finished() -> None:
    """Called by a write thread as it ends (whether it failed or not)."""
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT.pop(threading.current_thread(), None)


def wait_for_pending_saves() -> None:
    """Waits for every checkpoint write in flight in this process.

    A failed write's error stays with its Saver (raised by its next call).

    Raises:
        health.PeerLostError: a process of the job was lost while a write
            was in flight (it may never end).
    """
    with _IN_FLIGHT_LOCK:
        threads = list(_IN_FLIGHT.items())
    for thread, prefix in threads:
        if thread is not threading.current_thread():
            join(thread, prefix)


def join(thread: threading.Thread, prefix: str) -> None:
    """Waits for ``thread``, the write of ``prefix``, unless a peer is lost first.

    Raises:
        health.PeerLostError: a process of the job was lost first.
    """
    health.join(thread, f"checkpoint {prefix} was being written")


def _wait_at_exit() -> None:
    try:
        wait_for_pending_saves()
    except health.PeerLostError as e:
        logger.error("exiting without the checkpoint write in flight: %s", e)


# Runs before concurrent.futures (imported first, so registered first) refuses
# new work at shutdown: threading's atexit callbacks run last-registered first,
# so a save begun just before exit still lands.
threading._register_atexit(_wait_at_exit)
