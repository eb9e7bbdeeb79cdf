"""The worker heartbeat and the expired-session clean-up, as periodic tasks in the admin."""

from django.db import migrations

from crm_messaging.ops.schedules import periodic_task_create, periodic_tasks_remove


def create(apps, schema_editor):
    periodic_task_create(
        apps,
        name="ops: worker heartbeat",
        task="ops.heartbeat",
        every=30,
        period="seconds",
        # A heartbeat nobody ran in time means nothing later: never work through a backlog.
        expire_seconds=60,
        description="A worker notes that it is alive; /readyz reports workers down without it.",
    )
    periodic_task_create(
        apps,
        name="ops: clear expired sessions",
        task="ops.clear_expired_sessions",
        every=1,
        period="hours",
        description="Delete expired staff and guest sessions.",
    )


def remove(apps, schema_editor):
    periodic_tasks_remove(apps, "ops.heartbeat", "ops.clear_expired_sessions")


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, remove)]
