"""``manage.py sendtestmessage``: one message through one account, sent in-process, row printed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from channels_out.backends import TransportError, locmem
from channels_out.ledger import available_credits
from channels_out.models import OutboundMessage, SkipReason, Status

pytestmark = pytest.mark.django_db


def send(*args: str) -> str:
    out = StringIO()
    call_command("sendtestmessage", *args, stdout=out)
    return out.getvalue()


def field(output: str, name: str) -> str:
    """The value printed on the ``name:`` line of the command's output."""
    for line in output.splitlines():
        label, _, value = line.partition(":")
        if label == name:
            return value.strip()
    raise AssertionError(f"no {name!r} line in:\n{output}")


def test_it_sends_through_the_named_account_and_prints_the_sent_row(accounts, top_up) -> None:
    top_up(5)
    output = send("--account", "SMS", "+90 532 123 45 67", "--text", "Hello from the test")
    message = OutboundMessage.objects.get()
    assert field(output, "status") == "sent"
    assert field(output, "message") == f"#{message.pk}"
    assert field(output, "to") == "+905321234567"
    assert field(output, "provider id") == message.provider_message_id != ""
    assert field(output, "segments") == "1 × GSM-7"
    assert field(output, "credits") == "1"
    assert [(m.pk, m.to, m.body) for m in locmem.outbox] == [
        (message.pk, "+905321234567", "Hello from the test")
    ]
    assert (message.status, message.source, message.account) == (
        Status.SENT,
        "test",
        accounts["sms"],
    )
    assert message.dedupe_key.startswith("test:")
    assert available_credits() == 4


def test_the_account_may_be_given_by_id_and_each_run_is_a_new_message(accounts, top_up) -> None:
    top_up(5)
    send("--account", str(accounts["sms"].pk), "+905321234567")
    send("--account", str(accounts["sms"].pk), "+905321234567")
    assert OutboundMessage.objects.filter(status=Status.SENT).count() == 2
    assert len(locmem.outbox) == 2


def test_an_invalid_number_fails_with_the_skip_reason(accounts, top_up) -> None:
    top_up(5)
    with pytest.raises(CommandError) as failure:
        send("--account", "SMS", "12")
    assert "invalid number" in str(failure.value).lower()
    assert OutboundMessage.objects.get().skip_reason == SkipReason.INVALID_NUMBER
    assert locmem.outbox == []


def test_an_unknown_account_fails_naming_it(accounts) -> None:
    with pytest.raises(CommandError, match="no channel account named or numbered “Nope”"):
        send("--account", "Nope", "+905321234567")
    assert not OutboundMessage.objects.exists()


def test_a_message_the_service_refuses_becomes_a_command_error(accounts) -> None:
    with pytest.raises(
        CommandError, match="cannot be sent: An SMS message is at most 1600 characters"
    ):
        send("--account", "SMS", "+905321234567", "--text", "x" * 2000)
    assert not OutboundMessage.objects.exists()


def test_without_credits_it_fails_and_sends_nothing(accounts) -> None:
    with pytest.raises(CommandError, match="not sent: skipped .*No credits"):
        send("--account", "SMS", "+905321234567")
    assert locmem.outbox == []


def test_a_provider_refusal_fails_with_the_provider_reason(accounts, top_up) -> None:
    top_up(5)
    locmem.script(TransportError("unknown destination", code="21211", permanent=True))
    with pytest.raises(CommandError, match="not sent: failed .*unknown destination"):
        send("--account", "SMS", "+905321234567")
    assert OutboundMessage.objects.get().status == Status.FAILED


def test_a_viber_test_that_falls_back_to_sms_prints_both_rows_and_succeeds(
    accounts, top_up
) -> None:
    top_up(5)
    locmem.script(TransportError("not a Viber user", code="NOVIBER", permanent=True))
    output = send("--account", "Viber", "+905321234567")
    viber = OutboundMessage.objects.get(channel="viber")
    sms = OutboundMessage.objects.get(fallback_for=viber)
    assert (viber.status, sms.status) == (Status.FAILED, Status.SENT)
    assert [line.split()[-1] for line in output.splitlines() if line.startswith("status:")] == [
        "failed",
        "sent",
    ]
    assert f"falls back for: #{viber.pk}" in output
    assert [m.pk for m in locmem.outbox] == [sms.pk]
