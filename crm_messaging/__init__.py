"""The kernel of the hotel CRM messaging project: settings, Celery app, phones, i18n, actors and
the staff UI base (``ui``). It imports none of the apps; they build on it."""

from .celery import app as celery_app

__all__ = ("celery_app",)
