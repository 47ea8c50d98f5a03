"""Suite-wide settings: graph checks on, several CPU devices, a fresh graph per test."""

import logging
import os

os.environ.setdefault("JAXSESSION_CHECKS", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# MonitoredTrainingSession turns the persistent compilation cache on for the
# whole process; tests that check the cache switch it on themselves.
os.environ.setdefault("JAXSESSION_COMPILATION_CACHE_DIR", "off")

import jax
import pytest

# Several CPU devices so sharding paths run on CPU; must be set before the
# backend starts.
jax.config.update("jax_num_cpu_devices", 4)

import jaxsession as tf  # noqa: E402
from jaxsession.checkpoint import pending  # noqa: E402

# Compile notices (one INFO line per new run signature) would interleave with
# the INFO lines other tests assert; tests of the notices lower this again.
logging.getLogger("jaxsession.compile").setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    """Each test starts with an empty default graph and no cached summary writers.

    Nor with another test's checkpoint writes: a Saver writes in the
    background, and a write a test left in flight would run on into the next
    test (its threads ending there, its Orbax helpers starting some).
    """
    tf.reset_default_graph()
    yield
    _wait_for_checkpoint_writes()
    tf.reset_default_graph()
    tf.summary.FileWriterCache.clear()


def _wait_for_checkpoint_writes(timeout_secs=120.0):
    """Waits, bounded, for the checkpoint writes in flight in this process."""
    with pending._IN_FLIGHT_LOCK:
        threads = list(pending._IN_FLIGHT)
    for thread in threads:
        thread.join(timeout_secs)


def pytest_collection_modifyitems(config, items):
    """Skips GPU-marked tests when no GPU is present."""
    if any(d.platform == "gpu" for d in jax.devices()):
        return
    skip = pytest.mark.skip(reason="needs a GPU; the same behaviour is tested on CPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
