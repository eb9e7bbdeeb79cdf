"""Webhooks for the manager (I2): endpoints, their secret shown once, deliveries with every
attempt, and "redeliver"."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm_messaging.ui.once import Resubmitted, resubmitted, submit_once
from crm_messaging.ui.screens import StaffView, paginate, refusal

from .forms import EndpointForm
from .models import WebhookDelivery, WebhookEndpoint
from .selectors import endpoint_deliveries, endpoints_with_counts
from .services import (
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_disable,
    endpoint_enable,
    endpoint_secret_rotate,
    endpoint_update,
)

DELIVERIES_PER_PAGE = 25


def _form_errors(form: EndpointForm, error: ValidationError) -> None:
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _secret_page(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> HttpResponse:
    """The one page that shows the secret: never cached, never shown again."""
    response = render(request, "webhooks/secret.html", {"endpoint": endpoint, "secret": secret})
    response["Cache-Control"] = "no-store"
    return response


class EndpointListView(StaffView, View):
    """GET: the endpoints; POST: register one (and show its secret once)."""

    permission_required = "webhooks.view_webhookendpoint"

    def get(self, request: HttpRequest, form: EndpointForm | None = None) -> HttpResponse:
        can_add = request.user.has_perm("webhooks.add_webhookendpoint")
        return render(
            request,
            "webhooks/endpoint_list.html",
            {
                "endpoints": endpoints_with_counts(),
                "form": form or (EndpointForm() if can_add else None),
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("webhooks.add_webhookendpoint"):
            return self.handle_no_permission()
        if again := resubmitted(request, form="webhook-endpoint"):
            return again.response(request)
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                # A refresh of the secret page sends the form again: it lands on the list
                # instead of registering a second endpoint (the secret is never shown again).
                endpoint, secret = submit_once(
                    request,
                    form="webhook-endpoint",
                    write=lambda: endpoint_create(user=request.user, **form.cleaned_data),
                    landing=lambda _made: reverse("webhooks:endpoint-list"),
                )
            except Resubmitted as again:
                return again.response(request)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                return _secret_page(request, endpoint, secret)
        return self.get(request, form=form)


class EndpointDetailView(StaffView, View):
    """GET: one endpoint with its deliveries; POST: change it."""

    permission_required = "webhooks.view_webhookendpoint"

    def context(
        self, request: HttpRequest, endpoint: WebhookEndpoint, form: EndpointForm | None
    ) -> dict[str, Any]:
        can_change = request.user.has_perm("webhooks.change_webhookendpoint")
        if form is None and can_change:
            form = EndpointForm(
                initial={
                    "url": endpoint.url,
                    "description": endpoint.description,
                    "events": endpoint.events,
                }
            )
        deliveries = paginate(request, endpoint_deliveries(endpoint), DELIVERIES_PER_PAGE)
        return {
            "endpoint": endpoint,
            "form": form,
            "can_change": can_change,
            "can_delete": request.user.has_perm("webhooks.delete_webhookendpoint"),
            "deliveries": deliveries,
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        return render(
            request, "webhooks/endpoint_detail.html", self.context(request, endpoint, None)
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("webhooks.change_webhookendpoint"):
            return self.handle_no_permission()
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint_update(endpoint=endpoint, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The endpoint was saved."))
                return HttpResponseRedirect(reverse("webhooks:endpoint-detail", args=[pk]))
        endpoint.refresh_from_db()
        return render(
            request, "webhooks/endpoint_detail.html", self.context(request, endpoint, form)
        )


class EndpointActionView(StaffView, View):
    """POST: enable, disable, replace the secret of, or delete an endpoint."""

    http_method_names = ["post"]
    action = ""

    def get_permission_required(self) -> tuple[str, ...]:
        if self.action == "delete":
            return ("webhooks.delete_webhookendpoint",)
        return ("webhooks.change_webhookendpoint",)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        detail = reverse("webhooks:endpoint-detail", args=[pk])
        if self.action == "enable":
            endpoint_enable(endpoint=endpoint, user=request.user)
            messages.success(request, _("The endpoint is enabled: new events will be delivered."))
        elif self.action == "disable":
            endpoint_disable(endpoint=endpoint, user=request.user)
            messages.success(
                request, _("The endpoint is disabled: nothing will be delivered to it.")
            )
        elif self.action == "rotate":
            return _secret_page(
                request, endpoint, endpoint_secret_rotate(endpoint=endpoint, user=request.user)
            )
        elif self.action == "delete":
            endpoint_delete(endpoint=endpoint, user=request.user)
            messages.success(request, _("The endpoint was deleted."))
            return HttpResponseRedirect(reverse("webhooks:endpoint-list"))
        return HttpResponseRedirect(detail)


class RedeliverView(StaffView, View):
    """POST: send a delivery again now (htmx: answers with its row)."""

    permission_required = "webhooks.change_webhookendpoint"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
        delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, endpoint_id=pk)
        error = ""
        try:
            delivery = delivery_redeliver(delivery=delivery, user=request.user)
        except ValidationError as exc:
            error = refusal(exc)
        if request.headers.get("HX-Request"):
            delivery = WebhookDelivery.objects.select_related("event").get(pk=delivery.pk)
            return render(
                request,
                "webhooks/_delivery.html",
                {
                    "delivery": delivery,
                    "can_change": True,
                    "error": error,
                    "endpoint": delivery.endpoint,
                },
            )
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("The event is being delivered again."))
        return HttpResponseRedirect(reverse("webhooks:endpoint-detail", args=[pk]))
