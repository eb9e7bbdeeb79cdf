"""URL routes of the whole project."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

admin.site.site_header = "Hotel CRM messaging"
admin.site.site_title = "Hotel CRM"
admin.site.index_title = "Guests, campaigns and messages"


def healthz(request: HttpRequest) -> HttpResponse:
    """Answer the load balancer's liveness probe."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "i18n/", include("django.conf.urls.i18n")
    ),  # set_language: the staff header's language choice
    path("", include("crm_messaging.staff.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("channels_out.urls")),
    path("desk/", include("crm_messaging.guests.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("guest/", include("crm_messaging.portal.urls")),
]
