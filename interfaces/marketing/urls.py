"""The marketing screens, under /campaigns/."""

from django.urls import path

from . import views
from .email_preview import email_preview_view

app_name = "campaigns"

urlpatterns = [
    path("", views.CampaignListView.as_view(), name="campaign-list"),
    path("new/", views.CampaignCreateView.as_view(), name="campaign-create"),
    # The live panels of the editor: the same name with or without a saved campaign.
    path("forecast/", views.ForecastView.as_view(), name="campaign-forecast"),
    path("preview/", views.PreviewView.as_view(), name="campaign-preview"),
    path("<int:pk>/", views.CampaignEditView.as_view(), name="campaign-edit"),
    path("<int:pk>/forecast/", views.ForecastView.as_view(), name="campaign-forecast"),
    path("<int:pk>/preview/", views.PreviewView.as_view(), name="campaign-preview"),
    path("<int:pk>/active/", views.CampaignSetActiveView.as_view(), name="campaign-set-active"),
    path("<int:pk>/duplicate/", views.CampaignDuplicateView.as_view(), name="campaign-duplicate"),
    path("<int:pk>/gallery/", views.GalleryApplyView.as_view(), name="campaign-gallery"),
    path("<int:pk>/test/", views.TestSendView.as_view(), name="campaign-test-send"),
    path("<int:pk>/audience/", views.CampaignAudienceView.as_view(), name="campaign-audience"),
    path(
        "<int:pk>/audience/<int:record_id>/",
        views.RecipientMessageView.as_view(),
        name="recipient-message",
    ),
    path("<int:pk>/send/", views.CampaignSendView.as_view(), name="campaign-send"),
    path("<int:pk>/runs/", views.CampaignRunsView.as_view(), name="campaign-runs"),
    path("accounts/new/", views.AccountCreateView.as_view(), name="account-create"),
    path("accounts/step/", views.AccountStepView.as_view(), name="account-step"),
    path("accounts/<int:pk>/", views.AccountEditView.as_view(), name="account-edit"),
    path("accounts/<int:pk>/check/", views.AccountCheckView.as_view(), name="account-check"),
    path("<int:pk>/dry-run/", views.DryRunView.as_view(), name="campaign-dry-run"),
    path("approvals/", views.ApprovalListView.as_view(), name="approvals"),
    path("email-preview/<str:key>/", email_preview_view, name="email-preview"),
    path("runs/<int:pk>/sample/", views.RunSampleView.as_view(), name="run-sample"),
    path("runs/<int:pk>/approve/", views.RunDecisionView.as_view(approve=True), name="run-approve"),
    path("runs/<int:pk>/reject/", views.RunDecisionView.as_view(approve=False), name="run-reject"),
]
