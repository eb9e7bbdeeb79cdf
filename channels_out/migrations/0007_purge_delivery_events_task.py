"""The daily clean-up of old delivery events, as a periodic task in the admin."""

from django.db import migrations

from crm_messaging.ops.schedules import periodic_task_create, periodic_tasks_remove


def create(apps, schema_editor):
    periodic_task_create(
        apps,
        name="channels_out: purge old delivery events",
        task="channels_out.purge_delivery_events",
        every=1,
        period="days",
        description="Delete delivery events (receipts, provider answers) older than "
        "DELIVERY_EVENT_RETENTION_DAYS (default 365). Messages keep their status and cost.",
    )


def remove(apps, schema_editor):
    periodic_tasks_remove(apps, "channels_out.purge_delivery_events")


class Migration(migrations.Migration):
    dependencies = [
        ("channels_out", "0006_outbound_sealed_and_export_permission"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
