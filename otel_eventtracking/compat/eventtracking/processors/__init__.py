"""Shim of ``eventtracking.processors``."""
