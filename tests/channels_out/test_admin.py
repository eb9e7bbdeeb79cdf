"""The admin of the sender layer: pages, write-only secrets, a cheap send log, service-backed actions."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.messages import ERROR, SUCCESS, WARNING
from django.db import connection
from django.db.models import Model
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels_out.backends import TransportError, locmem
from channels_out.forms import ChannelAccountForm
from channels_out.ledger import available_credits
from channels_out.models import (
    ChannelAccount,
    CreditBalance,
    CreditOrder,
    DeliveryEvent,
    Engagement,
    InboundMessage,
    LedgerEntry,
    MessagingPolicy,
    OutboundMessage,
    PriceRule,
    ReplyMailbox,
    SoftBounceRun,
    Status,
    Suppression,
)
from channels_out.services import Step, message_apply_status, message_send
from channels_out.services.credits import credit_order_create
from channels_out.services.suppression import suppression_add
from channels_out.services.tracking import message_engage
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db

ADDABLE = [ChannelAccount, PriceRule, CreditOrder]
# Records: no add page. (MessagingPolicy has one only while its single row is missing.)
NOT_ADDABLE = [
    OutboundMessage,
    DeliveryEvent,
    InboundMessage,
    CreditBalance,
    LedgerEntry,
    MessagingPolicy,
]
NOT_DELETABLE = [
    OutboundMessage,
    DeliveryEvent,
    InboundMessage,
    CreditBalance,
    LedgerEntry,
    CreditOrder,
    MessagingPolicy,
]
READ_ONLY = [
    OutboundMessage,
    DeliveryEvent,
    InboundMessage,
    CreditBalance,
    LedgerEntry,
    CreditOrder,
    Suppression,
    SoftBounceRun,
    Engagement,
]

PLAIN_SECRET = "tw-auth-9f8e7d6c5b4a"
PLAIN_WEBHOOK_SECRET = "vonage-sig-0a1b2c3d4e"


def url(model: type[Model] | Model, view: str, *args: Any) -> str:
    return reverse(f"admin:channels_out_{model._meta.model_name}_{view}", args=args)


def run_action(client, model: type[Model], action: str, *pks: int) -> list[tuple[int, str]]:
    """Run a changelist action and return the messages the changelist then shows."""
    response = client.post(
        url(model, "changelist"), {"action": action, "_selected_action": list(pks)}, follow=True
    )
    assert response.redirect_chain, "the action should answer with a redirect to the list"
    assert response.status_code == 200
    return [(m.level, m.message) for m in response.context["messages"]]


def raw_column(account: ChannelAccount, column: str) -> str:
    """What the database holds for an encrypted column (the Fernet token)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {ChannelAccount._meta.db_table} WHERE id = %s", [account.pk]
        )
        return cursor.fetchone()[0]


def account_data(account: ChannelAccount, **overrides: Any) -> dict[str, Any]:
    """The change form of ``account`` as a browser submits it: secrets are never filled in."""
    values = model_to_dict(account, fields=ChannelAccountForm._meta.fields)
    values.update(secret="", webhook_secret="")
    values.update(overrides)
    data: dict[str, Any] = {}
    for name, value in values.items():
        if value is False:
            continue  # an unticked box is not submitted
        data[name] = "on" if value is True else "" if value is None else str(value)
    return data


def sms_send(to: str = "+905321234567", **kwargs: Any) -> OutboundMessage:
    return message_send(steps=Step(channel="sms", text="Your room is ready.", to=to), **kwargs)


@pytest.fixture
def twilio(db: None) -> ChannelAccount:
    return ChannelAccount.objects.create(
        channel="sms",
        backend="twilio_sms",
        name="Twilio SMS",
        sender="+905320000009",
        account_id="AC0123456789abcdef0123456789abcdef",
        secret=PLAIN_SECRET,
        webhook_secret=PLAIN_WEBHOOK_SECRET,
    )


