"""The slice path: a pipeline over whole arrays kept as row indices.

``from_tensor_slices`` followed by ``repeat``, ``shuffle``, ``take``, ``skip``
or ``prefetch`` tracks its elements as index runs; ``batch`` then cuts each
batch with one NumPy indexing per array (see ``dataset.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from jaxsession.graph.core import Tensor


class _Slices:
    """A pipeline's elements as row indices into whole arrays.

    Element ``i`` of the pipeline is ``treedef.unflatten([a[j] for a in
    arrays])`` for the ``i``-th index ``j`` of the concatenated ``runs``.
    ``runs`` is lazy: it pulls upstream epochs only as indices are read,
    exactly when the element-by-element pipeline would.
    """

    __slots__ = ("arrays", "runs", "treedef")

    def __init__(
        self, arrays: list[np.ndarray], treedef: Any, runs: Iterator[np.ndarray]
    ):
        self.arrays, self.treedef, self.runs = arrays, treedef, runs


SliceProducer = Callable[[dict[Tensor, Any]], _Slices]


def _shuffle_runs(
    runs: Iterator[np.ndarray], size: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """``Dataset.shuffle``'s buffer algorithm on index runs, vectorized.

    Once the buffer is full, step ``t`` draws a slot ``i_t``, emits the
    slot's content and stores input ``t`` there. So the output of step
    ``t`` is the input of the last earlier step that drew the same slot, or
    the slot's content before the run. The draws are those of the element
    path: drawing m integers at once gives the same numbers as m draws.
    """
    buffer = np.empty(0, np.int64)
    for run in runs:
        if len(buffer) < size:
            room = size - len(buffer)
            buffer = np.concatenate([buffer, run[:room]])
            run = run[room:]
        if not len(run):
            continue
        slots = rng.integers(size, size=len(run))
        order = np.argsort(slots, kind="stable")
        ranked = slots[order]
        same = np.zeros(len(run), bool)
        same[1:] = ranked[1:] == ranked[:-1]
        emitted = buffer[ranked]
        emitted[same] = run[order[:-1]][same[1:]]
        out = np.empty(len(run), np.int64)
        out[order] = emitted
        last = np.ones(len(run), bool)
        last[:-1] = ~same[1:]
        buffer[ranked[last]] = run[order[last]]
        yield out
    rest = buffer.tolist()
    rng.shuffle(rest)
    if rest:
        yield np.asarray(rest, np.int64)


class _Batcher:
    """Cuts consecutive batches from a ``_Slices`` by NumPy indexing."""

    def __init__(self, source: _Slices, batch_size: int, drop_remainder: bool):
        self.arrays, self.treedef = source.arrays, source.treedef
        self._runs = source.runs
        self._size = batch_size
        self._drop = drop_remainder
        self._pending = np.empty(0, np.int64)

    def _read(self, n: int) -> np.ndarray:
        parts, have = [], 0
        pending = self._pending
        while len(pending) + have < n:
            if len(pending):
                parts.append(pending)
                have += len(pending)
            pending = next(self._runs, None)
            if pending is None:
                self._pending = np.empty(0, np.int64)
                return np.concatenate(parts) if parts else self._pending
        need = n - have
        parts.append(pending[:need])
        self._pending = pending[need:]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def take_index(self, count: int) -> tuple[np.ndarray | None, list[np.ndarray]]:
        """Up to ``count`` next batches as row indices: ``(stacked, cuts)``.

        With ``count`` > 1 full batches left, ``stacked`` holds their
        ``count * batch_size`` indices in order and ``cuts`` is empty.
        Otherwise ``stacked`` is None and ``cuts`` lists each batch's
        indices (a last short batch unless ``drop_remainder``); it is empty
        at the end of the data.
        """
        size = self._size
        index = self._read(size * count)
        full = len(index) // size
        if full == count and count > 1:
            return index, []
        cuts = [index[i * size : (i + 1) * size] for i in range(full)]
        if len(index) > full * size and not self._drop:
            cuts.append(index[full * size :])
        return None, cuts

    def take(
        self, count: int
    ) -> tuple[list[np.ndarray] | None, list[list[np.ndarray]]]:
        """Up to ``count`` next batches: ``(stacked, batches)``.

        With ``count`` > 1 full batches left, ``stacked`` holds their leaves
        with a leading ``count`` axis and ``batches`` is empty. Otherwise
        ``stacked`` is None and ``batches`` lists each batch's leaves as the
        element path batches them (a last short batch unless
        ``drop_remainder``); it is empty at the end of the data.
        """
        index, cuts = self.take_index(count)
        if index is not None:
            lead = (count, self._size)
            return [a[index].reshape(lead + a.shape[1:]) for a in self.arrays], []
        return None, [[gather(a, cut) for a in self.arrays] for cut in cuts]


def gather(array: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Rows ``index`` of ``array``, as the element path batches them."""
    if array.dtype == object:
        # As the element path does: stacking Python bytes gives a bytes array.
        return np.stack([array[i] for i in index])
    return array[index]
