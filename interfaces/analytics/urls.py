"""Campaign analytics (E4), under /analytics/."""

from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("campaigns/<int:pk>/", views.CampaignAnalyticsView.as_view(), name="campaign"),
    path("campaigns/<int:pk>/export.csv", views.CampaignExportView.as_view(), name="campaign-csv"),
]
