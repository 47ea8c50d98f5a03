"""Removing what interrupted saves and deletions of one Saver left on disk.

A save writes ``P.partial`` (Orbax first writes ``P.partial.orbax-checkpoint-tmp-*``)
and renames it to ``P``; a re-save moves the old ``P`` aside to
``P.partial-old``; retention renames ``P`` to ``P.partial-deleted`` before
removing it. A process killed in between leaves these behind, and a kill
during a deletion by an older version left ``P`` itself half-deleted. The
first save of a Saver into a directory removes them there:

- only names of its own checkpoints (``<base>`` or ``<base>-<step>``,
  ``base`` the basename of its ``save_path``) in that directory;
- never a write in flight in this process (``pending``), nor a committed
  checkpoint: an aside ``P.partial-old`` whose ``P`` is missing is put back
  (``_format.recover``), and a ``P`` listed in the state file stays even if
  damaged; an unlisted ``P`` goes only when it is incomplete (its manifest or
  a file is missing or of the wrong size) and holds nothing but names
  checkpoints use (a user's directory named like the prefix stays);
- in a multi-process job only the chief cleans.
"""

from __future__ import annotations

import logging
import re

from jaxsession.checkpoint import _format, pending, state as state_lib, storage

logger = logging.getLogger("jaxsession")


def clean(directory: str, base: str, latest_filename: str = "checkpoint") -> list[str]:
    """Removes the leftovers of checkpoints named ``base[-step]`` in ``directory``.

    Args:
        directory: The checkpoint directory.
        base: The basename of the Saver's ``save_path``.
        latest_filename: The state file naming the committed checkpoints.

    Returns:
        The paths removed (each logged).
    """
    try:
        names = sorted(storage.listdir(directory))
    except OSError:
        return []
    own = re.compile(rf"{re.escape(base)}(-\d+)?")
    busy = {storage.abspath(p) for p in pending.in_flight()}
    listed = {
        storage.abspath(p)
        for p in state_lib.listed_checkpoints(directory, latest_filename)
    }
    removed = []
    for name in names:
        prefix, dot, rest = name.partition(_format.PARTIAL_SUFFIX)
        if not own.fullmatch(prefix):
            continue
        path = storage.join(directory, prefix)
        if storage.abspath(path) in busy:
            continue
        if not dot:
            if (
                storage.abspath(path) in listed
                or not storage.isdir(path)
                or _format.is_complete(path)
                or not _format.holds_only_checkpoint_files(path)
            ):
                continue
        elif rest == _format.ASIDE and _format.recover(path):
            continue
        leftover = storage.join(directory, name)
        storage.rmtree(leftover, ignore_errors=True)
        if not storage.exists(leftover):
            logger.warning(
                "Removed %s, left by an interrupted save or deletion", leftover
            )
            removed.append(leftover)
    return removed
