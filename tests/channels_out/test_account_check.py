"""Checking an account without sending (seed 002; S1): an SMTP login against aiosmtpd with AUTH,
Twilio's, NetGSM's and Vonage's credentials against their local fakes; nothing is sent, no secret shown."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.contrib.admin.models import LogEntry

from channels_out.models import ChannelAccount
from channels_out.services.accounts import channel_account_check
from tests.fakes.netgsm_api import running_fake_netgsm
from tests.fakes.smtp_server import FakeSmtpServer, running_smtp_server
from tests.fakes.twilio_api import running_fake_twilio

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Passw0rd"
ACCOUNT_SID, AUTH_TOKEN = "AC" + "1" * 32, "twilio-auth-token-0123"


def _only_hotel(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"hotel",
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # AUTH without TLS: this is loopback
        with running_smtp_server(authenticator=_only_hotel, auth_require_tls=False) as server:
            yield server


def _smtp_account(port: int, secret: str) -> ChannelAccount:
    return ChannelAccount.objects.create(
        channel="email",
        backend="smtp",
        name="Hotel mail",
        host="127.0.0.1",
        port=port,
        use_tls=False,
        username="hotel",
        secret=secret,
        sender="reservations@lykiabay.example",
        timeout_seconds=2,
    )


def test_a_right_smtp_login_works_and_sends_nothing(smtp, django_user_model) -> None:
    manager = django_user_model.objects.create_user("manager")
    result = channel_account_check(account=_smtp_account(smtp.port, PASSWORD), user=manager)
    assert result.ok, result.detail
    assert result.detail == f"logged in to 127.0.0.1:{smtp.port} as hotel"
    assert smtp.received == []
    entry = LogEntry.objects.get(user=manager)
    assert entry.change_message == "Checked the account: works."


def test_a_wrong_smtp_password_fails_without_showing_it(smtp) -> None:
    result = channel_account_check(account=_smtp_account(smtp.port, "wrong-" + PASSWORD))
    assert not result.ok
    assert "535" in result.detail and PASSWORD not in result.detail
    assert smtp.received == []


def test_an_smtp_server_that_is_not_there_fails(db) -> None:
    with running_smtp_server() as server:
        port = server.port
    result = channel_account_check(account=_smtp_account(port, PASSWORD))
    assert not result.ok and "could not connect" in result.detail


def test_twilio_credentials_are_read_from_the_account_resource() -> None:
    with running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        account = ChannelAccount.objects.create(
            channel="sms",
            backend="twilio_sms",
            name="Twilio",
            sender="+15005550006",
            account_id=ACCOUNT_SID,
            secret=AUTH_TOKEN,
            api_base_url=fake.base_url,
        )
        assert channel_account_check(account=account).ok
        ChannelAccount.objects.filter(pk=account.pk).update(secret="wrong-token")
        account.refresh_from_db()
        refused = channel_account_check(account=account)
        assert [r.method for r in fake.requests] == ["GET", "GET"]
        assert fake.messages == {}
    assert not refused.ok and "401" in refused.detail


def test_netgsm_credentials_and_the_header_are_checked() -> None:
    with running_fake_netgsm("8503001122", "pw", headers=("LYKIA BAY",)) as fake:
        account = ChannelAccount.objects.create(
            channel="sms",
            backend="netgsm",
            name="NetGSM",
            sender="LYKIA BAY",
            account_id="8503001122",
            secret="pw",
            api_base_url=fake.base_url,
        )
        assert channel_account_check(account=account).ok
        ChannelAccount.objects.filter(pk=account.pk).update(sender="OTHER")
        account.refresh_from_db()
        unapproved = channel_account_check(account=account)
        ChannelAccount.objects.filter(pk=account.pk).update(secret="wrong")
        account.refresh_from_db()
        refused = channel_account_check(account=account)
        assert fake.jobs == {}
    assert not unapproved.ok and "“OTHER” is not approved" in unapproved.detail
    assert not refused.ok and "(30)" in refused.detail


def test_an_incomplete_account_says_what_is_missing(db) -> None:
    account = ChannelAccount.objects.create(channel="sms", backend="netgsm", name="N")
    result = channel_account_check(account=account)
    assert not result.ok and "user code" in result.detail


def test_vonage_credentials_are_read_from_the_account_balance() -> None:
    from tests.fakes.vonage_messages import running_fake_vonage

    with running_fake_vonage("abcd1234", "vonage-secret") as fake:
        account = ChannelAccount.objects.create(
            channel="viber",
            backend="vonage_viber",
            name="Vonage Viber",
            sender="16273",
            account_id="abcd1234",
            secret="vonage-secret",
            webhook_secret="signature-secret",
            api_base_url=fake.base_url,
        )
        works = channel_account_check(account=account)
        ChannelAccount.objects.filter(pk=account.pk).update(secret="wrong-secret")
        account.refresh_from_db()
        refused = channel_account_check(account=account)
        asked = [(r.method, r.path) for r in fake.requests]
        sent, balance = fake.messages, fake.balance
    assert works.ok, works.detail
    assert works.detail == "Vonage API key abcd1234 works (balance 10.28 EUR)"
    assert not refused.ok and "401" in refused.detail and "wrong-secret" not in refused.detail
    # Only the balance was read: nothing sent, nothing charged.
    assert asked == [("GET", "/account/get-balance")] * 2
    assert sent == {} and balance == 10.28
