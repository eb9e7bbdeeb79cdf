"""Fixtures for the sender layer live in tests/conftest.py (campaign tests share them); the
ones here serve only the sender layer's screens."""

import pytest
from django.contrib.auth.models import Group

from interfaces.staff.roles import sync_roles


@pytest.fixture
def operator(client, django_user_model):
    """An operator, signed in on ``client``."""
    sync_roles()
    user = django_user_model.objects.create_user("operator")
    user.groups.add(Group.objects.get(name="Operator"))
    client.force_login(user)
    return user
