"""Each staff form does its work once: a key shown with the form, claimed with the write.

A form that creates something carries a hidden ``nonce``: a fresh random key each time the
form is shown (``{% once_field %}``, or ``NonceField`` in a form class). The view hands the
write to ``submit_once``, which claims the key (a ``Submission`` row, unique on the key) in
the same transaction as the write. A second POST with the same key — a double click, the
same form in two tabs at once, a refresh after the answer — cannot claim it: it writes
nothing and goes to the page the first one went to, with a short message
(``Resubmitted.response``). A write the service refuses rolls the claim back with it, so the
corrected form can be sent again.

The one-off message and the inbox reply use the same key as their message's dedupe key
instead: the message itself is the claim.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext, gettext_lazy

from crm_messaging.actors import acting_user

from .models import Submission

T = TypeVar("T")

FIELD = "nonce"
NONCE = re.compile(r"[0-9a-f]{32}")
EXPIRED = gettext_lazy("This form has expired; reload the page and send again.")


def new_nonce() -> str:
    """A fresh key for one showing of a form; the same form sent again carries the same one."""
    return uuid.uuid4().hex


class NonceField(forms.CharField):
    """The hidden key of a form class; a missing or tampered one is refused as expired."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("error_messages", {"required": EXPIRED, "max_length": EXPIRED})
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        nonce = super().clean(value)
        if not NONCE.fullmatch(nonce):
            raise ValidationError(EXPIRED, code="expired")
        return str(nonce)


class Resubmitted(Exception):
    """The form had been sent before with this key: nothing was written this time."""

    def __init__(self, landing: str) -> None:
        super().__init__(landing)
        self.landing = landing

    def response(self, request: HttpRequest) -> HttpResponseRedirect:
        """Where the first submission went, with a word on why nothing happened."""
        messages.info(request, gettext("This form had already been sent; it was not done again."))
        return HttpResponseRedirect(self.landing)


def resubmitted(request: HttpRequest, *, form: str) -> Resubmitted | None:
    """The earlier submission of this POST's key, if there was one. Asked before the form is
    validated: sent again, a form may no longer be valid because of its own first submission
    (its API key's name is taken now), and the answer is the first one's page, not that error.
    A key claimed by another form or user is not this form's: ``submit_once`` refuses it.
    """
    earlier = Submission.objects.filter(key=request.POST.get(FIELD, "")).first()
    if earlier is None or earlier.form != form:
        return None
    if earlier.user_id != getattr(acting_user(request.user), "pk", None):
        return None
    return Resubmitted(earlier.landing)


def submit_once(
    request: HttpRequest, *, form: str, write: Callable[[], T], landing: Callable[[T], str]
) -> T:
    """Run ``write`` (a service call) once for the form's key, in one transaction with the
    claim, and keep ``landing(result)`` for a repeat. ``form`` names the form and its object
    (``"campaign-send:7"``): a key is honoured only for the form and user it was claimed by.

    Raises Resubmitted when the key was claimed before (a simultaneous POST waits on the
    unique key for the first to finish), ValidationError (the form has expired) for a
    missing, tampered or foreign key, and whatever ``write`` raises — which undoes the claim
    with the write, so the corrected form can be sent again.
    """
    key = request.POST.get(FIELD, "")
    if not NONCE.fullmatch(key):
        raise ValidationError(EXPIRED, code="expired")
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = Submission.objects.create(
                    key=key, form=form, user=acting_user(request.user)
                )
        except IntegrityError:
            # The first claim is committed by now (this insert waited for it): it is visible.
            raise resubmitted(request, form=form) or ValidationError(
                EXPIRED, code="expired"
            ) from None
        result = write()
        claim.landing = landing(result)
        claim.save(update_fields=["landing"])
    return result
