from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.EndpointListView.as_view(), name="endpoint-list"),
    path("<int:pk>/", views.EndpointDetailView.as_view(), name="endpoint-detail"),
    path(
        "<int:pk>/enable/",
        views.EndpointActionView.as_view(action="enable"),
        name="endpoint-enable",
    ),
    path(
        "<int:pk>/disable/",
        views.EndpointActionView.as_view(action="disable"),
        name="endpoint-disable",
    ),
    path(
        "<int:pk>/secret/",
        views.EndpointActionView.as_view(action="rotate"),
        name="endpoint-rotate",
    ),
    path(
        "<int:pk>/delete/",
        views.EndpointActionView.as_view(action="delete"),
        name="endpoint-delete",
    ),
    path(
        "<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        views.RedeliverView.as_view(),
        name="delivery-redeliver",
    ),
]
