"""The processes of a multi-process job: a leaf over ``jax.distributed``.

A multi-process job is multi-controller JAX: every process runs the same
program, and ``jax.distributed`` connects them through a coordinator.
``master='host:port'`` names that coordinator, ``master=''`` is one process.
This package imports nothing of jaxsession but ``errors``; session/,
engine/ and checkpoint/ build on it. Its modules, bottom up:

- ``process``: this process's place in the job (ClusterConfig, index and
  count, the chief, the ``[process i/n role]`` log prefix).
- ``kv``: the coordination service's key-value store and barriers (never a
  device collective, which could hang).
- ``health``: peer watching; a lost process becomes a ``PeerLostError`` (an
  ``UnavailableError``) naming it.
- ``preemption``: JAX's preemption sync (a notice from any process, one
  agreed stopping point), and forwarding a Python-handled signal to it.
- ``lifecycle``: joining the job (``initialize``) and leaving it (the exit
  barrier).
- ``tf1_cluster``: TF1's ClusterSpec/Server idiom and ``TF_CONFIG``.

Faults: a job starts with JAX's recoverable mode (``jax_enable_recoverability``),
so the death of a worker does not abort the others in C++. A thread of each
process asks the coordination service which processes are alive (it knows
within the heartbeat timeout); a session run then raises ``PeerLostError``
naming the lost process(es), as does a collective failing on the broken
connection (``health.raise_if_peer_lost``), as does a multi-process run
waiting for a computation with the dead process (``health.wait_ready``: XLA's
CPU collectives can hang there, so the run polls instead of blocking) and a
wait for a collective checkpoint write (``health.join``: Orbax's barriers
would wait 300 s). The process then leaves the job at exit without waiting
for the others (``lifecycle``), releasing threads still waiting on the dead
peer. A main thread stuck elsewhere in a computation with the dead process
ends the process with exit 1 and that message after min(heartbeat timeout,
10) secs. The chief runs
the coordination service: when it dies, the others still abort (exit -6,
within about a second), because jax 0.10's missed-heartbeat callback cannot
be set from Python (its status argument has no Python conversion: a Python
callback aborts with ``std::bad_cast``).
"""
