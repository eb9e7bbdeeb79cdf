"""The marketing screens: campaign list, editor, audience and sends, runs and approvals."""

from .accounts import AccountCheckView, AccountCreateView, AccountEditView, AccountStepView
from .dry_run import DryRunView
from .editor import (
    CampaignCreateView,
    CampaignEditView,
    ForecastView,
    GalleryApplyView,
    PreviewView,
    TestSendView,
)
from .lists import CampaignDuplicateView, CampaignListView, CampaignSetActiveView
from .runs import ApprovalListView, CampaignRunsView, RunDecisionView, RunSampleView
from .sending import CampaignAudienceView, CampaignSendView, RecipientMessageView

__all__ = [
    "AccountCheckView",
    "AccountCreateView",
    "AccountEditView",
    "AccountStepView",
    "ApprovalListView",
    "CampaignAudienceView",
    "CampaignCreateView",
    "CampaignDuplicateView",
    "CampaignEditView",
    "CampaignListView",
    "CampaignRunsView",
    "CampaignSendView",
    "CampaignSetActiveView",
    "DryRunView",
    "ForecastView",
    "GalleryApplyView",
    "PreviewView",
    "RecipientMessageView",
    "RunDecisionView",
    "RunSampleView",
    "TestSendView",
]
