"""``python -m otel_eventtracking.cli``: the ``otel-eventtracking`` command."""

import sys

from . import main

sys.exit(main())
