"""System checks of the sender layer (``manage.py check``, ``check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from crm_messaging.encryption_keys import GENERATE_HINT, fernet_key_errors


@register(Tags.security, deploy=False)
def encryption_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every key in FIELD_ENCRYPTION_KEY must be a Fernet key (the settings refuse it at start-up too)."""
    return [
        Error(
            problem,
            hint=f"Generate a key with {GENERATE_HINT}",
            id="channels_out.E001",
        )
        for problem in fernet_key_errors(settings.FIELD_ENCRYPTION_KEYS)
    ]
