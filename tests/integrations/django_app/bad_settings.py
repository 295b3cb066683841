"""The test settings with a processor that does not exist: django.setup() must fail naming it."""

from .settings import *  # noqa: F403

EVENT_TRACKING_ENABLED = True
EVENT_TRACKING_BACKENDS = {
    "caliper": {
        "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
        "OPTIONS": {
            "processors": [
                {
                    "ENGINE": "eventtracking.processors.regex_filter.RegexFilter",
                    "OPTIONS": {"filter_type": "allowlist", "regular_expressions": "edx"},
                }
            ]
        },
    }
}
