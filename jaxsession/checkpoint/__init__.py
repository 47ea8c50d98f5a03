"""Checkpoints on Orbax: Saver, the state file, warm start and preemption.

Imports ``graph/`` only; a Session reaches this package as an argument
(duck-typed: ``variable_values()``, ``set_variable_values()``, ``run()``).
"""

from jaxsession.checkpoint.policies import (
    AnyOf as AnyOf,
    CheckpointEntry as CheckpointEntry,
    KeepEvery as KeepEvery,
    KeepLatest as KeepLatest,
    RetentionPolicy as RetentionPolicy,
)
from jaxsession.checkpoint.preemption import PreemptionWatcher as PreemptionWatcher
from jaxsession.checkpoint.reader import (
    CheckpointReader as CheckpointReader,
    NewCheckpointReader as NewCheckpointReader,
    load_checkpoint as load_checkpoint,
)
from jaxsession.checkpoint.saver import Saver as Saver
from jaxsession.checkpoint.state import (
    CheckpointState as CheckpointState,
    checkpoint_exists as checkpoint_exists,
    generate_checkpoint_state_proto as generate_checkpoint_state_proto,
    get_checkpoint_mtimes as get_checkpoint_mtimes,
    get_checkpoint_state as get_checkpoint_state,
    latest_checkpoint as latest_checkpoint,
    list_variables as list_variables,
    load_variable as load_variable,
    update_checkpoint_state as update_checkpoint_state,
)
from jaxsession.checkpoint.warm_start import (
    init_from_checkpoint as init_from_checkpoint,
)
