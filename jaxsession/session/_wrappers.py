"""One-concern session layers that MonitoredSession stacks (TF1's design).

``_RecoverableSession -> _CoordinatedSession -> _HookedSession -> raw Session``
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import jax

from jaxsession import errors
from jaxsession.distributed.health import PeerLostError
from jaxsession.engine import deferred as deferred_lib
from jaxsession.graph.core import Operation, Tensor
from jaxsession.session import config as config_lib, fetches as fetches_lib
from jaxsession.session.hooks import (
    Deferred,
    EveryStep,
    SessionRunArgs,
    SessionRunContext,
    SessionRunValues,
)
from jaxsession.session.quiet_runs import QuietRuns

logger = logging.getLogger("jaxsession")

# Hook fetches of these types hold no EveryStep: no need to walk them.
_PLAIN_LEAVES = frozenset({Tensor, Operation, str, type(None)})

_new_tuple = tuple.__new__

# The errors after which a session is re-created and restored, defined once.
PREEMPTION_ERRORS = (errors.AbortedError, errors.UnavailableError)


class StepContext:
    """What ``run_step_fn``'s function gets: the raw session and a hooked run.

    Args:
        session: The raw session.
        run_with_hooks_fn: Runs with hooks, as ``MonitoredSession.run``.
    """

    def __init__(self, session: Any, run_with_hooks_fn: Callable[..., Any]):
        self._session = session
        self._run_with_hooks_fn = run_with_hooks_fn

    @property
    def session(self) -> Any:
        """The raw session (runs through it bypass the hooks)."""
        return self._session

    def run_with_hooks(self, *args: Any, **kwargs: Any) -> Any:
        """Runs with the hooks' before_run/after_run, as ``MonitoredSession.run``."""
        return self._run_with_hooks_fn(*args, **kwargs)

    def request_stop(self) -> None:
        """Stops the iterations: raises StopIteration out of ``run_step_fn``."""
        raise StopIteration("step_fn has requested the iterations to stop.")


class _WrappedSession:
    """Delegates to a wrapped session; ``should_stop`` asks every layer."""

    def __init__(self, sess: Any):
        self._sess = sess

    @property
    def graph(self) -> Any:
        return self._sess.graph

    @property
    def sess_str(self) -> str:
        return self._sess.sess_str

    def _check_stop(self) -> bool:
        return False

    def should_stop(self) -> bool:
        if self._check_stop():
            return True
        if self._sess is None:
            return True
        if isinstance(self._sess, _WrappedSession):
            return self._sess.should_stop()
        return False

    def close(self) -> None:
        if self._sess is None:
            return
        try:
            self._sess.close()
        except PREEMPTION_ERRORS as e:
            logger.error(
                "An error occurred when attempting to close the session: %s", e
            )
        finally:
            self._sess = None

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self._sess.run(*args, **kwargs)

    def run_step_fn(
        self,
        step_fn: Callable[..., Any],
        raw_session: Any,
        run_with_hooks: Callable[..., Any] | None,
    ) -> Any:
        return step_fn(StepContext(raw_session, run_with_hooks or self.run))


