"""The API keys screen for managers (Settings → API keys): make a key (shown once), see when
each was last used, revoke one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from crm_messaging.ui.once import Resubmitted, resubmitted, submit_once
from crm_messaging.ui.screens import StaffView

from .forms import ApiKeyForm
from .models import ApiKey
from .services import api_key_create, api_key_revoke


class ApiKeyListView(StaffView, TemplateView):
    permission_required = "api.manage_apikey"
    template_name = "api/key_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ApiKeyForm())
        context["keys"] = ApiKey.objects.select_related("created_by", "revoked_by")
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if again := resubmitted(request, form="api-key"):
            return again.response(request)
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                # A refresh of the answer below sends the form again: it lands on the list
                # instead of making a second key (the first is never shown again).
                key, raw = submit_once(
                    request,
                    form="api-key",
                    write=lambda: api_key_create(
                        name=form.cleaned_data["name"],
                        scopes=form.cleaned_data["scopes"],
                        user=request.user,
                    ),
                    landing=lambda _made: reverse("api-keys"),
                )
            except Resubmitted as again:
                return again.response(request)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                # The key is in this one answer only (never stored, never in a message or log).
                response = render(request, "api/key_created.html", {"key": key, "raw": raw})
                response["Cache-Control"] = "no-store"
                return response
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ApiKeyRevokeView(StaffView, TemplateView):
    permission_required = "api.manage_apikey"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        key = api_key_revoke(key=get_object_or_404(ApiKey, pk=pk), user=request.user)
        messages.success(request, _("The key for %(name)s is revoked.") % {"name": key.name})
        return HttpResponseRedirect(reverse("api-keys"))
