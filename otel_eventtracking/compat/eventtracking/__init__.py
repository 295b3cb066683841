"""Shim of the ``eventtracking`` package (see :mod:`otel_eventtracking.compat`)."""
