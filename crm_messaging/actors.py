"""Who did something: the staff member behind a service call, or the system."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import Model

logger = logging.getLogger("crm_messaging.staff_actions")

# What services accept as ``user``: a staff member, an anonymous request's user, or None
# for the system (a task, a webhook, a command).
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | None"


def acting_user(user: Any) -> Any:
    """Return the user to record as the author: a signed-in user, else None (the system)."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def record_staff_action(
    user: Actor, obj: Model, message: str | list[dict[str, Any]], *, added: bool = False
) -> None:
    """Keep a staff action that has no row of its own (a profile edit, a saved campaign, a
    switched setting) with its user: in the admin's history of ``obj`` (a ``LogEntry``,
    shown under *Recent actions* and on the object's history page) and as a log line.
    ``message`` is a sentence, or the admin's structured form (``[{"changed": {"fields": […]}}]``).
    Nothing is recorded without a signed-in user.
    """
    author = acting_user(user)
    if author is None:
        return
    LogEntry.objects.log_actions(
        user_id=author.pk,
        queryset=[obj],
        action_flag=ADDITION if added else CHANGE,
        change_message=message,
        single_object=True,
    )
    logger.info("%s (%s #%s) by %s", message, obj._meta.label, obj.pk, author.get_username())


def record_staff_actions(
    user: Actor, objs: Sequence[Model], message: str | Sequence[str], *, added: bool = False
) -> None:
    """``record_staff_action`` for many objects at once (one statement): the same history
    entry and log line for each, with ``message`` or each object's own (a list)."""
    author = acting_user(user)
    if author is None or not objs:
        return
    messages = [message] * len(objs) if isinstance(message, str) else list(message)
    if len(objs) == 1:
        record_staff_action(user, objs[0], messages[0], added=added)
        return
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                user_id=author.pk,
                content_type_id=ContentType.objects.get_for_model(obj, for_concrete_model=False).id,
                object_id=obj.pk,
                object_repr=str(obj)[:200],
                action_flag=ADDITION if added else CHANGE,
                change_message=text,
            )
            for obj, text in zip(objs, messages, strict=True)
        ]
    )
    for obj, text in zip(objs, messages, strict=True):
        logger.info("%s (%s #%s) by %s", text, obj._meta.label, obj.pk, author.get_username())
