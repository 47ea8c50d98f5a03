"""``tf.logging``: TF1's logging functions, routed to the ``jaxsession`` logger.

As in TF1 the verbosity is the logger's effective level (WARN while
nothing is configured), and the first call adds a stderr
handler (format ``INFO:jaxsession:message``) when the root logger has none,
so ``set_verbosity(INFO)`` makes ``info`` visible in a plain script.

Orbax's own INFO lines (about twenty per checkpoint save, through absl's
logger) follow this verbosity too: they are dropped unless it is DEBUG
(``set_verbosity(DEBUG)``), whatever absl's or the root logger's level;
Orbax's warnings and errors always pass.

Differs from TF1: messages go to the ``jaxsession`` logger, not ``tensorflow``.
"""

from __future__ import annotations

import logging as _logging
import os as _os
import sys as _sys
import threading as _threading
from typing import Any

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
ERROR = _logging.ERROR
FATAL = _logging.FATAL

_LOGGER_NAME = "jaxsession"
_lock = _threading.Lock()
_handler: _logging.Handler | None = None
_counts: dict[Any, int] = {}
_ORBAX_DIR = f"{_os.sep}orbax{_os.sep}"


class _OrbaxChatterFilter(_logging.Filter):
    """Drops Orbax's records below WARNING unless tf.logging's verbosity is DEBUG."""

    def filter(self, record: _logging.LogRecord) -> bool:
        return (
            record.levelno >= WARN
            or _ORBAX_DIR not in record.pathname
            or _logging.getLogger(_LOGGER_NAME).getEffectiveLevel() <= DEBUG
        )


def _quiet_orbax() -> None:
    # Orbax logs through absl's logger, which propagates to the root logger:
    # filtered here, on the logger itself, no handler of either prints it.
    absl_logger = _logging.getLogger("absl")
    if not any(isinstance(f, _OrbaxChatterFilter) for f in absl_logger.filters):
        absl_logger.addFilter(_OrbaxChatterFilter())


_quiet_orbax()


def get_logger() -> _logging.Logger:
    """The ``jaxsession`` logger, with a stderr handler if nothing else prints."""
    global _handler
    logger = _logging.getLogger(_LOGGER_NAME)
    with _lock:
        if _handler is None:
            # As TF1: only when the program configured no logging of its own.
            if not _logging.getLogger().handlers and not logger.handlers:
                _handler = _logging.StreamHandler(_sys.stderr)
                _handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT))
                logger.addHandler(_handler)
                # A root handler added later (absl's vlog calls basicConfig) must
                # not print every line a second time.
                logger.propagate = False
            else:
                _handler = _logging.NullHandler()
    return logger


def log(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs ``msg % args`` at ``level``."""
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs at DEBUG."""
    get_logger().debug(msg, *args, **kwargs)


def info(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs at INFO."""
    get_logger().info(msg, *args, **kwargs)


def warning(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs at WARN."""
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs at ERROR."""
    get_logger().error(msg, *args, **kwargs)


def fatal(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs at FATAL (TF1 does not exit either)."""
    get_logger().fatal(msg, *args, **kwargs)


def vlog(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs at ``level`` (TF1's verbose logging)."""
    get_logger().log(level, msg, *args, **kwargs)


def flush() -> None:
    """Flushes every handler of the logger."""
    for handler in get_logger().handlers:
        handler.flush()


def log_if(level: int, msg: Any, condition: bool, *args: Any) -> None:
    """Logs only when ``condition`` is true."""
    if condition:
        log(level, msg, *args)


def _next_count(key: Any) -> int:
    with _lock:
        count = _counts.get(key, 0)
        _counts[key] = count + 1
    return count


def _call_site() -> tuple[str, int]:
    frame = _sys._getframe(2)
    return frame.f_code.co_filename, frame.f_lineno


def log_every_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs on the 1st, (n+1)th, (2n+1)th... call from the same line."""
    count = _next_count(_call_site())
    log_if(level, msg, count % n == 0, *args)


def log_first_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs only on the first ``n`` calls from the same line."""
    count = _next_count(_call_site())
    log_if(level, msg, count < n, *args)


def get_verbosity() -> int:
    """The effective level of the ``jaxsession`` logger."""
    return get_logger().getEffectiveLevel()


def set_verbosity(v: int) -> None:
    """Sets the level of the ``jaxsession`` logger (DEBUG, INFO, WARN, ...)."""
    get_logger().setLevel(v)


def TaskLevelStatusMessage(msg: Any) -> None:
    """Logs ``msg`` at ERROR, as TF1 does."""
    error(msg)