class _HookedSession(_WrappedSession):
    """Calls the hooks' before_run/after_run around each run (TF1_BEHAVIOUR §3.2)."""

    def __init__(self, sess: Any, hooks: list[Any]):
        super().__init__(sess)
        self._hooks = hooks
        self._should_stop = False
        self._deferring = hasattr(sess, "run_deferring")
        # Runs where no hook has anything to do skip the callbacks (quiet_runs.py).
        self._quiet = QuietRuns.for_hooks(hooks, sess)

    def _check_stop(self) -> bool:
        return self._should_stop

    def close(self) -> None:
        if self._quiet is not None:
            self._quiet.catch_up()
        super().close()

    def run(
        self,
        fetches: Any,
        feed_dict: Any = None,
        options: Any = None,
        run_metadata: Any = None,
        *,
        steps_per_run: int = 1,
    ) -> Any:
        if self._should_stop:
            raise RuntimeError("Run called even after should_stop requested.")
        plain = options is None and run_metadata is None and steps_per_run == 1
        if plain and not self._hooks:
            # Nobody to call: the run as the caller asked for it.
            return self._sess.run(fetches, feed_dict)
        quiet = self._quiet
        if quiet is not None:
            if plain:
                start = quiet.start()
                if start is not None:
                    result = self._sess.run(fetches, feed_dict)
                    if not quiet.finish(start):
                        self._after_late(quiet, start, fetches, feed_dict)
                    return result
            quiet.catch_up()
        # tuple.__new__: half the cost of a NamedTuple's own constructor.
        ctx = SessionRunContext(
            _new_tuple(SessionRunArgs, (fetches, feed_dict, None)),
            self._sess,
            steps_per_run,
        )
        if self._deferring:
            ctx.accepts_deferred = True
        # The caller's options object is reused (and merged into), as in TF1;
        # a new one asks for nothing unless a hook merges options into it.
        plain_options = options is None
        if plain_options:
            options = config_lib.RunOptions()
        actual_fetches: dict[Any, Any] | None = None
        hook_feeds: dict[Any, Any] | None = None
        for hook in self._hooks:
            request = hook.before_run(ctx)
            if request is None:
                continue
            if request.fetches is not None:
                if actual_fetches is None:
                    actual_fetches = {"caller": fetches}
                actual_fetches[hook] = request.fetches
            if request.feed_dict:
                hook_feeds = _add_hook_feeds(hook_feeds, request.feed_dict)
            if request.options is not None:
                _merge_run_options(options, request.options)
                plain_options = False
        if hook_feeds:
            feed_dict = _merge_feeds(hook_feeds, feed_dict)
        filled = run_metadata
        if run_metadata is None:
            run_metadata = config_lib.RunMetadata()
            # An untraced run only clears the metadata: a new one is clear.
            if not plain_options and config_lib.wants_metadata(options):
                filled = run_metadata
        if actual_fetches is None and ctx.steps_per_run == 1:
            # No hook fetches: the caller's run as it is (no merged structure),
            # and every hook gets the same values (results None).
            result = self._sess.run(fetches, feed_dict, options, filled)
            values = _new_tuple(SessionRunValues, (None, options, run_metadata))
            for hook in self._hooks:
                hook.after_run(ctx, values)
        else:
            if actual_fetches is None:
                actual_fetches = {"caller": fetches}
            deferred = _take_deferred(actual_fetches)
            # One merged run of the steps the hooks left (see limit_steps).
            outputs, made = _run_keyed(
                self._sess,
                actual_fetches,
                feed_dict,
                options,
                filled,
                ctx.steps_per_run,
                deferred,
            )
            # after_run sees the steps made: fewer when the data ran out.
            ctx.limit_steps(made)
            for hook in self._hooks:
                hook.after_run(
                    ctx, SessionRunValues(outputs.get(hook), options, run_metadata)
                )
            result = outputs["caller"]
        self._should_stop = self._should_stop or ctx.stop_requested
        # After this run's dispatch, while the device computes it: what the
        # hooks' earlier runs deferred is ready by now (engine/deferred.py).
        deferred_lib.finish_ready()
        return result

    def _after_late(
        self, quiet: QuietRuns, start: int, fetches: Any, feed_dict: Any
    ) -> None:
        """The hooks' after_run of a run that was quiet before it but not after it."""
        quiet.catch_up()
        quiet.before(start)
        ctx = SessionRunContext(
            _new_tuple(SessionRunArgs, (fetches, feed_dict, None)), self._sess
        )
        options, run_metadata = config_lib.RunOptions(), config_lib.RunMetadata()
        values = _new_tuple(SessionRunValues, (None, options, run_metadata))
        for hook in self._hooks:
            hook.after_run(ctx, values)
        self._should_stop = self._should_stop or ctx.stop_requested


def _add_hook_feeds(hook_feeds: dict[Any, Any] | None, feeds: Any) -> dict[Any, Any]:
    """``hook_feeds`` with a hook's ``feeds`` added; two hooks may not feed one tensor."""
    if hook_feeds is None:
        return dict(feeds)
    conflicts = [k for k in feeds if k in hook_feeds]
    if conflicts:
        raise RuntimeError(f"Same tensor is fed by two hooks. Conflict(s): {conflicts}")
    hook_feeds.update(feeds)
    return hook_feeds


