"""``tf.train.Supervisor`` (2016-17 programs) and ``tf.train.LooperThread``.

Built on the same pieces as ``MonitoredTrainingSession``: a
``SessionManager`` restores the latest checkpoint of ``logdir`` or
initializes, a ``Coordinator`` stops the services, and ``FileWriter`` and
``Saver`` write event files and checkpoints into ``logdir`` as TF1 does
(``model.ckpt-<step>``, ``graph.pbtxt``, ``events.out.tfevents.*``).

The standard services are TF1's background threads: a checkpoint every
``save_model_secs``, summaries and the ``global_step/sec`` rate every
``save_summaries_secs``, each run first when the services start. As in TF1,
``stop()`` writes no final checkpoint: programs save one themselves
(``sv.saver.save(sess, sv.save_path, global_step=...)``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jaxsession.checkpoint import Saver
from jaxsession.checkpoint.graph_io import write_graph
from jaxsession.graph import variables as variables_lib
from jaxsession.graph.core import GraphKeys, Tensor, get_default_graph
from jaxsession.input.queues import start_queue_runners as _start_queue_runners
from jaxsession.session.coordinator import Coordinator
from jaxsession.session.scaffold import Scaffold, _merge_all, collected_saver
from jaxsession.session.session_manager import SessionManager
from jaxsession.session.summary_writer import FileWriter, SessionLog, Summary

logger = logging.getLogger("jaxsession")

__all__ = ["LooperThread", "Supervisor"]


class LooperThread(threading.Thread):
    """A thread calling ``target`` (or ``run_loop``) until the coordinator stops.

    With ``timer_interval_secs``, the first call is made at once and then
    one every interval; without, calls run back to back.

    Args:
        coord: The Coordinator whose stop ends the loop.
        timer_interval_secs: Seconds between calls, or None.
        target: Called as ``target(*args, **kwargs)``; else override ``run_loop``.
        args: Positional arguments of ``target``.
        kwargs: Keyword arguments of ``target``.
    """

    def __init__(
        self,
        coord: Coordinator,
        timer_interval_secs: float | None,
        target: Callable[..., Any] | None = None,
        args: Any = None,
        kwargs: Any = None,
    ):
        if not isinstance(coord, Coordinator):
            raise ValueError(f"'coord' argument must be a Coordinator: {coord}")
        super().__init__()
        self.daemon = True
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._target = target
        self._args = args or ()
        self._kwargs = kwargs or {}
        self._coord.register_thread(self)

    @staticmethod
    def loop(
        coord: Coordinator,
        timer_interval_secs: float | None,
        target: Callable[..., Any],
        args: Any = None,
        kwargs: Any = None,
    ) -> LooperThread:
        """Starts a LooperThread calling ``target``; returns it."""
        looper = LooperThread(coord, timer_interval_secs, target, args, kwargs)
        looper.start()
        return looper

    def run(self) -> None:
        """Calls ``run_loop`` until the coordinator stops (exceptions stop it)."""
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                next_time = time.monotonic()
                while not self._coord.wait_for_stop(next_time - time.monotonic()):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self) -> None:
        """Called once when the thread starts."""

    def stop_loop(self) -> None:
        """Called once when the loop ends."""

    def run_loop(self) -> None:
        """One iteration: calls ``target``."""
        if self._target:
            self._target(*self._args, **self._kwargs)


class _SummaryThread(LooperThread):
    """Writes the summary op's value every ``save_summaries_secs``."""

    def __init__(self, sv: Supervisor, sess: Any):
        super().__init__(sv.coord, sv.save_summaries_secs)
        self._sv, self._sess = sv, sess

    def run_loop(self) -> None:
        sv = self._sv
        if sv.global_step is not None:
            summary, step = self._sess.run([sv.summary_op, sv.global_step])
        else:
            summary, step = self._sess.run(sv.summary_op), None
        if sv.summary_writer is not None:
            sv.summary_writer.add_summary(summary, step)


