"""Package version (kept apart so that low-level modules can read it without import cycles)."""

VERSION = "0.1.0"
