"""MonitoredSession, SingularMonitoredSession and MonitoredTrainingSession.

A monitored session creates (or restores) a session through a session
creator, runs hooks around every ``run``, coordinates background threads,
and, for ``MonitoredSession``, re-creates the session from the latest
checkpoint after a preemption error (``AbortedError``, ``UnavailableError``).
The behaviour contract is TF1's; see ``hooks.py`` for the hook lifecycle.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any

from jaxsession import errors
from jaxsession.distributed import process
from jaxsession.distributed.process import ClusterConfig
from jaxsession.distributed.tf1_cluster import start_for_session
from jaxsession.engine.executable import (
    default_compilation_cache_dir,
    enable_compilation_cache,
    release_compilation_cache,
)
from jaxsession.graph.core import GraphKeys, get_default_graph
from jaxsession.input.queues import start_queue_runners
from jaxsession.session import _wrappers, chief_sync, mirror_hooks
from jaxsession.session.coordinator import Coordinator
from jaxsession.session.scaffold import Scaffold
from jaxsession.session.session_manager import SessionManager

logger = logging.getLogger("jaxsession")

StepContext = _wrappers.StepContext


class SessionCreator:
    """A factory of raw sessions for a monitored session."""

    def create_session(self) -> Any:
        """Returns a new, ready raw session."""
        raise NotImplementedError("create_session is not implemented for {self}.")


class ChiefSessionCreator(SessionCreator):
    """Creates a session that restores from ``checkpoint_dir`` or initializes.

    Args:
        scaffold: Supplies the init/ready ops and the saver (default Scaffold()).
        master: Session target.
        config: Session config.
        checkpoint_dir: Directory to restore the latest checkpoint from.
        checkpoint_filename_with_path: A specific checkpoint to restore.
    """

    def __init__(
        self,
        scaffold: Scaffold | None = None,
        master: str = "",
        config: Any = None,
        checkpoint_dir: str | None = None,
        checkpoint_filename_with_path: str | None = None,
    ):
        self._scaffold = scaffold or Scaffold()
        self._master = master
        self._config = config
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path
        self._session_manager: SessionManager | None = None

    def _get_session_manager(self) -> SessionManager:
        if self._session_manager is None:
            self._session_manager = SessionManager(
                local_init_op=self._scaffold.local_init_op,
                local_init_feed_dict=self._scaffold.local_init_feed_dict,
                ready_op=self._scaffold.ready_op,
                ready_for_local_init_op=self._scaffold.ready_for_local_init_op,
                graph=get_default_graph(),
            )
        return self._session_manager

    def create_session(self) -> Any:
        """Finalizes the scaffold and prepares a restored or initialized session."""
        self._scaffold.finalize()
        sess = self._get_session_manager().prepare_session(
            self._master,
            saver=self._scaffold.saver,
            checkpoint_dir=self._checkpoint_dir,
            checkpoint_filename_with_path=self._checkpoint_filename_with_path,
            config=self._config,
            init_op=self._scaffold.init_op,
            init_feed_dict=self._scaffold.init_feed_dict,
            init_fn=self._scaffold.init_fn,
        )
        if process.process_count() > 1:
            # Workers wait on the coordination service, then take these values.
            chief_sync.publish_chief_values(sess)
        return sess


class WorkerSessionCreator(SessionCreator):
    """Creates a session that waits up to ``max_wait_secs`` for the chief.

    Args:
        scaffold: Supplies the ready ops (default Scaffold()).
        master: Session target.
        config: Session config.
        max_wait_secs: How long to wait for the model to become ready.
    """

    def __init__(
        self,
        scaffold: Scaffold | None = None,
        master: str = "",
        config: Any = None,
        max_wait_secs: float = 30 * 60,
    ):
        self._scaffold = scaffold or Scaffold()
        self._master = master
        self._config = config
        self._max_wait_secs = max_wait_secs
        self._session_manager: SessionManager | None = None

    def create_session(self) -> Any:
        """Finalizes the scaffold and waits for a ready session."""
        self._scaffold.finalize()
        if self._session_manager is None:
            self._session_manager = SessionManager(
                local_init_op=self._scaffold.local_init_op,
                local_init_feed_dict=self._scaffold.local_init_feed_dict,
                ready_op=self._scaffold.ready_op,
                ready_for_local_init_op=self._scaffold.ready_for_local_init_op,
                graph=get_default_graph(),
            )
        if process.process_count() > 1:
            return chief_sync.worker_session(
                self._session_manager, self._master, self._config, self._max_wait_secs
            )
        return self._session_manager.wait_for_session(
            self._master, config=self._config, max_wait_secs=self._max_wait_secs
        )


class _CoordinatedSessionCreator(SessionCreator):
    """Creates the coordinated, hooked layers on top of a raw session (§3.2 step 4)."""

    def __init__(
        self,
        session_creator: SessionCreator,
        hooks: list[Any],
        stop_grace_period_secs: float,
    ):
        self._session_creator = session_creator
        self._hooks = hooks
        self._stop_grace_period_secs = stop_grace_period_secs
        self.coord: Coordinator | None = None
        self.tf_sess_value: Any = None

    def tf_sess(self) -> Any:
        return self.tf_sess_value

    def create_session(self) -> Any:
        self.tf_sess_value = self._session_creator.create_session()
        self.coord = Coordinator(clean_stop_exception_types=[])
        if self.tf_sess_value.graph.get_collection(GraphKeys.QUEUE_RUNNERS):
            start_queue_runners(sess=self.tf_sess_value, coord=self.coord)
        for hook in self._hooks:
            hook.after_create_session(self.tf_sess_value, self.coord)
        return _wrappers._CoordinatedSession(
            _wrappers._HookedSession(self.tf_sess_value, self._hooks),
            self.coord,
            self._stop_grace_period_secs,
        )


def _check_step_fn(step_fn: Callable[..., Any]) -> None:
    params = tuple(inspect.signature(step_fn).parameters)
    bound = inspect.ismethod(step_fn)
    if params != ("step_context",) and not (bound and params == ("step_context",)):
        if params not in (("step_context",), ("self", "step_context")):
            raise ValueError(
                "`step_fn` may either have one `step_context` argument, or `self` and "
                f"`step_context` arguments if it's an instance method. Got {params} instead."
            )


class _MonitoredSession:
    """What MonitoredSession and SingularMonitoredSession share."""

    StepContext = StepContext

    def __init__(
        self,
        session_creator: SessionCreator | None,
        hooks: Sequence[Any] | None,
        should_recover: bool,
        stop_grace_period_secs: float = 120,
        steps_per_run: int = 1,
    ):
        if steps_per_run < 1:
            raise ValueError(f"steps_per_run must be >= 1, got {steps_per_run}")
        self._steps_per_run = steps_per_run
        self._on_close: list[Callable[[], None]] = []
        self._graph_was_finalized = get_default_graph().finalized
        self._hooks = list(hooks or [])
        for hook in self._hooks:
            # Step-periodic hooks count K global steps per run (TF1's hook API).
            if hasattr(hook, "_set_steps_per_run"):
                hook._set_steps_per_run(steps_per_run)
            hook.begin()
        self._coordinated_creator = _CoordinatedSessionCreator(
            session_creator or ChiefSessionCreator(),
            self._hooks,
            stop_grace_period_secs,
        )
        try:
            if should_recover:
                self._sess: Any = _wrappers._RecoverableSession(
                    self._coordinated_creator
                )
            else:
                self._sess = self._coordinated_creator.create_session()
        except BaseException:
            # Differs from TF1: a failed creation also un-finalizes the graph,
            # so a notebook cell can be fixed and re-run.
            if not self._graph_was_finalized:
                get_default_graph()._unsafe_unfinalize()
            raise

    @property
    def graph(self) -> Any:
        """The graph of the raw session, or None after close."""
        if self._tf_sess() is None:
            return None
        return self._tf_sess().graph

    @property
    def steps_per_run(self) -> int:
        """Training steps per ``run`` (``Session.run``'s ``steps_per_run``)."""
        return self._steps_per_run

    def run(
        self,
        fetches: Any,
        feed_dict: Any = None,
        options: Any = None,
        run_metadata: Any = None,
        *,
        steps_per_run: int | None = None,
    ) -> Any:
        """Runs with the hooks, as ``Session.run``.

        Each run is ``steps_per_run`` steps (the session's unless given):
        the hooks see one run, with the fetched values of its last step,
        except what a hook asks for at every step (``hooks.EveryStep``). A
        hook may shorten the run (``run_context.limit_steps``), as
        StopAtStepHook does so as not to pass its last step.
        """
        steps = self._steps_per_run if steps_per_run is None else steps_per_run
        if steps == 1:
            return self._sess.run(fetches, feed_dict, options, run_metadata)
        return self._sess.run(
            fetches, feed_dict, options, run_metadata, steps_per_run=steps
        )

    def run_step_fn(self, step_fn: Callable[[StepContext], Any]) -> Any:
        """Calls ``step_fn(step_context)``; returns its result.

        Raises:
            ValueError: ``step_fn`` does not take exactly ``step_context``.
            StopIteration: ``step_context.request_stop()`` was called.
        """
        _check_step_fn(step_fn)
        return self._sess.run_step_fn(step_fn, self._tf_sess(), run_with_hooks=None)

    def should_stop(self) -> bool:
        """Whether a hook or the coordinator asked to stop, or the session is closed."""
        return self._sess is None or self._sess.should_stop()

    def close(self) -> None:
        """Calls the hooks' end(), then closes the session stack."""
        self._close_internal()

    def __enter__(self) -> _MonitoredSession:
        return self

    def __exit__(
        self, exception_type: Any, exception_value: Any, traceback: Any
    ) -> bool:
        if exception_type in (errors.OutOfRangeError, StopIteration):
            exception_type = None
        self._close_internal(exception_type)
        return exception_type is None

    def _close_internal(self, exception_type: Any = None) -> None:
        try:
            if not exception_type:
                for hook in self._hooks:
                    hook.end(self._tf_sess())
        finally:
            try:
                if self._sess is None:
                    raise RuntimeError("Session is already closed.")
                self._sess.close()
            finally:
                self._sess = None
                self._coordinated_creator.tf_sess_value = None
                self._coordinated_creator.coord = None
                if not self._graph_was_finalized:
                    get_default_graph()._unsafe_unfinalize()
                for callback in self._on_close:
                    callback()

    def _tf_sess(self) -> Any:
        return self._coordinated_creator.tf_sess()


class MonitoredSession(_MonitoredSession):
    """A session with hooks and recovery from preemption (``tf.train.MonitoredSession``).

    Args:
        session_creator: Creates raw sessions (default ChiefSessionCreator()).
        hooks: SessionRunHooks, called in order.
        stop_grace_period_secs: Grace for coordinator threads at close.
        steps_per_run: Training steps per run, in one compiled call; hooks
            see one run per K steps, with the last step's fetched values, so
            step-periodic hooks (checkpoints, summaries, step rate) fire on
            run boundaries. LoggingTensorHook and NanTensorHook still see
            every step's values, and StopAtStepHook shortens the last run
            to end on its last step.
    """

    def __init__(
        self,
        session_creator: SessionCreator | None = None,
        hooks: Sequence[Any] | None = None,
        stop_grace_period_secs: float = 120,
        steps_per_run: int = 1,
    ):
        super().__init__(
            session_creator,
            hooks,
            should_recover=True,
            stop_grace_period_secs=stop_grace_period_secs,
            steps_per_run=steps_per_run,
        )


class SingularMonitoredSession(_MonitoredSession):
    """A chief monitored session without recovery, exposing ``raw_session()``.

    Args:
        hooks: SessionRunHooks.
        scaffold: The Scaffold.
        master: Session target.
        config: Session config.
        checkpoint_dir: Restore the latest checkpoint from here.
        stop_grace_period_secs: Grace for coordinator threads at close.
        checkpoint_filename_with_path: A specific checkpoint to restore.
    """

    def __init__(
        self,
        hooks: Sequence[Any] | None = None,
        scaffold: Scaffold | None = None,
        master: str = "",
        config: Any = None,
        checkpoint_dir: str | None = None,
        stop_grace_period_secs: float = 120,
        checkpoint_filename_with_path: str | None = None,
    ):
        creator = ChiefSessionCreator(
            scaffold=scaffold,
            master=master,
            config=config,
            checkpoint_dir=checkpoint_dir,
            checkpoint_filename_with_path=checkpoint_filename_with_path,
        )
        super().__init__(
            creator,
            hooks,
            should_recover=False,
            stop_grace_period_secs=stop_grace_period_secs,
        )

    def raw_session(self) -> Any:
        """The raw session, or None once closed."""
        return self._tf_sess()


class _UseDefault:
    def __repr__(self) -> str:
        return "USE_DEFAULT"


USE_DEFAULT = _UseDefault()


def _resolve_periods(
    steps: Any, secs: Any, default_steps: Any, default_secs: Any
) -> tuple[Any, Any]:
    if steps is USE_DEFAULT and secs is USE_DEFAULT:
        return default_steps, default_secs
    if secs is USE_DEFAULT:
        return steps, None
    if steps is USE_DEFAULT:
        return None, secs
    return steps, secs


def _positive(value: Any) -> bool:
    return bool(value) and value > 0


def MonitoredTrainingSession(
    master: str = "",
    is_chief: bool | None = None,
    checkpoint_dir: str | None = None,
    scaffold: Scaffold | None = None,
    hooks: Sequence[Any] | None = None,
    chief_only_hooks: Sequence[Any] | None = None,
    save_checkpoint_secs: Any = USE_DEFAULT,
    save_summaries_steps: Any = USE_DEFAULT,
    save_summaries_secs: Any = USE_DEFAULT,
    config: Any = None,
    stop_grace_period_secs: float = 120,
    log_step_count_steps: int | None = 100,
    max_wait_secs: float = 7200,
    save_checkpoint_steps: Any = USE_DEFAULT,
    summary_dir: str | None = None,
    save_graph_def: bool = True,
    steps_per_run: int = 1,
) -> MonitoredSession:
    """A MonitoredSession with the default hooks of a training job.

    Periods left at their defaults resolve as TF1 does:

    =====================================  ==================================
    given                                   resolved
    =====================================  ==================================
    neither summary period                  steps=100, secs=None
    only save_summaries_steps               steps as given, secs=None
    only save_summaries_secs                steps=None, secs as given
    neither checkpoint period               steps=None, secs=600
    only save_checkpoint_steps              steps as given, secs=None
    only save_checkpoint_secs               steps=None, secs as given
    =====================================  ==================================

    A default hook is made only when one of its periods is > 0 (0 and None
    disable it). The chief's hooks, in order: chief_only_hooks,
    StepCounterHook, SummarySaverHook, CheckpointSaverHook, hooks. A worker
    gets ``hooks`` and waits up to ``max_wait_secs`` for the chief; in a
    multi-process job it also gets mirrors of the chief's SummarySaverHook
    (computes the summaries, writes nothing) and CheckpointSaverHook (calls
    the collective ``Saver.save`` at the same steps), seconds cadences being
    decided by the chief. Differs from TF1: workers had no saving hooks.

    Args:
        master: Session target (a ``host:port`` coordinator address for
            multi-process jobs, '' for one process).
        is_chief: Whether this process initializes/restores and saves
            (None: ``jax.process_index() == 0``; a contradicting value is a
            ValueError). ``master``/``config`` (a ``ClusterConfig``)
            or ``TF_CONFIG`` start ``jax.distributed`` (``distributed/``).
        checkpoint_dir: Restore from and save checkpoints to this directory.
        scaffold: The Scaffold (default Scaffold()).
        hooks: Hooks for every process.
        chief_only_hooks: Hooks for the chief only.
        save_checkpoint_secs: Seconds between checkpoints.
        save_summaries_steps: Steps between summaries.
        save_summaries_secs: Seconds between summaries.
        config: Session config.
        stop_grace_period_secs: Grace for coordinator threads at close.
        log_step_count_steps: Steps between global_step/sec logs.
        max_wait_secs: How long a worker waits for the chief.
        save_checkpoint_steps: Steps between checkpoints.
        summary_dir: Where summaries go (default checkpoint_dir).
        save_graph_def: Whether the checkpoint hook writes the graph.
        steps_per_run: Training steps per run, in one compiled call; hooks
            see one run per K steps, with the last step's fetched values, so
            step-periodic hooks fire on run boundaries.

    Returns:
        A MonitoredSession.
    """
    is_chief = start_for_session(master, is_chief, config)
    if isinstance(config, ClusterConfig):
        config = None
    scaffold = scaffold or Scaffold()
    # A restarted job finds its programs compiled (see enable_compilation_cache).
    cache_dir = enable_compilation_cache(
        default_compilation_cache_dir() if checkpoint_dir else None
    )
    if not is_chief:
        creator = WorkerSessionCreator(
            scaffold, master, config, max_wait_secs=max_wait_secs
        )
        worker_hooks = list(hooks or [])
        if process.process_count() > 1:
            # Mirrors of the chief's saving hooks, in the chief's order: their
            # device work (summaries, the collective save) must pair up.
            worker_hooks[:0] = [
                *mirror_hooks.summary_mirror_hooks(
                    scaffold,
                    summary_dir or checkpoint_dir,
                    *_resolve_periods(
                        save_summaries_steps, save_summaries_secs, 100, None
                    ),
                ),
                *mirror_hooks.checkpoint_mirror_hooks(
                    scaffold,
                    checkpoint_dir,
                    *_resolve_periods(
                        save_checkpoint_steps, save_checkpoint_secs, None, 600
                    ),
                ),
            ]
        return _monitored(
            creator,
            worker_hooks,
            checkpoint_dir,
            cache_dir,
            stop_grace_period_secs,
            steps_per_run,
        )
    summary_steps, summary_secs = _resolve_periods(
        save_summaries_steps, save_summaries_secs, 100, None
    )
    ckpt_steps, ckpt_secs = _resolve_periods(
        save_checkpoint_steps, save_checkpoint_secs, None, 600
    )
    creator = ChiefSessionCreator(
        scaffold, master, config, checkpoint_dir=checkpoint_dir
    )
    all_hooks = list(chief_only_hooks or [])
    all_hooks.extend(
        _default_chief_hooks(
            scaffold,
            checkpoint_dir,
            summary_dir,
            log_step_count_steps,
            summary_steps,
            summary_secs,
            ckpt_steps,
            ckpt_secs,
            save_graph_def,
        )
    )
    all_hooks.extend(hooks or [])
    return _monitored(
        creator,
        all_hooks,
        checkpoint_dir,
        cache_dir,
        stop_grace_period_secs,
        steps_per_run,
    )


def _monitored(
    creator: SessionCreator,
    hooks: list[Any],
    checkpoint_dir: str | None,
    cache_dir: str | None,
    stop_grace_period_secs: float,
    steps_per_run: int,
) -> MonitoredSession:
    """The MonitoredSession of MonitoredTrainingSession, with its extras."""
    from jaxsession.session.checkpoint_hooks import PreemptionStopHook

    preemption = PreemptionStopHook() if checkpoint_dir else None
    if preemption is not None:
        hooks = [*hooks, preemption]
    try:
        session = MonitoredSession(
            creator,
            hooks=hooks,
            stop_grace_period_secs=stop_grace_period_secs,
            steps_per_run=steps_per_run,
        )
    except BaseException:
        if preemption is not None:
            preemption.close()
        release_compilation_cache(cache_dir)
        raise
    if preemption is not None:
        session._on_close.append(preemption.close)
    session._on_close.append(lambda: release_compilation_cache(cache_dir))
    return session


def _default_chief_hooks(
    scaffold: Scaffold,
    checkpoint_dir: str | None,
    summary_dir: str | None,
    log_step_count_steps: Any,
    summary_steps: Any,
    summary_secs: Any,
    ckpt_steps: Any,
    ckpt_secs: Any,
    save_graph_def: bool,
) -> list[Any]:
    from jaxsession.session import basic_hooks
    from jaxsession.session.checkpoint_hooks import CheckpointSaverHook

    hooks: list[Any] = []
    output_dir = summary_dir or checkpoint_dir
    if output_dir and _positive(log_step_count_steps):
        hooks.append(
            basic_hooks.StepCounterHook(
                output_dir=output_dir, every_n_steps=log_step_count_steps
            )
        )
    if output_dir and (_positive(summary_steps) or _positive(summary_secs)):
        hooks.append(
            basic_hooks.SummarySaverHook(
                scaffold=scaffold,
                save_steps=summary_steps,
                save_secs=summary_secs,
                output_dir=output_dir,
            )
        )
    if checkpoint_dir and (_positive(ckpt_steps) or _positive(ckpt_secs)):
        hooks.append(
            CheckpointSaverHook(
                checkpoint_dir,
                save_steps=ckpt_steps,
                save_secs=ckpt_secs,
                scaffold=scaffold,
                save_graph_def=save_graph_def,
            )
        )
    return hooks
