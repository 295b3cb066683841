"""event-routing-backends as a test client (run with bash tests/erb/run.sh)."""
