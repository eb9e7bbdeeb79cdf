"""Campaigns in the admin: the Elektraweb screen's fields, the plan, the message, the actions.

The form refuses what ``definition_errors`` refuses, next to the field; the variant forms
refuse templates ``validate_variant`` refuses, with their line. A draft may still be
incomplete (no channel, no text for an SMS step): that is saved, and ``plan_errors`` is
shown as warnings so staff see what keeps it from sending, and ``plan_notes`` (a marketing
WhatsApp template must carry its own opt-out) as notes, as the staff editor shows them.
Previews, sends and standard templates go through ``campaigns.services`` and
``campaigns.gallery``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from channels_out.ledger import credits_text
from crm_messaging.ui.admin import ServiceBackedAdmin, admin_link, error_text, plural
from guests.models import ContactChannel

from ..gallery import GalleryError, gallery_apply
from ..models import (
    M2M_FILTERS,
    VARIANT_CONTENT,
    Campaign,
    CampaignRun,
    CampaignStep,
    MessageVariant,
    Trigger,
    timing_text,
)
from ..rendering import KEYWORDS
from ..selectors import Forecast, forecast, next_occurrence
from ..services import (
    campaign_duplicate,
    campaign_save,
    campaign_send,
    campaign_set_active,
    preview,
)
from ..validation import plan_errors, plan_notes
from .forms import CampaignForm, CampaignStepForm, GalleryForm, MessageVariantForm
from .pages import CONFIRM_SEND, GALLERY, PREVIEW, render_page

RECENT_RUNS = 5
# Fields the admin shows on one line: a range's two ends, the timing and its N.
PAIRS = {
    "valid_from": "valid_until",
    "timing": "offset",
    "rate_min": "rate_max",
    "nights_min": "nights_max",
    "age_min": "age_max",
    "stays_min": "stays_max",
}


def side_by_side(fields: tuple[str, ...]) -> tuple[str | tuple[str, str], ...]:
    """``fields`` as fieldset rows: each of PAIRS on one line, the others one a line."""
    rows: list[str | tuple[str, str]] = []
    for name in fields:
        if name in PAIRS.values():
            continue
        rows.append((name, PAIRS[name]) if name in PAIRS else name)
    return tuple(rows)


class CampaignStepInline(admin.TabularInline):
    model = CampaignStep
    form = CampaignStepForm
    fields = ("position", "channel", "account")
    extra = 0
    verbose_name = "delivery step"
    verbose_name_plural = "delivery plan (tried in order of position: a later step is the fallback)"


class MessageVariantInline(admin.StackedInline):
    model = MessageVariant
    form = MessageVariantForm
    fields = (
        "language",
        "subject",
        "html",
        "text",
        ("whatsapp_content_sid", "whatsapp_variables"),
        "note",
    )
    extra = 0
    verbose_name = "message"
    verbose_name_plural = (
        "messages (one per language; the guest's language is picked, with a fallback)"
    )


@admin.register(Campaign)
class CampaignAdmin(ServiceBackedAdmin):
    service_keeps_history = True
    form = CampaignForm
    inlines = (CampaignStepInline, MessageVariantInline)
    list_display = (
        "name",
        "is_active",
        "trigger",
        "timing_display",
        "source",
        "purpose",
        "channels",
        "last_run",
        "validity",
    )
    list_filter = ("is_active", "trigger", "source", "purpose")
    search_fields = ("name", "description")
    filter_horizontal = M2M_FILTERS
    actions = (
        "activate",
        "deactivate",
        "duplicate",
        "load_gallery_template",
        "preview_action",
        "send_now",
    )
    readonly_fields = ("placeholders", "audience_now", "cost_estimate", "recent_runs")

    def get_fieldsets(self, request: HttpRequest, obj: Campaign | None = None) -> list[Any]:
        fieldsets: list[Any] = []
        if obj is not None:
            fieldsets.append(
                (
                    "Next send and recent runs",
                    {"fields": ("audience_now", "cost_estimate", "recent_runs")},
                )
            )
        fieldsets += [
            ("Basics", {"fields": side_by_side(CampaignForm.BASICS)}),
            (
                "Trigger and timing",
                {
                    "fields": side_by_side(CampaignForm.TRIGGER),
                    "description": "Daily campaigns run after the night audit, hourly ones on the hour; the timing "
                    "(with its N) says which records are due at that moment.",
                },
            ),
            ("Stay filters", {"fields": side_by_side(CampaignForm.STAY), "classes": ("collapse",)}),
            (
                "Guest filters",
                {"fields": side_by_side(CampaignForm.GUEST), "classes": ("collapse",)},
            ),
            (
                "Facility filters",
                {
                    "fields": CampaignForm.FACILITY,
                    "classes": ("collapse",),
                    "description": "The N days or hours before/after a booking are set with the timing above.",
                },
            ),
            ("Placeholders", {"fields": ("placeholders",), "classes": ("collapse",)}),
        ]
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        last = CampaignRun.objects.filter(campaign=OuterRef("pk")).order_by("-started_at", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_run_at=Subquery(last.values("started_at")[:1]),
                last_run_state=Subquery(last.values("state")[:1]),
            )
            .prefetch_related(
                Prefetch("steps", queryset=CampaignStep.objects.order_by("position", "pk"))
            )
        )

    # --- list columns ---------------------------------------------------------------------------

    @admin.display(description="timing", ordering="timing")
    def timing_display(self, campaign: Campaign) -> str:
        return timing_text(campaign.timing, campaign.offset) or "—"

    @admin.display(description="channels")
    def channels(self, campaign: Campaign) -> str:
        labels = dict(ContactChannel.choices)
        return (
            " → ".join(labels.get(step.channel, step.channel) for step in campaign.steps.all())
            or "—"
        )

    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, campaign: Campaign) -> str:
        at = getattr(campaign, "last_run_at", None)
        if at is None:
            return "never"
        state = CampaignRun.State(campaign.last_run_state).label  # type: ignore[attr-defined]
        return f"{timezone.localtime(at):%d.%m.%Y %H:%M} ({state.lower()})"

    @admin.display(description="valid")
    def validity(self, campaign: Campaign) -> str:
        if campaign.valid_from is None and campaign.valid_until is None:
            return "always"
        start = f"{campaign.valid_from:%d.%m.%Y}" if campaign.valid_from else "…"
        end = f"{campaign.valid_until:%d.%m.%Y}" if campaign.valid_until else "…"
        return f"{start} – {end}"

    # --- the change page ------------------------------------------------------------------------

    @admin.display(description="placeholders")
    def placeholders(self, campaign: Campaign | None) -> str:
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td><code>{{{{ {} }}}}</code></td></tr>",
            KEYWORDS.items(),
        )
        return format_html(
            '<table class="placeholders">{}</table><div class="help">Write <code>@@</code> for a literal @; '
            "Jinja2 tags (<code>{{% if reservation %}}…{{% endif %}}</code>) work as usual.</div>",
            rows,
        )

    def _forecast(self, campaign: Campaign) -> Forecast:
        cached: Forecast | None = getattr(campaign, "_admin_forecast", None)
        if cached is None:
            cached = forecast(campaign)
            campaign._admin_forecast = cached  # type: ignore[attr-defined]
        return cached

    @admin.display(description="audience now")
    def audience_now(self, campaign: Campaign) -> str:
        result = self._forecast(campaign)
        if result.audience is None:
            return format_html("{}<br>{}", result.when, result.note)
        return format_html(
            "{}<br><strong>{}</strong> in the audience.",
            result.when,
            plural(result.audience, "record"),
        )

    @admin.display(description="cost estimate")
    def cost_estimate(self, campaign: Campaign) -> str:
        cost = self._forecast(campaign).estimate
        if cost is None:
            return "—"
        parts = format_html_join(
            ", ",
            "{} {}: {}{} = {}",
            (
                (
                    v.channel_label,
                    v.language,
                    plural(v.recipients, "message"),
                    f", {plural(v.segments, 'part')}{f' {v.encoding}' if v.encoding else ''}"
                    if v.segments
                    else "",
                    credits_text(v.credits),
                )
                for v in cost.by_variant
            ),
        )
        skipped = format_html_join(
            ", ", "{} × {}", ((n, label) for label, n in cost.skipped_by_reason)
        )
        verdict = (
            format_html("balance {} credits", credits_text(cost.balance))
            if cost.sufficient
            else format_html(
                '<strong style="color:#ba2121">not enough credits: {}</strong>', cost.refusal
            )
        )
        return format_html(
            "{} credits for {} ({}); {}{}",
            credits_text(cost.credits),
            plural(cost.recipients, "recipient"),
            parts or "nobody",
            verdict,
            format_html("<br>would be skipped: {}", skipped) if cost.skipped else "",
        )

    @admin.display(description="recent runs")
    def recent_runs(self, campaign: Campaign) -> str:
        runs = list(
            campaign.runs.select_related("requested_by").order_by("-started_at", "-pk")[
                :RECENT_RUNS
            ]
        )
        if not runs:
            return "No run yet."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} — {}, {}, {} credits estimated</li>",
                (
                    (
                        admin_link(run, f"{timezone.localtime(run.started_at):%d.%m.%Y %H:%M}"),
                        run.get_state_display(),
                        plural(run.audience_size, "recipient"),
                        credits_text(run.estimated_cost),
                    )
                    for run in runs
                ),
            ),
        )

    # --- saving ---------------------------------------------------------------------------------

    def save_model(
        self, request: HttpRequest, obj: Campaign, form: forms.ModelForm, change: bool
    ) -> None:
        """Nothing yet: the campaign is written with its plan and messages in ``save_related``,
        in one ``campaign_save`` call."""

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        steps: list[tuple[str, Any]] | None = None
        variants: dict[str, dict[str, Any] | None] | None = None
        for formset in formsets:
            kept = [
                f for f in formset.forms if f.cleaned_data and not formset._should_delete_form(f)
            ]
            if formset.model is CampaignStep:
                kept.sort(key=lambda f: f.cleaned_data["position"])
                steps = [(f.cleaned_data["channel"], f.cleaned_data.get("account")) for f in kept]
            elif formset.model is MessageVariant:
                # A language left (deleted, or renamed to another) has no message any more.
                variants = {
                    f.initial["language"]: None
                    for f in formset.forms
                    if f.instance.pk is not None and f.initial.get("language")
                }
                variants.update(
                    {
                        f.cleaned_data["language"]: {
                            name: f.cleaned_data.get(name) for name in VARIANT_CONTENT
                        }
                        for f in kept
                    }
                )
        assert isinstance(form, CampaignForm)
        campaign_save(
            campaign=form.instance,
            fields=form.campaign_fields(),
            steps=steps,
            variants=variants,
            user=request.user,
            where="in the admin",
        )
        for field, problems in plan_errors(form.instance).items():
            where = {"steps": "Delivery plan", "variants": "Messages"}.get(field, field)
            for problem in problems:
                messages.warning(
                    request, f"{where}: {problem} The campaign cannot send until this is fixed."
                )
        for note in plan_notes(form.instance):
            messages.info(request, note)

    # --- actions --------------------------------------------------------------------------------

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("campaigns.send_campaign")

    @admin.action(description="Activate the selected campaigns", permissions=("change",))
    def activate(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        count = campaign_set_active(campaigns=queryset, active=True, user=request.user)
        messages.success(request, f"{plural(count, 'campaign')} activated.")

    @admin.action(
        description="Deactivate the selected campaigns (make passive)", permissions=("change",)
    )
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        count = campaign_set_active(campaigns=queryset, active=False, user=request.user)
        messages.success(request, f"{plural(count, 'campaign')} made passive.")

    @admin.action(
        description="Duplicate the selected campaigns (as passive copies)", permissions=("add",)
    )
    def duplicate(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        user = request.user if isinstance(request.user, AbstractBaseUser) else None
        for campaign in queryset.order_by("pk"):
            copy = campaign_duplicate(campaign, user=user)
            messages.success(
                request,
                format_html("Copied “{}” as {}.", campaign.name, admin_link(copy, copy.name)),
            )

    @admin.action(description="Load a standard template…", permissions=("change",))
    def load_gallery_template(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> HttpResponse | None:
        campaigns = list(queryset.order_by("pk"))
        form = GalleryForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for campaign in campaigns:
                try:
                    written = gallery_apply(
                        campaign=campaign,
                        key=form.cleaned_data["key"],
                        languages=form.cleaned_data["languages"] or None,
                        overwrite=form.cleaned_data["overwrite"],
                        user=request.user,
                    )
                except GalleryError as exc:
                    messages.error(request, f"{campaign}: {exc}")
                except ValidationError as exc:
                    messages.error(request, f"{campaign}: {error_text(exc)}")
                else:
                    languages = (
                        ", ".join(variant.language for variant in written)
                        or "no language (all existed)"
                    )
                    messages.success(request, f"{campaign}: wrote {languages}.")
                    for field, problems in plan_errors(campaign).items():
                        for problem in problems:
                            messages.warning(request, f"{campaign}: {field}: {problem}")
            return None
        return render_page(
            self,
            request,
            GALLERY,
            title="Load a standard template",
            form=form,
            action="load_gallery_template",
            selected=[c.pk for c in campaigns],
            campaigns=campaigns,
        )

    @admin.action(description="Preview recipients and messages…", permissions=("view",))
    def preview_action(
        self, request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> HttpResponse | None:
        campaigns = list(queryset.order_by("pk")[:2])
        if len(campaigns) != 1:
            messages.warning(request, "Preview one campaign at a time.")
            return None
        campaign = campaigns[0]
        occurrence, when = next_occurrence(campaign)
        # An event campaign has no next audience: the preview takes "now", everyone its filters reach.
        note = "shown: everyone the filters reach now" if occurrence is None else ""
        context: dict[str, Any] = {"campaign": campaign, "when": when, "note": note}
        try:
            with transaction.atomic():
                result = preview(campaign, occurrence)
        except Exception as exc:  # a draft may not be previewable yet: show why instead of a 500
            context["error"] = f"Cannot preview yet: {exc}"
        else:
            context.update(preview=result, estimate=result.estimate)
        context.update(
            action="send_now",
            selected=[campaign.pk],
            can_send=campaign.trigger == Trigger.OPERATOR and self.has_send_permission(request),
        )
        return render_page(self, request, PREVIEW, title=f"Preview of “{campaign}”", **context)

    @admin.action(description="Send to all now (operator campaigns)…", permissions=("send",))
    def send_now(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> HttpResponse | None:
        campaigns = list(queryset.order_by("pk")[:2])
        if len(campaigns) != 1:
            messages.warning(request, "Send one campaign at a time.")
            return None
        campaign = campaigns[0]
        if campaign.trigger != Trigger.OPERATOR:
            messages.error(
                request,
                f"{campaign}: only an operator campaign is sent by hand; this one sends itself.",
            )
            return None
        if request.POST.get("confirm") != "yes":
            result = forecast(campaign)
            return render_page(
                self,
                request,
                CONFIRM_SEND,
                title=f"Send “{campaign}”",
                campaign=campaign,
                estimate=result.estimate,
                error=result.note,
                action="send_now",
                selected=[campaign.pk],
            )
        try:
            run = campaign_send(campaign=campaign, user=request.user)
        except ValidationError as exc:
            messages.error(request, f"{campaign}: {error_text(exc)}")
            return None
        summary = f"{plural(run.audience_size, 'recipient')}, {credits_text(run.estimated_cost)} credits estimated"
        if run.state == CampaignRun.State.AWAITING_APPROVAL:
            messages.warning(
                request,
                format_html(
                    "{}: {} — awaiting approval by a second manager ({}).",
                    campaign,
                    summary,
                    admin_link(run, "run"),
                ),
            )
        else:
            messages.success(
                request,
                format_html("{}: sending to {} ({}).", campaign, summary, admin_link(run, "run")),
            )
        return None
