"""The import screens, mounted at /imports/."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.ImportStartView.as_view(), name="start"),
    path("<int:pk>/map/", views.ImportMapView.as_view(), name="map"),
    path("<int:pk>/", views.ImportDetailView.as_view(), name="detail"),
    path("<int:pk>/apply/", views.ImportApplyView.as_view(), name="apply"),
]
