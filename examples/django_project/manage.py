#!/usr/bin/env python
"""The example project's manage.py: ``python examples/django_project/manage.py runserver``.

SIGTERM ends ``runserver --noreload`` cleanly (its queued events delivered first); the autoreloader
and gunicorn (``gunicorn example_project.wsgi``) handle SIGTERM with an exit of their own already.
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    from django.core.management import execute_from_command_line

    import otel_eventtracking

    otel_eventtracking.install_signal_handlers(timeout=8)  # below `docker stop`'s 10 s grace period
    execute_from_command_line(sys.argv)
