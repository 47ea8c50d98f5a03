"""Unseeded randomness: fresh per program run, logged, repeatable, one per job.

TF1 draws fresh randomness in every run of a program without seeds. The
process's seed is logged ("no graph seed set: drew N; tf.set_random_seed(N)
repeats this run"), and setting it repeats the run bit for bit. The processes
of a multi-process job all take the chief's seed, so they compile the same
program and draw the same replicated values.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.distributed.launch import launch

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **{k: v for k, v in os.environ.items() if k != "XLA_FLAGS"},
    "PYTHONPATH": str(ROOT),
    "JAX_PLATFORMS": "cpu",
}
SEED_WORKER = Path(__file__).with_name("_seed_worker.py")

SCRIPT = """
import json
import logging

import numpy as np

import jaxsession as tf

logging.basicConfig(level=logging.INFO)
%s
w = tf.get_variable("w", [3, 2])
noise = tf.random_normal([4])
mask = tf.nn.dropout(tf.ones([16]), rate=0.5)
data = tf.data.Dataset.range(10).shuffle(10).batch(10)
batch = data.make_one_shot_iterator().get_next()
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(json.dumps({
        "w": sess.run(w).tolist(),
        "noise": [sess.run(noise).tolist() for _ in range(2)],
        "mask": sess.run(mask).tolist(),
        "order": sess.run(batch).tolist(),
    }))
"""

LOGGED = re.compile(
    r"no graph seed set: drew (\d+); tf\.set_random_seed\(\1\) repeats this run"
)


def run_script(tmp_path, preamble=""):
    path = tmp_path / "program.py"
    path.write_text(SCRIPT % preamble)
    result = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    return values, LOGGED.findall(result.stderr), result.stderr


def test_each_run_draws_fresh_numbers_and_its_logged_seed_repeats_it(tmp_path):
    first, seeds_a, log_a = run_script(tmp_path)
    second, seeds_b, log_b = run_script(tmp_path)
    assert len(seeds_a) == 1, log_a
    assert len(seeds_b) == 1, log_b
    assert seeds_a != seeds_b
    for name in ("w", "noise", "mask"):
        assert first[name] != second[name], name
    # The dataset shuffles in a fresh order too (10! orders: equal by chance
    # with probability 2.8e-7).
    assert first["order"] != second["order"]
    assert sorted(first["order"]) == list(range(10))

    again, seeds_c, log_c = run_script(tmp_path, f"tf.set_random_seed({seeds_a[0]})")
    assert again == first
    assert seeds_c == [], log_c


def test_an_op_seed_without_a_graph_seed_is_tf1s_fixed_rule(tmp_path):
    path = tmp_path / "program.py"
    path.write_text(
        "import logging\n"
        "import jaxsession as tf\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "x = tf.random_normal([3], seed=5)\n"
        "with tf.Session() as sess:\n"
        "    print(sess.run(x).tolist())\n"
    )
    outputs = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env=ENV,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr
        assert "no graph seed set" not in result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]


def test_the_processes_of_a_job_draw_the_chiefs_unseeded_numbers(tmp_path):
    result = launch("unseeded", tmp_path, n=2, timeout=90, worker=SEED_WORKER)
    chief, worker = result.check_ok()
    # The ps task is no process of the job: worker i is process i of 2.
    assert (chief["process"], worker["process"]) == (0, 1)
    assert chief["count"] == worker["count"] == 2
    for name in ("w", "b", "masks", "normal"):
        assert chief[name] == worker[name], name
    masks = chief["masks"]
    assert masks[0] != masks[1] and set(masks[0]) == {0.0, 2.0}
    (drawn,) = re.findall(r"no graph seed set: drew (\d+)", result.outputs[0])
    (taken,) = re.findall(
        r"no graph seed set: took the chief's (\d+)", result.outputs[1]
    )
    assert drawn == taken, result.report()


def test_workers_of_a_cluster_with_a_ps_job_train(tmp_path):
    result = launch(
        "ps_cluster_training", tmp_path, n=2, timeout=90, worker=SEED_WORKER
    )
    chief, worker = result.check_ok()
    assert (chief["process"], worker["process"]) == (0, 1)
    # One synchronous job: both workers run the same ten steps.
    assert chief["runs"] == worker["runs"] == 10
    assert chief["losses"] == worker["losses"]
    assert chief["losses"][-1] < chief["losses"][0]
    assert (tmp_path / "ckpt" / "checkpoint").exists()
