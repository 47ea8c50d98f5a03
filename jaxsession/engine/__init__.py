"""Graph to compiled XLA calls: plan, lower, compile, cache."""

from jaxsession.engine.xla_flags import set_flags

set_flags()
