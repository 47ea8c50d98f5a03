"""Coordinator: stop requests and exceptions shared by a session and its threads."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from jaxsession import errors

logger = logging.getLogger("jaxsession")


class Coordinator:
    """Lets threads request a stop, report exceptions and be joined (``tf.train.Coordinator``).

    Args:
        clean_stop_exception_types: Exception types that stop without being
            reported (default ``(errors.OutOfRangeError,)``).
    """

    def __init__(self, clean_stop_exception_types: Iterable[type] | None = None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info: tuple[Any, Any, Any] | None = None
        self._joined = False
        self._registered: set[threading.Thread] = set()

    def _filter(self, ex: Any) -> Any:
        if isinstance(ex, tuple):
            ex_value = ex[1]
        else:
            ex_value = ex
        if isinstance(ex_value, self._clean_stop_types):
            return None
        return ex

    def request_stop(self, ex: Any = None) -> None:
        """Requests a stop, recording ``ex`` (an exception or exc_info) if it is the first.

        Raises:
            Exception: ``ex`` itself when ``join()`` has already happened.
        """
        with self._lock:
            ex = self._filter(ex)
            if self._joined and ex is not None:
                raise ex[1] if isinstance(ex, tuple) else ex
            if self._stop_event.is_set():
                return
            if ex is not None:
                if isinstance(ex, tuple):
                    self._exc_info = ex
                else:
                    current = sys.exc_info()
                    tb = current[2] if current[1] is ex else ex.__traceback__
                    self._exc_info = (type(ex), ex, tb)
                logger.info("Error reported to Coordinator: %s", self._exc_info[1])
            self._stop_event.set()

    def clear_stop(self) -> None:
        """Clears the stop request, the stored exception and the joined flag."""
        with self._lock:
            self._joined = False
            self._exc_info = None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        """Whether a stop was requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self) -> Iterator[None]:
        """Reports any exception raised in the block with ``request_stop``."""
        try:
            yield
        except BaseException as e:
            self.request_stop(e)

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        """Waits up to ``timeout`` seconds for a stop; returns whether it came."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread: threading.Thread) -> None:
        """Adds ``thread`` to the threads ``join()`` waits for."""
        with self._lock:
            self._registered.add(thread)

    @property
    def joined(self) -> bool:
        """Whether ``join()`` has run."""
        return self._joined

    def join(
        self,
        threads: Iterable[threading.Thread] | None = None,
        stop_grace_period_secs: float = 120,
        ignore_live_threads: bool = False,
    ) -> None:
        """Waits for the threads to finish after a stop, then re-raises any reported error.

        Raises:
            Exception: the first exception reported with ``request_stop``.
            RuntimeError: threads are still alive after the grace period.
        """
        with self._lock:
            all_threads = set(self._registered) | set(threads or ())
        while any(t.is_alive() for t in all_threads) and not self.wait_for_stop(1.0):
            pass
        delay, waited = 0.001, 0.0
        while (
            any(t.is_alive() for t in all_threads) and waited < stop_grace_period_secs
        ):
            time.sleep(delay)
            waited += delay
            delay = min(2 * delay, 1.0)
        stragglers = [t.name for t in all_threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered = set()
            exc_info = self._exc_info
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])
        if stragglers:
            if ignore_live_threads:
                logger.info(
                    "Coordinator stopped with threads still running: %s",
                    " ".join(stragglers),
                )
            else:
                raise RuntimeError(
                    f"Coordinator stopped with threads still running: {' '.join(stragglers)}"
                )

    def raise_requested_exception(self) -> None:
        """Raises the stored exception, if any."""
        with self._lock:
            exc_info = self._exc_info
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])

    @property
    def exception(self) -> BaseException | None:
        """The stored exception, or None."""
        return None if self._exc_info is None else self._exc_info[1]
