"""``tf.contrib.seq2seq``: only ``sequence_loss`` (its decoders are not provided)."""

from jaxsession.library.contrib_seq2seq import dense_sequence_loss as sequence_loss

__all__ = ["sequence_loss"]
