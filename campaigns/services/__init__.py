"""Every write of the campaign engine: runs, operator sends, approvals, test sends."""

from .campaigns import campaign_duplicate, campaign_save, campaign_set_active
from .operator import (
    ApprovalSeen,
    Estimate,
    Preview,
    campaign_run_approve,
    campaign_run_reject,
    campaign_send,
    campaign_test_send,
    estimate,
    needs_approval,
    preview,
    run_changed_since_asked,
)
from .runs import run_launch, run_open, run_send_chunk, runs_to_redrive

__all__ = [
    "campaign_duplicate",
    "campaign_save",
    "campaign_set_active",
    "ApprovalSeen",
    "Estimate",
    "Preview",
    "campaign_run_approve",
    "campaign_run_reject",
    "campaign_send",
    "campaign_test_send",
    "estimate",
    "needs_approval",
    "preview",
    "run_launch",
    "run_changed_since_asked",
    "run_open",
    "run_send_chunk",
    "runs_to_redrive",
]
