"""Celery tasks of the guest portal: thin wrappers over its services."""

from __future__ import annotations

from celery import shared_task

from .services import login_codes_purge


@shared_task(name="portal.purge_login_codes", ignore_result=True)
def purge_login_codes() -> int:
    """Daily: delete login-code rows past their retention (30 days; numbers are personal data)."""
    return login_codes_purge()
