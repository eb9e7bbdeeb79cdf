"""What the sender layer's admin pages share: links, credit amounts, running a service per row, the balance on top."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from ..selectors import credit_balance


def _text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _link(obj: models.Model | None, text: object = None) -> str:
    """A link to ``obj``'s admin page, or its plain text when it has none."""
    if obj is None or obj.pk is None:
        return "—"
    label = obj if text is None else text
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return format_html("{}", label)
    return format_html('<a href="{}">{}</a>', url, label)


def _credits(value: Decimal) -> str:
    """Credits as staff read them: 1,250 or 12.50."""
    text = f"{value.quantize(Decimal('0.01')):,}"
    return text.removesuffix(".00")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _run_service(
    request: HttpRequest,
    queryset: QuerySet[Any],
    service: Callable[..., Any],
    *,
    argument: str,
    done: str,
    noun: str,
) -> None:
    """Call ``service`` for each selected row; report the successes and each refusal."""
    succeeded = 0
    for obj in queryset.order_by("pk"):
        try:
            service(**{argument: obj}, user=request.user)
        except ValidationError as exc:  # the service changed nothing for this row
            messages.error(request, f"{obj}: {_text(exc)}")
        else:
            succeeded += 1
    if succeeded:
        messages.success(request, f"{_plural(succeeded, noun)} {done}.")


class BalanceOnTopMixin:
    """Show the credit balance above a changelist, and warn under the low-balance threshold (K5)."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        balance = credit_balance()
        context = {
            "subtitle": (
                f"Balance: {_credits(balance.available)} credits available, "
                f"{_credits(balance.reserved)} reserved for queued messages"
            ),
            **(extra_context or {}),
        }
        # Only on the page that is shown: a POST redirects to a GET that would warn again.
        if request.method == "GET" and balance.is_low:
            messages.warning(
                request,
                f"Low balance: {_credits(balance.available)} credits left, under the warning "
                f"threshold of {_credits(balance.threshold)}. Order credits before automated "
                "sends stop.",
            )
        return super().changelist_view(request, context)  # type: ignore[misc]
