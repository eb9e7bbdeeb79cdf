"""API keys (I1): one per integration, stored hashed, scoped, revocable."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from .scopes import Scope


def _staff_member() -> models.ForeignKey[Any, Any]:
    """Who made or revoked a key (kept empty if the account is deleted)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )


class ApiKey(models.Model):
    """A key an integration (a PMS, a booking engine) authenticates with.

    Only the key's prefix and a SHA-256 hash of the whole key are stored: the key is shown
    once, when it is made. Every write made with it is attributed to its own user account
    (``user``, which cannot sign in), so the audit trail names the integration.
    """

    name = models.CharField(max_length=60, unique=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_key",
        editable=False,
        help_text="The account the key's writes are recorded under.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _staff_member()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = _staff_member()

    class Meta:
        ordering = ("revoked_at", "name")
        verbose_name = "API key"
        permissions = [("manage_apikey", "Can create and revoke API keys")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def scope_labels(self) -> list[str]:
        return [str(Scope(s).label) for s in self.scopes if s in Scope.values]


class IdempotentRequest(models.Model):
    """An ``Idempotency-Key`` an integration sent with a message: the same key from the same
    API key answers with the same message; reused with another request, it is refused."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request it came with.")
    message = models.ForeignKey(
        "channels_out.OutboundMessage", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("api_key", "key"), name="api_idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.api_key}: {self.key}"
