"""Input pipelines: tf.data Datasets and TF1 queues, fed from host threads."""
