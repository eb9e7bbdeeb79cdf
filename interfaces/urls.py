"""URL routes of the whole project (ROOT_URLCONF): every interface app, the admin, the health probe."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from interfaces.staff.password_reset import StaffPasswordResetView


def healthz(request: HttpRequest) -> HttpResponse:
    """Answer the load balancer's liveness probe."""
    return HttpResponse("ok", content_type="text/plain")


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
    path("healthz", healthz, name="healthz"),
    path("", include("interfaces.operator.urls")),
    path("desk/", include("interfaces.frontdesk.urls")),
    path("campaigns/", include("interfaces.marketing.urls")),
    path("guest/", include("interfaces.portal.urls")),
]
