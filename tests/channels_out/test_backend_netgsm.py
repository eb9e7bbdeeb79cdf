"""NetGSM SMS (S2, S6): the REST v2 send call, its answer codes, İYS flags and the
polled delivery reports, against a local fake speaking NetGSM's API."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from channels_out.backends import TransportError, get_backend
from channels_out.backends.netgsm import netgsm_number
from channels_out.dispatch import deliver
from channels_out.ledger import credits_add
from channels_out.models import ChannelAccount, DeliveryEvent, OutboundMessage, Status
from channels_out.services import Step, message_send
from channels_out.services.receipts import receipts_poll
from guests.services import guest_record_consent
from tests.channels_out.outcomes import kind_of
from tests.factories import GuestFactory
from tests.fakes.netgsm_api import FakeNetgsm, NetgsmOutcome, running_fake_netgsm

pytestmark = pytest.mark.django_db

USERCODE, PASSWORD = "8503001122", "netgsm-api-password"
PHONE = "+905321234567"


@pytest.fixture
def fake() -> Iterator[FakeNetgsm]:
    with running_fake_netgsm(USERCODE, PASSWORD) as server:
        yield server


@pytest.fixture
def netgsm(fake: FakeNetgsm, no_quiet_hours) -> ChannelAccount:
    credits_add(amount=Decimal(100), key="t")
    return ChannelAccount.objects.create(
        channel="sms",
        backend="netgsm",
        name="NetGSM",
        sender="LYKIA BAY",
        is_default=True,
        account_id=USERCODE,
        secret=PASSWORD,
        api_base_url=fake.base_url,
        rate_per_second=1000,
    )


def _sent(
    django_capture_on_commit_callbacks, *, text: str = "Room 214 is ready", purpose="service"
) -> OutboundMessage:
    guest = GuestFactory(phone=PHONE)
    if purpose == "marketing":
        guest_record_consent(
            guest=guest, purpose="marketing", channel="sms", granted=True, source="staff"
        )
    with django_capture_on_commit_callbacks():
        message = message_send(steps=Step(channel="sms", text=text), guest=guest, purpose=purpose)
    deliver([message.pk])
    message.refresh_from_db()
    return message


def test_a_service_sms_goes_with_the_header_as_informational_and_keeps_the_jobid(
    netgsm, fake, django_capture_on_commit_callbacks
) -> None:
    message = _sent(django_capture_on_commit_callbacks)
    [request] = fake.requests
    assert (request.method, request.path, request.auth) == (
        "POST",
        "/sms/rest/v2/send",
        (USERCODE, PASSWORD),
    )
    assert request.json == {
        "msgheader": "LYKIA BAY",
        "messages": [{"msg": "Room 214 is ready", "no": "5321234567"}],
        "iysfilter": "0",
    }
    assert message.status == Status.SENT
    assert message.provider_message_id in fake.jobs


def test_a_marketing_sms_asks_for_the_iys_check_and_turkish_letters_ask_for_tr(
    netgsm, fake, django_capture_on_commit_callbacks
) -> None:
    _sent(django_capture_on_commit_callbacks, text="Şimdi %20 indirim", purpose="marketing")
    body = fake.requests[0].json
    assert (body["iysfilter"], body["encoding"]) == ("11", "TR")
    assert body["messages"][0]["msg"].startswith("Şimdi %20 indirim")


def test_foreign_numbers_get_the_international_prefix() -> None:
    assert netgsm_number("+905321234567") == "5321234567"
    assert netgsm_number("+4915112345678") == "004915112345678"


@pytest.mark.parametrize(
    ("outcome", "kind", "code"),
    [
        (NetgsmOutcome.code("20"), "permanent", "20"),
        (NetgsmOutcome.code("30"), "permanent", "30"),
        (NetgsmOutcome.code("40"), "permanent", "40"),
        (NetgsmOutcome.code("50"), "permanent", "50"),
        (NetgsmOutcome.code("51"), "permanent", "51"),
        (NetgsmOutcome.code("70"), "permanent", "70"),
        (NetgsmOutcome.code("80"), "transient", "80"),
        (NetgsmOutcome.code("85"), "transient", "85"),
        (NetgsmOutcome.code("99", http_status=200), "ambiguous", "99"),
        (NetgsmOutcome.server_error(), "ambiguous", "503"),
        (NetgsmOutcome.disconnect(), "ambiguous", "connection"),
    ],
)
def test_each_answer_code_is_classified(netgsm, fake, outcome, kind, code) -> None:
    fake.script(outcome)
    message = OutboundMessage(to=PHONE, body="Hi", purpose="service", account=netgsm, pk=1)
    with pytest.raises(TransportError) as raised:
        get_backend(netgsm).send(message)
    assert (kind_of(raised.value), raised.value.code) == (kind, code)


def test_an_unknown_header_fails_the_message_with_netgsms_code(
    netgsm, fake, django_capture_on_commit_callbacks
) -> None:
    ChannelAccount.objects.filter(pk=netgsm.pk).update(sender="OTHER HOTEL")
    message = _sent(django_capture_on_commit_callbacks)
    assert message.status == Status.FAILED
    assert "başlık" in message.reason and "40" in message.reason


def test_delivery_reports_are_polled_and_mapped(
    netgsm, fake, django_capture_on_commit_callbacks
) -> None:
    delivered = _sent(django_capture_on_commit_callbacks)
    expired = _sent(django_capture_on_commit_callbacks)
    waiting = _sent(django_capture_on_commit_callbacks)
    fake.set_status(delivered.provider_message_id, 1)
    fake.set_status(expired.provider_message_id, 2)

    assert receipts_poll() == 2
    assert receipts_poll() == 0  # nothing new; the waiting one stays sent

    statuses = {m.pk: m.status for m in OutboundMessage.objects.all()}
    assert statuses == {
        delivered.pk: Status.DELIVERED,
        expired.pk: Status.UNDELIVERED,
        waiting.pk: Status.SENT,
    }
    event = DeliveryEvent.objects.get(message=expired, source="poll")
    assert (event.provider_status, event.description) == ("2", "validity period expired")
    report = fake.requests[-1]
    assert report.path == "/sms/rest/v2/report"
    assert report.json == {"jobids": [waiting.provider_message_id]}


def test_a_report_holding_a_nul_is_applied_and_kept_without_it(
    netgsm, fake, django_capture_on_commit_callbacks
) -> None:
    message = _sent(django_capture_on_commit_callbacks)
    fake.set_status(message.provider_message_id, 1)
    fake.jobs[message.provider_message_id]["request"]["messages"][0]["no"] = "90532\x001234567"

    assert receipts_poll() == 1

    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    event = DeliveryEvent.objects.get(message=message, source="poll")
    assert event.payload["telno"] == "905321234567"


def test_a_report_the_provider_cannot_give_changes_nothing(
    netgsm, fake, django_capture_on_commit_callbacks
) -> None:
    message = _sent(django_capture_on_commit_callbacks)
    ChannelAccount.objects.filter(pk=netgsm.pk).update(secret="wrong")
    assert receipts_poll() == 0
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_the_account_needs_user_code_password_and_header() -> None:
    account = ChannelAccount(channel="sms", backend="netgsm", name="N")
    errors = get_backend(account).account_errors(account)
    assert set(errors) == {"account_id", "secret", "sender"}