def _merge_run_options(options: Any, incoming: Any) -> None:
    """Merges a hook's RunOptions into ``options`` as TF1 does (TF1_BEHAVIOUR §3.3)."""
    for field in ("trace_level", "timeout_in_ms", "inter_op_thread_pool"):
        setattr(options, field, max(getattr(options, field), getattr(incoming, field)))
    options.output_partition_graphs = bool(
        options.output_partition_graphs or incoming.output_partition_graphs
    )
    options.report_tensor_allocations_upon_oom = bool(
        options.report_tensor_allocations_upon_oom
        or incoming.report_tensor_allocations_upon_oom
    )
    theirs = incoming.debug_options
    if theirs is None:
        return
    if options.debug_options is None:
        options.debug_options = copy.deepcopy(theirs)
        return
    ours = options.debug_options
    watches = getattr(ours, "debug_tensor_watch_opts", None)
    if watches is not None:
        watches.extend(getattr(theirs, "debug_tensor_watch_opts", []))
    if hasattr(ours, "reset_disk_byte_usage"):
        ours.reset_disk_byte_usage = bool(
            ours.reset_disk_byte_usage
            or getattr(theirs, "reset_disk_byte_usage", False)
        )


def _merge_feeds(hook_feeds: dict[Any, Any], feed_dict: Any) -> Any:
    if not hook_feeds:
        return feed_dict
    if not feed_dict:
        return hook_feeds
    conflicts = [k for k in feed_dict if k in hook_feeds]
    if conflicts:
        raise RuntimeError(
            f"Same tensor is fed by a SessionRunHook and user. Conflict(s): {conflicts}"
        )
    merged = dict(hook_feeds)
    merged.update(feed_dict)
    return merged


def _take_deferred(actual: dict[Any, Any]) -> tuple[list[Any], list[Any]]:
    """Unwraps the hooks' ``Deferred`` fetches in ``actual``.

    Returns:
        What the markers held, and every other fetch (the caller's, the
        rest of the hooks'): a tensor among those must not be deferred.
    """
    held: list[Any] = []
    rest: list[Any] = []
    for key, fetch in actual.items():
        if isinstance(fetch, Deferred):
            actual[key] = fetch.fetches
            held.append(fetch.fetches)
        elif isinstance(fetch, dict) and any(
            isinstance(v, Deferred) for v in fetch.values()
        ):
            actual[key] = {
                k: v.fetches if isinstance(v, Deferred) else v for k, v in fetch.items()
            }
            held.extend(v.fetches for v in fetch.values() if isinstance(v, Deferred))
            rest.extend(v for v in fetch.values() if not isinstance(v, Deferred))
        else:
            rest.append(fetch)
    return held, rest


def _run_keyed(
    sess: Any,
    actual: dict[Any, Any],
    feed_dict: Any,
    options: Any,
    run_metadata: Any,
    steps: int = 1,
    deferred: tuple[list[Any], list[Any]] | None = None,
) -> tuple[dict[Any, Any], int]:
    """The merged run: each key's values, and the steps the run made.

    ``deferred`` is ``_take_deferred``'s: the ``Deferred`` hook fetches may
    come back as ``DeferredValue``s from a one-step untraced run of our
    Session.
    """
    # Hooks are keys of the fetch dict in TF1; a dict fetch here needs
    # plain keys, so run a list and key the results afterwards.
    keys = list(actual)
    splits = [None if k == "caller" else _split(actual[k]) for k in keys]
    if all(sp is None for sp in splits):
        fetches = [actual[k] for k in keys]
        if steps == 1:
            if (
                deferred
                and deferred[0]
                and run_metadata is None
                and hasattr(sess, "run_deferring")
            ):
                values = sess.run_deferring(fetches, feed_dict, *deferred)
            else:
                values = sess.run(fetches, feed_dict, options, run_metadata)
            return dict(zip(keys, values)), 1
        # No per-step values: asked for none, to learn the steps made.
        result = sess.run(
            fetches,
            feed_dict,
            options,
            run_metadata,
            steps_per_run=steps,
            every_step=[],
        )
        return dict(zip(keys, result.values)), result.steps
    plain = [actual[k] if sp is None else sp.plain for k, sp in zip(keys, splits)]
    each = [sp.each for sp in splits if sp is not None]
    values, each_values, made = sess.run(
        plain, feed_dict, options, run_metadata, steps_per_run=steps, every_step=each
    )
    each_iter = iter(each_values)
    out = {}
    for k, sp, v in zip(keys, splits, values):
        out[k] = v if sp is None else sp.rebuild(v, next(each_iter))
    return out, made


