"""Shim of ``eventtracking.backends``."""
