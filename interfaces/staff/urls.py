from django.urls import path

from . import settings_view, two_factor, views

app_name = "staff"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("settings/", settings_view.SettingsView.as_view(), name="settings"),
    path(
        "credit-alerts/dismiss/",
        views.CreditAlertDismissView.as_view(),
        name="credit-alert-dismiss",
    ),
    path("account/two-factor/", two_factor.two_factor_view, name="two-factor"),
]
