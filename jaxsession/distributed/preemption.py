"""JAX's preemption sync: a notice from any process -> one agreed stopping point.

``jax.distributed.initialize`` starts a preemption sync manager in every
process. Its C++ SIGTERM handler posts a notice to the coordination service;
every process's manager then reports its latest sync-point call count, and
the largest + 1 becomes the point at which ``reached_sync_point`` answers
True on every process. A Python signal handler replaces that C++ handler
(Python installs handlers with ``sigaction``), so a Python handler must
forward the signal: ``notify`` posts the same notice the C++ handler would.
"""

from __future__ import annotations

import datetime
import logging

from jaxsession.distributed import process

logger = logging.getLogger("jaxsession")

# The coordination-service key of the notice (TSL's preemption_sync_manager.cc).
# Its value is the time the process expects to die, in RFC 3339.
NOTICE_KEY = "RECEIVED_PREEMPTION_NOTICE"


def in_job() -> bool:
    """Whether this process is in a multi-process job (read without starting a backend)."""
    state = process.distributed_state()
    return state.client is not None and (state.num_processes or 1) > 1


def notify() -> bool:
    """Tells every process of the job that this one is being preempted.

    Safe to call from a Python signal handler. A notice already posted by
    another process (or by JAX's own handler) is the same notice.

    Returns:
        Whether the notice is now posted (False: no job, or the
        coordination service could not be reached; logged).
    """
    if not in_job() or process.distributed_state().preemption_sync_manager is None:
        return False
    now = datetime.datetime.now(datetime.UTC).isoformat()
    try:
        process.client().key_value_set(NOTICE_KEY, now)
    except Exception as e:  # the client raises a bare runtime error
        if "already_exists" not in str(e).lower():
            logger.warning("could not post the preemption notice: %s", e)
            return False
    return True


def reached_sync_point(count: int) -> bool:
    """Whether ``count`` is the agreed stopping point (call at every step, counting up).

    Blocks while the processes agree on the point (a notice arrived).

    Raises:
        RuntimeError: JAX's preemption service is off (``jax_enable_preemption_service``).
    """
    manager = process.distributed_state().preemption_sync_manager
    if manager is None:
        raise RuntimeError(
            "JAX's preemption sync manager does not run in this process "
            "(jax_enable_preemption_service is off): processes cannot agree on "
            "a step to stop at"
        )
    return bool(manager.reached_sync_point(int(count)))