@pytest.fixture
def populated(accounts, top_up, deliver_queued, admin_user) -> dict[str, Model]:
    """A row of every kind, written the way the application writes them."""
    top_up(20)
    locmem.script(TransportError("not a Viber user", code="NOVIBER", permanent=True))
    viber = message_send(steps=Step(channel="viber", text="Welcome!", to="+905321234568"))
    deliver_queued()  # the Viber message fails and queues its SMS fallback
    sent = sms_send(guest=GuestFactory(phone="+905321234567"), user=admin_user)
    deliver_queued()  # both SMS are sent
    sent.refresh_from_db()
    viber.refresh_from_db()
    inbound = InboundMessage.objects.create(
        account=accounts["sms"],
        channel="sms",
        provider_message_id="SM1",
        from_number="+905321234567",
        body="STOP",
        keyword="STOP",
    )
    return {
        "channelaccount": accounts["sms"],
        "outboundmessage": sent,
        "viber": viber,
        "fallback": OutboundMessage.objects.get(fallback_for=viber),
        "deliveryevent": DeliveryEvent.objects.filter(message=sent).first(),
        "inboundmessage": inbound,
        "replymailbox": ReplyMailbox.objects.create(
            account=accounts["email"], host="imap.example.com", username="replies", password="pw"
        ),
        "pricerule": PriceRule.objects.create(channel="sms", country="GB", credits_per_unit=2),
        "creditbalance": CreditBalance.objects.get(pk=1),
        "ledgerentry": LedgerEntry.objects.first(),
        "creditorder": credit_order_create(credits=100, user=admin_user),
        "messagingpolicy": MessagingPolicy.load(),
        "suppression": suppression_add(address="gone@example.com", reason="hard_bounce"),
        "softbouncerun": SoftBounceRun.objects.create(address="full@example.com", count=1),
        "engagement": message_engage(
            message=sent, kind="click", source="ours", url="https://example.com/"
        ),
        "shortlink": message_send(
            steps=Step(
                channel="sms",
                text="Our offer: https://offers.example.com/spring",
                to="+905321234569",
                shorten_links=True,
            )
        ).short_links.get(),
    }


# --- Every page opens --------------------------------------------------------------------------


def test_every_model_of_the_app_is_in_the_admin() -> None:
    registered = {
        model for model in admin.site._registry if model._meta.app_label == "channels_out"
    }
    assert registered == set(apps.get_app_config("channels_out").get_models())


@pytest.mark.parametrize(
    "model", list(apps.get_app_config("channels_out").get_models()), ids=lambda m: m.__name__
)
def test_every_changelist_and_change_page_opens(admin_client, populated, model) -> None:
    assert admin_client.get(url(model, "changelist")).status_code == 200
    obj = populated[model._meta.model_name]
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", ADDABLE, ids=lambda m: m.__name__)
def test_the_add_pages_open(admin_client, model) -> None:
    assert admin_client.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", NOT_ADDABLE, ids=lambda m: m.__name__)
def test_records_have_no_add_page(admin_client, model) -> None:
    MessagingPolicy.load()
    assert admin_client.get(url(model, "add")).status_code == 403


def test_the_policy_can_be_added_only_while_it_is_missing(admin_client) -> None:
    MessagingPolicy.objects.all().delete()
    assert admin_client.get(url(MessagingPolicy, "add")).status_code == 200


@pytest.mark.parametrize("model", NOT_DELETABLE, ids=lambda m: m.__name__)
def test_records_cannot_be_deleted(admin_client, populated, model) -> None:
    obj = populated[model._meta.model_name]
    assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403
    assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_records_cannot_be_changed(admin_client, populated, model) -> None:
    obj = populated[model._meta.model_name]
    assert admin_client.post(url(model, "change", obj.pk), {}).status_code == 403


def test_the_send_log_links_a_message_and_its_fallback_both_ways(admin_client, populated) -> None:
    viber, sms = populated["viber"], populated["fallback"]
    viber_page = admin_client.get(url(OutboundMessage, "change", viber.pk)).content.decode()
    sms_page = admin_client.get(url(OutboundMessage, "change", sms.pk)).content.decode()
    assert f'href="{url(OutboundMessage, "change", sms.pk)}"' in viber_page
    assert f'href="{url(OutboundMessage, "change", viber.pk)}"' in sms_page
    assert "not a Viber user" in viber_page  # its delivery events are listed inline


