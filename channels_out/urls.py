from django.urls import path

from . import screens, views, webhooks

app_name = "channels_out"

urlpatterns = [
    path("hooks/<int:account_id>/status/", webhooks.status_webhook, name="status-webhook"),
    path("hooks/<int:account_id>/inbound/", webhooks.inbound_webhook, name="inbound-webhook"),
    path("messages/meter/", views.meter, name="meter"),
    # Staff screens: the send log (operators) and credits (manager).
    path("messages/", screens.MessageListView.as_view(), name="message-list"),
    path("messages/rows/", screens.MessageRowsView.as_view(), name="message-rows"),
    path("messages/export.csv", screens.MessageExportView.as_view(), name="message-export"),
    path("messages/unknown/", screens.UnknownQueueView.as_view(), name="unknown-queue"),
    path("messages/<int:pk>/", screens.MessageDetailView.as_view(), name="message-detail"),
    path("messages/<int:pk>/mark-sent/", screens.MarkSentView.as_view(), name="message-mark-sent"),
    path("messages/<int:pk>/resend/", screens.ResendView.as_view(), name="message-resend"),
    path("credits/", screens.CreditsView.as_view(), name="credits"),
    path("credits/orders/", screens.CreditOrderCreateView.as_view(), name="credit-order-create"),
    path(
        "credits/orders/<int:pk>/paid/",
        screens.CreditOrderMarkPaidView.as_view(),
        name="credit-order-mark-paid",
    ),
    path(
        "credits/orders/<int:pk>/cancel/",
        screens.CreditOrderCancelView.as_view(),
        name="credit-order-cancel",
    ),
]
