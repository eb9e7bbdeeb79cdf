"""/api/v1/webhooks/ (mounted by the project's URLs ahead of the rest of the API)."""

from django.urls import path

from . import api

app_name = "webhooks_api"

urlpatterns = [
    path("", api.EndpointsView.as_view(), name="endpoints"),
    path("<int:pk>", api.EndpointView.as_view(), name="endpoint"),
    path("<int:pk>/secret", api.SecretView.as_view(), name="endpoint-secret"),
    path("<int:pk>/deliveries", api.DeliveriesView.as_view(), name="deliveries"),
    path(
        "<int:pk>/deliveries/<int:delivery_pk>/redeliver",
        api.RedeliverView.as_view(),
        name="delivery-redeliver",
    ),
]
