"""The daily clean-up of old login codes, as a periodic task in the admin."""

from django.db import migrations


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    PeriodicTask.objects.get_or_create(
        name="portal: purge old login codes",
        defaults={
            "task": "portal.purge_login_codes",
            "interval": daily,
            "description": "Delete guest-portal login codes (expired after 10 minutes) once "
            "their 30 days of retention for the send limits and the audit are over.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="portal.purge_login_codes"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
