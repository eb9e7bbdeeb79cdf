"""The sender layer's URLs: the provider callbacks and the staff screens, in the
``channels_out`` namespace (``channels_out:message-list`` …) that templates and links use."""

from django.urls import path

from channels_out.urls import urlpatterns as callback_urlpatterns

from . import views

app_name = "channels_out"

urlpatterns = [
    *callback_urlpatterns,
    path("messages/meter/", views.meter, name="meter"),
    # Staff screens: the send log (operators) and credits (manager).
    path("messages/", views.MessageListView.as_view(), name="message-list"),
    path("messages/rows/", views.MessageRowsView.as_view(), name="message-rows"),
    path("messages/export.csv", views.MessageExportView.as_view(), name="message-export"),
    path("messages/unknown/", views.UnknownQueueView.as_view(), name="unknown-queue"),
    path("messages/<int:pk>/", views.MessageDetailView.as_view(), name="message-detail"),
    path("messages/<int:pk>/mark-sent/", views.MarkSentView.as_view(), name="message-mark-sent"),
    path("messages/<int:pk>/resend/", views.ResendView.as_view(), name="message-resend"),
    path("messages/<int:pk>/send-now/", views.SendNowView.as_view(), name="message-send-now"),
    path("credits/", views.CreditsView.as_view(), name="credits"),
    path("credits/orders/", views.CreditOrderCreateView.as_view(), name="credit-order-create"),
    path(
        "credits/orders/<int:pk>/invoice.pdf",
        views.CreditInvoiceView.as_view(),
        name="credit-invoice",
    ),
    path(
        "credits/orders/<int:pk>/paid/",
        views.CreditOrderMarkPaidView.as_view(),
        name="credit-order-mark-paid",
    ),
    path(
        "credits/orders/<int:pk>/cancel/",
        views.CreditOrderCancelView.as_view(),
        name="credit-order-cancel",
    ),
]
