"""The TF1-style programs in examples/tf1/, run as a user runs them.

Each runs as a subprocess with ``import jaxsession as tf``; its printed results,
checkpoints and step structure are checked. Where tensorflow is importable the
same programs also run on TensorFlow and the results are compared.
"""

import importlib.util
import itertools
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "tf1"
TIMEOUT_S = 120

pytestmark = pytest.mark.slow


def run(program, *args, tensorflow=False, cwd=None):
    """Runs one example; with ``tensorflow``, its import swapped for TensorFlow's."""
    path = EXAMPLES / program
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    if tensorflow:
        source = path.read_text().replace(
            "import jaxsession as tf",
            "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()",
        )
        command = [sys.executable, "-c", source, *args]
        # TF >= 2.16 ships Keras 3, whose tf.compat.v1.layers are gone; the
        # bench extra installs tf-keras for them.
        env["TF_USE_LEGACY_KERAS"] = "1"
    else:
        command = [sys.executable, str(path), *args]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_S, env=env, cwd=cwd
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def floats(text):
    return [float(v) for v in text.split()]


# -- saver_restore.py ----------------------------------------------------------


def parse_saver(output):
    steps = {
        phase: [
            (int(s), float(v))
            for s, v in re.findall(rf"^{phase} (\d+) (\S+)$", output, re.M)
        ]
        for phase in ("train", "resume")
    }
    fields = dict(re.findall(r"^(\w+) (.+)$", output, re.M))
    return steps, fields


def test_saver_restore_restores_saved_values_and_keeps_training(tmp_path):
    out = run("saver_restore.py", "--output_dir", str(tmp_path), "--steps", "20")
    steps, fields = parse_saver(out)
    train, resume = steps["train"], steps["resume"]
    # The global step Variable fetched with the train op is its new value;
    # TF 2.21 prints train 1..20 and resume 21..40 for this program.
    assert [s for s, _ in train] == list(range(1, 21))
    assert [s for s, _ in resume] == list(range(21, 41))
    losses = [v for _, v in train + resume]
    assert all(b < a for a, b in itertools.pairwise(losses)), losses
    assert losses[-1] < 0.05 * losses[0]
    assert fields["saved_path"] == str(tmp_path / "model.ckpt-20")
    assert fields["final_path"] == str(tmp_path / "model.ckpt-40")
    assert int(fields["restored_step"]) == 20
    np.testing.assert_array_equal(
        floats(fields["restored_w"]), floats(fields["saved_w"])
    )
    assert fields["restored_b"] == fields["saved_b"]
    # Resuming continues the curve: the first resumed loss is below the last trained.
    assert resume[0][1] < train[-1][1]
    state = (tmp_path / "checkpoint").read_text()
    assert f'model_checkpoint_path: "{tmp_path / "model.ckpt-40"}"' in state
    assert (tmp_path / "model.ckpt-20").is_dir() and (
        tmp_path / "model.ckpt-40"
    ).is_dir()


# -- reinitializable_iterator.py ---------------------------------------------------

EPOCH = re.compile(r"^epoch (\d+) steps (\d+) loss (\S+) test_accuracy (\S+)$", re.M)


def parse_epochs(output):
    return [
        (int(e), int(s), float(loss), float(a))
        for e, s, loss, a in EPOCH.findall(output)
    ]


def test_reinitializable_iterator_runs_whole_epochs_and_learns():
    out = run("reinitializable_iterator.py", "--epochs", "4")
    assert "train_size 1400 test_size 397" in out
    epochs = parse_epochs(out)
    assert [e for e, *_ in epochs] == [0, 1, 2, 3]
    # 1400 examples in batches of 64: 22 steps per epoch, each ended by OutOfRangeError.
    assert all(steps == 22 for _, steps, _, _ in epochs)
    losses = [loss for _, _, loss, _ in epochs]
    assert all(b < a for a, b in itertools.pairwise(losses)), losses
    assert epochs[-1][3] >= 0.93


# -- metrics_program.py -----------------------------------------------------------

METRICS = re.compile(
    r"^pass (\d) accuracy (\S+) mean (\S+) precision (\S+) recall (\S+)$", re.M
)


