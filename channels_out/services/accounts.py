"""Channel accounts from the staff screens (S1): saving one, checking its login without sending."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from crm_messaging.actors import Actor, record_staff_action

from ..backends import TransportError, backend_class
from ..models import ChannelAccount


@dataclass(frozen=True)
class AccountCheck:
    """The outcome of a credentials check: ``ok`` and what was checked, or why it failed."""

    ok: bool
    detail: str


@transaction.atomic
def channel_account_save(*, account: ChannelAccount, user: Actor = None) -> ChannelAccount:
    """Save a validated account (``ChannelAccountForm`` ran ``full_clean``), kept in its history.

    The history names what changed, never a secret's value.
    """
    adding = account._state.adding
    account.save()
    record_staff_action(
        user,
        account,
        "Added the account." if adding else "Changed the account.",
        added=adding,
    )
    return account


def channel_account_check(*, account: ChannelAccount, user: Actor = None) -> AccountCheck:
    """Test the account's login or credentials with its provider; send nothing.

    SMTP connects and logs in; Twilio reads the account resource; NetGSM lists the
    approved headers (and finds the account's). The detail never holds a secret. The check
    is kept in the account's history.
    """
    problems = backend_class(account.backend).account_errors(account)
    if problems:
        result = AccountCheck(False, " ".join(problems.values()))
    else:
        backend = backend_class(account.backend)(account)
        try:
            result = AccountCheck(True, backend.check_credentials())
        except TransportError as exc:
            result = AccountCheck(False, exc.message)
        except NotImplementedError as exc:
            result = AccountCheck(False, str(exc))
    record_staff_action(
        user, account, f"Checked the account: {'works' if result.ok else 'failed'}."
    )
    return result
