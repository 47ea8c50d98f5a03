"""Peer watching: a lost process becomes an ``UnavailableError`` naming it.

A thread of each process (``start_watching``) asks the coordination service
which processes are alive; it knows within the heartbeat timeout. A session
run then raises ``PeerLostError`` (``raise_if_job_broken``), as does a
collective failing on the broken connection (``raise_if_peer_lost``).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

import jax

from jaxsession import errors
from jaxsession.distributed import process

logger = logging.getLogger("jaxsession")

# Fragments of the runtime errors a collective gives when a peer's
# connection is gone (Gloo on CPU; gRPC/coordination wording elsewhere).
_PEER_LOSS_MARKS = (
    "connection closed",
    "connection reset",
    "closed by peer",
    "reset by peer",
    "broken pipe",
    "connection refused",
    "socket closed",
    "unavailable",
    "unhealthy",
    "heartbeat",
)


class PeerLostError(errors.UnavailableError):
    """A process of this multi-process job stopped; the job cannot go on without it.

    MonitoredSession does not retry it (as it would another
    ``UnavailableError``): a new session would fail the same way. Restart
    every process.

    Attributes:
        lost_processes: The indices of the processes the coordination
            service no longer sees alive; empty when it still sees all.
    """

    def __init__(
        self, node_def: Any, op: Any, message: str, lost_processes: Sequence[int] = ()
    ) -> None:
        super().__init__(node_def, op, message)
        self.lost_processes = list(lost_processes)

    def __reduce__(self) -> tuple:
        return (type(self), (self.node_def, self.op, self.message, self.lost_processes))


def lost_processes() -> list[int]:
    """The processes the coordination service no longer sees alive (sorted).

    Barrier-like (JAX's ``get_live_nodes``): it returns once every live
    process has called it too; dead ones are not waited for. Only the peer
    watch thread and the exit wait call it.

    Raises:
        RuntimeError: ``jax.distributed`` is not initialized.
    """
    # The job's size without jax.process_count(), which could start a backend at exit.
    count = process.job_size()
    live = process.client().get_live_nodes(list(range(count)))
    return sorted(set(range(count)) - set(live))


def raise_if_peer_lost(error: BaseException) -> None:
    """Raises ``PeerLostError`` if ``error`` comes from a lost process.

    Call it with a runtime error of a device computation; it returns (for
    the caller to re-raise ``error``) unless this is a multi-process job and
    the error reads as a broken connection. The coordination service's view
    of the live processes names the lost ones; it may lag the collective's
    failure, so this polls it for up to the heartbeat timeout (+1 s).

    Raises:
        PeerLostError: naming the lost processes.
    """
    if not process.is_initialized() or process.process_count() < 2:
        return
    text = str(error).lower()
    if process.JOB.lost is None and not any(m in text for m in _PEER_LOSS_MARKS):
        return
    lost = process.JOB.lost
    if not lost:
        lost, _ = _await_lost(process.JOB.heartbeat_timeout + 1)
    raise _unavailable(lost, error) from error


def raise_if_job_broken() -> None:
    """Raises ``PeerLostError`` if a process of this job was found dead.

    Called before each device computation of a multi-process session: one
    with a dead peer could hang instead of failing.
    """
    if process.JOB.lost:
        raise _unavailable(process.JOB.lost, None)


# Threads that meet the other processes (collective checkpoint writes): at
# exit with a peer lost they are released and joined (lifecycle.py).
MEETING: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def join(thread: threading.Thread, what: str) -> None:
    """Joins ``thread``, unless a peer is lost first: then raises ``PeerLostError``.

    For threads that meet the other processes (a collective checkpoint
    write): with a peer dead they could wait at a barrier for the barrier's
    whole timeout. The loss is known within the heartbeat timeout.

    Args:
        thread: The thread to wait for.
        what: What it does, for the message ("writing checkpoint P").

    Raises:
        PeerLostError: a process of the job was found dead while ``thread``
            still ran; ``thread`` is left running.
    """
    while thread.is_alive():
        thread.join(0.05)
        if process.JOB.lost and thread.is_alive():
            raise _unavailable(process.JOB.lost, None, f" It was lost while {what}.")


def wait_ready(values: Sequence[Any]) -> None:
    """Waits until the ``jax.Array``s among ``values`` are computed, unless a peer is lost.

    A computation with a dead peer may never end (XLA's CPU collectives
    have no timeout); waiting here, not in a blocking transfer, lets this
    process raise instead of hang. Polls with a backoff of at most 0.5 ms
    (so a step ends at most that late); returns at once outside a watched
    multi-process job.

    Raises:
        PeerLostError: a process of the job was found dead first.
    """
    if not process.JOB.watching and not process.JOB.lost:
        return
    waiting = [v for v in values if isinstance(v, jax.Array) and not v.is_ready()]
    delay = 2e-5
    while waiting:
        if process.JOB.lost:
            raise _unavailable(
                process.JOB.lost,
                None,
                " It was lost while this process waited for a computation with it.",
            )
        time.sleep(delay)
        delay = min(2 * delay, 5e-4)
        waiting = [v for v in waiting if not v.is_ready()]


def _await_lost(bound_secs: float) -> tuple[list[int], float]:
    """Lost processes, polling until one shows or ``bound_secs`` pass; and the wait."""
    # The peer watch thread asks the service; asking here too would mix two
    # barrier-like calls of one process.
    start = time.monotonic()
    while True:
        lost = process.JOB.lost or []
        waited = time.monotonic() - start
        if lost or waited >= bound_secs or not process.JOB.watching:
            return lost, waited
        time.sleep(0.05)


def lost_text(lost: list[int], prefix: bool = True) -> str:
    """What was lost, for a message: the processes, or a connection."""
    count = process.job_size()
    me = f"{process.log_prefix()} " if prefix else ""
    if not lost:
        return (
            f"{me}lost the connection to a peer process (the "
            f"coordination service still sees all {count} alive)"
        )
    names = ", ".join(map(str, lost))
    if len(lost) == 1:
        return (
            f"{me}lost process {names} of {count} (it stopped: "
            "killed, crashed or unreachable)"
        )
    return (
        f"{me}lost processes {names} of {count} (they stopped: "
        "killed, crashed or unreachable)"
    )


def _unavailable(
    lost: list[int], error: BaseException | None, context: str = ""
) -> PeerLostError:
    if lost:
        process.JOB.lost = lost
    process.JOB.told = True
    cause = ""
    if error is not None:
        text = str(error).strip()
        first = text.splitlines()[0] if text else ""
        cause = f" The computation failed with {type(error).__name__}: {first}"
    return PeerLostError(
        None,
        None,
        f"{lost_text(lost)}; the job cannot continue without it: restart every "
        f"process to resume from the last checkpoint.{context}{cause}",
        lost,
    )


# -- the watch thread ----------------------------------------------------------------


def start_watching(heartbeat_timeout: float, interval: float = 0.25) -> None:
    """Starts the daemon thread watching for dead peers of this job."""
    process.JOB.watching = True
    threading.Thread(
        target=_watch_peers,
        args=(interval, min(heartbeat_timeout, 10)),
        name="jaxsession peer watch",
        daemon=True,
    ).start()


def _watch_peers(interval: float, grace: float) -> None:
    """Watches for dead peers; ends this process if it is stuck waiting on them.

    A collective with a dead peer usually fails at once (then
    raise_if_peer_lost names it), but some hang in XLA's CPU runtime. Once a
    peer is lost, a main thread that stays in one runtime frame for
    ``grace`` seconds without having been told is stuck: print why and exit 1.
    """
    try:
        lost = _wait_for_loss(interval)
        if lost:
            _end_if_stuck(lost, interval, grace)
    finally:
        process.JOB.watching = False


def _wait_for_loss(interval: float) -> list[int]:
    """The first lost processes seen, or [] once the job ends or the chief is gone."""
    lost: list[int] = []
    while not lost:
        time.sleep(interval)
        if process.JOB.closing or not process.is_initialized():
            return []
        try:
            lost = lost_processes()
        except Exception:
            # The service is gone with the chief; JAX's client is about to
            # end this process (a C++ abort): say why first, if there is time.
            if not process.JOB.closing:
                sys.stderr.write(
                    f"jaxsession: {process.log_prefix()} lost the chief (process 0, "
                    "which runs the coordination service); JAX ends this process.\n"
                )
                sys.stderr.flush()
            return []
    process.JOB.lost = lost
    logger.error("%s", lost_text(lost, prefix=False))
    return lost


def _end_if_stuck(lost: list[int], interval: float, grace: float) -> None:
    main = threading.main_thread()
    last, since = None, time.monotonic()
    while not (process.JOB.closing or process.JOB.told):
        frame = sys._current_frames().get(main.ident)
        where = (frame.f_code, frame.f_lineno) if frame is not None else None
        if where != last:
            last, since = where, time.monotonic()
        elif _in_runtime(frame) and time.monotonic() - since > grace:
            sys.stderr.write(
                f"jaxsession: {lost_text(lost)}. This process waited "
                f"{grace:g} secs in {frame.f_code.co_name} "
                f"({frame.f_code.co_filename}:{frame.f_lineno}), a computation "
                "with the lost process, and exits (code 1).\n"
            )
            sys.stderr.flush()
            os._exit(1)
        time.sleep(interval)


def _in_runtime(frame: Any) -> bool:
    """Whether a frame is in jaxsession's or JAX's code (not the user's, nor a shutdown)."""
    name = frame.f_code.co_filename.replace(os.sep, "/") if frame is not None else ""
    return ("/jaxsession/" in name or "/jax/" in name) and not name.endswith(
        "/distributed.py"
    )
