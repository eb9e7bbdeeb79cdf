"""Runs, trigger events and the campaign settings in the admin.

Runs and events are records: read-only. A run's live numbers come from its messages (their
origin is the run), counted for a whole changelist page in one grouped query. Approving or
rejecting a large send are actions calling the four-eyes services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from channels_out.ledger import credits_text
from channels_out.models import SkipReason
from crm_messaging.ui.admin import ReadOnlyAdmin, YesNoFilter, admin_link, error_text, plural

from ..models import CampaignRun, CampaignSettings, TriggerEvent
from ..selectors import RunCounts, run_message_counts
from ..services import campaign_run_approve, campaign_run_reject


class RunChangeList(ChangeList):
    """Counts the messages of the runs on the page once, after the page is chosen."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        runs = list(self.result_list)  # fills the page's cache: the rows shown are these objects
        counts = run_message_counts(run.pk for run in runs)
        for run in runs:
            run.message_counts = counts[run.pk]


def _counts(run: CampaignRun) -> RunCounts:
    if not hasattr(run, "message_counts"):
        run.message_counts = run_message_counts([run.pk])[run.pk]  # type: ignore[attr-defined]
    return run.message_counts  # type: ignore[attr-defined,no-any-return]


def _service_per_run(
    request: HttpRequest,
    queryset: QuerySet[CampaignRun],
    service: Callable[..., CampaignRun],
    *,
    done: str,
) -> list[CampaignRun]:
    """Call ``service`` for each selected run; report each refusal; return the runs it accepted."""
    accepted = []
    for run in queryset.select_related("campaign").order_by("pk"):
        try:
            accepted.append(service(run=run, user=request.user))
        except (PermissionDenied, ValidationError) as exc:
            reason = error_text(exc) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, f"{run}: {reason}")
    if accepted:
        messages.success(request, f"{plural(len(accepted), 'send')} {done}.")
    return accepted


@admin.register(CampaignRun)
class CampaignRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "campaign_link",
        "trigger",
        "occurrence",
        "state",
        "audience_size",
        "estimated",
        "requested_by",
        "approved_by",
        "finished_at",
        "queued",
        "sent",
        "delivered",
        "failed",
        "skipped",
        "spent",
    )
    list_filter = ("state", "trigger", "started_at", "campaign")
    list_select_related = ("campaign", "requested_by", "approved_by")
    search_fields = ("campaign__name", "occurrence", "refusal")
    date_hierarchy = "started_at"
    ordering = ("-started_at", "-pk")
    actions = ("approve", "reject")
    fieldsets = (
        (None, {"fields": ("campaign_link", "trigger", "occurrence", "state", "refusal")}),
        ("Audience and cost", {"fields": ("audience_size", "selected_ids", "estimated_cost")}),
        ("Messages", {"fields": ("messages_summary", "render_failures")}),
        (
            "Who and when",
            {
                "fields": (
                    "requested_by",
                    "approved_by",
                    "approved_at",
                    "started_at",
                    "finished_at",
                    "chunks_total",
                    "chunks_done",
                )
            },
        ),
    )
    readonly_fields = ("campaign_link", "messages_summary")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RunChangeList

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.approve_send")

    @admin.display(description="campaign", ordering="campaign__name")
    def campaign_link(self, run: CampaignRun) -> str:
        return admin_link(run.campaign)

    @admin.display(description="estimated credits", ordering="estimated_cost")
    def estimated(self, run: CampaignRun) -> str:
        return credits_text(run.estimated_cost)

    @admin.display(description="queued")
    def queued(self, run: CampaignRun) -> int:
        return _counts(run).queued

    @admin.display(description="sent")
    def sent(self, run: CampaignRun) -> int:
        return _counts(run).sent

    @admin.display(description="delivered")
    def delivered(self, run: CampaignRun) -> int:
        return _counts(run).delivered

    @admin.display(description="failed")
    def failed(self, run: CampaignRun) -> str:
        counts = _counts(run)
        return (
            f"{counts.failed} · {counts.unknown} unknown" if counts.unknown else str(counts.failed)
        )

    @admin.display(description="skipped")
    def skipped(self, run: CampaignRun) -> str:
        reasons = _counts(run).skipped
        if not reasons:
            return "0"
        labels = dict(SkipReason.choices)
        detail = ", ".join(
            f"{labels.get(reason, reason or '?')} {n}" for reason, n in sorted(reasons.items())
        )
        return f"{sum(reasons.values())} ({detail})"

    @admin.display(description="credits spent")
    def spent(self, run: CampaignRun) -> str:
        return credits_text(_counts(run).credits)

    @admin.display(description="messages")
    def messages_summary(self, run: CampaignRun) -> str:
        counts = _counts(run)
        url = (
            reverse("admin:channels_out_outboundmessage_changelist")
            + "?"
            + urlencode(
                {
                    "origin_type": ContentType.objects.get_for_model(CampaignRun).pk,
                    "origin_id": run.pk,
                }
            )
        )
        return format_html(
            "queued {}, sent {}, delivered {}, failed {}, unknown {}, skipped {}; {} credits — "
            '<a href="{}">show them in the send log</a>',
            counts.queued,
            counts.sent,
            counts.delivered,
            counts.failed,
            counts.unknown,
            self.skipped(run),
            credits_text(counts.credits),
            url,
        )

    @admin.action(description="Approve the selected sends (four-eyes)", permissions=("approve",))
    def approve(self, request: HttpRequest, queryset: QuerySet[CampaignRun]) -> None:
        _service_per_run(request, queryset, campaign_run_approve, done="approved and launched")

    @admin.action(description="Reject the selected sends", permissions=("approve",))
    def reject(self, request: HttpRequest, queryset: QuerySet[CampaignRun]) -> None:
        _service_per_run(request, queryset, campaign_run_reject, done="rejected; nothing was sent")


class ProcessedFilter(YesNoFilter):
    title = "processed"
    parameter_name = "processed"
    yes_label, no_label = "Processed", "Pending"

    def condition(self) -> Any:
        return Q(processed_at__isnull=False)


@admin.register(TriggerEvent)
class TriggerEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "kind", "key", "processed_at", "campaign", "reservation")
    list_filter = ("kind", ProcessedFilter, "occurred_at")
    list_select_related = ("campaign", "reservation__booker")
    search_fields = ("key",)
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-pk")


@admin.register(CampaignSettings)
class CampaignSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "daily_fallback_time",
        "arrival_time",
        "approval_cost_threshold",
        "approval_recipient_threshold",
    )
    fieldsets = (
        ("Times", {"fields": ("daily_fallback_time", "arrival_time")}),
        ("Survey", {"fields": ("survey_url",)}),
        (
            "Four-eyes approval",
            {
                "fields": ("approval_cost_threshold", "approval_recipient_threshold"),
                "description": "An operator send above either threshold waits for a second staff member "
                "with the approval permission.",
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not CampaignSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: CampaignSettings, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            obj.pk = 1  # CampaignSettings.load() looks the row up by this id.
        super().save_model(request, obj, form, change)
