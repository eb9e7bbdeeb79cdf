"""SMS short links (E3): each outside link of a shortened SMS, under its random code."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ShortLink(models.Model):
    """The URL an SMS's short link ``/s/<code>`` stands for; the redirect goes only there.

    Made once, with the message's row (``channels_out.tracking.shortened_text``): a retry or a
    resend of the message sends the same text, so the same codes.
    """

    code = models.CharField(max_length=16, unique=True)
    message = models.ForeignKey(
        "channels_out.OutboundMessage", on_delete=models.CASCADE, related_name="short_links"
    )
    url = models.CharField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("message", "url"), name="short_link_one_per_url"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.url}"
