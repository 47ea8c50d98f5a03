"""``tf.data``: Dataset and Iterator."""

from jaxsession.graph.dataset import (
    Dataset as Dataset,
    Iterator as Iterator,
    make_initializable_iterator as make_initializable_iterator,
    make_one_shot_iterator as make_one_shot_iterator,
)
