"""``tf.tpu``: what a TF1 TPU program uses that means something off TPUs too."""

from jaxsession.library.mixed_precision import bfloat16_scope as bfloat16_scope
