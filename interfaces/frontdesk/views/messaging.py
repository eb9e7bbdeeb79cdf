"""One-off messages from the front desk (S4) and the message history shown beside them.

The form is prefilled with the chosen guest's number, re-drawn by htmx when the guest or the
channel changes, and counted live by the shared meter (``channels_out:meter``). Sending goes
through ``channels_out.services.message_send`` with the form's nonce as dedupe key, so a
double submit sends once; a message the sender skips is reported with its reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from channels_out.ledger import credits_text
from channels_out.meter import message_meter
from channels_out.models import FINAL_STATUSES, ChannelAccount, OutboundMessage, Status
from channels_out.services import Step, message_send
from crm_messaging.i18n import plural_count
from crm_messaging.phones import format_phone_international
from crm_messaging.ui.once import NONCE, new_nonce
from guests.models import ContactChannel, Guest, Reservation

from ..forms import SEND_CHANNEL_ORDER, SendMessageForm, apply_service_errors
from .common import limit_param

# Heavy columns the history never shows.
HISTORY_DEFERRED = ("html_body", "template_variables", "headers", "fallback_plan")
HISTORY_STEP = 10
# What the form's re-draw carries over (not the CSRF token: it is a GET).
REDRAW_INCLUDES = "#id_recipient, #id_channel, #id_to, #id_subject, #id_text, #id_nonce"


@dataclass(frozen=True)
class SendTarget:
    """Who a page's send form may reach, what the message is about, and where the form posts."""

    recipients: list[Guest]
    reservation: Reservation | None
    form_url: str
    action_url: str


def offered_channels() -> list[tuple[str, str]]:
    """SMS always; WhatsApp, Viber and e-mail when the hotel has an active account for them."""
    active = set(
        ChannelAccount.objects.filter(is_active=True).values_list("channel", flat=True).distinct()
    )
    return [
        (c.value, c.label) for c in SEND_CHANNEL_ORDER if c == ContactChannel.SMS or c in active
    ]


def address_of(guest: Guest, channel: str) -> str:
    """The guest's own address for ``channel`` as staff read it (a stored bad number as it was given)."""
    if channel == ContactChannel.EMAIL:
        return guest.email
    return format_phone_international(guest.phone) if guest.phone_valid else guest.phone


