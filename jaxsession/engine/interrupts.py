"""Ctrl-C deferred across the swap of donated buffers.

A compiled call consumes (donates) the variable buffers it writes; the new
buffers exist only in its return value until the store holds them. Python
delivers a SIGINT that arrived during the call as soon as the call returns,
before its value is stored, and a KeyboardInterrupt there loses every
variable the run writes ("Array has been deleted" on every later run).

``guarded`` runs the call, the store and the run's bookkeeping with SIGINT's Python handler
deferring instead of raising, and raises the deferred interrupt right after,
once the store is whole. Python runs signal handlers in the main thread
only: a signal deferred during another thread's swap is sent again. The
deferring handler is put
in place lazily, from a run in the main thread, in front of whatever handler
it finds (a notebook kernel puts its own back around every cell, so the
next run wraps that one again); it forwards every signal it does not defer.
"""

from __future__ import annotations

import _signal
import signal
import threading
from collections.abc import Callable
from typing import Any

_MAIN = threading.main_thread().ident
_get_ident = threading.get_ident
# The C function: ``signal.getsignal`` wraps it in an enum conversion that
# costs two microseconds, half a small run.
_getsignal = _signal.getsignal
_SIGINT = int(signal.SIGINT)


class _State:
    __slots__ = ("active", "pending", "previous")

    def __init__(self):
        self.active = 0  # guarded regions entered and not left (they nest)
        self.pending: tuple[int, Any] | None = None
        self.previous: Any = signal.default_int_handler


_state = _State()


def _deferring_handler(signum: int, frame: Any) -> None:
    if _state.active > 0:
        _state.pending = (signum, frame)
        return
    _forward(signum, frame)


def _forward(signum: int, frame: Any) -> None:
    previous = _state.previous
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.default_int_handler(signum, frame)


def _install() -> bool:
    """Puts the deferring handler in front of SIGINT's current one."""
    current = _getsignal(_SIGINT)
    if current is None:  # set from C: leave it alone
        return False
    try:
        signal.signal(_SIGINT, _deferring_handler)
    except ValueError:  # not the main interpreter's main thread
        return False
    _state.previous = current
    return True


def raise_pending() -> None:
    """Raises the interrupt deferred during the last swap, once none is open."""
    if _state.pending is not None and not _state.active:
        _raise_pending()


STATE = _state
# For the guards inlined in engine/runner.py's cheapest runs: when
# ``getsignal(SIGINT) is HANDLER or install()``, add 1 to ``STATE.active``
# around the swap, take it off after, then ``raise_pending()``.
getsignal, SIGINT = _getsignal, _SIGINT


def install() -> bool:
    """Puts the deferring handler in front of SIGINT's; False off the main thread."""
    return _install()


def _raise_pending() -> None:
    pending, _state.pending = _state.pending, None
    if _get_ident() == _MAIN:
        _forward(*pending)
    else:
        # Deferred while another thread swapped: deliver it to the main
        # thread again, which is where Python raises it.
        signal.raise_signal(_SIGINT)


def guarded(swap: Callable[..., Any]) -> Callable[..., Any]:
    """``swap`` with a KeyboardInterrupt that lands in it raised after it.

    Args:
        swap: The compiled call, the store of its written buffers and the
            bookkeeping that must agree with them (``engine/runner.py``).

    Returns:
        The same function, safe against Ctrl-C between the call and the store.
    """

    def run(*args: Any) -> Any:
        # Outside the main thread _install fails and the run goes unguarded.
        if _getsignal(_SIGINT) is not _deferring_handler and not _install():
            return swap(*args)
        state = _state
        state.active += 1
        try:
            result = swap(*args)
        finally:
            state.active -= 1
        if state.pending is not None and not state.active:
            _raise_pending()
        return result

    run.__name__ = swap.__name__
    return run


HANDLER = _deferring_handler
