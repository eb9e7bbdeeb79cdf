"""The campaign editor (seed 000's campaign screen): settings, trigger, filters, plan, messages.

While staff edit, htmx posts the whole form to the forecast and preview endpoints; they
check it as Save does and read an in-memory draft of it (``CampaignEditor.draft``), so the
audience count, the cost and the rendered message follow the form as it is on screen and
nothing is written by looking at it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from campaigns.gallery import GalleryError, gallery_apply, gallery_template, gallery_templates
from campaigns.models import Campaign, Trigger
from campaigns.rendering import KEYWORDS
from campaigns.selectors import forecast, is_priceable
from campaigns.services import campaign_test_send, estimate, preview
from campaigns.services.compose import record_parts
from campaigns.validation import plan_errors, plan_notes
from crm_messaging.i18n import reason_text
from crm_messaging.numbers import whole_number
from crm_messaging.ui.once import Resubmitted, resubmitted, submit_once
from crm_messaging.ui.screens import StaffView

from ..forms import CampaignEditor, CampaignEditorForm, GalleryForm, TestSendForm
from .common import (
    AnyPermissionView,
    Target,
    is_htmx,
    run_rows,
    screen_target,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PICKER_SIZE = 25
RECENT_RUNS = 5
NEW_CAMPAIGN = "campaign-create"
EDITOR_PERMISSIONS = ("campaigns.add_campaign", "campaigns.change_campaign")
_SECTIONS = {
    "guest": gettext_lazy("Guest"),
    "reservation": gettext_lazy("Stay"),
    "facility": gettext_lazy("Facility booking"),
    "hotel": gettext_lazy("Hotel"),
    "links": gettext_lazy("Links"),
}


def keyword_groups() -> list[tuple[StrOrPromise, list[tuple[str, str]]]]:
    """The placeholder chips, grouped by what they describe."""
    groups: dict[StrOrPromise, list[tuple[str, str]]] = {}
    for keyword, expression in KEYWORDS.items():
        section = expression.partition(".")[0]
        groups.setdefault(_SECTIONS.get(section, section), []).append(
            (keyword, f"{{{{ {expression} }}}}")
        )
    return list(groups.items())


def _norm(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return sorted(str(getattr(item, "pk", item)) for item in value)
    return value


def _panels(form: CampaignEditorForm) -> dict[str, dict[str, Any]]:
    """Per filter panel: how many filters are set and whether to open it (set or refused)."""
    defaults = model_to_dict(Campaign(), fields=form._meta.fields)
    panels = {}
    for key, names in (("stay", form.STAY), ("guest", form.GUEST), ("facility", form.FACILITY)):
        set_count = sum(
            1
            for name in names
            if _norm(form.initial.get(name)) != _norm(defaults.get(name))
            and form.initial.get(name) not in (None, "", [])
        )
        errors = any(form[name].errors for name in names) if form.is_bound else False
        panels[key] = {"set": set_count, "open": errors or set_count > 0}
    return panels


def editor_context(request: HttpRequest, editor: CampaignEditor) -> dict[str, Any]:
    campaign = None if editor.is_new else editor.campaign
    user = request.user
    context: dict[str, Any] = {
        "editor": editor,
        "form": editor.form,
        "steps": editor.steps,
        "variants": editor.variants,
        "campaign": campaign,
        "problems": editor.problems() if editor.form.is_bound else [],
        "open_language": editor.first_language(),
        "keyword_groups": keyword_groups(),
        "panels": _panels(editor.form),
        "gallery": gallery_templates(),
    }
    context.update(
        can_add_account=user.has_perm("channels_out.add_channelaccount"),
        can_edit_account=user.has_perm("channels_out.change_channelaccount"),
    )
    if campaign is not None:
        runs = campaign.runs.select_related("requested_by", "approved_by").order_by(
            "-started_at", "-pk"
        )
        can_send = user.has_perm("campaigns.send_campaign")
        context.update(
            recent_runs=run_rows(runs[:RECENT_RUNS]),
            gallery_form=GalleryForm(),
            can_send=can_send and campaign.trigger == Trigger.OPERATOR,
            test_form=TestSendForm(campaign=campaign) if can_send else None,
            can_duplicate=user.has_perm("campaigns.add_campaign"),
            can_view_runs=user.has_perm("campaigns.view_campaignrun"),
        )
    return context


class EditorView(StaffView, View):
    template_name = "campaigns/campaign_form.html"

    def show(self, request: HttpRequest, editor: CampaignEditor) -> HttpResponse:
        return render(request, self.template_name, editor_context(request, editor))

    def save(self, request: HttpRequest, editor: CampaignEditor) -> HttpResponse:
        if not editor.is_valid():
            messages.error(request, _("Nothing was saved: correct the fields marked below."))
            return self.show(request, editor)
        if editor.is_new:
            try:
                campaign = submit_once(
                    request,
                    form=NEW_CAMPAIGN,
                    write=lambda: editor.save(user=request.user),
                    landing=lambda made: reverse("campaigns:campaign-edit", args=[made.pk]),
                )
            except Resubmitted as again:
                return again.response(request)
            except ValidationError as exc:  # the form has expired
                messages.error(request, reason_text(exc))
                return self.show(request, editor)
        else:
            campaign = editor.save(user=request.user)
        if editor.is_new:
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign.name})
        else:
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": campaign.name})
        where = {"steps": _("Delivery plan"), "variants": _("Messages")}
        for field, problems in plan_errors(campaign).items():
            for problem in problems:
                messages.warning(
                    request,
                    _("%(where)s: %(problem)s It cannot send until this is fixed.")
                    % {"where": where.get(field, field), "problem": problem},
                )
        for note in plan_notes(campaign):
            messages.info(request, note)
        return redirect("campaigns:campaign-edit", campaign.pk)


class CampaignCreateView(EditorView):
    """A new campaign, blank or started from a standard template (``?template=post_stay_survey``)."""

    permission_required = "campaigns.add_campaign"

    def get(self, request: HttpRequest) -> HttpResponse:
        template = None
        if key := request.GET.get("template"):
            try:
                template = gallery_template(key)
            except GalleryError as exc:
                messages.error(request, str(exc))
        return self.show(request, CampaignEditor(gallery=template))

    def post(self, request: HttpRequest) -> HttpResponse:
        if again := resubmitted(request, form=NEW_CAMPAIGN):
            return again.response(request)
        return self.save(request, CampaignEditor(request.POST))


class CampaignEditView(EditorView):
    permission_required = "campaigns.change_campaign"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.show(request, CampaignEditor(campaign=get_object_or_404(Campaign, pk=pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.save(
            request, CampaignEditor(request.POST, campaign=get_object_or_404(Campaign, pk=pk))
        )


# --- live panels (htmx) ----------------------------------------------------------------------


def forecast_context(campaign: Campaign) -> dict[str, Any]:
    """Who the campaign reaches next and what that costs, as the editor's side panel shows it."""
    target = screen_target(campaign)
    if target.only is None:
        result = forecast(campaign)
        return {
            "when": result.when,
            "audience": result.audience,
            "estimate": result.estimate,
            "note": result.note,
        }
    try:
        with (
            transaction.atomic()
        ):  # a savepoint: a refused query must not break the caller's transaction
            ids = target.record_ids(campaign) or []
            cost = (
                estimate(campaign, target.occurrence, record_ids=ids)
                if is_priceable(campaign)
                else None
            )
    except Exception as exc:  # a draft may fail anywhere: staff get the reason, not a 500
        return {
            "when": target.when,
            "note": _("Cannot be counted yet: %(reason)s") % {"reason": reason_text(exc)},
        }
    return {"when": target.when, "audience": len(ids), "estimate": cost}


