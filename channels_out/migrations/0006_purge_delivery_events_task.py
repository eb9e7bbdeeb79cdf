"""The daily clean-up of old delivery events, as a periodic task in the admin."""

from django.db import migrations


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    PeriodicTask.objects.get_or_create(
        name="channels_out: purge old delivery events",
        defaults={
            "task": "channels_out.purge_delivery_events",
            "interval": daily,
            "description": "Delete delivery events (receipts, provider answers) older than "
            "DELIVERY_EVENT_RETENTION_DAYS (default 365). Messages keep their status and cost.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="channels_out.purge_delivery_events"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("channels_out", "0005_credit_order_cancelled_by"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
