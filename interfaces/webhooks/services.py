"""Writes of the webhooks app (I2): endpoints, the outbox of events, delivery attempts.

Events are written by ``events_record`` inside the transaction of their cause (the signal
receivers call it), one delivery per subscribed endpoint; the delivery task is handed to
the broker on commit, and the periodic sweep picks up whatever the broker did not take. A
delivery is claimed by a conditional UPDATE before its request goes out, so two workers
never send it at the same moment; the receiver may still see it twice (at least once), with
the same ``webhook-id``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

import urllib3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from crm_messaging.actors import Actor, acting_user, record_staff_action
from crm_messaging.handoff import hand_off, hand_off_on_commit

from .addresses import Refused, Unresolved, destination, post_pinned, url_refusal
from .models import (
    RETRY_WINDOW,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .payloads import iso
from .signing import secret_generate, signed_headers

logger = logging.getLogger(__name__)

# A claimed delivery is not taken again for this long (longer than one request can take).
CLAIM_LEASE = dt.timedelta(minutes=5)
REQUEST_TIMEOUT = (5.0, 10.0)  # connect, read (seconds)
EXCERPT_LENGTH = 500
FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 6 * 3600
USER_AGENT = "HotelCRM-Webhooks/1"


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 30 s, doubling, at most 6 h."""
    seconds = FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, LONGEST_RETRY_SECONDS))


# --- endpoints -------------------------------------------------------------------------------


def _checked(url: str, events: Sequence[str]) -> tuple[str, list[str]]:
    errors: dict[str, str] = {}
    url = (url or "").strip()
    schemes = ["https"] if settings.WEBHOOKS_REQUIRE_HTTPS else ["http", "https"]
    try:
        URLValidator(schemes=schemes)(url)
    except ValidationError:
        if any(url.lower().startswith(f"{scheme}://") for scheme in schemes):
            # The scheme is right: say what is wrong ("http://2130706433/" is no host name).
            errors["url"] = gettext("The address is not a valid URL.")
        else:
            errors["url"] = (
                gettext("Enter an https:// address.")
                if settings.WEBHOOKS_REQUIRE_HTTPS
                else gettext("Enter an http:// or https:// address.")
            )
    if len(url) > 500:
        errors["url"] = gettext("The address is longer than 500 characters.")
    if "url" not in errors:
        refusal = url_refusal(url)  # a public address only (no server-side request forgery)
        if refusal:
            errors["url"] = refusal
    unknown = [event for event in events if event not in EventType.values]
    if unknown:
        errors["events"] = gettext("Unknown event types: %(types)s.") % {
            "types": ", ".join(map(str, unknown))
        }
    elif not events:
        errors["events"] = gettext("Choose at least one event.")
    if errors:
        raise ValidationError(errors)
    return url, [event for event in EventType.values if event in events]


@transaction.atomic
def endpoint_create(
    *, url: str, events: Sequence[str], description: str = "", user: Actor = None
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; return it and its secret, which is shown this once.

    Raises ValidationError for an address that is not http(s) (https only where
    ``WEBHOOKS_REQUIRE_HTTPS``), carries a user name or password, uses a port under 1024
    other than 80/443, or whose host is (or resolves to) an address that is not public and
    not in ``WEBHOOKS_ALLOWED_PRIVATE_NETWORKS``; for an unknown event type or no event.
    """
    url, events = _checked(url, events)
    secret = secret_generate()
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        events=events,
        description=(description or "").strip()[:200],
        secret=secret,
        created_by=acting_user(user),
    )
    record_staff_action(user, endpoint, f"Registered the webhook endpoint {url}.", added=True)
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    events: Sequence[str],
    description: str = "",
    user: Actor = None,
) -> WebhookEndpoint:
    """Change an endpoint's address, events or description. Raises ValidationError."""
    url, events = _checked(url, events)
    endpoint.url, endpoint.events = url, events
    endpoint.description = (description or "").strip()[:200]
    endpoint.save(update_fields=["url", "events", "description"])
    record_staff_action(
        user, endpoint, f"Changed the webhook endpoint: {url}, {', '.join(events)}."
    )
    return endpoint


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: WebhookEndpoint, user: Actor = None) -> str:
    """Give the endpoint a new secret at once (the old one stops); return it to show once."""
    secret = secret_generate()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret)
    record_staff_action(user, endpoint, "Replaced the webhook endpoint's secret.")
    return secret


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint, user: Actor = None) -> WebhookEndpoint:
    """Start delivering to the endpoint again (its failure clock starts afresh)."""
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
    endpoint.failing_since = None
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "failing_since"])
    record_staff_action(user, endpoint, "Enabled the webhook endpoint.")
    return endpoint


