from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    name = "interfaces.staff"
    label = "staff"
    verbose_name = "Staff screens and roles"

    def ready(self) -> None:
        # roles imports the auth models, which exist only once the app registry is ready.
        from .roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="staff.sync_roles")


class StaffAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with ``StaffAdminSite`` (managers and superusers) as ``admin.site``."""

    default = False  # named in INSTALLED_APPS; StaffConfig is this module's default
    default_site = "interfaces.staff.admin_site.StaffAdminSite"
