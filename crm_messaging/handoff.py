"""Handing work to the Celery broker without making a broker outage the caller's error.

Every task handed over here works on rows that are already committed and that a periodic
pick-up also finds: channels_out's sweeper re-dispatches queued messages, campaigns' tick
processes pending trigger events and re-drives unfinished runs. So when the broker cannot
take a task (Redis down, a refused connection, a network timeout) the hand-off is logged
and left to that pick-up: the transaction that wrote the rows is committed and what the
caller was told ("queued") is true; nothing is lost and nothing goes twice, because the
work itself is idempotent (claims and dedupe keys).

A service names the task it hands over ("channels_out.deliver_messages"), as Celery's own
``send_task`` does: the task modules import the services, never the other way round, so no
service has to import its task module inside a function.
"""

from __future__ import annotations

import logging
import reprlib
from functools import partial
from typing import Any

from celery import Task, current_app
from django.db import transaction
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What publishing a task raises when the broker cannot take it: kombu's OperationalError
# (its connection errors after the publish retries), redis-py's own errors, socket errors.
BROKER_ERRORS: tuple[type[Exception], ...] = (KombuError, RedisError, OSError)


def registered_task(task: Task | str) -> Task:
    """The task itself, or the registered task of that name (NotRegistered for an unknown one).

    A worker imports every app's task module when it starts; any other process (web, beat, a
    command) does it here the first time it names a task that nothing has imported yet.
    """
    if not isinstance(task, str):
        return task
    if task not in current_app.tasks:
        current_app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery)
    return current_app.tasks[task]


def hand_off(task: Task | str, *args: Any, **options: Any) -> bool:
    """Send ``task(*args)`` to the broker (``options`` as for ``apply_async``); return whether it took it.

    ``task`` is a task or a registered task's name. A broker error is logged, not raised. With
    ``task_always_eager`` (tests, a one-process setup) there is no broker: the task runs here
    and its own errors propagate.
    """
    task = registered_task(task)
    if task.app.conf.task_always_eager:
        task.apply_async(args, **options)
        return True
    try:
        task.apply_async(args, **options)
    except BROKER_ERRORS as exc:
        logger.error(
            "The broker did not take %s%s (%s: %s); the work stays committed for its periodic pick-up.",
            task.name,
            reprlib.repr(args),
            type(exc).__name__,
            exc,
        )
        return False
    return True


def hand_off_on_commit(task: Task | str, *args: Any, **options: Any) -> None:
    """Hand ``task(*args)`` to the broker once the current transaction commits (see ``hand_off``)."""
    transaction.on_commit(partial(hand_off, task, *args, **options))
