"""Fault programs and helpers for the spool's fault tests: each scenario runs in a child process
(``python tests/faults/spool_child.py SCENARIO ...``) so that a crash, a hang or a resource limit
hits the child, never pytest; the child prints one JSON line with what it saw."""
