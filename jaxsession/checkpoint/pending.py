"""Checkpoint writes in flight in this process, which readers wait for.

A TF1 program reads a checkpoint (``latest_checkpoint``, another Saver's
restore) or exits right after ``save()``; Saver writes in the background, so
every reader first waits for the writes of every Saver here.
"""

from __future__ import annotations

import threading
from concurrent.futures import thread as _futures_thread  # noqa: F401 (see below)

_IN_FLIGHT: set[threading.Thread] = set()
_IN_FLIGHT_LOCK = threading.Lock()


def start(thread: threading.Thread) -> None:
    """Starts ``thread``, a checkpoint write, and tracks it until ``finished``."""
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT.add(thread)
    thread.start()


def finished() -> None:
    """Called by a write thread as it ends (whether it failed or not)."""
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT.discard(threading.current_thread())


def wait_for_pending_saves() -> None:
    """Waits for every checkpoint write in flight in this process.

    A failed write's error stays with its Saver (raised by its next call).
    """
    with _IN_FLIGHT_LOCK:
        threads = list(_IN_FLIGHT)
    for thread in threads:
        if thread is not threading.current_thread():
            thread.join()


# Runs before concurrent.futures (imported first, so registered first) refuses
# new work at shutdown: threading's atexit callbacks run last-registered first,
# so a save begun just before exit still lands.
threading._register_atexit(wait_for_pending_saves)
