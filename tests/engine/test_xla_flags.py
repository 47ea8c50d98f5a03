"""The XLA flags jaxsession sets on import (engine/xla_flags.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaxsession.engine.xla_flags import CPU_SCHEDULER, choose_cpu_scheduler

ROOT = Path(__file__).resolve().parents[2]

# Prints XLA_FLAGS after the import and the order XLA:CPU gave a small
# computation's instructions: the scheduler's only observable trace.
_CHILD = """
import json, logging, os, sys
logging.basicConfig(level=logging.INFO)
if sys.argv[1] == "late":
    import jax
    jax.devices()  # the backend starts, reading XLA_FLAGS, before the import
if sys.argv[1] in ("jaxsession", "late"):
    import jaxsession  # noqa: F401
import jax, jax.numpy as jnp

def f(a, b):
    return (jnp.sin(a) @ b).sum(), jnp.cos(b).sum(), (a * 2).max()

text = jax.jit(f).lower(jnp.ones((8, 8)), jnp.ones((8, 8))).compile().as_text()
entry = text[text.index("ENTRY"):].splitlines()[1:]
order = [line.split("=")[0].strip() for line in entry if "=" in line]
print(json.dumps({"flags": os.environ.get("XLA_FLAGS"), "order": order}))
"""


def _child(importing: str, xla_flags: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, importing],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"log": out.stderr}


def test_adds_the_scheduler_flag_to_an_empty_environment() -> None:
    env: dict[str, str] = {}
    assert choose_cpu_scheduler(env) is True
    assert env == {"XLA_FLAGS": f"--{CPU_SCHEDULER}=false"}


def test_appends_to_the_users_other_flags() -> None:
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    assert choose_cpu_scheduler(env) is True
    assert env["XLA_FLAGS"] == (
        f"--xla_force_host_platform_device_count=2 --{CPU_SCHEDULER}=false"
    )


@pytest.mark.parametrize("value", ["true", "false", "1"])
def test_leaves_the_users_own_choice(value: str) -> None:
    env = {"XLA_FLAGS": f"--{CPU_SCHEDULER}={value}"}
    assert choose_cpu_scheduler(env) is False
    assert env == {"XLA_FLAGS": f"--{CPU_SCHEDULER}={value}"}


def test_a_flag_that_only_contains_the_name_is_not_the_users_choice() -> None:
    other = f"--xla_dump_to=/tmp/{CPU_SCHEDULER}"
    env = {"XLA_FLAGS": other}
    assert choose_cpu_scheduler(env) is True
    assert env["XLA_FLAGS"] == f"{other} --{CPU_SCHEDULER}=false"


def test_importing_jaxsession_gives_xla_the_depth_first_schedule() -> None:
    ours = _child("jaxsession", None)
    assert ours["flags"] == f"--{CPU_SCHEDULER}=false"
    chosen = _child("jax", f"--{CPU_SCHEDULER}=false")
    default = _child("jax", None)
    assert default["flags"] is None
    # The flag reached the compiler: the same order as asking for it, and
    # not the order XLA picks by itself.
    assert ours["order"] == chosen["order"]
    assert ours["order"] != default["order"]


def test_a_user_choice_survives_the_import() -> None:
    ours = _child("jaxsession", f"--{CPU_SCHEDULER}=true")
    assert ours["flags"] == f"--{CPU_SCHEDULER}=true"
    assert ours["order"] == _child("jax", None)["order"]


def test_an_import_after_jax_started_says_the_flag_waits_for_a_new_process() -> None:
    late = _child("late", None)
    assert late["flags"] == f"--{CPU_SCHEDULER}=false"  # for child processes
    assert late["order"] == _child("jax", None)["order"]
    assert "JAX started before jaxsession was imported" in late["log"]
    assert "JAX started before" not in _child("jaxsession", None)["log"]
