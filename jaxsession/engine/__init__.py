"""Graph to compiled XLA calls: plan, lower, compile, cache."""

from jaxsession.engine.xla_flags import choose_cpu_scheduler

choose_cpu_scheduler()
