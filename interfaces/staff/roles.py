"""Staff roles (issue 5): four groups and what each may do, kept in sync after every migrate.

| role | daily work |
| --- | --- |
| Manager | everything: accounts, credits, approvals, settings |
| Marketing | campaigns: build, preview, test, send (large sends need a manager) |
| Front desk | reservations, guests, consents, one-off messages, the inbox (guests' conversations, quick replies) |
| Operator | the send log: failures, unknown outcomes (mark sent / resend), messages held for quiet hours (send now), its CSV export |

Only managers (``guests.open_admin``) and superusers open the Django admin (``admin_site``).

Screens check permissions, never group names, so a hotel can re-shape the groups in the
admin; `sync_roles` only adds what a role needs and never removes what staff granted.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

MANAGER, MARKETING, FRONT_DESK, OPERATOR = "Manager", "Marketing", "Front desk", "Operator"
# Who may open the Django admin (and signs in with a second factor): the manager role has it.
ADMIN_PERMISSION = "guests.open_admin"

# app_label → codenames; "*" means every permission of the app.
ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    MANAGER: {
        "guests": ["*"],
        "channels_out": ["*"],
        "campaigns": ["*"],
        "portal": ["*"],
        "inbox": ["*"],
        "webhooks": ["*"],  # outbound webhook endpoints, their deliveries and redelivery
        "django_celery_beat": ["*"],
        "axes": ["*"],  # staff login attempts and lock-outs: unlock by deleting them
        "imports": ["*"],
        "mews": ["*"],
        "api": ["*"],
    },
    MARKETING: {
        "campaigns": [
            "view_campaign",
            "add_campaign",
            "change_campaign",
            "view_campaignstep",
            "add_campaignstep",
            "change_campaignstep",
            "delete_campaignstep",
            "view_messagevariant",
            "add_messagevariant",
            "change_messagevariant",
            "delete_messagevariant",
            "view_campaignrun",
            "send_campaign",
        ],
        "guests": ["view_guest", "view_reservation", "view_facilitybooking"],
        "channels_out": ["view_outboundmessage", "view_channelaccount", "view_suppression"],
    },
    FRONT_DESK: {
        "guests": [
            "view_guest",
            "add_guest",
            "change_guest",
            "view_reservation",
            "add_reservation",
            "change_reservation",
            "view_consentrecord",
            "add_consentrecord",
            "view_greylistentry",
            "add_greylistentry",
            "change_greylistentry",
            "view_facilitybooking",
            "add_facilitybooking",
            "change_facilitybooking",
            "view_guestmerge",
            "add_guestmerge",
        ],
        "channels_out": [
            "view_outboundmessage",
            "send_one_off",
            "view_inboundmessage",
            "view_suppression",
            "clear_suppression",
        ],
        "imports": ["run_import"],
        "inbox": [
            "view_conversation",
            "reply_conversation",
            "view_quickreply",
            "add_quickreply",
            "change_quickreply",
        ],
    },
    OPERATOR: {
        "channels_out": [
            "view_outboundmessage",
            "export_log",
            "resolve_unknown",
            "send_held",
            "view_deliveryevent",
            "view_inboundmessage",
            "view_channelaccount",
            "view_suppression",
            "clear_suppression",
        ],
        "guests": ["view_guest", "view_reservation"],
        "campaigns": ["view_campaign", "view_campaignrun"],
    },
}


def _permissions(spec: dict[str, list[str]]) -> list[Permission]:
    query = Q(pk__in=[])
    for app_label, codenames in spec.items():
        if "*" in codenames:
            query |= Q(content_type__app_label=app_label)
        else:
            query |= Q(content_type__app_label=app_label, codename__in=codenames)
    return list(Permission.objects.filter(query))


def sync_roles() -> dict[str, int]:
    """Create the four groups if missing and give each the permissions of its role (idempotent)."""
    granted = {}
    for role, spec in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = _permissions(spec)
        group.permissions.add(*permissions)
        granted[role] = len(permissions)
    return granted


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate: keep the roles in step with the permissions the apps define."""
    if getattr(sender, "label", "") == "staff":
        sync_roles()
