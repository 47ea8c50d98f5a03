"""``tf.train``: optimizers, learning-rate schedules and the global step."""

from jaxsession.checkpoint import (
    CheckpointState as CheckpointState,
    Saver as Saver,
    checkpoint_exists as checkpoint_exists,
    generate_checkpoint_state_proto as generate_checkpoint_state_proto,
    get_checkpoint_mtimes as get_checkpoint_mtimes,
    get_checkpoint_state as get_checkpoint_state,
    init_from_checkpoint as init_from_checkpoint,
    latest_checkpoint as latest_checkpoint,
    list_variables as list_variables,
    load_variable as load_variable,
    update_checkpoint_state as update_checkpoint_state,
)
from jaxsession.graph.learning_rate_decay import *
from jaxsession.graph.optimizers import *
from jaxsession.graph.variables import (
    assert_global_step as assert_global_step,
    create_global_step as create_global_step,
    get_global_step as get_global_step,
    get_or_create_global_step as get_or_create_global_step,
)
from jaxsession.session.basic_hooks import *
from jaxsession.session.checkpoint_hooks import (
    CheckpointSaverHook as CheckpointSaverHook,
    CheckpointSaverListener as CheckpointSaverListener,
)
from jaxsession.session.coordinator import Coordinator as Coordinator
from jaxsession.session.hooks import (
    SessionRunArgs as SessionRunArgs,
    SessionRunContext as SessionRunContext,
    SessionRunHook as SessionRunHook,
    SessionRunValues as SessionRunValues,
)
from jaxsession.session.monitored_session import (
    ChiefSessionCreator as ChiefSessionCreator,
    MonitoredSession as MonitoredSession,
    MonitoredTrainingSession as MonitoredTrainingSession,
    SessionCreator as SessionCreator,
    SingularMonitoredSession as SingularMonitoredSession,
    StepContext as StepContext,
    WorkerSessionCreator as WorkerSessionCreator,
)
from jaxsession.session.scaffold import Scaffold as Scaffold
from jaxsession.session.session_manager import SessionManager as SessionManager
from jaxsession.session.summary_writer import (
    FileWriterCache as SummaryWriterCache,
)
from jaxsession.session.timers import (
    NeverTriggerTimer as NeverTriggerTimer,
    SecondOrStepTimer as SecondOrStepTimer,
)
