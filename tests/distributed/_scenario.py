"""The entry point the worker scripts share: ``WORKER.py SCENARIO ID N PORT DIR``.

No jax here: launch.py and the tests import this package's modules.
"""

import faulthandler
import logging
import os
import signal
import sys
import traceback


def run_scenario(namespace: dict) -> None:
    """Runs the scenario named on the command line, a function in ``namespace``.

    The function is called as ``scenario(ID, N, PORT, DIR)``. Any failure
    prints the traceback and exits hard (``os._exit(1)``): a process that
    raised after a collective would otherwise leave its peers waiting in the
    next one. SIGUSR1 prints every thread's stack, for a process that hangs.

    Args:
        namespace: The worker script's ``globals()``.
    """
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    scenario, pid, n, port, workdir = sys.argv[1:6]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("jaxsession").setLevel(logging.INFO)
    try:
        namespace[scenario](int(pid), int(n), int(port), workdir)
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
