"""``tf.contrib.tensorboard.plugins.projector``: TensorBoard's messages and file."""

import pytest
from tensorboard.plugins.projector import projector_config_pb2 as tensorboards

import jaxsession as tf
from jaxsession.contrib.tensorboard.plugins import projector


def _config(logdir):
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "embeddings/Variable:0"
    embedding.metadata_path = f"{logdir}/metadata.tsv"
    embedding.sprite.image_path = "sprite.png"
    embedding.sprite.single_image_dim.extend([28, 28])
    embedding.tensor_shape.extend([5000, 128])
    return config


def test_messages_serialize_as_tensorboards(tmp_path):
    ours = _config(tmp_path)
    theirs = tensorboards.ProjectorConfig.FromString(ours.SerializeToString())
    assert theirs.SerializeToString() == ours.SerializeToString()
    assert theirs.embeddings[0].sprite.single_image_dim == [28, 28]
    assert projector.EmbeddingInfo().DESCRIPTOR.full_name == (
        tensorboards.EmbeddingInfo.DESCRIPTOR.full_name
    )


def test_visualize_embeddings_writes_the_config_where_tensorboard_reads_it(tmp_path):
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "embeddings/Variable:0"
    embedding.metadata_path = f"{tmp_path}/metadata.tsv"
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        tf.contrib.tensorboard.plugins.projector.visualize_embeddings(writer, config)
    # What TF 2.21's projector (TF1's contrib one writes the same) wrote for
    # this config in a public word2vec tutorial.
    assert (tmp_path / "projector_config.pbtxt").read_text() == (
        "embeddings {\n"
        '  tensor_name: "embeddings/Variable:0"\n'
        f'  metadata_path: "{tmp_path}/metadata.tsv"\n'
        "}\n"
    )
    # A log directory path works too (TensorBoard's own version takes one).
    projector.visualize_embeddings(str(tmp_path / "other"), _config("x"))
    text = (tmp_path / "other" / "projector_config.pbtxt").read_text()
    assert "single_image_dim: 28" in text


def test_a_writer_without_a_logdir_is_refused():
    class NoDir:
        def get_logdir(self):
            return None

    with pytest.raises(ValueError, match="Summary writer must have a logdir"):
        projector.visualize_embeddings(NoDir(), projector.ProjectorConfig())
