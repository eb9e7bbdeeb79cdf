"""Provider callbacks (delivery receipts and inbound messages, one URL pair per account) and
the guests' tracked links: the e-mail pixel and redirects, the SMS short links.

The staff screens of the sender layer join these in the ``channels_out`` URL namespace
(``interfaces.operator.urls``). A tracked link's token and a short link's code open the
guest's link: ``<secret:…>``, masked in every log (``crm_messaging.ops.redaction``).
"""

from django.urls import path

from . import webhooks

urlpatterns = [
    path("hooks/<int:account_id>/status/", webhooks.status_webhook, name="status-webhook"),
    path("hooks/<int:account_id>/inbound/", webhooks.inbound_webhook, name="inbound-webhook"),
    path("t/o/<secret:token>.gif", webhooks.track_open, name="track-open"),
    path("t/c/<secret:token>/", webhooks.track_click, name="track-click"),
    path("s/<secret:code>", webhooks.short_link, name="short-link"),
]