# --- Write-only secrets ------------------------------------------------------------------------


def test_the_account_page_shows_neither_the_secret_nor_its_ciphertext(admin_client, twilio) -> None:
    ciphertexts = [raw_column(twilio, "secret"), raw_column(twilio, "webhook_secret")]
    assert all(token.startswith("gAAAA") for token in ciphertexts)  # Fernet tokens are stored

    page = admin_client.get(url(ChannelAccount, "change", twilio.pk)).content.decode()

    assert "a secret is stored; leave empty to keep it" in page.lower()
    assert 'name="clear_secret"' in page
    for value in (PLAIN_SECRET, PLAIN_WEBHOOK_SECRET, *ciphertexts):
        assert value not in page


def test_an_empty_secret_keeps_the_stored_one(admin_client, twilio) -> None:
    response = admin_client.post(
        url(ChannelAccount, "change", twilio.pk), account_data(twilio, name="Twilio (TR)")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    twilio.refresh_from_db()
    assert twilio.name == "Twilio (TR)"
    assert (twilio.secret, twilio.webhook_secret) == (PLAIN_SECRET, PLAIN_WEBHOOK_SECRET)


def test_a_typed_secret_replaces_the_stored_one(admin_client, twilio) -> None:
    response = admin_client.post(
        url(ChannelAccount, "change", twilio.pk), account_data(twilio, secret="new-token")
    )
    assert response.status_code == 302
    twilio.refresh_from_db()
    assert (twilio.secret, twilio.webhook_secret) == ("new-token", PLAIN_WEBHOOK_SECRET)


def test_the_clear_box_removes_a_stored_secret(admin_client, twilio) -> None:
    response = admin_client.post(
        url(ChannelAccount, "change", twilio.pk), account_data(twilio, clear_webhook_secret=True)
    )
    assert response.status_code == 302
    twilio.refresh_from_db()
    assert (twilio.secret, twilio.webhook_secret) == (PLAIN_SECRET, "")
    assert raw_column(twilio, "webhook_secret") == ""


def test_clearing_a_secret_the_provider_needs_is_refused_next_to_it(admin_client, twilio) -> None:
    response = admin_client.post(
        url(ChannelAccount, "change", twilio.pk), account_data(twilio, clear_secret=True)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["secret"] == ["Enter the Twilio auth token."]
    twilio.refresh_from_db()
    assert twilio.secret == PLAIN_SECRET


def _error_row(page: str, field: str) -> str:
    """The HTML of the form row of ``field`` (its errors are inside it)."""
    match = re.search(
        rf'<div class="form-row[^"]*\bfield-{field}\b.*?(?=<div class="form-row)', page, re.S
    )
    assert match, f"no form row for {field}"
    return match.group(0)


def test_an_invalid_sms_sender_is_shown_next_to_the_sender_and_nothing_is_saved(
    admin_client,
) -> None:
    data = {
        "name": "Lykia SMS",
        "channel": "sms",
        "backend": "locmem",
        "is_active": "on",
        "sender": "HOTEL-LYKIA-BAY",
        "timeout_seconds": "15",
        "rate_per_second": "10",
    }
    response = admin_client.post(url(ChannelAccount, "add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["sender"]
    assert "up to 11 letters, digits and spaces" in errors["sender"][0]
    assert "up to 11 letters, digits and spaces" in _error_row(response.content.decode(), "sender")
    assert not ChannelAccount.objects.exists()


def test_a_backend_of_another_channel_is_shown_next_to_the_backend(admin_client) -> None:
    data = {
        "name": "Mail via Twilio",
        "channel": "email",
        "backend": "twilio_sms",
        "sender": "hotel@example.com",
        "timeout_seconds": "15",
        "rate_per_second": "10",
    }
    response = admin_client.post(url(ChannelAccount, "add"), data)
    assert response.status_code == 200
    assert "not E-mail" in _error_row(response.content.decode(), "backend")
    assert not ChannelAccount.objects.exists()


def test_a_missing_backend_is_reported_once(admin_client) -> None:
    data = {"name": "SMS", "channel": "sms", "timeout_seconds": "15", "rate_per_second": "10"}
    response = admin_client.post(url(ChannelAccount, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"backend": ["This field is required."]}


def test_a_second_default_account_for_a_channel_is_refused_next_to_the_box(
    admin_client, accounts
) -> None:
    data = {
        "name": "Backup SMS",
        "channel": "sms",
        "backend": "locmem",
        "is_default": "on",
        "sender": "LYKIA BAY",
        "timeout_seconds": "15",
        "rate_per_second": "10",
    }
    response = admin_client.post(url(ChannelAccount, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "is_default": ["“SMS” is already the default SMS account; make it not the default first."]
    }
    assert not ChannelAccount.objects.filter(name="Backup SMS").exists()


def test_the_e_mail_sender_name_is_saved_sanitised(admin_client) -> None:
    data = {
        "name": "Mail",
        "channel": "email",
        "backend": "locmem",
        "sender": "reservations@lykiabay.example",
        "sender_name": "Hotel <Lykia>,  Bay: Front desk",
        "use_tls": "on",
        "timeout_seconds": "15",
        "rate_per_second": "10",
    }
    response = admin_client.post(url(ChannelAccount, "add"), data)
    assert response.status_code == 302
    assert ChannelAccount.objects.get().sender_name == "Hotel Lykia Bay Front desk"


def test_secrets_typed_into_a_refused_form_are_not_sent_back(admin_client) -> None:
    data = {
        "name": "Twilio",
        "channel": "sms",
        "backend": "twilio_sms",
        "sender": "HOTEL-LYKIA-BAY",
        "account_id": "AC0123",
        "secret": PLAIN_SECRET,
        "timeout_seconds": "15",
        "rate_per_second": "10",
    }
    response = admin_client.post(url(ChannelAccount, "add"), data)
    assert response.status_code == 200
    assert "sender" in response.context["adminform"].form.errors
    assert PLAIN_SECRET not in response.content.decode()


# --- The send log ------------------------------------------------------------------------------


def _changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(OutboundMessage, "changelist"))
    assert response.status_code == 200
    return len(queries), len(response.context["cl"].result_list)


def test_the_send_log_costs_the_same_queries_for_3_and_30_messages(
    admin_client, accounts, top_up, admin_user
) -> None:
    top_up(100)

    def log(count: int) -> None:
        for n in range(count):
            sms_send(guest=GuestFactory(phone=f"+9053212345{n:02d}"), user=admin_user)

    log(3)
    admin_client.get(url(OutboundMessage, "changelist"))  # the first request sets up the session
    few, shown_few = _changelist_queries(admin_client)
    log(27)
    many, shown_many = _changelist_queries(admin_client)
    assert (shown_few, shown_many) == (3, 30)
    assert many == few


def test_mark_sent_settles_an_unknown_outcome_and_refuses_a_delivered_message(
    admin_client, accounts, top_up, deliver_queued, admin_user
) -> None:
    top_up(10)
    locmem.script(TransportError("timed out after sending", ambiguous=True))
    unknown = sms_send("+905321234567")
    deliver_queued()
    delivered = sms_send("+905321234568")
    deliver_queued()
    message_apply_status(delivered, Status.DELIVERED, source="webhook")
    unknown.refresh_from_db()
    assert unknown.status == Status.UNKNOWN

    shown = run_action(admin_client, OutboundMessage, "mark_sent", unknown.pk, delivered.pk)

    unknown.refresh_from_db()
    delivered.refresh_from_db()
    assert (unknown.status, delivered.status) == (Status.SENT, Status.DELIVERED)
    assert unknown.events.filter(source="operator", status=Status.SENT, by=admin_user).exists()
    assert (SUCCESS, "1 message marked sent.") in shown
    assert [text for level, text in shown if level == ERROR] == [
        f"{delivered}: Only a message with an unknown outcome can be marked sent; "
        "this one is delivered."
    ]


def test_resend_queues_an_unknown_outcome_again_once(
    admin_client, accounts, top_up, deliver_queued
) -> None:
    top_up(10)
    locmem.script(TransportError("timed out after sending", ambiguous=True))
    unknown = sms_send()
    deliver_queued()

    first = run_action(admin_client, OutboundMessage, "resend", unknown.pk)
    second = run_action(admin_client, OutboundMessage, "resend", unknown.pk)

    unknown.refresh_from_db()
    assert unknown.status == Status.FAILED
    copy = OutboundMessage.objects.get(resend_of=unknown)
    assert (copy.status, copy.source) == (Status.QUEUED, "resend")
    assert (SUCCESS, "1 message queued again.") in first
    [(level, text)] = second
    assert level == ERROR
    assert text.startswith(f"{unknown}: admin already resent it as #{copy.pk} at ")
    assert text.endswith("; nothing was changed.")


# --- Credits -----------------------------------------------------------------------------------


def test_an_order_is_added_and_paid_once_even_when_marked_paid_twice(
    admin_client, admin_user
) -> None:
    before = available_credits()
    response = admin_client.post(url(CreditOrder, "add"), {"credits": "500"})
    assert response.status_code == 302
    order = CreditOrder.objects.get()
    assert (order.credits, order.amount, order.status, order.ordered_by) == (
        Decimal(500),
        Decimal("50.00"),
        CreditOrder.Status.INVOICED,
        admin_user,
    )

    first = run_action(admin_client, CreditOrder, "mark_paid", order.pk)
    second = run_action(admin_client, CreditOrder, "mark_paid", order.pk)

    order.refresh_from_db()
    assert (order.status, order.paid_by) == (CreditOrder.Status.PAID, admin_user)
    assert available_credits() == before + 500
    assert LedgerEntry.objects.filter(order=order).count() == 1
    assert (SUCCESS, "1 invoice marked paid; credits added.") in first
    assert (WARNING, f"{order.invoice_number} was already paid; nothing added.") in second
    assert not [text for level, text in second if level == SUCCESS]


def test_a_paid_order_cannot_be_cancelled(admin_client, admin_user) -> None:
    order = credit_order_create(credits=100, user=admin_user)
    run_action(admin_client, CreditOrder, "mark_paid", order.pk)
    shown = run_action(admin_client, CreditOrder, "cancel", order.pk)
    order.refresh_from_db()
    assert order.status == CreditOrder.Status.PAID
    assert [level for level, _ in shown] == [ERROR]


@pytest.mark.parametrize("credits", ["0", "12.5", "abc"])
def test_an_order_for_a_non_whole_number_of_credits_is_refused(admin_client, credits) -> None:
    response = admin_client.post(url(CreditOrder, "add"), {"credits": credits})
    assert response.status_code == 200
    assert "credits" in response.context["adminform"].form.errors
    assert not CreditOrder.objects.exists()


@pytest.mark.parametrize("model", [LedgerEntry, CreditOrder], ids=lambda m: m.__name__)
def test_the_ledger_and_orders_show_the_balance_and_warn_when_it_is_low(
    admin_client, top_up, model
) -> None:
    policy = MessagingPolicy.load()
    policy.low_balance_threshold = Decimal(100)
    policy.save()
    top_up(40)

    low = admin_client.get(url(model, "changelist"))
    top_up(1000)
    fine = admin_client.get(url(model, "changelist"))

    assert "Balance: 40 credits available" in low.content.decode()
    assert [m.message for m in low.context["messages"] if m.level == WARNING] == [
        "Low balance: 40 credits left, under the warning threshold of 100. "
        "Order credits before automated sends stop."
    ]
    assert "Balance: 1,040 credits available" in fine.content.decode()
    assert not [m for m in fine.context["messages"] if m.level == WARNING]