class _StepCounterThread(LooperThread):
    """Writes ``<global step name>/sec`` every ``save_summaries_secs``."""

    def __init__(self, sv: Supervisor, sess: Any):
        super().__init__(sv.coord, sv.save_summaries_secs)
        self._sv, self._sess = sv, sess
        self._tag = f"{sv.global_step.op.name}/sec"
        self._last: tuple[float, int] | None = None

    def start_loop(self) -> None:
        self._last = (time.monotonic(), self._step())

    def _step(self) -> int:
        return int(self._sess.run(self._sv.global_step))

    def run_loop(self) -> None:
        now, step = time.monotonic(), self._step()
        then, before = self._last
        self._last = (now, step)
        elapsed = now - then
        if elapsed <= 0 or step == before:
            return
        rate = (step - before) / elapsed
        summary = Summary(value=[Summary.Value(tag=self._tag, simple_value=rate)])
        self._sv.summary_writer.add_summary(summary, step)
        logger.info("%s: %g", self._tag, rate)


class _CheckpointThread(LooperThread):
    """Saves a checkpoint to ``save_path`` every ``save_model_secs``."""

    def __init__(self, sv: Supervisor, sess: Any):
        super().__init__(sv.coord, sv.save_model_secs)
        self._sv, self._sess = sv, sess

    def run_loop(self) -> None:
        sv = self._sv
        logger.info("Saving checkpoint to path %s", sv.save_path)
        sv.saver.save(self._sess, sv.save_path, global_step=sv.global_step)
        if sv.summary_writer is not None and sv.global_step is not None:
            step = int(self._sess.run(sv.global_step))
            log = SessionLog(status=SessionLog.CHECKPOINT, checkpoint_path=sv.save_path)
            sv.summary_writer.add_session_log(log, step)


