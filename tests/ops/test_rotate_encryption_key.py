"""rotate_encryption_key: every stored secret moves to the first key, so the old one can go."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from channels_out.models import ChannelAccount

pytestmark = pytest.mark.django_db

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def _stored(account: ChannelAccount) -> str:
    """The column as the database holds it (a Fernet token)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secret FROM {ChannelAccount._meta.db_table} WHERE id = %s", [account.pk]
        )
        return cursor.fetchone()[0]


def test_secrets_encrypted_with_the_old_key_open_with_the_new_key_alone_after_rotation(
    settings, capsys
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    account = ChannelAccount.objects.create(
        channel="sms", backend="locmem", name="SMS", secret="auth-token", webhook_secret="hook"
    )
    empty = ChannelAccount.objects.create(channel="email", backend="locmem", name="Mail")
    before = _stored(account)

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_encryption_key")
    assert "channels_out.ChannelAccount: 2 row(s) re-encrypted" in capsys.readouterr().out
    assert _stored(account) != before

    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    account = ChannelAccount.objects.get(pk=account.pk)
    assert (account.secret, account.webhook_secret) == ("auth-token", "hook")
    assert ChannelAccount.objects.get(pk=empty.pk).secret == ""

    settings.FIELD_ENCRYPTION_KEYS = [OLD]  # the old key alone no longer opens anything
    with pytest.raises(ImproperlyConfigured):
        ChannelAccount.objects.get(pk=account.pk)


def test_a_secret_no_key_opens_stops_the_rotation_and_changes_nothing(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    kept = ChannelAccount.objects.create(channel="sms", backend="locmem", name="A", secret="one")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    ChannelAccount.objects.create(channel="sms", backend="locmem", name="B", secret="two")
    before = _stored(kept)

    settings.FIELD_ENCRYPTION_KEYS = [NEW, settings.FIELD_ENCRYPTION_KEYS[0]]  # OLD is missing
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("rotate_encryption_key")
    assert _stored(kept) == before