def _is_leaf(x: Any) -> bool:
    return isinstance(x, EveryStep) or fetches_lib.is_leaf(x)


class _Split:
    """A hook's fetches parted into plain leaves and ``EveryStep`` contents."""

    __slots__ = ("each", "marks", "plain", "treedef")

    def __init__(self, leaves: list[Any], marks: list[bool], treedef: Any):
        self.marks, self.treedef = marks, treedef
        self.plain = [leaf for leaf, m in zip(leaves, marks) if not m]
        self.each = [leaf.fetches for leaf, m in zip(leaves, marks) if m]

    def rebuild(self, plain_values: list[Any], each_values: list[Any]) -> Any:
        plain, each = iter(plain_values), iter(each_values)
        leaves = [next(each) if m else next(plain) for m in self.marks]
        return jax.tree_util.tree_unflatten(self.treedef, leaves)


def _split(fetches: Any) -> _Split | None:
    """The parts of a hook's fetches, or None if nothing is marked ``EveryStep``."""
    if type(fetches) in _PLAIN_LEAVES:
        return None
    leaves, treedef = jax.tree_util.tree_flatten(fetches, is_leaf=_is_leaf)
    marks = [isinstance(leaf, EveryStep) for leaf in leaves]
    return _Split(leaves, marks, treedef) if any(marks) else None


class _CoordinatedSession(_WrappedSession):
    """Surfaces the coordinator's stop and errors; joins its threads at close."""

    def __init__(self, sess: Any, coord: Any, stop_grace_period_secs: float = 120):
        super().__init__(sess)
        self._coord = coord
        self._stop_grace_period_secs = stop_grace_period_secs

    def _check_stop(self) -> bool:
        self._coord.raise_requested_exception()
        return self._coord.should_stop()

    def run(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._sess.run(*args, **kwargs)
        except PREEMPTION_ERRORS:
            raise
        except Exception:
            stored = self._coord.exception
            if isinstance(stored, PREEMPTION_ERRORS):
                raise stored from None
            raise

    def close(self) -> None:
        self._coord.request_stop()
        try:
            self._coord.join(
                stop_grace_period_secs=self._stop_grace_period_secs,
                ignore_live_threads=True,
            )
        finally:
            try:
                _WrappedSession.close(self)
            except Exception:
                pass


class _RecoverableSession(_WrappedSession):
    """Re-creates the session after a preemption error and retries the call."""

    def __init__(self, sess_creator: Any):
        self._sess_creator = sess_creator
        super().__init__(self._create_session())

    def _create_session(self) -> Any:
        while True:
            try:
                return self._sess_creator.create_session()
            except PREEMPTION_ERRORS as e:
                logger.info(
                    "An error was raised while a session was being created: %s", e
                )

    def _recreate(self, reason: Exception) -> None:
        if isinstance(reason, PeerLostError):
            # A dead process of a multi-process job does not come back: a new
            # session would fail the same way (health.raise_if_peer_lost).
            raise reason
        logger.info("An error was raised. This may be due to a preemption: %s", reason)
        self.close()
        self._sess = self._create_session()

    def _check_stop(self) -> bool:
        if self._sess is None:
            return True
        try:
            return self._sess._check_stop()
        except PREEMPTION_ERRORS as e:
            self._recreate(e)
            return False
        except Exception:
            return True

    def run(self, *args: Any, **kwargs: Any) -> Any:
        while True:
            if self._sess is None:
                self._sess = self._create_session()
            try:
                return self._sess.run(*args, **kwargs)
            except PREEMPTION_ERRORS as e:
                self._recreate(e)

    def run_step_fn(
        self,
        step_fn: Callable[..., Any],
        raw_session: Any,
        run_with_hooks: Callable[..., Any] | None,
    ) -> Any:
        while True:
            if self._sess is None:
                self._sess = self._create_session()
            try:
                raw = self._sess_creator.tf_sess() or raw_session
                return self._sess.run_step_fn(step_fn, raw, self._sess.run)
            except PREEMPTION_ERRORS as e:
                self._recreate(e)
