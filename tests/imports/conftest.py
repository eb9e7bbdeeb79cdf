from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group

from interfaces.staff.roles import sync_roles


@pytest.fixture
def login(client, django_user_model) -> Callable[..., Any]:
    def as_role(role: str | None) -> Any:
        sync_roles()
        user = django_user_model.objects.create_user((role or "nobody").lower().replace(" ", ""))
        if role:
            user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role
