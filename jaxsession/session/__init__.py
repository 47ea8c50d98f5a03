"""Driving compiled graphs: Session, hooks, MonitoredSession."""