class Supervisor:
    """Initializes or restores a model, runs its services, stops cleanly.

    Arguments left at ``Supervisor.USE_DEFAULT`` take their TF1 default:
    the graph's collection entry if there is one, else a new op
    (``global_variables_initializer``, ``report_uninitialized_variables``,
    the local-variables initializer, ``summary.merge_all``, a ``Saver``, the
    global step, a ``FileWriter(logdir)``). None turns the thing off.

    Args:
        graph: The graph (default graph if None); finalized here.
        ready_op: Op listing uninitialized variables.
        ready_for_local_init_op: As ``ready_op``, before the local init op.
        is_chief: Whether this process initializes, saves and summarizes.
        init_op: Op initializing the model when no checkpoint is found.
        init_feed_dict: Feeds for ``init_op``.
        local_init_op: Op run on every new session.
        logdir: Directory of checkpoints and event files (None: neither).
        summary_op: Op whose value the summary service writes.
        saver: Saver of the checkpoint service and of restores.
        global_step: The global step variable or tensor.
        save_summaries_secs: Seconds between summaries (None or 0: never).
        save_model_secs: Seconds between checkpoints (None or 0: never).
        recovery_wait_secs: Seconds between readiness polls of a worker.
        stop_grace_secs: Seconds ``stop()`` waits for the service threads.
        checkpoint_basename: File name of checkpoints in ``logdir``.
        session_manager: A SessionManager to use instead of a new one.
        summary_writer: Writer of the summary services.
        init_fn: ``fn(sess)`` called after ``init_op`` when initializing.
        local_init_run_options: Accepted for TF1 compatibility.

    Raises:
        RuntimeError: the graph is finalized and a default must be built.
    """

    USE_DEFAULT = 0

    def __init__(
        self,
        graph: Any = None,
        ready_op: Any = USE_DEFAULT,
        ready_for_local_init_op: Any = USE_DEFAULT,
        is_chief: bool = True,
        init_op: Any = USE_DEFAULT,
        init_feed_dict: Any = None,
        local_init_op: Any = USE_DEFAULT,
        logdir: str | None = None,
        summary_op: Any = USE_DEFAULT,
        saver: Any = USE_DEFAULT,
        global_step: Any = USE_DEFAULT,
        save_summaries_secs: float | None = 120,
        save_model_secs: float | None = 600,
        recovery_wait_secs: float = 30,
        stop_grace_secs: float = 120,
        checkpoint_basename: str = "model.ckpt",
        session_manager: SessionManager | None = None,
        summary_writer: Any = USE_DEFAULT,
        init_fn: Callable[[Any], None] | None = None,
        local_init_run_options: Any = None,
    ):
        self._graph = graph if graph is not None else get_default_graph()
        with self._graph.as_default():
            self._init_defaults(
                ready_op,
                ready_for_local_init_op,
                init_op,
                local_init_op,
                summary_op,
                saver,
                global_step,
            )
        self._is_chief = is_chief
        self._coord = Coordinator()
        self._started_threads: list[threading.Thread] = []
        self._recovery_wait_secs = recovery_wait_secs
        self._stop_grace_secs = stop_grace_secs
        self._init_feed_dict = init_feed_dict
        self._init_fn = init_fn
        self._logdir = os.fspath(logdir) if logdir else None
        self._save_summaries_secs = save_summaries_secs
        self._save_model_secs = save_model_secs
        self._save_path = (
            str(Path(self._logdir) / checkpoint_basename) if self._logdir else None
        )
        if summary_writer is Supervisor.USE_DEFAULT:
            summary_writer = (
                FileWriter(self._logdir) if is_chief and self._logdir else None
            )
        self._summary_writer = summary_writer
        self._graph_added_to_summary = False
        self._session_manager = session_manager or SessionManager(
            local_init_op=self._local_init_op,
            ready_op=self._ready_op,
            ready_for_local_init_op=self._ready_for_local_init_op,
            graph=self._graph,
            recovery_wait_secs=recovery_wait_secs,
        )
        self._graph.finalize()

    def _init_defaults(
        self,
        ready_op: Any,
        ready_for_local_init_op: Any,
        init_op: Any,
        local_init_op: Any,
        summary_op: Any,
        saver: Any,
        global_step: Any,
    ) -> None:
        default = Supervisor.USE_DEFAULT
        self._ready_op = _or_default(
            ready_op,
            GraphKeys.READY_OP,
            lambda: variables_lib.report_uninitialized_variables(),
        )
        self._ready_for_local_init_op = _or_default(
            ready_for_local_init_op,
            GraphKeys.READY_FOR_LOCAL_INIT_OP,
            lambda: variables_lib.report_uninitialized_variables(
                variables_lib.global_variables()
            ),
        )
        self._init_op = _or_default(
            init_op, GraphKeys.INIT_OP, variables_lib.global_variables_initializer
        )
        self._local_init_op = _or_default(
            local_init_op, GraphKeys.LOCAL_INIT_OP, Scaffold.default_local_init_op
        )
        self._summary_op = _or_default(summary_op, GraphKeys.SUMMARY_OP, _merge_all)
        if saver is default:
            saver = collected_saver()
            if saver is None and variables_lib.global_variables():
                saver = Saver()
                self._graph.add_to_collection(GraphKeys.SAVERS, saver)
        self._saver = saver
        if global_step is default:
            global_step = _default_global_step(self._graph)
        self._global_step = global_step

    # -- properties ---------------------------------------------------------------

    @property
    def is_chief(self) -> bool:
        """Whether this process is the chief."""
        return self._is_chief

    @property
    def session_manager(self) -> SessionManager:
        """The SessionManager making the sessions."""
        return self._session_manager

    @property
    def coord(self) -> Coordinator:
        """The Coordinator of the services (and of the queue runners)."""
        return self._coord

    @property
    def init_op(self) -> Any:
        """The init op, or None."""
        return self._init_op

    @property
    def init_feed_dict(self) -> Any:
        """Feeds for the init op."""
        return self._init_feed_dict

    @property
    def ready_op(self) -> Any:
        """The ready op, or None."""
        return self._ready_op

    @property
    def ready_for_local_init_op(self) -> Any:
        """The ready-for-local-init op, or None."""
        return self._ready_for_local_init_op

    @property
    def summary_writer(self) -> Any:
        """The FileWriter of the services, or None."""
        return self._summary_writer

    @property
    def summary_op(self) -> Any:
        """The summary op, or None."""
        return self._summary_op

    @property
    def save_summaries_secs(self) -> float | None:
        """Seconds between summaries."""
        return self._save_summaries_secs

    @property
    def global_step(self) -> Any:
        """The global step, or None."""
        return self._global_step

    @property
    def saver(self) -> Any:
        """The Saver, or None."""
        return self._saver

    @property
    def save_model_secs(self) -> float | None:
        """Seconds between checkpoints."""
        return self._save_model_secs

    @property
    def save_path(self) -> str | None:
        """``<logdir>/<checkpoint_basename>``, or None without a logdir."""
        return self._save_path

    # -- sessions --------------------------------------------------------------------

    def prepare_or_wait_for_session(
        self,
        master: str = "",
        config: Any = None,
        wait_for_checkpoint: bool = False,
        max_wait_secs: float = 7200,
        start_standard_services: bool = True,
    ) -> Any:
        """A session restored from ``logdir`` or initialized (chief), or ready (worker).

        The chief also writes ``graph.pbtxt`` and, with
        ``start_standard_services``, starts the services; every process
        then starts the queue runners.

        Returns:
            The session.
        """
        self._coord.clear_stop()
        if self._summary_writer is not None:
            self._summary_writer.reopen()
        if self._is_chief:
            sess = self._session_manager.prepare_session(
                master,
                init_op=self._init_op,
                saver=self._saver,
                checkpoint_dir=self._logdir,
                wait_for_checkpoint=wait_for_checkpoint,
                max_wait_secs=max_wait_secs,
                config=config,
                init_feed_dict=self._init_feed_dict,
                init_fn=self._init_fn,
            )
            self._write_graph()
            if start_standard_services:
                logger.info("Starting standard services.")
                self.start_standard_services(sess)
        else:
            sess = self._session_manager.wait_for_session(
                master, config=config, max_wait_secs=max_wait_secs
            )
        if start_standard_services:
            logger.info("Starting queue runners.")
            self.start_queue_runners(sess)
        return sess

    @contextlib.contextmanager
    def managed_session(
        self,
        master: str = "",
        config: Any = None,
        start_standard_services: bool = True,
        close_summary_writer: bool = True,
    ) -> Iterator[Any]:
        """A session for the ``with`` block; services stopped and session closed after.

        An exception in the block stops the services and is re-raised,
        except ``errors.OutOfRangeError`` (end of input), which ends the
        block cleanly, as in TF1.
        """
        sess = None
        try:
            sess = self.prepare_or_wait_for_session(
                master=master,
                config=config,
                start_standard_services=start_standard_services,
            )
            yield sess
        except Exception as e:
            self.request_stop(e)
        finally:
            try:
                self.stop(close_summary_writer=close_summary_writer)
            finally:
                if sess is not None:
                    with contextlib.suppress(Exception):
                        sess.close()

    # -- services ---------------------------------------------------------------------

    def start_standard_services(self, sess: Any) -> list[threading.Thread]:
        """Starts the checkpoint, summary and step-rate threads (chief only).

        Returns:
            The threads started.

        Raises:
            RuntimeError: not the chief.
        """
        if not self._is_chief:
            raise RuntimeError(
                "Only chief supervisor can start standard services. Because only "
                "chief supervisors can write events."
            )
        if self._summary_writer is not None and self._global_step is not None:
            step = int(sess.run(self._global_step))
            self._summary_writer.add_session_log(
                SessionLog(status=SessionLog.START), step
            )
        threads: list[threading.Thread] = []
        if self._save_summaries_secs and self._summary_writer is not None:
            if self._summary_op is not None:
                threads.append(_SummaryThread(self, sess))
            if self._global_step is not None:
                threads.append(_StepCounterThread(self, sess))
        if self._saver is not None and self._save_model_secs and self._save_path:
            threads.append(_CheckpointThread(self, sess))
        for t in threads:
            t.start()
        self._started_threads.extend(threads)
        return threads

    def start_queue_runners(
        self, sess: Any, queue_runners: Any = None
    ) -> list[threading.Thread]:
        """Starts the graph's queue runners under this supervisor's coordinator.

        Returns:
            Their threads.
        """
        if queue_runners is None:
            threads = _start_queue_runners(sess=sess, coord=self._coord)
        else:
            threads = []
            for qr in queue_runners:
                threads.extend(
                    qr.create_threads(sess, coord=self._coord, daemon=True, start=True)
                )
        self._started_threads.extend(threads)
        return threads

    def loop(
        self,
        timer_interval_secs: float,
        target: Callable[..., Any],
        args: Any = None,
        kwargs: Any = None,
    ) -> LooperThread:
        """Starts a thread calling ``target`` every ``timer_interval_secs``."""
        looper = LooperThread(self._coord, timer_interval_secs, target, args, kwargs)
        looper.start()
        self._started_threads.append(looper)
        return looper

    def summary_computed(
        self, sess: Any, summary: Any, global_step: Any = None
    ) -> None:
        """Writes a summary the program computed, at the current global step.

        Raises:
            RuntimeError: there is no summary writer.
        """
        if self._summary_writer is None:
            raise RuntimeError("Writing a summary requires a summary writer.")
        if global_step is None and self._global_step is not None:
            global_step = int(sess.run(self._global_step))
        self._summary_writer.add_summary(summary, global_step)

    # -- stopping -----------------------------------------------------------------------

    def request_stop(self, ex: Any = None) -> None:
        """Asks the services and the training loop to stop (``coord.request_stop``)."""
        self._coord.request_stop(ex=ex)

    def should_stop(self) -> bool:
        """Whether a stop was requested."""
        return self._coord.should_stop()

    def stop_on_exception(self) -> Any:
        """A context manager requesting a stop on an exception inside it."""
        return self._coord.stop_on_exception()

    def wait_for_stop(self) -> None:
        """Blocks until a stop is requested."""
        self._coord.wait_for_stop()

    def stop(
        self,
        threads: Any = None,
        close_summary_writer: bool = True,
        ignore_live_threads: bool = False,
    ) -> None:
        """Stops the services, joins their threads, closes the summary writer.

        Raises:
            Exception: what a service thread or ``request_stop`` reported.
        """
        self._coord.request_stop()
        try:
            self._coord.join(
                [*self._started_threads, *(threads or ())],
                stop_grace_period_secs=self._stop_grace_secs,
                ignore_live_threads=ignore_live_threads,
            )
        finally:
            self._started_threads = []
            if close_summary_writer and self._summary_writer is not None:
                self._summary_writer.add_session_log(SessionLog(status=SessionLog.STOP))
                self._summary_writer.close()
                self._graph_added_to_summary = False

    def _write_graph(self) -> None:
        if not self._is_chief:
            return
        if self._logdir:
            write_graph(self._graph, self._logdir, "graph.pbtxt")
        if self._summary_writer is not None and not self._graph_added_to_summary:
            self._summary_writer.add_graph(self._graph)
            self._graph_added_to_summary = True


def _or_default(given: Any, key: str, make: Callable[[], Any]) -> Any:
    """``given``, or the collection's single item, or ``make()`` (added to it)."""
    if given is not Supervisor.USE_DEFAULT:
        return given
    graph = get_default_graph()
    items = graph.get_collection(key)
    if items:
        return items[0]
    op = make()
    if op is not None:
        graph.add_to_collection(key, op)
    return op


def _default_global_step(graph: Any) -> Tensor | Any | None:
    """The graph's global step: the collection's, else the tensor ``global_step:0``."""
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if found:
        return found[0]
    try:
        return graph.get_tensor_by_name("global_step:0")
    except (KeyError, ValueError):
        return None
