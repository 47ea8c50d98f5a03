"""RecordingHook (logs every callback in order) and a minimal hooked-run driver."""

import jaxsession as tf
from jaxsession.session.hooks import (
    SessionRunArgs,
    SessionRunContext,
    SessionRunHook,
    SessionRunValues,
)


class RecordingHook(SessionRunHook):
    """Appends one tuple per callback to ``calls``: the callback name, then its arguments.

    ``("begin",)``, ``("after_create_session", session, coord)``,
    ``("before_run", run_context)``, ``("after_run", run_context, run_values)``,
    ``("end", session)``. With ``name``, each tuple starts with it, so several
    hooks can share one ``calls`` list and the interleaving is asserted.

    Args:
        calls: The list to append to (a new one by default).
        name: Prefix of every entry.
        request: What ``before_run`` returns: a SessionRunArgs, or a function
            of the run context returning one (or None).
        stop_after_run: Request a stop in ``after_run`` of this run (1-based).
    """

    def __init__(self, calls=None, *, name=None, request=None, stop_after_run=None):
        self.calls = [] if calls is None else calls
        self._prefix = () if name is None else (name,)
        self._request = request
        self._stop_after_run = stop_after_run
        self.runs = 0

    def _log(self, *entry):
        self.calls.append(self._prefix + entry)

    @property
    def names(self):
        """The callback names of this hook's entries, in order."""
        n = len(self._prefix)
        return [c[n] for c in self.calls if c[:n] == self._prefix]

    def begin(self):
        self._log("begin")

    def after_create_session(self, session, coord):
        self._log("after_create_session", session, coord)

    def before_run(self, run_context):
        self._log("before_run", run_context)
        request = self._request
        return request(run_context) if callable(request) else request

    def after_run(self, run_context, run_values):
        self._log("after_run", run_context, run_values)
        self.runs += 1
        if self._stop_after_run == self.runs:
            run_context.request_stop()

    def end(self, session):
        self._log("end", session)


def run_hooked(session, hooks, fetches, feed_dict=None):
    """One run through ``hooks`` as MonitoredSession's hooked layer does it.

    Returns:
        ``(caller's results, run context)``.
    """
    ctx = SessionRunContext(SessionRunArgs(fetches, feed_dict), session)
    requested, feeds = [], {}
    for hook in hooks:
        request = hook.before_run(ctx)
        fetch = None if request is None else request.fetches
        requested.append(fetch)
        if request is not None and request.feed_dict:
            feeds.update(request.feed_dict)
    feeds.update(feed_dict or {})
    asked = [f for f in requested if f is not None]
    caller, *results = session.run([fetches, *asked], feed_dict=feeds or None)
    results = iter(results)
    for hook, fetch in zip(hooks, requested):
        values = None if fetch is None else next(results)
        hook.after_run(ctx, SessionRunValues(values, None, None))
    return caller, ctx


class HookDriver:
    """begin -> Session + init (+ setup(session)) -> after_create_session -> runs -> end."""

    def __init__(self, hooks, init_op=None, setup=None):
        self.hooks = list(hooks)
        for hook in self.hooks:
            hook.begin()
        self.session = tf.Session()
        self.session.run(init_op or tf.global_variables_initializer())
        if setup is not None:
            setup(self.session)
        for hook in self.hooks:
            hook.after_create_session(self.session, None)
        self.stop_requested = False

    def run(self, fetches, feed_dict=None):
        result, ctx = run_hooked(self.session, self.hooks, fetches, feed_dict)
        self.stop_requested = self.stop_requested or ctx.stop_requested
        return result

    def end(self):
        for hook in self.hooks:
            hook.end(self.session)
        self.session.close()
