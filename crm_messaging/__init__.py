"""The hotel CRM messaging project: settings, Celery app and the CRM core (``guests``)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
