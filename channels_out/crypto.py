"""Encryption at rest for provider secrets (S1): a model field that stores Fernet tokens."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from crm_messaging.encryption_keys import fernet_key_errors


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        # Local runs: a key derived from SECRET_KEY (kept in var/); production must set one.
        digest = hashlib.sha256(f"crm-field-encryption:{secret_key}".encode()).digest()
        keys = (base64.urlsafe_b64encode(digest).decode(),)
    if errors := fernet_key_errors(keys):
        raise ImproperlyConfigured("; ".join(errors))
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    """The keys in force: the first encrypts, every one decrypts."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """Return the plain text of ``token``; raise ImproperlyConfigured if no key can open it."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY changed without keeping the old key"
        ) from exc


class Secret(str):
    """A decrypted secret that does not show itself in reprs, logs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('********')" if self else "Secret('')"


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python sees the plain text as a ``Secret``.

    Every value is written with the first key of ``FIELD_ENCRYPTION_KEY``; saving a value
    again (``manage.py rotate_encryption_key`` does it for all) moves it to that key.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Secret | None:
        if value is None:
            return None
        return Secret(decrypt(value)) if value else Secret("")

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, Secret):
            return value
        return Secret(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
