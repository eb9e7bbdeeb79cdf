from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "crm_messaging.staff"
    label = "staff"
    verbose_name = "Staff screens and roles"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="staff.sync_roles")