def _disable(endpoint: WebhookEndpoint, *, reason: str, now: dt.datetime) -> int:
    """Stop the endpoint; its pending deliveries fail (a manager may redeliver them)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:255]
    )
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason[:255]
    return WebhookDelivery.objects.filter(
        endpoint=endpoint, status=WebhookDelivery.Status.PENDING
    ).update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None, last_error=reason[:255])


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, user: Actor = None) -> WebhookEndpoint:
    """A manager stops deliveries to the endpoint; its pending deliveries fail."""
    _disable(endpoint, reason="", now=timezone.now())
    record_staff_action(user, endpoint, "Disabled the webhook endpoint.")
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, user: Actor = None) -> None:
    """Remove the endpoint with its deliveries and their log."""
    record_staff_action(user, endpoint, f"Deleted the webhook endpoint {endpoint.url}.")
    endpoint.delete()


# --- the outbox ------------------------------------------------------------------------------


def _envelope(
    event_id: str, event_type: str, at: dt.datetime, data: dict[str, Any]
) -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "timestamp": iso(at), "data": data}


def events_record(event_type: str, items: Sequence[tuple[str, dict[str, Any]]]) -> list[int]:
    """Write one event per (cause, data) for the endpoints subscribed to ``event_type``, in
    the caller's transaction; return the ids of the deliveries made.

    ``cause`` names what happened, once ("message:12:delivered"): an event already written
    for it is not written again, nor delivered again. Nothing is written when no active
    endpoint wants the type. The delivery tasks go to the broker after commit; what the
    broker does not take, the sweep sends.
    """
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.wants(event_type)]
    if not endpoints or not items:
        return []
    now = timezone.now()
    with transaction.atomic():
        causes = [cause for cause, _ in items]
        known = set(WebhookEvent.objects.filter(cause__in=causes).values_list("cause", flat=True))
        fresh = []
        for cause, data in items:
            if cause in known:
                continue
            known.add(cause)
            event_id = f"evt_{uuid.uuid4().hex}"
            fresh.append(
                WebhookEvent(
                    event_id=event_id,
                    type=event_type,
                    cause=cause,
                    payload=_envelope(event_id, event_type, now, data),
                    created_at=now,
                )
            )
        events = WebhookEvent.objects.bulk_create(fresh)
        if not events[:1] or events[0].pk is None:  # a backend without RETURNING
            events = list(WebhookEvent.objects.filter(event_id__in=[e.event_id for e in fresh]))
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                event=event,
                endpoint=endpoint,
                next_attempt_at=now,
                retry_until=now + RETRY_WINDOW,
                created_at=now,
            )
            for event in events
            for endpoint in endpoints
        )
    ids = [d.pk for d in deliveries if d.pk is not None]
    if len(ids) != len(deliveries):
        ids = list(WebhookDelivery.objects.filter(event__in=events).values_list("pk", flat=True))
    for pk in ids:
        hand_off_on_commit("webhooks.deliver", pk)
    return ids


# --- delivering ------------------------------------------------------------------------------


def deliveries_due(*, now: dt.datetime | None = None, limit: int = 1000) -> list[int]:
    """Pending deliveries of active endpoints whose attempt is due (or whose claim lapsed)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            endpoint__is_active=True,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            endpoint__is_active=True,
        ).update(next_attempt_at=now + CLAIM_LEASE, attempts=F("attempts") + 1)
    )


def _post(endpoint: WebhookEndpoint, event: WebhookEvent, now: dt.datetime) -> dict[str, Any]:
    """Send the event's body, signed; return what to log (never the secret or the signature)."""
    body = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(secret=endpoint.secret, event_id=event.event_id, at=now, body=body),
    }
    started = time.monotonic()
    outcome: dict[str, Any] = {"status_code": None, "response_excerpt": "", "error": ""}
    try:
        # Resolved and checked now, and sent to the address checked (DNS rebinding); a
        # redirect is an answer like any other non-2xx, never followed.
        target = destination(endpoint.url)
        answer = post_pinned(target, body=body, headers=headers, timeout=REQUEST_TIMEOUT)
    except Unresolved as exc:  # a name that does not resolve: a failure like a timeout
        outcome["error"] = str(exc)[:255]
    except Refused as exc:
        outcome["error"] = (gettext("Refused: %(reason)s") % {"reason": exc})[:255]
    except urllib3.exceptions.HTTPError as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}"[:255]
    else:
        outcome["status_code"] = answer.status
        outcome["response_excerpt"] = answer.text[:EXCERPT_LENGTH]
    outcome["latency_ms"] = int((time.monotonic() - started) * 1000)
    code = outcome["status_code"]
    outcome["succeeded"] = code is not None and 200 <= code < 300
    return outcome


