"""URL routes of the whole project (ROOT_URLCONF): every interface app, the admin, the probes."""

from django.contrib import admin
from django.contrib.auth.views import PasswordResetConfirmView
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from crm_messaging.ops import health
from interfaces.staff.password_reset import StaffPasswordResetView


class FaviconRedirect(RedirectView):
    """Redirect to the icon's static URL, looked up per request: at import time production's
    manifest storage may not be readable yet (``check --deploy`` before ``collectstatic``)."""

    permanent = True

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        return static("favicon.svg")


urlpatterns = [
    path("admin/", admin.site.urls),
    # Before Django's own: a reset mail that cannot be sent is said so, not "done".
    path(
        "accounts/password_reset/",
        StaffPasswordResetView.as_view(),
        name="password_reset",
    ),
    # Django's own reset-link route, with its token marked secret (masked in every log).
    path(
        "accounts/reset/<uidb64>/<secret:token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "i18n/", include("django.conf.urls.i18n")
    ),  # set_language: the staff header's language choice
    path("", include("interfaces.staff.urls")),
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico where a page names no icon (the admin, a file): the same one.
    path("favicon.ico", FaviconRedirect.as_view()),
    path("readyz", health.readyz, name="readyz"),
    path("", include("interfaces.monitoring.urls")),
    path("", include("interfaces.operator.urls")),
    path("desk/", include("interfaces.frontdesk.urls")),
    path("campaigns/", include("interfaces.marketing.urls")),
    path("analytics/", include("interfaces.analytics.urls")),
    path("guest/", include("interfaces.portal.urls")),
    path("exports/", include("interfaces.portal.export_urls")),
    path("inbox/", include("interfaces.inbox.urls")),
    # Before the API's own routes (their catch-all answers unknown addresses).
    path("api/v1/webhooks/", include("interfaces.webhooks.api_urls")),
    path("api/v1/", include("interfaces.api.urls")),
    path("settings/api-keys/", include("interfaces.api.screen_urls")),
    path("webhooks/", include("interfaces.webhooks.urls")),
    path("imports/", include("interfaces.imports.urls")),
    path("", include("interfaces.mews.urls")),
]
