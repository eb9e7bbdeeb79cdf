"""The daily clean-up of old login codes, as a periodic task in the admin."""

from django.db import migrations

from crm_messaging.ops.schedules import periodic_task_create, periodic_tasks_remove


def create(apps, schema_editor):
    periodic_task_create(
        apps,
        name="portal: purge old login codes",
        task="portal.purge_login_codes",
        every=1,
        period="days",
        description="Delete guest-portal login codes (expired after 10 minutes) once their "
        "30 days of retention for the send limits and the audit are over.",
    )


def remove(apps, schema_editor):
    periodic_tasks_remove(apps, "portal.purge_login_codes")


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_code_purpose"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
