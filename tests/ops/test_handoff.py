"""Services name the task they hand over; the name finds the task in any process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from celery.exceptions import NotRegistered
from django.conf import settings

from crm_messaging.handoff import registered_task


def test_a_name_finds_its_task_in_a_process_that_imported_no_task_module() -> None:
    # A web process: Django is set up, no tasks module imported yet (a worker imports them all
    # when it starts, a web process does not).
    script = textwrap.dedent(
        """
        import sys
        import django
        django.setup()
        from celery import current_app
        from crm_messaging.handoff import registered_task
        assert "campaigns.tasks" not in sys.modules, "the premise: nothing imported it yet"
        assert "campaigns.process_trigger_event" not in current_app.tasks
        task = registered_task("campaigns.process_trigger_event")
        print(task.name, task.__module__)
        """
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm_messaging.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["campaigns.process_trigger_event", "campaigns.tasks"]


def test_an_unknown_name_is_a_programming_error_not_a_broker_outage() -> None:
    with pytest.raises(NotRegistered):
        registered_task("channels_out.no_such_task")


def test_a_task_passes_through() -> None:
    from channels_out.tasks import deliver_messages

    assert registered_task(deliver_messages) is deliver_messages
    found = registered_task("channels_out.deliver_messages")
    assert found.name == deliver_messages.name and found.run is deliver_messages.run