class SendMessageMixin:
    """A page with the one-off message form: its context, its htmx re-draw and its POST."""

    request: HttpRequest

    @property
    def page_url(self) -> str:
        raise NotImplementedError

    def send_target(self) -> SendTarget:
        raise NotImplementedError

    def _form(self, data: Any = None, initial: dict[str, Any] | None = None) -> SendMessageForm:
        return SendMessageForm(
            data,
            initial=initial,
            recipients=self.send_target().recipients,
            channels=offered_channels(),
        )

    def meter_html(self, form: SendMessageForm) -> str:
        source = form.data if form.is_bound else form.initial
        meter = message_meter(
            text=source.get("text", ""), channel=form.current_channel(), to=source.get("to", "")
        )
        return render_to_string("channels_out/_meter.html", meter, request=self.request)

    def send_context(self, form: SendMessageForm | None = None) -> dict[str, Any]:
        if form is None:
            guest = self.send_target().recipients[0]
            form = self._form(
                initial={
                    "recipient": guest.pk,
                    "channel": ContactChannel.SMS,
                    "to": address_of(guest, ContactChannel.SMS),
                    "nonce": new_nonce(),
                }
            )
        self._wire(form)
        return {
            "send_form": form,
            "send_target": self.send_target(),
            "meter_html": self.meter_html(form),
        }

    def _wire(self, form: SendMessageForm) -> None:
        """The live parts: a new guest or channel re-draws the form; typing updates the meter."""
        redraw = {
            "hx-get": self.send_target().form_url,
            "hx-trigger": "change",
            "hx-target": "#send-form",
            "hx-swap": "outerHTML",
            "hx-include": REDRAW_INCLUDES,
            # A second change while the first re-draw is under way replaces it: the last choice wins.
            "hx-sync": "closest form:replace",
        }
        for name in ("recipient", "channel"):
            if not form.fields[name].widget.is_hidden:
                form.fields[name].widget.attrs.update(
                    redraw, **{"hx-vals": json.dumps({"changed": name})}
                )
        meter = {
            "hx-post": reverse("channels_out:meter"),
            "hx-target": "#meter",
            "hx-swap": "outerHTML",
        }
        form.fields["text"].widget.attrs.update(
            meter, **{"hx-trigger": "input changed delay:200ms"}
        )
        form.fields["to"].widget.attrs.update(meter, **{"hx-trigger": "input changed delay:500ms"})

    def redraw_send_form(self) -> HttpResponse:
        """htmx: the form again for the chosen guest and channel, keeping what was typed."""
        data = self.request.GET
        target = self.send_target()
        by_id = {str(guest.pk): guest for guest in target.recipients}
        guest = by_id.get(data.get("recipient", ""), target.recipients[0])
        offered = [value for value, _label in offered_channels()]
        channel = data.get("channel", "") if data.get("channel", "") in offered else offered[0]
        to = data.get("to", "").strip()
        # A new guest, or a switch between phone and e-mail, brings that guest's own address.
        if (
            data.get("changed") == "recipient"
            or not to
            or ("@" in to) != (channel == ContactChannel.EMAIL)
        ):
            to = address_of(guest, channel)
        nonce = data.get("nonce", "")
        form = self._form(
            initial={
                "recipient": guest.pk,
                "channel": channel,
                "to": to,
                "subject": data.get("subject", ""),
                "text": data.get("text", ""),
                "nonce": nonce if NONCE.fullmatch(nonce) else new_nonce(),
            }
        )
        return render(self.request, "guests/_send_form.html", self.send_context(form))

    def send(self) -> HttpResponse:
        """POST: validate, send once per nonce, report the outcome; errors go next to the fields."""
        request = self.request
        target = self.send_target()
        form = self._form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            key = f"front_desk:{data['nonce']}"
            earlier = OutboundMessage.objects.filter(dedupe_key=key).only("pk").first()
            if earlier is not None:
                messages.info(
                    request,
                    _("This message was already sent (#%(pk)s); it was not sent again.")
                    % {"pk": earlier.pk},
                )
                return HttpResponseRedirect(f"{self.page_url}#messages")
            step = Step(
                channel=data["channel"],
                text=data["text"],
                subject=data.get("subject", ""),
                to=data["to"],
            )
            try:
                message = message_send(
                    steps=step,
                    guest=data["guest"],
                    reservation=target.reservation,
                    dedupe_key=key,
                    source="front_desk",
                    user=request.user,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc, aliases={"account": "channel", "html": "text"})
            else:
                self.report(message)
                return HttpResponseRedirect(f"{self.page_url}#messages")
        messages.error(request, _("The message was not sent; please correct the errors below."))
        return self.render_to_response(self.get_context_data(send_form=form))  # type: ignore[attr-defined]

    def report(self, message: OutboundMessage) -> None:
        request = self.request
        channel, to = message.get_channel_display(), message.to
        if message.status == Status.SKIPPED:
            text = _("The %(channel)s message was not sent — %(reason)s.") % {
                "channel": channel,
                "reason": message.skip_text,
            }
            fallback = OutboundMessage.objects.filter(fallback_for=message).first()
            if fallback is not None:
                text += " " + _("It goes by %(channel)s instead.") % {
                    "channel": fallback.get_channel_display()
                }
            messages.warning(request, text)
            return
        if message.not_before and message.not_before > timezone.now():
            messages.info(
                request,
                _("%(channel)s to %(to)s queued; it waits for the quiet hours to end (%(when)s).")
                % {
                    "channel": channel,
                    "to": to,
                    "when": date_format(timezone.localtime(message.not_before), "j M H:i"),
                },
            )
            return
        cost = (
            ngettext(
                " · %(credits)s credit", " · %(credits)s credits", plural_count(message.credits)
            )
            % {"credits": credits_text(message.credits)}
            if message.credits
            else ""
        )
        messages.success(
            request,
            _("%(channel)s to %(to)s is on its way%(cost)s.")
            % {"channel": channel, "to": to, "cost": cost},
        )


class HistoryMixin:
    """The messages about a page's subject, newest first, with "show more" and live statuses."""

    request: HttpRequest

    def history_source(self) -> QuerySet[OutboundMessage]:
        raise NotImplementedError

    def history_url(self) -> str:
        raise NotImplementedError

    def history_context(self) -> dict[str, Any]:
        limit = limit_param(self.request, "more", HISTORY_STEP)
        rows = list(self.history_source().defer(*HISTORY_DEFERRED)[: limit + 1])
        shown = rows[:limit]
        return {
            "history": shown,
            "history_limit": limit,
            "history_more": limit + HISTORY_STEP if len(rows) > limit else 0,
            "history_url": self.history_url(),
            "history_pending": any(m.status not in FINAL_STATUSES for m in shown),
        }

    def render_history(self) -> HttpResponse:
        return render(self.request, "guests/_message_history.html", self.history_context())
