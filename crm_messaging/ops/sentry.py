"""Error reporting to Sentry, only when ``SENTRY_DSN`` is set (sentry-sdk)."""

from __future__ import annotations

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration


def sentry_init(*, dsn: str, environment: str) -> None:
    """Report unhandled errors of the web app and the Celery tasks; send no personal data."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Guests' numbers, addresses and codes must not leave the hotel.
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
