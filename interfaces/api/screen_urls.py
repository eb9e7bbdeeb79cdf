"""The API keys screen, mounted at /settings/api-keys/."""

from django.urls import path

from . import screens

urlpatterns = [
    path("", screens.ApiKeyListView.as_view(), name="api-keys"),
    path("<int:pk>/revoke/", screens.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
]
