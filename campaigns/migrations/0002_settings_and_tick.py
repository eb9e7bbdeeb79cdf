"""The campaign settings row and the minute tick (visible and editable in the admin)."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("campaigns", "CampaignSettings").objects.get_or_create(pk=1)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="campaigns: tick",
        defaults={
            "task": "campaigns.tick",
            "interval": every_minute,
            "description": "Hourly campaigns on the hour, daily campaigns when no night audit ran by the "
            "configured time, one-off campaigns when due, and any lost trigger or chunk picked up again.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="campaigns.tick").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
