"""The General Webhook endpoint (I4).

Mews authenticates its webhooks with a shared secret token in the URL (events/wh-faq.md,
*How can I authenticate Mews?*): ``/hooks/mews/?token=…``. The body names the property
(``EnterpriseId``); the token must be that connection's. The message is stored and answered
at once (Mews waits 5 seconds, then retries), and processed by a task. Bad input gets a 4xx,
never a 500. The token is not over the body, so the body is made storable
(``channels_out.text.storable``: a NUL dropped, a lone surrogate replaced) as soon as it is
read: the property's lookup, the stored message and the task all see the same clean text.
A refusal (403) is counted in ``crm_webhook_rejections_total{kind="mews"}``.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_out.signals import webhook_rejected
from channels_out.text import storable

from .models import MewsConnection
from .services import mews_webhook_receive

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def mews_webhook(request: HttpRequest) -> HttpResponse:
    try:
        payload = storable(json.loads(request.body))
    except (ValueError, UnicodeDecodeError):
        return HttpResponseBadRequest("The body is not JSON.")
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("EnterpriseId"), str)
        or not isinstance(payload.get("Events"), list)
    ):
        return HttpResponseBadRequest("Not a General Webhook message.")
    connection = MewsConnection.objects.filter(
        enterprise_id__iexact=payload["EnterpriseId"].strip(), is_active=True
    ).first()
    token = request.GET.get("token", "")
    expected = str(connection.webhook_token or "") if connection else ""
    if (
        connection is None
        or not expected
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        logger.warning("Rejected a Mews webhook: unknown property or wrong token.")
        webhook_rejected.send(sender=MewsConnection, kind="mews")
        return HttpResponseForbidden("token check failed")
    mews_webhook_receive(connection=connection, payload=payload)
    return HttpResponse(status=202)
