"""examples/tf1/tfrecord_queues.py, run as a user runs it and checked against NumPy.

Where TensorFlow is importable the same program also runs on it and the
printed results must agree.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "examples" / "tf1" / "tfrecord_queues.py"


def run(data_dir, tensorflow=False):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    source = PROGRAM.read_text()
    if tensorflow:
        source = source.replace(
            "import jaxsession as tf",
            "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()",
        )
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run(
        [sys.executable, "-c", source, "--data_dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def parse(output):
    losses = [float(v) for v in re.findall(r"^step \d+ loss (\S+)$", output, re.M)]
    fields = {k: v.split() for k, v in re.findall(r"^(\w+) (.+)$", output, re.M)}
    return losses, fields


def numpy_losses(files, batch_size=8, epochs=3, lr=0.5):
    """The program's training, redone in NumPy from the records it wrote."""
    xs, ys = [], []
    for path in files:
        for record in tf.python_io.tf_record_iterator(path):
            feature = tf.train.Example.FromString(record).features.feature
            xs.append(list(feature["x"].float_list.value))
            ys.append(feature["label"].int64_list.value[0])
    x = np.tile(np.asarray(xs, np.float64), (epochs, 1))
    y = np.tile(np.asarray(ys, np.float64), epochs)
    w, b, losses = np.zeros(4), 0.0, []
    for start in range(0, len(y) - batch_size + 1, batch_size):
        bx, by = x[start : start + batch_size], y[start : start + batch_size]
        z = bx @ w + b
        losses.append(np.mean(np.maximum(z, 0) - z * by + np.log1p(np.exp(-abs(z)))))
        grad = (1 / (1 + np.exp(-z)) - by) / batch_size
        w, b = w - lr * bx.T @ grad, b - lr * grad.sum()
    return losses


def test_program_trains_three_epochs_as_numpy_does(tmp_path):
    losses, fields = parse(run(tmp_path))
    files = sorted(str(p) for p in tmp_path.glob("train-*.tfrecord"))
    assert len(files) == 3
    np.testing.assert_allclose(losses, numpy_losses(files), rtol=1e-4, atol=1e-6)
    assert fields["examples_seen"] == ["144"]
    label_sum = int(fields["dataset_examples"][2])
    assert fields["dataset_examples"][:2] == ["48", "label_sum"]
    shuffled = fields["shuffled_examples"]
    assert shuffled[0] == "96"
    assert [int(v) for v in shuffled[2:]] == [2 * (48 - label_sum), 2 * label_sum]


def test_program_agrees_with_tensorflow(tmp_path):
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed (the `bench` extra); no TF comparison")
    for name in ("ours", "theirs"):
        (tmp_path / name).mkdir()
    ours = parse(run(tmp_path / "ours"))
    theirs = parse(run(tmp_path / "theirs", tensorflow=True))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-6)
    assert ours[1] == theirs[1]
