"""URL routes of the whole project (ROOT_URLCONF): every interface app, the admin, the probes."""

from django.contrib import admin
from django.urls import include, path

from crm_messaging.ops import health

admin.site.site_header = "Hotel CRM messaging"
admin.site.site_title = "Hotel CRM"
admin.site.index_title = "Guests, campaigns and messages"


urlpatterns = [
    path("admin/", admin.site.urls),
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
]
