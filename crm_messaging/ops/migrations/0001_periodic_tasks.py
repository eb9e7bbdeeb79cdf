"""The worker heartbeat and the expired-session clean-up, as periodic tasks in the admin."""

from django.db import migrations

TASKS = ("ops.heartbeat", "ops.clear_expired_sessions")


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_30s, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name="ops: worker heartbeat",
        defaults={
            "task": "ops.heartbeat",
            "interval": every_30s,
            # A heartbeat nobody ran in time means nothing later: never work through a backlog.
            "expire_seconds": 60,
            "description": "A worker notes that it is alive; /readyz reports workers down without it.",
        },
    )
    PeriodicTask.objects.get_or_create(
        name="ops: clear expired sessions",
        defaults={
            "task": "ops.clear_expired_sessions",
            "interval": hourly,
            "description": "Delete expired staff and guest sessions.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=TASKS).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, remove)]