def delivery_attempt(delivery_id: int) -> WebhookAttempt | None:
    """Make the next attempt of a delivery if it is due and nobody else is making it.

    On a 2xx answer the delivery is done; otherwise it waits ``retry_delay`` for the next
    attempt (the task is handed over with that countdown; the sweep is the safety net) until
    its 24-hour window ends, then fails. An endpoint that has failed every attempt for 24
    hours is disabled and the managers are told. Returns the attempt logged, or None.
    """
    now = timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    outcome = _post(delivery.endpoint, delivery.event, now)
    retry_in: dt.timedelta | None = None
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        finished = timezone.now()
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=now,
            manual=delivery.redeliver_requested,
            requested_by=delivery.redeliver_by,
            **outcome,
        )
        fields: dict[str, Any] = {
            "last_status_code": outcome["status_code"],
            "last_error": outcome["error"]
            or ("" if outcome["succeeded"] else f"HTTP {outcome['status_code']}"),
            "redeliver_requested": False,
            "redeliver_by": None,
        }
        if outcome["succeeded"]:
            fields.update(
                status=WebhookDelivery.Status.DELIVERED, delivered_at=finished, next_attempt_at=None
            )
            if endpoint.failing_since is not None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        else:
            # The endpoint has been failing since this delivery was first due, at the latest.
            failing_since = endpoint.failing_since or (delivery.retry_until - RETRY_WINDOW)
            if endpoint.failing_since is None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=failing_since)
            if finished >= delivery.retry_until:
                fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
            else:
                # The last attempt is made when the window ends, not skipped before it.
                due = min(finished + retry_delay(delivery.attempts), delivery.retry_until)
                fields["next_attempt_at"] = due
                retry_in = due - finished
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        if (
            not outcome["succeeded"]
            and endpoint.is_active
            and finished - failing_since >= RETRY_WINDOW
        ):
            reason = gettext("Every delivery failed for 24 hours (last: %(error)s).") % {
                "error": fields["last_error"]
            }
            _disable(endpoint, reason=reason, now=finished)
            retry_in = None
            transaction.on_commit(lambda: managers_warn(endpoint))
    if retry_in is not None:
        hand_off("webhooks.deliver", delivery_id, countdown=retry_in.total_seconds())
    return attempt


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, user: Actor = None) -> WebhookDelivery:
    """Send a delivery again now (a manager's "redeliver"), with the same event id, and retry
    it for another 24 hours if it fails. Raises ValidationError when its endpoint is disabled."""
    locked = (
        WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    )
    if not locked.endpoint.is_active:
        raise ValidationError(gettext("The endpoint is disabled: enable it first."))
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=locked.pk).update(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at=now,
        retry_until=now + RETRY_WINDOW,
        redeliver_requested=True,
        redeliver_by=acting_user(user),
    )
    record_staff_action(user, locked.endpoint, f"Asked to redeliver event {locked.event.event_id}.")
    hand_off_on_commit("webhooks.deliver", locked.pk)
    locked.refresh_from_db()
    return locked


def webhook_events_purge(*, older_than: dt.timedelta, batch: int = 5000) -> int:
    """Delete events older than ``older_than`` with their deliveries and attempts, unless a
    delivery of theirs is still pending; return how many events went."""
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        ids = list(
            WebhookEvent.objects.filter(created_at__lt=cutoff)
            .exclude(deliveries__status=WebhookDelivery.Status.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        with transaction.atomic():
            WebhookEvent.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    if deleted:
        logger.info("Deleted %d webhook events older than %s", deleted, cutoff.isoformat())
    return deleted


def managers_warn(endpoint: WebhookEndpoint) -> int:
    """E-mail the managers (who may change endpoints) that ``endpoint`` was disabled; return
    how many were written to. A mail server that fails is logged: the staff screens say it too."""
    User = get_user_model()
    recipients = sorted(
        {
            user.email
            for user in User.objects.filter(is_active=True)
            .exclude(email="")
            .filter(
                Q(is_superuser=True)
                | Q(groups__permissions__codename="change_webhookendpoint")
                | Q(user_permissions__codename="change_webhookendpoint")
            )
            .distinct()
        }
    )
    if not recipients:
        return 0
    subject = gettext("Webhook endpoint disabled: %(url)s") % {"url": endpoint.url}
    body = gettext(
        "Deliveries to %(url)s have failed for 24 hours, so the endpoint was disabled and its "
        "pending deliveries stopped.\n\n%(reason)s\n\nWhen the receiver works again, enable "
        "the endpoint under Webhooks and redeliver what it missed."
    ) % {"url": endpoint.url, "reason": endpoint.disabled_reason}
    try:
        send_mail(subject, body, None, recipients)
    except Exception:  # the warning on every staff page still stands
        logger.exception(
            "Could not e-mail the managers that webhook endpoint %s was disabled", endpoint.pk
        )
        return 0
    return len(recipients)
