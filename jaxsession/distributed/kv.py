"""The coordination service's key-value store and barriers.

Processes meet here, never in a device collective that could hang: the
service's calls are bounded by a timeout and fail with a message saying
what was awaited.
"""

from __future__ import annotations

from jaxsession import errors
from jaxsession.distributed import process

KEY_PREFIX = "jaxsession"


def _timeout_ms(secs: float) -> int:
    return max(1, min(int(secs * 1000), 2**31 - 1))


def key_set(key: str, value: str) -> None:
    """Publishes ``value`` under ``key`` in the coordination service."""
    process.client().key_value_set(f"{KEY_PREFIX}/{key}", value)


def key_delete(key: str) -> None:
    """Removes ``key`` from the coordination service."""
    process.client().key_value_delete(f"{KEY_PREFIX}/{key}")


def key_wait(key: str, timeout_secs: float, what: str) -> str:
    """The value of ``key``, waiting for it up to ``timeout_secs``.

    Raises:
        errors.DeadlineExceededError: it did not appear in time; the message
            says ``what`` was awaited and for how long.
        RuntimeError: ``jax.distributed`` is not initialized.
    """
    client = process.client()
    try:
        return client.blocking_key_value_get(
            f"{KEY_PREFIX}/{key}", _timeout_ms(timeout_secs)
        )
    except Exception as e:  # the client raises a bare runtime error
        if "DEADLINE_EXCEEDED" not in str(e) and "timed out" not in str(e).lower():
            raise
        raise errors.DeadlineExceededError(
            None,
            None,
            f"{process.log_prefix()} waited {timeout_secs:g} secs for {what} "
            f"(coordination key '{KEY_PREFIX}/{key}') and gave up",
        ) from None


def barrier(name: str, timeout_secs: float, what: str) -> None:
    """Waits until every process reaches barrier ``name``.

    Raises:
        errors.DeadlineExceededError: not all arrived within ``timeout_secs``.
        RuntimeError: ``jax.distributed`` is not initialized.
    """
    client = process.client()
    try:
        client.wait_at_barrier(f"{KEY_PREFIX}/{name}", _timeout_ms(timeout_secs))
    except Exception as e:
        if "DEADLINE_EXCEEDED" not in str(e):
            raise
        raise errors.DeadlineExceededError(
            None,
            None,
            f"{process.log_prefix()} waited {timeout_secs:g} secs at barrier "
            f"'{name}' for {what} and gave up: {e}",
        ) from None
