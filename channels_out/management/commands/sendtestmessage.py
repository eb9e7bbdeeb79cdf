"""Send one test message through a channel account and show its log row (like ``sendtestemail``)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from channels_out.dispatch import deliver
from channels_out.models import ChannelAccount, OutboundMessage, Status
from channels_out.services import Step, message_send
from crm_messaging.numbers import whole_number
from guests.models import ConsentPurpose

# Statuses after which the test counts as not sent: the command exits non-zero.
NOT_SENT = frozenset({Status.FAILED, Status.SKIPPED, Status.UNKNOWN, Status.UNDELIVERED})


def find_account(ref: str) -> ChannelAccount:
    """Return the account named ``ref`` (or with that id); CommandError if there is none."""
    account = ChannelAccount.objects.filter(name=ref).first()
    if account is None and (account_id := whole_number(ref)) is not None:
        account = ChannelAccount.objects.filter(pk=account_id).first()
    if account is None:
        names = ", ".join(f"“{a.name}” (#{a.pk})" for a in ChannelAccount.objects.order_by("name"))
        raise CommandError(
            f"There is no channel account named or numbered “{ref}”. "
            f"Accounts: {names or 'none is set up'}."
        )
    return account


class Command(BaseCommand):
    help = (
        "Send a test message to RECIPIENT through a channel account, now, in this process (no "
        "worker needed), and print its send-log row. Exits non-zero unless it went out."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "recipient", help="A phone number (SMS, WhatsApp, Viber) or an e-mail address."
        )
        parser.add_argument(
            "--account", required=True, help="The channel account's name or id (see the admin)."
        )
        parser.add_argument(
            "--text", default="", help="The message text (default: a short test text)."
        )
        parser.add_argument(
            "--subject", default="", help="E-mail subject (default: a test subject)."
        )
        parser.add_argument(
            "--purpose",
            default=ConsentPurpose.SERVICE,
            choices=[ConsentPurpose.SERVICE, ConsentPurpose.MARKETING],
            help="Quiet hours and consent rules of this purpose apply (default: service).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        account = find_account(options["account"])
        now = timezone.localtime()
        text = options["text"] or f"Test message from {account.name}, {now:%Y-%m-%d %H:%M}."
        subject = options["subject"] or f"Test message from {account.name}"
        step = Step(
            channel=account.channel,
            account=account,
            to=options["recipient"],
            text=text,
            subject=subject if account.channel == "email" else "",
        )
        try:
            message = message_send(
                steps=step,
                purpose=options["purpose"],
                source="test",
                dedupe_key=f"test:{uuid.uuid4().hex}",
            )
        except ValidationError as exc:
            raise CommandError(f"The message cannot be sent: {' '.join(exc.messages)}") from exc

        # Send now rather than waiting for a worker; a fallback row (Viber → SMS) goes too.
        rows: list[OutboundMessage] = []
        current: OutboundMessage | None = message
        while current is not None:
            retries = deliver([current.pk])
            current.refresh_from_db()
            rows.append(current)
            self._show(current, retry_in=retries.get(current.pk))
            current = OutboundMessage.objects.filter(fallback_for=current).first()

        last = rows[-1]
        if last.status in NOT_SENT:
            reason = last.get_skip_reason_display() if last.skip_reason else ""
            detail = "; ".join(part for part in (reason, last.reason.rstrip(".")) if part)
            raise CommandError(
                f"The test message was not sent: {last.get_status_display().lower()}"
                + (f" ({detail})" if detail else "")
                + "."
            )

    def _show(self, message: OutboundMessage, *, retry_in: float | None) -> None:
        """Print the log row as ``field: value`` lines."""
        parts = (
            f"{message.segments} × {message.encoding}"
            if message.encoding
            else str(message.segments)
        )
        reason = message.reason
        if message.skip_reason:
            reason = (
                f"{message.get_skip_reason_display()}: {reason}"
                if reason
                else message.get_skip_reason_display()
            )
        lines = [
            ("message", f"#{message.pk}"),
            ("channel", message.get_channel_display()),
            ("account", f"{message.account.name} ({message.backend})"),
            ("to", message.to),
            ("status", message.status),
            ("reason", reason or "—"),
            ("provider id", message.provider_message_id or "—"),
            ("segments", parts),
            ("credits", f"{message.credits.normalize():f}"),
        ]
        if message.fallback_for_id:
            lines.insert(1, ("falls back for", f"#{message.fallback_for_id}"))
        width = max(len(label) for label, _ in lines)
        for label, value in lines:
            self.stdout.write(f"{label + ':':<{width + 1}} {value}")
        if message.status == Status.QUEUED:
            if retry_in is not None:
                note = f"The provider answered with a temporary error; a worker retries in {retry_in:.0f} s."
            elif message.not_before and message.not_before > timezone.now():
                note = f"It waits for the end of quiet hours ({timezone.localtime(message.not_before):%Y-%m-%d %H:%M})."
            else:
                note = "It is still queued; a worker sends it."
            self.stdout.write(self.style.WARNING(note))
        self.stdout.write("")
