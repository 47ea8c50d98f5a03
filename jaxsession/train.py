"""``tf.train``: optimizers, learning-rate schedules and the global step."""

from jaxsession import mixed_precision as experimental
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
from jaxsession.checkpoint.graph_io import write_graph as write_graph
from jaxsession.checkpoint.reader import (
    NewCheckpointReader as NewCheckpointReader,
    load_checkpoint as load_checkpoint,
)
from jaxsession.distributed.process import ClusterConfig as ClusterConfig
from jaxsession.distributed.tf1_cluster import (
    ClusterSpec as ClusterSpec,
    Server as Server,
)
from jaxsession.engine.mesh import (
    set_data_parallel as set_data_parallel,
    set_mesh_shape as set_mesh_shape,
)
from jaxsession.graph.placement import replica_device_setter as replica_device_setter
from jaxsession.graph.variables import (
    assert_global_step as assert_global_step,
    create_global_step as create_global_step,
    get_global_step as get_global_step,
    get_or_create_global_step as get_or_create_global_step,
)
from jaxsession.input.batching import (
    batch as batch,
    batch_join as batch_join,
    input_producer as input_producer,
    limit_epochs as limit_epochs,
    match_filenames_once as match_filenames_once,
    maybe_batch as maybe_batch,
    maybe_shuffle_batch as maybe_shuffle_batch,
    range_input_producer as range_input_producer,
    shuffle_batch as shuffle_batch,
    shuffle_batch_join as shuffle_batch_join,
    slice_input_producer as slice_input_producer,
    string_input_producer as string_input_producer,
)
from jaxsession.input.queues import (
    QueueRunner as QueueRunner,
    add_queue_runner as add_queue_runner,
    start_queue_runners as start_queue_runners,
)
from jaxsession.library.ftrl import FtrlOptimizer as FtrlOptimizer
from jaxsession.library.moving_averages import (
    ExponentialMovingAverage as ExponentialMovingAverage,
)
from jaxsession.library.optimizers import *
from jaxsession.library.schedules import *
from jaxsession.ops.example_proto import (
    BytesList as BytesList,
    Example as Example,
    Feature as Feature,
    FeatureList as FeatureList,
    FeatureLists as FeatureLists,
    Features as Features,
    FloatList as FloatList,
    Int64List as Int64List,
    SequenceExample as SequenceExample,
)
from jaxsession.session._global_step import global_step as global_step
from jaxsession.session.basic_hooks import *
from jaxsession.session.checkpoint_hooks import (
    CheckpointSaverHook as CheckpointSaverHook,
    CheckpointSaverListener as CheckpointSaverListener,
    PreemptionStopHook as PreemptionStopHook,
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
    summary_iterator as summary_iterator,
)
from jaxsession.session.supervisor import (
    LooperThread as LooperThread,
    Supervisor as Supervisor,
)
from jaxsession.session.sync_replicas import (
    SyncReplicasOptimizer as SyncReplicasOptimizer,
)
from jaxsession.session.timers import (
    NeverTriggerTimer as NeverTriggerTimer,
    SecondOrStepTimer as SecondOrStepTimer,
)