def preview_context(campaign: Campaign, chosen: int | None) -> dict[str, Any]:
    """The recipients to pick from and the chosen one's message, rendered in his language."""
    target = screen_target(campaign)
    note = ""
    records = target.records(campaign)
    if target.only is not None and not records.exists():
        target = Target(target.occurrence, target.when)
        records = target.records(campaign)
        note = _("Nobody today: showing everyone the filters reach now.")
    picker = [
        (record.pk, record_parts(campaign, record)[0])
        for record in records.order_by("pk")[:PICKER_SIZE]
    ]
    ids = [pk for pk, _guest in picker]
    if chosen not in ids:
        chosen = ids[0] if ids else None
    shown = (
        preview(campaign, target.occurrence, limit=1, record_ids=[chosen])
        if chosen is not None
        else None
    )
    return {
        "when": target.when,
        "note": note,
        "picker": picker,
        "chosen": chosen,
        "row": shown.rows[0] if shown and shown.rows else None,
        "estimate": shown.estimate if shown else None,
        "total": records.count() if len(picker) == PICKER_SIZE else len(picker),
    }


class DraftPanelView(AnyPermissionView, View):
    """POST the editor's form; answer a fragment computed on the campaign as the form stands.

    The form is checked as Save checks it; when Save would refuse it, the fragment lists the
    same problems. Otherwise the panel reads an in-memory draft (``CampaignEditor.draft``):
    nothing is written to the database.
    """

    permission_required = EDITOR_PERMISSIONS
    http_method_names = ["post"]
    fragment = ""

    def panel(self, request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        if pk is not None and not request.user.has_perm("campaigns.change_campaign"):
            raise PermissionDenied(_("You may not change this campaign."))
        campaign = get_object_or_404(Campaign, pk=pk) if pk is not None else None
        editor = CampaignEditor(request.POST, campaign=campaign)
        if not editor.is_valid():
            context: dict[str, Any] = {"problems": editor.problems()}
        else:
            try:
                # A savepoint: a query the database refuses leaves the request usable.
                with transaction.atomic():
                    context = self.panel(request, editor.draft())
            except Exception as exc:  # a draft may not be countable yet: say why, not a 500
                context = {
                    "error": _("Cannot be shown yet: %(reason)s") % {"reason": reason_text(exc)}
                }
        return HttpResponse(render_to_string(self.fragment, context, request=request))


class ForecastView(DraftPanelView):
    """htmx: the audience count and cost estimate of the campaign as the form stands."""

    fragment = "campaigns/_forecast.html"

    def panel(self, request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
        return forecast_context(campaign)


class PreviewView(DraftPanelView):
    """htmx: a recipient picker and the chosen recipient's real message, as the form stands."""

    fragment = "campaigns/_preview.html"

    def panel(self, request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
        return preview_context(campaign, whole_number(request.POST.get("preview_record")))


# --- actions on a saved campaign -------------------------------------------------------------


class GalleryApplyView(StaffView, View):
    """POST: write a standard template into the campaign's messages."""

    permission_required = "campaigns.change_campaign"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        form = GalleryForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a standard template."))
            return redirect("campaigns:campaign-edit", campaign.pk)
        key = form.cleaned_data["key"]
        try:
            written = gallery_apply(
                campaign=campaign,
                key=key,
                languages=form.cleaned_data["languages"] or None,
                overwrite=form.cleaned_data["overwrite"],
                user=request.user,
            )
        except GalleryError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if written:
                languages = ", ".join(variant.language for variant in written)
                messages.success(
                    request,
                    _("Loaded the standard template in %(languages)s.") % {"languages": languages},
                )
            else:
                messages.warning(
                    request,
                    _(
                        "Nothing loaded: the campaign already has those languages "
                        "(tick “replace existing languages” to overwrite them)."
                    ),
                )
        return redirect("campaigns:campaign-edit", campaign.pk)


class TestSendView(StaffView, View):
    """POST: send the message, rendered for a sample guest, to a staff address or number."""

    permission_required = "campaigns.send_campaign"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        form = TestSendForm(request.POST, campaign=campaign)
        result: dict[str, Any] = {}
        if form.is_valid():
            data = form.cleaned_data
            try:
                message = campaign_test_send(
                    campaign=campaign,
                    user=request.user,
                    to=data["to"].strip(),
                    language=data["language"],
                    channel=data["channel"],
                )
            except ValidationError as exc:
                result["error"] = " ".join(exc.messages)
            else:
                result["message"] = message
        if not is_htmx(request):
            if "message" in result:
                messages.success(
                    request,
                    _("Test message to %(to)s: %(status)s.")
                    % {
                        "to": result["message"].to,
                        "status": result["message"].get_status_display(),
                    },
                )
            else:
                messages.error(
                    request, result.get("error") or _("Give an address or number for the test.")
                )
            return redirect("campaigns:campaign-edit", campaign.pk)
        return render(
            request,
            "campaigns/_test_send.html",
            {"campaign": campaign, "test_form": form, **result},
        )
