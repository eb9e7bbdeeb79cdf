"""What the campaign screen tests share: staff in a role, the editor's POST data, a run with messages.

Imported by the ``test_screens_*`` modules; it holds no tests of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from campaigns.models import Campaign, CampaignRun
from channels_out.services import Step, message_send
from crm_messaging.ui.once import new_nonce
from interfaces.staff.roles import sync_roles

FIELD_DEFAULTS: dict[str, Any] = {
    "name": "Spring offer",
    "description": "",
    "is_active": "on",
    "valid_from": "",
    "valid_until": "",
    "purpose": "marketing",
    "source": "guests",
    "recipients": "booker",
    "trigger": "operator",
    "timing": "",
    "offset": "0",
    "scheduled_at": "",
    "rate_min": "",
    "rate_max": "",
    "nights_min": "",
    "nights_max": "",
    "age_mode": "",
    "age_min": "",
    "age_max": "",
    "birthday": "",
    "vip_min": "",
    "stays_min": "",
    "stays_max": "",
    "balance_min": "",
    "exclude_greylisted": "on",
}


def staff_user(role: str, username: str | None = None) -> Any:
    """A member of staff in one of the four roles."""
    sync_roles()
    user = get_user_model().objects.create_user(
        username or role.lower().replace(" ", ""), password="pw", first_name=role
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def editor_data(
    *,
    steps: Iterable[str | tuple[str, int | None]] = ("sms",),
    texts: dict[str, str] | None = None,
    subjects: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The POST of the campaign editor: the campaign's fields, up to four plan steps, a message per language.

    A boolean field is on when given as "on" and off when given as None (left out).
    """
    data: dict[str, Any] = {"nonce": new_nonce()}  # a new campaign is made once per key
    for name, value in {**FIELD_DEFAULTS, **fields}.items():
        if value is not None:
            data[name] = value
    rows = [step if isinstance(step, tuple) else (step, None) for step in steps]
    data.update(
        {
            "steps-TOTAL_FORMS": "4",
            "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "4",
        }
    )
    for index in range(4):
        channel, account = rows[index] if index < len(rows) else ("", None)
        data[f"steps-{index}-channel"] = channel
        data[f"steps-{index}-account"] = "" if account is None else str(account)
    texts = {"en": "Hello @NAME"} if texts is None else texts
    for code, _name in settings.GUEST_LANGUAGES:
        prefix = f"v-{code}-"
        data[prefix + "subject"] = (subjects or {}).get(code, "")
        data[prefix + "html"] = ""
        data[prefix + "text"] = texts.get(code, "")
        data[prefix + "whatsapp_content_sid"] = ""
        data[prefix + "whatsapp_variables"] = "{}"
        data[prefix + "note"] = ""
    return data


def run_with_messages(
    campaign: Campaign, *, n: int = 2, state: str = CampaignRun.State.DONE
) -> CampaignRun:
    """A finished run of ``campaign`` with ``n`` messages in the send log."""
    run = CampaignRun.objects.create(
        campaign=campaign,
        trigger=campaign.trigger,
        state=state,
        audience_size=n,
        occurrence=f"test:{campaign.pk}:{CampaignRun.objects.count()}",
    )
    for index in range(n):
        message_send(
            steps=Step(channel="sms", to=f"+9053211{run.pk:03d}{index:02d}", text="Hi"),
            dedupe_key=f"test-run:{run.pk}:{index}",
            origin=run,
            source="campaign",
        )
    return run
