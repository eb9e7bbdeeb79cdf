"""Reading receipts of providers without delivery webhooks (NetGSM), as a periodic task in the admin."""

from django.db import migrations

from crm_messaging.ops.schedules import periodic_task_create, periodic_tasks_remove


def create(apps, schema_editor):
    periodic_task_create(
        apps,
        name="channels_out: poll delivery receipts",
        task="channels_out.poll_receipts",
        every=2,
        period="minutes",
        description="Ask providers without delivery webhooks (NetGSM) for the receipts of "
        "messages still sent in the last 3 days.",
    )


def remove(apps, schema_editor):
    periodic_tasks_remove(apps, "channels_out.poll_receipts")


class Migration(migrations.Migration):
    dependencies = [
        ("channels_out", "0010_balance_crossings"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
