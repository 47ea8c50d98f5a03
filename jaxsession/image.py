"""``tf.image``: resizing, crops, flips, colour and dtype conversion, codecs."""

from jaxsession.ops.image import *
from jaxsession.ops.image_codecs import *
from jaxsession.ops.image_color import *
