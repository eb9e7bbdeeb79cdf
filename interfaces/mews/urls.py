from django.urls import path

from . import views

app_name = "mews"

urlpatterns = [
    path("hooks/mews/", views.mews_webhook, name="webhook"),
]
