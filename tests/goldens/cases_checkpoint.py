"""Checkpoint readers: file-format behaviour is checked against fixtures TF wrote.

TF's answers for its own checkpoints (names, shapes, dtypes, messages) are
recorded in tests/checkpoint/test_tf1_checkpoints.py from
tests/fixtures/tf1_ckpt/, which make_fixtures.py writes with TensorFlow.
"""

CASES = []

UTILITIES = {"NewCheckpointReader", "load_checkpoint"}
