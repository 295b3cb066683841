"""Django integration: add ``"otel_eventtracking.django"`` to ``INSTALLED_APPS``.

At start-up (``AppConfig.ready``) the app builds the default tracker from the upstream settings
``EVENT_TRACKING_ENABLED``, ``EVENT_TRACKING_BACKENDS`` and ``EVENT_TRACKING_PROCESSORS`` (plus
``EVENT_TRACKING_TRACKER_OPTIONS``); ``otel_eventtracking.django.middleware.RequestContextMiddleware``
enters the ``edx.request`` context around each request.
"""

from .tracker import DjangoTracker, override_default_tracker

__all__ = ["DjangoTracker", "override_default_tracker"]
