"""Who did something: the staff member behind a service call, or the system."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

# What services accept as ``user``: a staff member, an anonymous request's user, or None
# for the system (a task, a webhook, a command).
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | None"


def acting_user(user: Any) -> Any:
    """Return the user to record as the author: a signed-in user, else None (the system)."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None
