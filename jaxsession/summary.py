"""``tf.summary``: summary ops, event protos and the event-file writer."""

from jaxsession.library.summary_ops import (
    audio as audio,
    histogram as histogram,
    image as image,
    merge as merge,
    merge_all as merge_all,
    scalar as scalar,
    tensor_summary as tensor_summary,
    text as text,
)
from jaxsession.session.summary_writer import (
    Event as Event,
    FileWriter as FileWriter,
    FileWriterCache as FileWriterCache,
    SessionLog as SessionLog,
    Summary as Summary,
    TaggedRunMetadata as TaggedRunMetadata,
)
