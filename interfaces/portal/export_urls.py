"""The managers' exports (P4, G6), mounted at /exports/: staff screens, so outside /guest/ (the
guests' portal, which a manager who still owes his second sign-in step may open)."""

from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("newsletter.csv", views.NewsletterExportView.as_view(), name="newsletter"),
    path(
        "consents/<int:guest_id>.csv",
        views.ConsentHistoryExportView.as_view(),
        name="consents",
    ),
]
