"""URL routes of the whole project (ROOT_URLCONF): every interface app, the admin, the probes."""

from django.contrib import admin
from django.urls import include, path

from crm_messaging.ops import health
from interfaces.staff.password_reset import StaffPasswordResetView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before Django's own: a reset mail that cannot be sent is said so, not "done".
    path(
        "accounts/password_reset/",
        StaffPasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "i18n/", include("django.conf.urls.i18n")
    ),  # set_language: the staff header's language choice
    path("", include("interfaces.staff.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("interfaces.monitoring.urls")),
    path("", include("interfaces.operator.urls")),
    path("desk/", include("interfaces.frontdesk.urls")),
    path("campaigns/", include("interfaces.marketing.urls")),
    path("guest/", include("interfaces.portal.urls")),
    path("imports/", include("interfaces.imports.urls")),
    path("", include("interfaces.mews.urls")),
]
