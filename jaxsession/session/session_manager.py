"""SessionManager: create a session that is initialized, restored, or ready."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxsession import errors
from jaxsession.graph.core import get_default_graph
from jaxsession.session.session import Session

logger = logging.getLogger("jaxsession")


def _ready(op: Any, sess: Any, msg: str) -> tuple[bool, str | None]:
    """Whether ``op`` reports the model ready, and why not (TF1's ``_ready``)."""
    if op is None:
        return True, None
    try:
        value = sess.run(op)
    except errors.FailedPreconditionError as e:
        if "uninitialized" not in str(e):
            raise
        return False, f"{msg} {e}"
    if value is None:
        return True, None
    value = np.asarray(value)
    if value.dtype == np.int32 or value.size == 0:
        return True, None
    if value.dtype == np.bool_:
        # assert_variables_initialized-style op: a boolean "all initialized".
        if value.all():
            return True, None
        return False, f"{msg}: {_name(op)} is False"
    names = ", ".join(
        v.decode() if isinstance(v, bytes) else str(v) for v in value.ravel()
    )
    return False, f"Variables not initialized: {names}"


class SessionManager:
    """Creates sessions that are restored or initialized, and waits for readiness.

    Args:
        local_init_op: Op run on every new session once globals are ready.
        ready_op: String-vector op naming uninitialized variables (empty = ready).
        ready_for_local_init_op: Like ready_op, checked before local_init_op.
        graph: The graph (default graph if None).
        recovery_wait_secs: Seconds between readiness polls.

    Raises:
        ValueError: ready_for_local_init_op without local_init_op.
    """

    def __init__(
        self,
        local_init_op: Any = None,
        ready_op: Any = None,
        ready_for_local_init_op: Any = None,
        graph: Any = None,
        recovery_wait_secs: float = 30,
        local_init_run_options: Any = None,
        local_init_feed_dict: Any = None,
        session_factory: Callable[..., Any] | None = None,
    ):
        if ready_for_local_init_op is not None and local_init_op is None:
            raise ValueError(
                "If you pass a ready_for_local_init_op you must also pass a local_init_op "
                f", ready_for_local_init_op [{ready_for_local_init_op}]"
            )
        self._local_init_op = local_init_op
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph if graph is not None else get_default_graph()
        self._recovery_wait_secs = recovery_wait_secs
        self._local_init_feed_dict = local_init_feed_dict
        self._session_factory = session_factory or Session

    def new_session(self, master: str, config: Any) -> Any:
        """A new raw session on this manager's graph, neither initialized nor restored."""
        return self._session_factory(master, graph=self._graph, config=config)

    def _restore_checkpoint(
        self,
        master: str,
        saver: Any,
        checkpoint_dir: str | None,
        checkpoint_filename_with_path: str | None,
        wait_for_checkpoint: bool,
        max_wait_secs: float,
        config: Any,
    ) -> tuple[Any, bool]:
        sess = self.new_session(master, config)
        if checkpoint_dir and checkpoint_filename_with_path:
            raise ValueError(
                "Can not provide both checkpoint_dir and checkpoint_filename_with_path."
            )
        if saver is None or not (checkpoint_dir or checkpoint_filename_with_path):
            return sess, False
        if checkpoint_filename_with_path:
            saver.restore(sess, checkpoint_filename_with_path)
            return sess, True
        from jaxsession.checkpoint import get_checkpoint_state

        # A save of this process still in flight (the Saver is asynchronous)
        # must land before the latest checkpoint is chosen, or a recovery
        # would restore an older one.
        wait = getattr(saver, "wait_until_finished", None)
        if wait is not None:
            wait()
        waited = 0.0
        state = get_checkpoint_state(checkpoint_dir)
        while not state or not state.model_checkpoint_path:
            if wait_for_checkpoint and waited < max_wait_secs:
                logger.info("Waiting for checkpoint to be available.")
                time.sleep(self._recovery_wait_secs)
                waited += self._recovery_wait_secs
                state = get_checkpoint_state(checkpoint_dir)
            else:
                return sess, False
        saver.restore(sess, state.model_checkpoint_path)
        paths = list(state.all_model_checkpoint_paths)
        saver.recover_last_checkpoints(paths)
        return sess, True

    def run_local_init_op(self, sess: Any) -> tuple[bool, str | None]:
        """Runs the local init op if the model is ready for it.

        Returns:
            (True, None) once it ran (or there is none), else (False, why not).
        """
        if self._local_init_op is None:
            return True, None
        ready, msg = _ready(
            self._ready_for_local_init_op, sess, "Model not ready for local init"
        )
        if not ready:
            return False, msg
        logger.info("Running local_init_op.")
        sess.run(self._local_init_op, feed_dict=self._local_init_feed_dict)
        logger.info("Done running local_init_op.")
        return True, None

    def prepare_session(
        self,
        master: str,
        init_op: Any = None,
        saver: Any = None,
        checkpoint_dir: str | None = None,
        wait_for_checkpoint: bool = False,
        max_wait_secs: float = 7200,
        config: Any = None,
        init_feed_dict: Any = None,
        init_fn: Callable[[Any], None] | None = None,
        checkpoint_filename_with_path: str | None = None,
    ) -> Any:
        """A session restored from a checkpoint or initialized, and ready.

        Raises:
            RuntimeError: nothing can initialize the model, or it is not ready after init.
        """
        sess, restored = self._restore_checkpoint(
            master,
            saver,
            checkpoint_dir,
            checkpoint_filename_with_path,
            wait_for_checkpoint,
            max_wait_secs,
            config,
        )
        if not restored:
            if init_op is None and init_fn is None and self._local_init_op is None:
                raise RuntimeError(
                    "Model is not initialized and no init_op or init_fn or local_init_op was given"
                )
            if init_op is not None:
                sess.run(init_op, feed_dict=init_feed_dict)
            if init_fn:
                init_fn(sess)
        ok, msg = self.run_local_init_op(sess)
        if not ok:
            raise RuntimeError(
                "Init operations did not make model ready for local_init. "
                f"Init op: {_name(init_op)}, init fn: {init_fn}, error: {msg}"
            )
        ready, msg = _ready(self._ready_op, sess, "Model not ready")
        if not ready:
            raise RuntimeError(
                "Init operations did not make model ready. "
                f"Init op: {_name(init_op)}, init fn: {init_fn}, "
                f"local_init_op: {_name(self._local_init_op)}, error: {msg}"
            )
        return sess

    def recover_session(
        self,
        master: str,
        saver: Any = None,
        checkpoint_dir: str | None = None,
        wait_for_checkpoint: bool = False,
        max_wait_secs: float = 7200,
        config: Any = None,
        checkpoint_filename_with_path: str | None = None,
    ) -> tuple[Any, bool]:
        """A session restored if possible; returns (session, whether it is ready)."""
        sess, restored = self._restore_checkpoint(
            master,
            saver,
            checkpoint_dir,
            checkpoint_filename_with_path,
            wait_for_checkpoint,
            max_wait_secs,
            config,
        )
        ok, msg = self.run_local_init_op(sess)
        if not restored:
            return sess, False
        if not ok:
            logger.info(
                "Restoring model from %s did not make model ready for local init: %s",
                checkpoint_dir,
                msg,
            )
            return sess, False
        ready, msg = _ready(self._ready_op, sess, "Model not ready")
        if not ready:
            logger.info(
                "Restoring model from %s did not make model ready: %s",
                checkpoint_dir,
                msg,
            )
            return sess, False
        logger.info("Restored model from %s", checkpoint_dir)
        return sess, True

    def wait_for_session(
        self,
        master: str,
        config: Any = None,
        max_wait_secs: float | None = math.inf,
        clock: Callable[[], float] = time.monotonic,
    ) -> Any:
        """Polls new sessions until the model is ready (a worker waiting for its chief).

        Raises:
            errors.DeadlineExceededError: not ready within ``max_wait_secs``,
                with the last reason the model was not ready.
        """
        if max_wait_secs is None:
            max_wait_secs = math.inf
        deadline = clock() + max_wait_secs
        while True:
            sess = self.new_session(master, config)
            ok, msg = self.run_local_init_op(sess)
            if ok:
                ready, msg = _ready(self._ready_op, sess, "Model not ready")
                if ready:
                    return sess
            sess.close()
            remaining = deadline - clock()
            if remaining - self._recovery_wait_secs < 0:
                raise errors.DeadlineExceededError(
                    None,
                    None,
                    f"Session was not ready after waiting {max_wait_secs} secs. "
                    f"Last reason: {msg}",
                )
            logger.info(
                "Waiting for model to be ready. Ready_for_local_init_op: %s, ready: %s",
                _name(self._ready_for_local_init_op),
                msg,
            )
            time.sleep(self._recovery_wait_secs)


def _name(op: Any) -> str:
    return getattr(op, "name", None) or str(op)
