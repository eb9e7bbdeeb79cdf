"""The Django admin, for managers and superusers only.

The admin is for setup and data (accounts, prices, reference lists, the raw send log); daily
work happens in the staff screens. Every role is ``is_staff`` (to sign in to the screens),
so the admin asks for more: a superuser, or the ``guests.open_admin`` permission the manager
role holds — and, where two-factor sign-in applies, the code of the day (``two_factor``).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .roles import ADMIN_PERMISSION
from .two_factor import owes_code


class StaffAdminSite(admin.AdminSite):
    site_header = "Hotel CRM messaging"
    site_title = "Hotel CRM"
    index_title = "Guests, campaigns and messages"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and (user.is_superuser or user.has_perm(ADMIN_PERMISSION))
            and not owes_code(user)
        )
