"""What the staff screens of the sender layer share: pagination, safe redirects, the audit trail."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger("channels_out.screens")


def paginate(
    request: HttpRequest, queryset: QuerySet[Any], per_page: int, param: str = "page"
) -> Page:
    """Return the requested page of ``queryset``; a missing or bad page number gives the first
    page, one past the end the last (never a 404 for a stale link)."""
    return Paginator(queryset, per_page).get_page(request.GET.get(param))


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a POST: the form's ``next`` if it is on this site, else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def refusal(error: ValidationError) -> str:
    """A service's refusal as one sentence for a flash message."""
    return " ".join(error.messages)
