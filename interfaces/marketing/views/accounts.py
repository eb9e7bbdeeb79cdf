"""Channel accounts from the campaign editor (seed 000's "+" and "…", seed 002's check):
an htmx dialog to create or edit the account a plan step uses, and a check of its login.

The dialog's form is the admin's (``ChannelAccountForm``: secrets write-only); saving goes
through ``channel_account_save`` and answers with the dialog again plus out-of-band updates
of the plan's account lists, so the editor's unsaved work stays where it is.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views import View

from channels_out.forms import ACCOUNT_SECTIONS, ChannelAccountForm
from channels_out.models import ChannelAccount
from channels_out.services import default_account
from channels_out.services.accounts import channel_account_check, channel_account_save
from crm_messaging.numbers import whole_number
from crm_messaging.ui.screens import StaffView
from guests.models import ContactChannel

PREFIX = "account"


def _step(request: HttpRequest) -> tuple[str, str]:
    """The plan step the dialog was opened from: its account select's id and its channel."""
    query = request.GET if request.method == "GET" else request.POST
    select, channel = query.get("step_select", ""), query.get("step_channel", "")
    for key, value in query.items():  # the row's own fields (hx-include="closest tr")
        if key.startswith("steps-") and key.endswith("-account"):
            select = f"id_{key}"
        elif key.startswith("steps-") and key.endswith("-channel"):
            channel = str(value)
    if not select.replace("-", "").replace("_", "").isalnum():
        select = ""
    return select, channel if channel in ContactChannel.values else ""


def _dialog(
    request: HttpRequest,
    form: ChannelAccountForm,
    *,
    saved: ChannelAccount | None = None,
    added: bool = False,
) -> HttpResponse:
    select, channel = _step(request)
    account = form.instance if form.instance.pk else None
    sections = [
        [form[name] for name in names if name in form.fields] for names in ACCOUNT_SECTIONS.values()
    ]
    context: dict[str, Any] = {
        "form": form,
        "sections": sections,
        "account": account,
        "saved": saved,
        "added": added,
        "step_select": select,
        "step_channel": channel,
        "can_check": request.user.has_perm("channels_out.change_channelaccount"),
    }
    return render(request, "campaigns/_account_dialog.html", context)


class AccountCreateView(StaffView, View):
    """GET: the dialog for a new account (of the step's channel); POST: save it."""

    permission_required = "channels_out.add_channelaccount"

    def get(self, request: HttpRequest) -> HttpResponse:
        _, channel = _step(request)
        form = ChannelAccountForm(prefix=PREFIX, initial={"channel": channel, "is_active": True})
        return _dialog(request, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ChannelAccountForm(request.POST, prefix=PREFIX)
        if not form.is_valid():
            return _dialog(request, form)
        account = channel_account_save(account=form.save(commit=False), user=request.user)
        return _dialog(
            request, ChannelAccountForm(instance=account, prefix=PREFIX), saved=account, added=True
        )


class AccountEditView(StaffView, View):
    """GET: the dialog for the step's account; POST: save it (secrets kept unless retyped)."""

    permission_required = "channels_out.change_channelaccount"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = get_object_or_404(ChannelAccount, pk=pk)
        return _dialog(request, ChannelAccountForm(instance=account, prefix=PREFIX))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = get_object_or_404(ChannelAccount, pk=pk)
        form = ChannelAccountForm(request.POST, instance=account, prefix=PREFIX)
        if not form.is_valid():
            return _dialog(request, form)
        saved = channel_account_save(account=form.save(commit=False), user=request.user)
        return _dialog(request, ChannelAccountForm(instance=saved, prefix=PREFIX), saved=saved)


class AccountStepView(StaffView, View):
    """GET: the dialog for the account the step uses (chosen, else its channel's default),
    or for a new one when there is none."""

    permission_required = "channels_out.change_channelaccount"

    def get(self, request: HttpRequest) -> HttpResponse:
        chosen = next(
            (
                str(value)
                for key, value in request.GET.items()
                if key.startswith("steps-") and key.endswith("-account")
            ),
            "",
        )
        _, channel = _step(request)
        # No account chosen: the step uses its channel's default account.
        chosen_id = whole_number(chosen)
        account = (
            get_object_or_404(ChannelAccount, pk=chosen_id)
            if chosen_id is not None
            else default_account(channel)
            if channel
            else None
        )
        if account is not None:
            return _dialog(request, ChannelAccountForm(instance=account, prefix=PREFIX))
        if not request.user.has_perm("channels_out.add_channelaccount"):
            raise PermissionDenied("Choose the step's account first.")
        form = ChannelAccountForm(prefix=PREFIX, initial={"channel": channel, "is_active": True})
        return _dialog(request, form)


class AccountCheckView(StaffView, View):
    """POST: test the account's login with its provider, sending nothing."""

    permission_required = "channels_out.change_channelaccount"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = get_object_or_404(ChannelAccount, pk=pk)
        result = channel_account_check(account=account, user=request.user)
        return render(
            request, "campaigns/_account_check.html", {"account": account, "result": result}
        )
