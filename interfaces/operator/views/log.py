"""The send log for operators (S5, R2): filters, the detail of one attempt, the unknown-outcomes
queue with its two decisions and live statuses for rows still under way (the CSV export of the
same filters is in ``export.py``).

Messages caused by a campaign carry a ``campaigns.CampaignRun`` as their origin; the log
shows and filters by the run's campaign through a subquery of run ids.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Case, CharField, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import DetailView, TemplateView

from campaigns.models import Campaign, CampaignRun
from channels_out.models import FINAL_STATUSES, OutboundMessage, Status
from channels_out.selectors import quiet_hours_hold, with_credits
from channels_out.services import message_mark_sent, message_resend, message_send_now
from crm_messaging.numbers import whole_number
from crm_messaging.ui.screens import StaffView, next_url, paginate, refusal
from guests.models import ContactChannel

PAGE_SIZE = 50
FAILURES = "failures"
NO_STAFF = "none"
# Heavy columns no screen row shows.
LIST_DEFERRED = ("html_body", "template_variables", "headers", "fallback_plan")


# --- Finding messages ---------------------------------------------------------------------------


def with_campaign_name(queryset: QuerySet[OutboundMessage]) -> QuerySet[OutboundMessage]:
    """Annotate ``campaign_name``: the campaign whose run caused the message, in the same query."""
    runs = CampaignRun.objects.filter(pk=OuterRef("origin_id"))
    return queryset.annotate(
        campaign_name=Case(
            When(
                origin_type=ContentType.objects.get_for_model(CampaignRun),
                then=Subquery(runs.values("campaign__name")[:1]),
            ),
            default=Value(""),
            output_field=CharField(),
        )
    )


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def messages_matching(filters: dict[str, Any]) -> QuerySet[OutboundMessage]:
    """The send log narrowed by the cleaned filters of ``MessageFilterForm``, newest first."""
    queryset = OutboundMessage.objects.all()
    if day := filters.get("date_from"):
        queryset = queryset.filter(created_at__gte=_day_start(day))
    if day := filters.get("date_to"):
        queryset = queryset.filter(created_at__lt=_day_start(day + dt.timedelta(days=1)))
    if channel := filters.get("channel"):
        queryset = queryset.filter(channel=channel)
    if status := filters.get("status"):
        if status == FAILURES:
            queryset = queryset.filter(status__in=[Status.FAILED, Status.UNDELIVERED])
        else:
            queryset = queryset.filter(status=status)
    if campaign := filters.get("campaign"):
        runs = CampaignRun.objects.filter(campaign_id=campaign).values("pk")
        queryset = queryset.filter(
            origin_type=ContentType.objects.get_for_model(CampaignRun),
            origin_id__in=Subquery(runs),
        )
    if staff := filters.get("staff"):
        queryset = (
            queryset.filter(sent_by__isnull=True)
            if staff == NO_STAFF
            else queryset.filter(sent_by_id=staff)
        )
    if guest := filters.get("guest"):
        if (guest_id := whole_number(guest)) is not None:
            queryset = queryset.filter(guest_id=guest_id)
        else:
            for term in guest.split():
                queryset = queryset.filter(
                    Q(guest__first_name__icontains=term)
                    | Q(guest__last_name__icontains=term)
                    | Q(guest__email__icontains=term)
                    | Q(guest__phone__icontains=term)
                )
    if text := filters.get("q"):
        queryset = queryset.filter(
            Q(body__icontains=text) | Q(subject__icontains=text) | Q(to__icontains=text)
        )
    return queryset


def log_rows(queryset: QuerySet[OutboundMessage]) -> QuerySet[OutboundMessage]:
    """What a row of the log shows, in one query however many rows (no N+1)."""
    return with_credits(
        with_campaign_name(
            queryset.select_related("guest", "sent_by", "account").defer(*LIST_DEFERRED)
        )
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class MessageFilterForm(forms.Form):
    """The log's filters (GET). Each field that does not validate is ignored, with its error shown."""

    q = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=200,
        help_text=_("In the message, its subject or the recipient's address."),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    campaign = forms.TypedChoiceField(
        label=_("Campaign"), required=False, coerce=int, empty_value=None
    )
    staff = forms.ChoiceField(label=_("Sent by"), required=False)
    guest = forms.CharField(
        label=_("Guest"), required=False, max_length=100, help_text=_("Name, e-mail or phone.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = {
            name: cast(forms.ChoiceField, self.fields[name])
            for name in ("channel", "status", "campaign", "staff")
        }
        choices["channel"].choices = [("", _("All channels")), *ContactChannel.choices]
        choices["status"].choices = [
            ("", _("All statuses")),
            (FAILURES, _("Failed or undelivered")),
            *Status.choices,
        ]
        campaigns = Campaign.objects.order_by("name").values_list("pk", "name")
        choices["campaign"].choices = [("", _("All campaigns")), *campaigns]
        staff = (
            get_user_model()
            ._default_manager.filter(
                Q(is_staff=True) | Q(is_superuser=True) | Q(groups__isnull=False), is_active=True
            )
            .distinct()
            .order_by("first_name", "username")
        )
        choices["staff"].choices = [
            ("", _("Anyone")),
            (NO_STAFF, _("Automatic (no staff member)")),
            *((str(u.pk), u.get_full_name() or u.get_username()) for u in staff),
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The filters to apply: those that validated."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


def filtered(request: HttpRequest) -> tuple[MessageFilterForm, QuerySet[OutboundMessage]]:
    """The filter form of the request's query string, and the log narrowed by it."""
    form = MessageFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    return form, messages_matching(filters)


# --- The log ------------------------------------------------------------------------------------


class MessageListView(StaffView, TemplateView):
    """Sent messages: every attempt, filtered, 50 a page; rows under way refresh themselves."""

    permission_required = "channels_out.view_outboundmessage"
    template_name = "channels_out/message_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form, queryset = filtered(self.request)
        page = paginate(self.request, log_rows(queryset), PAGE_SIZE)
        context.update(
            form=form,
            page=page,
            unknown_count=OutboundMessage.objects.filter(status=Status.UNKNOWN).count(),
            **rows_context(list(page.object_list)),
        )
        return context


def rows_context(rows: list[OutboundMessage]) -> dict[str, Any]:
    """The table body's context: the rows, and the ids to poll while any is not final."""
    pending = [m.pk for m in rows if m.status not in FINAL_STATUSES]
    return {"rows": rows, "poll_ids": ",".join(str(m.pk) for m in rows) if pending else ""}


class MessageRowsView(StaffView, View):
    """htmx: the table body again for the ids shown, with fresh statuses (polled every 5 s)."""

    permission_required = "channels_out.view_outboundmessage"

    def handle_no_permission(self) -> Any:
        if not self.request.user.is_authenticated and self.request.headers.get("HX-Request"):
            # Signed out while the page polled: reload the page (→ the login page), rather
            # than swap the login form into the table.
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return super().handle_no_permission()

    def get(self, request: HttpRequest) -> HttpResponse:
        parts = request.GET.get("ids", "").split(",")
        ids = [pk for part in parts if (pk := whole_number(part)) is not None][:PAGE_SIZE]
        rows = list(log_rows(OutboundMessage.objects.filter(pk__in=ids)))
        return render(request, "channels_out/_message_rows.html", rows_context(rows))


class MessageDetailView(StaffView, DetailView):
    """One attempt: content, cost, provider answer, delivery events, the fallback/resend chain."""

    permission_required = "channels_out.view_outboundmessage"
    template_name = "channels_out/message_detail.html"
    context_object_name = "message"

    def get_queryset(self) -> QuerySet[OutboundMessage]:
        return with_credits(
            with_campaign_name(
                OutboundMessage.objects.select_related(
                    "account", "guest", "reservation", "facility_booking", "sent_by", "origin_type"
                )
            )
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        message: OutboundMessage = self.object
        origin = message.origin if message.origin_type_id else None
        context.update(
            events=message.events.select_related("by"),
            ledger=message.ledger_entries.order_by("created_at", "pk"),
            chain=message_chain(message),
            origin_label=str(getattr(origin, "report_label", origin)) if origin is not None else "",
            can_resolve=message.status == Status.UNKNOWN
            and self.request.user.has_perm("channels_out.resolve_unknown"),
            can_send_now=quiet_hours_hold(message) is not None
            and self.request.user.has_perm("channels_out.send_held"),
        )
        return context


def message_chain(message: OutboundMessage) -> list[dict[str, Any]]:
    """The attempts linked to ``message`` by fallback or resend, first attempt first; empty when
    it stands alone. Each item says how it follows the one it replaces."""
    root, seen = message, {message.pk}
    while (parent := root.fallback_for_id or root.resend_of_id) and parent not in seen:
        root = OutboundMessage.objects.select_related("account").get(pk=parent)
        seen.add(root.pk)
    chain: list[dict[str, Any]] = [{"message": root, "link": ""}]
    frontier, found = [root.pk], {root.pk}
    while frontier:
        children = list(
            OutboundMessage.objects.filter(Q(fallback_for__in=frontier) | Q(resend_of__in=frontier))
            .exclude(pk__in=found)
            .select_related("account")
            .order_by("created_at", "pk")
        )
        for child in children:
            link = _("fallback for #%(pk)s") if child.fallback_for_id else _("resend of #%(pk)s")
            chain.append(
                {
                    "message": child,
                    "link": link % {"pk": child.fallback_for_id or child.resend_of_id},
                }
            )
        frontier = [c.pk for c in children]
        found.update(frontier)
    return chain if len(chain) > 1 else []


# --- Unknown outcomes ---------------------------------------------------------------------------


class UnknownQueueView(StaffView, TemplateView):
    """Messages whose provider outcome is unknown, oldest first: an operator decides each (R2)."""

    permission_required = "channels_out.view_outboundmessage"
    template_name = "channels_out/unknown_queue.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        queryset = log_rows(OutboundMessage.objects.filter(status=Status.UNKNOWN)).order_by(
            "created_at", "pk"
        )
        context.update(
            page=paginate(self.request, queryset, PAGE_SIZE),
            can_resolve=self.request.user.has_perm("channels_out.resolve_unknown"),
        )
        return context


class _Decision(StaffView, View):
    """POST: an operator's decision on an unknown outcome; the service records it as a
    delivery event with the operator and as a staff action in the message's history."""

    permission_required = "channels_out.resolve_unknown"
    http_method_names = ["post"]

    def decide(self, message: OutboundMessage) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        message = get_object_or_404(OutboundMessage, pk=pk)
        try:
            done = self.decide(message)
        except ValidationError as exc:
            messages.error(request, f"#{message.pk}: {refusal(exc)}")
        else:
            messages.success(request, done)
        return HttpResponseRedirect(next_url(request, reverse("channels_out:unknown-queue")))


class MarkSentView(_Decision):
    def decide(self, message: OutboundMessage) -> str:
        message_mark_sent(message=message, user=self.request.user)
        return str(_("Message #%(pk)s marked sent; its credits are debited.") % {"pk": message.pk})


class SendNowView(StaffView, View):
    """POST: send a message waiting for the guest's quiet hours now (the service keeps who decided)."""

    permission_required = "channels_out.send_held"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        message = get_object_or_404(OutboundMessage, pk=pk)
        try:
            message_send_now(message=message, user=request.user)
        except ValidationError as exc:
            messages.error(request, f"#{message.pk}: {refusal(exc)}")
        else:
            messages.success(
                request,
                _("Message #%(pk)s goes now, despite the guest's quiet hours.")
                % {"pk": message.pk},
            )
        return HttpResponseRedirect(
            next_url(request, reverse("channels_out:message-detail", args=[message.pk]))
        )


class ResendView(_Decision):
    def decide(self, message: OutboundMessage) -> str:
        copy = message_resend(message=message, user=self.request.user)
        return str(_("Message #%(pk)s resent as #%(copy)s.") % {"pk": message.pk, "copy": copy.pk})
