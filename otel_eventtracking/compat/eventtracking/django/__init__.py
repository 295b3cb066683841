"""Shim of ``eventtracking.django``: ``INSTALLED_APPS = ["eventtracking.django"]`` keeps working."""

from .django_tracker import DjangoTracker

__all__ = ["DjangoTracker"]
