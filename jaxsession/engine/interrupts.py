"""Ctrl-C deferred across the swap of donated buffers.

A compiled call consumes (donates) the variable buffers it writes; the new
buffers exist only in its return value until the store holds them. Python
delivers a SIGINT that arrived during the call as soon as the call returns,
before its value is stored, and a KeyboardInterrupt there loses every
variable the run writes ("Array has been deleted" on every later run).

A guarded region (``guarded``, or the same steps inlined on the cheapest run
paths of ``engine/runner.py``) runs the call, the store and the run's
bookkeeping with SIGINT's Python handler deferring instead of raising, and
raises the deferred interrupt right after, once the store is whole. Python
runs signal handlers in the main thread only: a signal deferred during
another thread's swap is sent again. The deferring handler is put in place
lazily, from a run in the main thread, in front of whatever handler it finds
(a notebook kernel puts its own back around every cell, so the next run
wraps that one again); it forwards every signal it does not defer.

An inlined region: when ``getsignal(SIGINT) is handler or install()``, add 1
to ``STATE.active`` around the swap, take it off after, then
``raise_pending()``.
"""

from __future__ import annotations

import _signal
import signal
import threading
from collections.abc import Callable
from typing import Any

_MAIN = threading.main_thread().ident
# The C function: ``signal.getsignal`` wraps it in an enum conversion that
# costs two microseconds, half a small run.
getsignal = _signal.getsignal
SIGINT = int(signal.SIGINT)


class _State:
    __slots__ = ("active", "pending", "previous")

    def __init__(self):
        self.active = 0  # guarded regions entered and not left (they nest)
        self.pending: tuple[int, Any] | None = None
        self.previous: Any = signal.default_int_handler


STATE = _State()


def handler(signum: int, frame: Any) -> None:
    """SIGINT's handler while a guard is armed: defers inside a region."""
    if STATE.active > 0:
        STATE.pending = (signum, frame)
        return
    _forward(signum, frame)


def _forward(signum: int, frame: Any) -> None:
    previous = STATE.previous
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.default_int_handler(signum, frame)


def install() -> bool:
    """Puts ``handler`` in front of SIGINT's current one; False if it cannot."""
    current = getsignal(SIGINT)
    if current is None:  # set from C: leave it alone
        return False
    try:
        signal.signal(SIGINT, handler)
    except ValueError:  # not the main interpreter's main thread
        return False
    STATE.previous = current
    return True


def raise_pending() -> None:
    """Raises the interrupt deferred in a region, once no region is open."""
    if STATE.pending is None or STATE.active:
        return
    pending, STATE.pending = STATE.pending, None
    if threading.get_ident() == _MAIN:
        _forward(*pending)
    else:
        # Deferred while another thread swapped: deliver it to the main
        # thread again, which is where Python raises it.
        signal.raise_signal(SIGINT)


def guarded(swap: Callable[..., Any]) -> Callable[..., Any]:
    """``swap`` with a KeyboardInterrupt that lands in it raised after it.

    Args:
        swap: The compiled call, the store of its written buffers and the
            bookkeeping that must agree with them (``engine/runner.py``).

    Returns:
        The same function, safe against Ctrl-C between the call and the store.
    """

    def run(*args: Any) -> Any:
        # Outside the main thread install() fails and the run goes unguarded.
        if getsignal(SIGINT) is not handler and not install():
            return swap(*args)
        STATE.active += 1
        try:
            result = swap(*args)
        finally:
            STATE.active -= 1
        raise_pending()
        return result

    run.__name__ = swap.__name__
    return run
