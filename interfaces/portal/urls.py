"""The guest portal, mounted at /guest/. A sign-in, confirmation or unsubscribe link's token is
``<secret:token>``: masked in every log (``crm_messaging.ops.redaction``)."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_code_view, name="login-code"),
    path("login/link/<secret:token>/", views.login_link_view, name="login-link"),
    path("logout/", views.logout_view, name="logout"),
    path("contact/", views.contact_view, name="contact"),
    path("phone/confirm/", views.confirm_phone_view, name="confirm-phone"),
    path("consents/", views.consents_view, name="consents"),
    path("companions/", views.companion_view, name="companions"),
    path("email/confirm/<secret:token>/", views.confirm_email_view, name="confirm-email"),
    path("unsubscribe/<secret:token>/", views.unsubscribe_view, name="unsubscribe"),
    path(
        "unsubscribe/<secret:token>/one-click/",
        views.unsubscribe_one_click_view,
        name="unsubscribe-one-click",
    ),
    # The managers' exports moved to /exports/ (``export_urls``); a saved link still leads there.
    path(
        "exports/newsletter.csv",
        RedirectView.as_view(pattern_name="exports:newsletter", permanent=True),
        name="export-newsletter",
    ),
    path(
        "exports/consents/<int:guest_id>.csv",
        RedirectView.as_view(pattern_name="exports:consents", permanent=True),
        name="export-consents",
    ),
]
