"""TF1's queue-based input pipeline: queues, readers, batching and queue runners.

None of it is implemented: each constructor raises ``errors.UnimplementedError``
pointing to ``tf.data``, which jaxsession runs on the host and feeds to the
device. ``start_queue_runners`` with no queue runners in the graph returns
``[]`` as in TF1, since many programs call it out of habit.
"""

from __future__ import annotations

from typing import Any

from jaxsession import errors
from jaxsession.graph.core import GraphKeys, get_default_graph

_HINTS = {
    "QueueRunner": "tf.data.Dataset",
    "FIFOQueue": "tf.data.Dataset",
    "PaddingFIFOQueue": "tf.data.Dataset.padded_batch",
    "PriorityQueue": "tf.data.Dataset",
    "RandomShuffleQueue": "tf.data.Dataset.shuffle",
    "TFRecordReader": "tf.data.Dataset.from_tensor_slices over your decoded records",
    "TextLineReader": "tf.data.Dataset.from_tensor_slices over the file's lines",
    "WholeFileReader": "tf.data.Dataset.from_tensor_slices over the files' contents",
    "FixedLengthRecordReader": "tf.data.Dataset.from_tensor_slices over the records",
    "IdentityReader": "tf.data.Dataset",
    "string_input_producer": "tf.data.Dataset.from_tensor_slices(filenames)",
    "input_producer": "tf.data.Dataset.from_tensor_slices",
    "range_input_producer": "tf.data.Dataset.range",
    "slice_input_producer": "tf.data.Dataset.from_tensor_slices",
    "limit_epochs": "tf.data.Dataset.repeat(num_epochs)",
    "batch": "tf.data.Dataset.batch",
    "maybe_batch": "tf.data.Dataset.filter(...).batch",
    "batch_join": "tf.data.Dataset.batch",
    "shuffle_batch": "tf.data.Dataset.shuffle(buffer_size).batch(batch_size)",
    "maybe_shuffle_batch": "tf.data.Dataset.filter(...).shuffle(...).batch(...)",
    "shuffle_batch_join": "tf.data.Dataset.shuffle(...).batch(...)",
    "add_queue_runner": "tf.data.Dataset",
}


def unimplemented_message(name: str) -> str:
    """The message naming the queue-based API ``name`` and its tf.data replacement."""
    return (
        f"{name} is not supported: jaxsession has no queue-based input pipeline "
        f"(queues, readers, queue runners). Use {_HINTS[name]} with "
        "make_one_shot_iterator() or make_initializable_iterator() instead."
    )


def _unimplemented(name: str) -> Any:
    def raise_unimplemented(*args: Any, **kwargs: Any) -> Any:
        raise errors.UnimplementedError(None, None, unimplemented_message(name))

    raise_unimplemented.__name__ = name
    raise_unimplemented.__qualname__ = name
    raise_unimplemented.__doc__ = (
        f"Raises errors.UnimplementedError: use {_HINTS[name]} instead."
    )
    return raise_unimplemented


QueueRunner = _unimplemented("QueueRunner")
FIFOQueue = _unimplemented("FIFOQueue")
PaddingFIFOQueue = _unimplemented("PaddingFIFOQueue")
PriorityQueue = _unimplemented("PriorityQueue")
RandomShuffleQueue = _unimplemented("RandomShuffleQueue")
TFRecordReader = _unimplemented("TFRecordReader")
TextLineReader = _unimplemented("TextLineReader")
WholeFileReader = _unimplemented("WholeFileReader")
FixedLengthRecordReader = _unimplemented("FixedLengthRecordReader")
IdentityReader = _unimplemented("IdentityReader")
string_input_producer = _unimplemented("string_input_producer")
input_producer = _unimplemented("input_producer")
range_input_producer = _unimplemented("range_input_producer")
slice_input_producer = _unimplemented("slice_input_producer")
limit_epochs = _unimplemented("limit_epochs")
batch = _unimplemented("batch")
maybe_batch = _unimplemented("maybe_batch")
batch_join = _unimplemented("batch_join")
shuffle_batch = _unimplemented("shuffle_batch")
maybe_shuffle_batch = _unimplemented("maybe_shuffle_batch")
shuffle_batch_join = _unimplemented("shuffle_batch_join")
add_queue_runner = _unimplemented("add_queue_runner")


def start_queue_runners(
    sess: Any = None,
    coord: Any = None,
    daemon: bool = True,
    start: bool = True,
    collection: str = GraphKeys.QUEUE_RUNNERS,
) -> list[Any]:
    """Starts the graph's queue runners: there are none, so returns ``[]``.

    Raises:
        errors.UnimplementedError: the collection holds queue runners.
    """
    graph = sess.graph if sess is not None else get_default_graph()
    if graph.get_collection(collection):
        raise errors.UnimplementedError(
            None, None, unimplemented_message("QueueRunner")
        )
    return []
