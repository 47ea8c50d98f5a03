"""Scaffold: the init, ready, local-init and summary ops and the Saver of a session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from jaxsession.graph import variables as variables_lib
from jaxsession.graph.core import GraphKeys, get_default_graph

logger = logging.getLogger("jaxsession")


def collected_saver() -> Any:
    """The single Saver in the SAVERS collection, or None when it is empty.

    Raises:
        RuntimeError: the collection holds more than one saver.
    """
    savers = get_default_graph().get_collection(GraphKeys.SAVERS)
    if len(savers) > 1:
        raise RuntimeError(
            f"More than one item in collection {GraphKeys.SAVERS}. Please indicate "
            "which one to use by passing it to the constructor."
        )
    return savers[0] if savers else None


def _get_saver_or_default() -> Any:
    saver = collected_saver()
    if saver is not None:
        return saver
    graph = get_default_graph()
    from jaxsession.checkpoint import Saver

    saver = Saver(sharded=True, allow_empty=True)
    graph.add_to_collection(GraphKeys.SAVERS, saver)
    return saver


def _get_or_default(
    arg_name: str, collection_key: str, default_constructor: Callable[[], Any]
) -> Any:
    elements = get_default_graph().get_collection(collection_key)
    if elements:
        if len(elements) > 1:
            raise RuntimeError(
                f"More than one item in the collection {collection_key}. Please "
                f"indicate which one to use by passing it to the tf.Scaffold "
                f"constructor as:  tf.Scaffold({arg_name}=item to use)"
            )
        return elements[0]
    op = default_constructor()
    if op is not None:
        get_default_graph().add_to_collection(collection_key, op)
    return op


def _group(ops: list[Any], name: str) -> Any:
    return variables_lib.group_ops([getattr(o, "op", o) for o in ops], name)


class Scaffold:
    """Holds or builds the pieces a monitored session needs (``tf.train.Scaffold``).

    Every field stays None until ``finalize()``, which takes each missing
    piece from its graph collection (exactly one item) or builds the default
    and adds it there, then finalizes the graph.

    Args:
        init_op: Op initializing the model when there is no checkpoint.
        init_feed_dict: Feeds for init_op.
        init_fn: ``fn(scaffold, session)`` called after init_op.
        ready_op: String-vector op naming uninitialized variables.
        ready_for_local_init_op: Checked before local_init_op.
        local_init_op: Op run on every new session.
        summary_op: Op producing the merged summaries.
        saver: The Saver for checkpoints.
        copy_from_scaffold: Scaffold whose fields fill the ones not given.
        local_init_feed_dict: Feeds for local_init_op.

    Raises:
        TypeError: copy_from_scaffold is not a Scaffold.
    """

    def __init__(
        self,
        init_op: Any = None,
        init_feed_dict: Any = None,
        init_fn: Callable[[Any, Any], None] | None = None,
        ready_op: Any = None,
        ready_for_local_init_op: Any = None,
        local_init_op: Any = None,
        summary_op: Any = None,
        saver: Any = None,
        copy_from_scaffold: Any = None,
        local_init_feed_dict: Any = None,
    ):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")

            def coalesce(arg: Any, field: str) -> Any:
                return arg if arg is not None else getattr(copy_from_scaffold, field)

            init_op = coalesce(init_op, "_init_op")
            init_feed_dict = coalesce(init_feed_dict, "_init_feed_dict")
            init_fn = coalesce(init_fn, "_user_init_fn")
            ready_op = coalesce(ready_op, "_ready_op")
            ready_for_local_init_op = coalesce(
                ready_for_local_init_op, "_ready_for_local_init_op"
            )
            local_init_op = coalesce(local_init_op, "_local_init_op")
            local_init_feed_dict = coalesce(
                local_init_feed_dict, "_local_init_feed_dict"
            )
            summary_op = coalesce(summary_op, "_summary_op")
            saver = coalesce(saver, "_saver")
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._local_init_op = local_init_op
        self._local_init_feed_dict = local_init_feed_dict
        self._summary_op = summary_op
        self._saver = saver

    def finalize(self) -> Scaffold:
        """Fills missing fields from collections or defaults and finalizes the graph."""
        if self._init_op is None:
            self._init_op = _get_or_default(
                "init_op",
                GraphKeys.INIT_OP,
                lambda: _group([variables_lib.global_variables_initializer()], "init"),
            )
        if self._ready_op is None:
            self._ready_op = _get_or_default(
                "ready_op",
                GraphKeys.READY_OP,
                lambda: variables_lib.report_uninitialized_variables(name="ready_op"),
            )
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = _get_or_default(
                "ready_for_local_init_op",
                GraphKeys.READY_FOR_LOCAL_INIT_OP,
                lambda: variables_lib.report_uninitialized_variables(
                    variables_lib.global_variables(), name="ready_for_local_init_op"
                ),
            )
        if self._local_init_op is None:
            self._local_init_op = _get_or_default(
                "local_init_op", GraphKeys.LOCAL_INIT_OP, Scaffold.default_local_init_op
            )
        if self._summary_op is None:
            self._summary_op = _get_or_default(
                "summary_op", GraphKeys.SUMMARY_OP, _merge_all
            )
        if self._saver is None:
            self._saver = _get_saver_or_default()
        build = getattr(self._saver, "build", None)
        if build is not None:
            build()
        get_default_graph().finalize()
        logger.info("Graph was finalized.")
        return self

    @staticmethod
    def default_local_init_op() -> Any:
        """The default local init op: initializes the local variables."""
        return _group([variables_lib.local_variables_initializer()], "group_deps")

    @property
    def init_fn(self) -> Callable[[Any], None] | None:
        """``fn(session)`` calling the user's init_fn with this scaffold."""
        return self._init_fn

    @property
    def init_op(self) -> Any:
        """The init op."""
        return self._init_op

    @property
    def ready_op(self) -> Any:
        """The ready op."""
        return self._ready_op

    @property
    def ready_for_local_init_op(self) -> Any:
        """The ready-for-local-init op."""
        return self._ready_for_local_init_op

    @property
    def local_init_op(self) -> Any:
        """The local init op."""
        return self._local_init_op

    @property
    def local_init_feed_dict(self) -> Any:
        """Feeds for the local init op."""
        return self._local_init_feed_dict

    @property
    def summary_op(self) -> Any:
        """The merged summary op, or None when the graph has no summaries."""
        return self._summary_op

    @property
    def saver(self) -> Any:
        """The Saver."""
        return self._saver

    @property
    def init_feed_dict(self) -> Any:
        """Feeds for the init op."""
        return self._init_feed_dict


def _merge_all() -> Any:
    try:
        from jaxsession.library.summary_ops import merge_all
    except ImportError:
        return None
    return merge_all()
