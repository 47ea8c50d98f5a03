"""examples/tf1/char_lstm.py run as a user runs it, and against TensorFlow."""

import importlib.util
import re

import pytest

from tests.test_tf1_examples import run

VARIABLES = " ".join(
    [
        "model/embedding",
        *(
            f"model/rnn/multi_rnn_cell/cell_{i}/basic_lstm_cell/{w}"
            for i in range(2)
            for w in ("kernel", "bias")
        ),
        "model/softmax_w",
        "model/softmax_b",
    ]
)


def parse(output):
    fields = dict(re.findall(r"^(\w+) (.+)$", output, re.M))
    losses = [float(v) for v in re.findall(r"^step \d+ loss (\S+)$", output, re.M)]
    return fields, losses


def test_char_lstm_trains_and_samples():
    fields, losses = parse(run("char_lstm.py", "--steps", "30", "--hidden", "32"))
    assert fields["variables"] == VARIABLES
    assert fields["outputs_shape"] == "(?, ?, 32)"
    assert fields["state_c_shape"] == "(?, 32)"
    assert len(losses) == 30 and losses[0] > 2.9  # ~ln(21) at the start
    assert losses[-1] < 0.8 * losses[0]
    assert float(fields["final_loss"]) < 0.8 * losses[0]
    assert len(fields["sample"]) == 41 and fields["sample"].startswith("t")


@pytest.mark.slow
def test_char_lstm_prints_what_tensorflow_prints_from_the_same_weights():
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed (the `bench` extra); no TF comparison")
    args = ("--steps", "8", "--fixed-init")
    ours, our_losses = parse(run("char_lstm.py", *args))
    theirs, their_losses = parse(run("char_lstm.py", *args, tensorflow=True))
    assert ours["variables"] == theirs["variables"]
    assert ours["sample"] == theirs["sample"]
    assert our_losses == pytest.approx(their_losses, rel=1e-4)
