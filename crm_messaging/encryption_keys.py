"""The rule for ``FIELD_ENCRYPTION_KEY``: every comma-separated entry is a Fernet key.

Kept apart from the field that uses the keys (``channels_out.crypto``) so the settings can
refuse a bad key at start-up — web, worker, beat and every ``manage.py`` command — instead
of the first time a provider secret is read or written. The system check of the same name
(``channels_out.E001``) reports it too. Messages never repeat a key: they are secrets.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

GENERATE_HINT = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def fernet_key_errors(keys: Sequence[str]) -> list[str]:
    """Return what is wrong with each key that is not a Fernet key (32 bytes, url-safe base64)."""
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            errors.append(
                f"FIELD_ENCRYPTION_KEY: key {position} of {len(keys)} is not a Fernet key "
                f"(32 url-safe base64-encoded bytes; generate one with {GENERATE_HINT})"
            )
    return errors
