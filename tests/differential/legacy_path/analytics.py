"""``import analytics`` for upstream's SegmentBackend, on the legacy side only.

event-tracking 4.0.2's ``eventtracking.backends.segment`` does ``import analytics`` (the module
name of segment-analytics-python 1.x); the 2.x client only provides ``segment.analytics``, so
without this alias upstream's backend silently sends nothing. The differential runner puts this
directory on ``sys.path`` when it runs against the real package, so upstream's mapping can be
observed with today's client. This module *is* ``segment.analytics`` (same object, same
default client and settings).
"""

import sys

from segment import analytics as _segment_analytics

sys.modules[__name__] = _segment_analytics
