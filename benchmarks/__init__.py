"""Ratio benchmarks of jaxsession against hand-written raw JAX (``make bench``)."""