def expected_metrics():
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(
            "_metrics", EXAMPLES / "metrics_program.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    labels, predictions, values = module.make_data()
    tp = np.sum((predictions == 1) & (labels == 1))
    return [
        np.mean(labels == predictions),
        np.mean(values),
        tp / np.sum(predictions == 1),
        tp / np.sum(labels == 1),
    ]


def test_metrics_program_matches_numpy_and_resets_between_passes():
    passes = METRICS.findall(run("metrics_program.py"))
    assert [p[0] for p in passes] == ["0", "1"]
    expected = expected_metrics()
    for p in passes:
        np.testing.assert_allclose([float(v) for v in p[1:]], expected, atol=2e-6)


# -- the same programs on TensorFlow ---------------------------------------------


def test_programs_agree_with_tensorflow(tmp_path):
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed (the `bench` extra); no TF comparison")
    ours, theirs = tmp_path / "ours", tmp_path / "tf"
    steps_ours, _ = parse_saver(run("saver_restore.py", "--output_dir", str(ours)))
    steps_tf, _ = parse_saver(
        run("saver_restore.py", "--output_dir", str(theirs), tensorflow=True)
    )
    for phase in ("train", "resume"):
        np.testing.assert_allclose(
            [v for _, v in steps_ours[phase]],
            [v for _, v in steps_tf[phase]],
            rtol=1e-4,
        )
    ours_m = METRICS.findall(run("metrics_program.py"))
    tf_m = METRICS.findall(run("metrics_program.py", tensorflow=True))
    np.testing.assert_allclose(
        [[float(v) for v in p[1:]] for p in ours_m],
        [[float(v) for v in p[1:]] for p in tf_m],
        atol=1e-5,
    )
    # Different initial weights and shuffles: only the end result is comparable.
    ours_acc = parse_epochs(run("reinitializable_iterator.py"))[-1][3]
    tf_acc = parse_epochs(run("reinitializable_iterator.py", tensorflow=True))[-1][3]
    assert abs(ours_acc - tf_acc) < 0.05


# -- monitored_hooks.py ---------------------------------------------------------


def summary_steps(logdir, tag):
    import jaxsession as tf

    steps = []
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        for event in tf.train.summary_iterator(str(path)):
            steps += [event.step for v in event.summary.value if v.tag == tag]
    return steps


def test_monitored_hooks_program_checkpoints_averages_and_summaries(tmp_path):
    import jaxsession as tf

    out = run("monitored_hooks.py", "--checkpoint_dir", str(tmp_path), "--steps", "60")
    assert "average_name h/kernel/ExponentialMovingAverage" in out
    assert out.count("hook begin") == 1
    logged = [
        (int(s), float(v))
        for s, v in re.findall(r"^hook step (\d+) loss (\S+)$", out, re.M)
    ]
    # TF 2.21 prints hook step 10, 20, ..., 60: the step after each run.
    assert [s for s, _ in logged] == [10, 20, 30, 40, 50, 60]
    assert logged[-1][1] < 0.3 * logged[0][1]
    assert "hook end step 60" in out
    (gap,) = re.findall(r"^ema_gap (\S+)$", out, re.M)
    assert 0 < float(gap) < 1  # the average trails the weights
    latest = str(tmp_path / "model.ckpt-60")
    assert f"latest {latest}" in out
    assert {p.name for p in tmp_path.glob("model.ckpt-*")} == {
        "model.ckpt-0",
        "model.ckpt-30",
        "model.ckpt-60",
    }
    names = dict(tf.train.list_variables(latest))
    assert names["h/kernel/ExponentialMovingAverage"] == [64, 32]
    assert names["global_step"] == []
    shadow = tf.train.load_variable(latest, "h/kernel/ExponentialMovingAverage")
    kernel = tf.train.load_variable(latest, "h/kernel")
    np.testing.assert_allclose(np.abs(kernel - shadow).max(), float(gap), atol=1e-5)
    # As TF1's SummarySaverHook: the step after the run that computed the summary.
    steps = summary_steps(tmp_path, "loss")
    assert steps[:3] == [1, 11, 21]


# -- convnet_summaries.py ---------------------------------------------------------


def test_convnet_summaries_writes_graph_summaries_and_traced_step(tmp_path):
    from tensorboardX.proto.graph_pb2 import GraphDef

    import jaxsession as tf

    out = run("convnet_summaries.py", "--logdir", str(tmp_path), "--steps", "60")
    logged = [float(v) for v in re.findall(r"^step \d+ loss (\S+)$", out, re.M)]
    # TF 2.21 prints step 1, 11, ..., 51 for this program.
    assert re.findall(r"^step (\d+) loss", out, re.M) == [
        str(s) for s in range(1, 60, 10)
    ]
    assert logged[-1] < 0.3 * logged[0]
    (accuracy,) = re.findall(r"^test_accuracy (\S+)$", out, re.M)
    assert float(accuracy) >= 0.8
    assert "traced step31" in out  # TF 2.21 prints the same
    (path,) = tmp_path.glob("events.out.tfevents.*")
    events = list(tf.train.summary_iterator(str(path)))
    kinds = [e.WhichOneof("what") for e in events]
    assert kinds[0] == "file_version"
    assert kinds.count("graph_def") == 1 and kinds.count("summary") == 60
    (graph_event,) = [e for e in events if e.WhichOneof("what") == "graph_def"]
    nodes = {n.name: n.op for n in GraphDef.FromString(graph_event.graph_def).node}
    assert nodes["images"] == "Placeholder"
    assert any(name.startswith("model/conv2d/") for name in nodes)
    summaries = [e for e in events if e.WhichOneof("what") == "summary"]
    assert [e.step for e in summaries] == list(range(1, 61))
    first = {v.tag: v.WhichOneof("value") for v in summaries[0].summary.value}
    assert first == {
        "loss": "simple_value",
        "accuracy": "simple_value",
        "conv_activations": "histo",
    }
    (traced,) = [e for e in events if e.WhichOneof("what") == "tagged_run_metadata"]
    assert traced.tagged_run_metadata.tag == "step31"
    from tensorboard.compat.proto.config_pb2 import RunMetadata

    stats = RunMetadata.FromString(traced.tagged_run_metadata.run_metadata).step_stats
    nodes = {n.node_name: n for d in stats.dev_stats for n in d.node_stats}
    assert {"_feed_conversion", "_host_to_device", "_device_to_host"} <= set(nodes)
    (xla,) = [n for name, n in nodes.items() if name.startswith("jit")]
    assert xla.all_end_rel_nanos > 0 and xla.memory[0].total_bytes > 0


# -- cluster_ps.py ----------------------------------------------------------------


def test_cluster_ps_runs_ps_and_two_workers_as_real_processes(tmp_path):
    import jaxsession as tf

    # --local starts the ps task and both workers, waits for the workers (at most
    # --timeout), then stops the ps task, still blocked in join(), with SIGTERM.
    out = run(
        "cluster_ps.py",
        "--local",
        f"--checkpoint_dir={tmp_path}",
        "--steps=20",
        "--timeout=90",
    )
    for task in ("worker 0", "worker 1"):
        assert f"{task} exit 0" in out, out
    assert "ps 0 still running after the workers" in out, out
    assert f"ps 0 exit {-signal.SIGTERM}" in out, out
    assert "Server.join() on ps task 0: blocking until this process is signalled" in out
    by_worker = {}
    for worker, step, loss in re.findall(
        r"^worker (\d) step (\d+) loss (\S+)$", out, re.M
    ):
        by_worker.setdefault(int(worker), []).append((int(step), float(loss)))
    assert sorted(by_worker) == [0, 1]
    for worker in (0, 1):
        # A fetched Variable gives its value at the end of the run (3740d7b).
        assert [s for s, _ in by_worker[worker]] == list(range(1, 21))
        assert by_worker[worker][-1][1] < 0.01 * by_worker[worker][0][1]
        assert f"worker {worker} done" in out
    # One synchronous job: both workers run the same steps in lockstep.
    assert [s for s, _ in by_worker[0]] == [s for s, _ in by_worker[1]]
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model.ckpt-20")
    assert tf.train.load_variable(str(tmp_path / "model.ckpt-20"), "global_step") == 20


# -- patterns.py ------------------------------------------------------------------

# What TensorFlow 2.21 prints for patterns.py (compat.v1), line by line, except
# the losses and the accuracy, which depend on the random initial weights.
PATTERNS_TF = {
    "hidden_shape": "(?, 32)",
    "logits_shape": "(?, 4)",
    "variables": "model/dense/kernel model/dense/bias model/w_out",
    "lr_summary": "learning_rate",
    "counts_dtype": "int32",
    "state": "3.0 8.0",
}


def parse_patterns(output):
    fields = dict(re.findall(r"^(\w+) (.+)$", output, re.M))
    steps = [
        (int(s), float(v))
        for s, v in re.findall(r"^step (\d+) loss (\S+)$", output, re.M)
    ]
    return fields, steps


def test_patterns_program_behaves_as_tensorflow_does():
    fields, steps = parse_patterns(run("patterns.py", "--steps", "30"))
    assert {k: fields[k] for k in PATTERNS_TF} == PATTERNS_TF
    # The global step fetched with the train op: 1..30, as TF prints it.
    assert [s for s, _ in steps] == list(range(1, 31))
    assert steps[-1][1] < 0.5 * steps[0][1]
    assert float(fields["accuracy"]) >= 0.85  # TF 2.21: 0.93


def test_patterns_program_agrees_with_tensorflow_where_installed():
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed (the `bench` extra); no TF comparison")
    ours, _ = parse_patterns(run("patterns.py", "--steps", "30"))
    theirs, _ = parse_patterns(run("patterns.py", "--steps", "30", tensorflow=True))
    assert {k: ours[k] for k in PATTERNS_TF} == {k: theirs[k] for k in PATTERNS_TF}
    assert abs(float(ours["accuracy"]) - float(theirs["accuracy"])) < 0.05
