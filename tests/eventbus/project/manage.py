#!/usr/bin/env python
"""The event-bus test project: ``manage.py emit_scenario`` (producer) and ``consume_events`` (consumer)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "busproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
