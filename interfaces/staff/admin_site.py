"""The Django admin, for managers and superusers only.

The admin is for setup and data (accounts, prices, reference lists, the raw send log); daily
work happens in the staff screens. Every role is ``is_staff`` (to sign in to the screens),
so the admin asks for more: a superuser, or the ``guests.open_admin`` permission the manager
role holds.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest

ADMIN_PERMISSION = "guests.open_admin"


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
        )


class StaffAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``StaffAdminSite`` as ``admin.site``."""

    default_site = "interfaces.staff.admin_site.StaffAdminSite"
