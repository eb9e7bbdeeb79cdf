"""Login codes: drawn from ``secrets``, kept only as an HMAC, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

from .conf import CODE_DIGITS

# Compared against when a row has no hash (an unknown number), so both paths do the same work.
_NO_HASH = "0" * 64


def new_code() -> str:
    """Return a fresh code of ``CODE_DIGITS`` digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(phone: str, code: str) -> str:
    """HMAC-SHA256 of the code, keyed by SECRET_KEY and bound to the number it was sent to."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"portal-login-code:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(stored_hash: str, phone: str, code: str) -> bool:
    """Tell whether ``code`` is the one hashed in ``stored_hash`` (constant time)."""
    matches = hmac.compare_digest(stored_hash or _NO_HASH, code_hash(phone, code))
    return bool(stored_hash) and matches
