"""Mailboxes read for guests' e-mail replies (S6): a plain IMAP mailbox, where no ESP posts them."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from guests.models import ContactChannel

from ..crypto import EncryptedTextField


class ReplyMailbox(models.Model):
    """An IMAP mailbox the poller reads for replies to our e-mails (``services.mailboxes``).

    ``last_uid`` is the highest message UID already read in ``folder`` (valid while the
    server's UIDVALIDITY stays ``uid_validity``): each poll fetches only newer mail, and a
    message read twice is still recorded once (by its Message-ID).
    """

    account = models.ForeignKey(
        "channels_out.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="reply_mailboxes",
        limit_choices_to={"channel": ContactChannel.EMAIL},
        help_text="The e-mail account whose replies arrive here (the one a reply is recorded on "
        "when it answers no message of ours but comes from a known guest).",
    )
    host = models.CharField("IMAP server", max_length=255)
    port = models.PositiveIntegerField(default=993, validators=[MaxValueValidator(65535)])
    use_ssl = models.BooleanField("implicit TLS (IMAPS)", default=True)
    username = models.CharField(max_length=255)
    password = EncryptedTextField(blank=True, help_text="Never shown again.")
    folder = models.CharField(max_length=255, default="INBOX")
    is_active = models.BooleanField(default=True)
    timeout_seconds = models.PositiveSmallIntegerField(default=30)

    uid_validity = models.PositiveBigIntegerField(default=0, editable=False)
    last_uid = models.PositiveBigIntegerField(default=0, editable=False)
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("host", "username")
        verbose_name = "reply mailbox (IMAP)"
        verbose_name_plural = "reply mailboxes (IMAP)"

    def __str__(self) -> str:
        return f"{self.username}@{self.host}/{self.folder}"
