"""Channel accounts from the campaign editor (seed 000's "+" and "…"): the dialog creates or
edits the account a step uses without leaving the editor; secrets stay write-only; a manager
checks the login; marketing staff, who may not change accounts, see no buttons."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from channels_out.models import ChannelAccount
from tests.campaigns.test_screens_support import staff_user

pytestmark = pytest.mark.django_db

NEW = reverse("campaigns:account-create")
STEP = reverse("campaigns:account-step")


def _new_sms(**extra: str) -> dict[str, str]:
    data = {
        "account-name": "NetGSM",
        "account-channel": "sms",
        "account-backend": "netgsm",
        "account-is_active": "on",
        "account-sender": "LYKIA BAY",
        "account-account_id": "8503001122",
        "account-secret": "netgsm-pw",
        "account-timeout_seconds": "10",
        "account-rate_per_second": "10",
        "account-engagement_tracking": "",
        "step_select": "id_steps-1-account",
    }
    data.update(extra)
    return data


def test_the_editor_offers_the_buttons_to_managers_only(client) -> None:
    client.force_login(staff_user("Manager"))
    assert f'hx-get="{NEW}"' in client.get(reverse("campaigns:campaign-create")).content.decode()
    client.force_login(staff_user("Marketing"))
    html = client.get(reverse("campaigns:campaign-create")).content.decode()
    assert f'hx-get="{NEW}"' not in html and f'hx-get="{STEP}"' not in html


def test_the_plus_opens_a_new_account_of_the_steps_channel(client) -> None:
    client.force_login(staff_user("Manager"))
    html = client.get(NEW, {"steps-1-channel": "sms", "steps-1-account": ""}).content.decode()
    assert "<dialog open" in html
    assert '<option value="sms" selected>' in html
    assert 'name="step_select" value="id_steps-1-account"' in html


def test_saving_adds_the_account_and_chooses_it_for_the_step(client) -> None:
    manager = staff_user("Manager")
    client.force_login(manager)
    html = client.post(NEW, _new_sms()).content.decode()
    account = ChannelAccount.objects.get(name="NetGSM")
    assert str(account.secret) == "netgsm-pw"
    assert "netgsm-pw" not in html  # write-only
    assert 'hx-swap-oob="beforeend:#id_steps-1-account"' in html
    assert f'<option value="{account.pk}" data-channel="sms" selected>NetGSM</option>' in html
    assert LogEntry.objects.get(user=manager).change_message == "Added the account."


def test_a_refused_account_shows_its_errors_and_saves_nothing(client) -> None:
    client.force_login(staff_user("Manager"))
    html = client.post(NEW, _new_sms(**{"account-sender": "A" * 20})).content.decode()
    assert ChannelAccount.objects.count() == 0
    assert 'id="id_account-sender_error"' in html


def test_the_dots_edit_the_steps_account_or_its_channels_default(client) -> None:
    client.force_login(staff_user("Manager"))
    default = ChannelAccount.objects.create(
        channel="sms", backend="sandbox", name="Sandbox SMS", is_default=True, sender="LYKIA"
    )
    html = client.get(STEP, {"steps-0-channel": "sms", "steps-0-account": ""}).content.decode()
    assert "Account “Sandbox SMS”" in html
    edited = client.post(
        reverse("campaigns:account-edit", args=[default.pk]),
        {
            **_new_sms(**{"account-name": "Sandbox texts", "account-backend": "sandbox"}),
            "account-secret": "",
            "account-is_default": "on",
        },
    ).content.decode()
    default.refresh_from_db()
    assert default.name == "Sandbox texts"
    assert f"option[value='{default.pk}']" in edited


def test_check_reports_and_is_a_post_for_managers(client) -> None:
    account = ChannelAccount.objects.create(
        channel="sms", backend="sandbox", name="Sandbox SMS", sender="LYKIA"
    )
    url = reverse("campaigns:account-check", args=[account.pk])
    client.force_login(staff_user("Marketing"))
    assert client.post(url).status_code == 403
    client.force_login(staff_user("Manager"))
    assert client.get(url).status_code == 405
    html = client.post(url).content.decode()
    assert 'data-check-result="ok"' in html and "the sandbox needs no login" in html


def test_the_check_result_reads_in_the_managers_language(client) -> None:
    account = ChannelAccount.objects.create(
        channel="sms", backend="sandbox", name="Sandbox SMS", sender="LYKIA"
    )
    client.force_login(staff_user("Manager"))
    client.cookies["django_language"] = "tr"
    html = client.post(reverse("campaigns:account-check", args=[account.pk])).content.decode()
    assert 'data-check-result="ok"' in html
    assert "deneme ortamı giriş gerektirmez" in html and "needs no login" not in html


def test_marketing_cannot_open_or_save_accounts(client) -> None:
    client.force_login(staff_user("Marketing"))
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, _new_sms()).status_code == 403
    assert ChannelAccount.objects.count() == 0


def test_a_turkish_manager_reads_the_dialog_and_its_errors_in_turkish(client) -> None:
    """The dialog reuses the admin's form: its labels, help texts and the account's own
    checks come in the reader's language (issue 12)."""
    client.force_login(staff_user("Manager"))
    client.cookies["django_language"] = "tr"
    html = client.get(NEW, {"steps-1-channel": "sms"}).content.decode()
    assert "Varsayılan hesap" in html and "Is default" not in html
    assert "Viber&#x27;den sonra SMS hesabı" in html and "Fallback account" not in html
    refused = client.post(
        NEW, _new_sms(**{"account-staffed_from": "08:00", "account-ttl_seconds": "60"})
    ).content.decode()
    assert "Geçerlilik süresi yalnızca Viber mesajlarında vardır." in refused
    assert "Çalışma saatlerinin iki ucunu da girin" in refused
    missing = client.post(NEW, _new_sms(**{"account-account_id": ""})).content.decode()
    assert "NetGSM kullanıcı kodunu (usercode) girin." in missing
    assert not ChannelAccount.objects.filter(name="NetGSM").exists()
