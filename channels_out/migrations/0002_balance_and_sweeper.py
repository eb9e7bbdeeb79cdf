"""The single credit balance row, and the periodic sweeper task (visible in the admin)."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("channels_out", "CreditBalance").objects.get_or_create(pk=1)
    apps.get_model("channels_out", "MessagingPolicy").objects.get_or_create(pk=1)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_30s, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="channels_out: sweep the send log",
        defaults={
            "task": "channels_out.sweep",
            "interval": every_30s,
            "description": "Re-dispatch forgotten queued messages, settle sends stuck in 'sending', start Viber TTL fallbacks.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="channels_out.sweep").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("channels_out", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
