"""What the sender layer's admin pages share: running a service per selected row, the balance on top."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from crm_messaging.ui.admin import error_text, plural

from ..ledger import credits_text
from ..selectors import credit_balance


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
            messages.error(request, f"{obj}: {error_text(exc)}")
        else:
            succeeded += 1
    if succeeded:
        messages.success(request, f"{plural(succeeded, noun)} {done}.")


class BalanceOnTopMixin:
    """Show the credit balance above a changelist, and warn under the low-balance threshold (K5)."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        balance = credit_balance()
        context = {
            "subtitle": (
                f"Balance: {credits_text(balance.available)} credits available, "
                f"{credits_text(balance.reserved)} reserved for queued messages"
            ),
            **(extra_context or {}),
        }
        # Only on the page that is shown: a POST redirects to a GET that would warn again.
        if request.method == "GET" and balance.is_low:
            messages.warning(
                request,
                f"Low balance: {credits_text(balance.available)} credits left, under the warning "
                f"threshold of {credits_text(balance.threshold)}. Order credits before automated "
                "sends stop.",
            )
        return super().changelist_view(request, context)  # type: ignore[misc]
