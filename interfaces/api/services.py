"""Writes of the API app: making, revoking and using API keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from crm_messaging.actors import Actor, acting_user, record_staff_action

from .models import ApiKey
from .scopes import Scope

KEY_PREFIX = "crm"
# last_used_at is written at most this often per key (not on every request).
TOUCH_EVERY = dt.timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, name: str, scopes: list[str], user: Actor = None) -> tuple[ApiKey, str]:
    """Make a key for an integration; return it and the key itself, which is shown this once
    and never stored (only its hash).

    The key gets an account of its own that cannot sign in ("api:<name>"); every write made
    with the key is recorded under it. Raises ValidationError for an empty or taken name, or
    no or unknown scopes.
    """
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = gettext("Name the integration the key is for.")
    elif ApiKey.objects.filter(name__iexact=name).exists():
        errors["name"] = gettext("Another key already has this name.")
    if not scopes or set(scopes) - set(Scope.values):
        errors["scopes"] = gettext("Choose what the key may do.")
    username = f"api:{name}"[:150]
    if not errors and get_user_model().objects.filter(username=username).exists():
        errors["name"] = gettext("Another key already has this name.")
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    account = get_user_model().objects.create_user(
        username=username, first_name=name[:150], is_active=False
    )
    account.set_unusable_password()
    account.save()
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        key_hash=_hash(raw),
        scopes=sorted(set(scopes)),
        user=account,
        created_by=acting_user(user),
    )
    record_staff_action(user, key, f"Created API key {name} ({', '.join(key.scopes)}).", added=True)
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, user: Actor = None) -> ApiKey:
    """Revoke ``key`` now: it authenticates nothing from then on. Revoking twice changes nothing."""
    updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=acting_user(user)
    )
    key.refresh_from_db()
    if updated:
        record_staff_action(user, key, f"Revoked API key {key.name}.")
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key ``raw`` is, or None (unknown, malformed or revoked). Marks it used."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    key = ApiKey.objects.select_related("user").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw)) or not key.is_active:
        return None
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)
    ).update(last_used_at=now)
    return key


def api_consent_source(key: ApiKey) -> str:
    """The consent source of statements an integration makes: "api:<key name>"."""
    return f"api:{key.name}"
