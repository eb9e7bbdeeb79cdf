"""The daily clean-up of old webhook events, as a periodic task in the admin."""

from django.db import migrations

from crm_messaging.ops.schedules import periodic_task_create, periodic_tasks_remove


def create(apps, schema_editor):
    periodic_task_create(
        apps,
        name="webhooks: purge old events",
        task="webhooks.purge_events",
        every=1,
        period="days",
        description="Delete webhook events (with their deliveries and attempts) older than "
        "WEBHOOK_EVENT_RETENTION_DAYS whose deliveries are all finished.",
    )


def remove(apps, schema_editor):
    periodic_tasks_remove(apps, "webhooks.purge_events")


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
