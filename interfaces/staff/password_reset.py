"""Staff password reset by e-mail that says so when the mail cannot go.

Django's reset form logs a failed send and shows "done" all the same; a member of staff then
waits for a mail that never comes. Here the mail server is reached first — the same for
every address, so the answer does not tell whether an account exists — and the reset mail
goes over that connection; if either fails, the form says the mail could not be sent.

Staff mail goes through Django's own e-mail settings (``EMAIL_*``), not through the guest
channels: the reset link is a key to a staff account and has no place in the guests' send log.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.http import HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
MAIL_ERRORS = (OSError, smtplib.SMTPException)


class StaffPasswordResetForm(PasswordResetForm):
    """Sends over ``connection`` and lets a failure through (Django's form swallows it)."""

    connection: BaseEmailBackend | None = None

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(
            subject, body, from_email, [to_email], connection=self.connection
        )
        if html_email_template_name is not None:
            message.attach_alternative(
                loader.render_to_string(html_email_template_name, context), "text/html"
            )
        message.send(fail_silently=False)


class StaffPasswordResetView(PasswordResetView):
    form_class = StaffPasswordResetForm

    def form_valid(self, form: StaffPasswordResetForm) -> HttpResponse:  # type: ignore[override]
        try:
            with get_connection(fail_silently=False) as connection:
                form.connection = connection
                return super().form_valid(form)
        except MAIL_ERRORS as exc:
            # Only the kind of failure: the mail holds a reset link, never to be logged.
            logger.error("A password reset mail could not be sent: %s", type(exc).__name__)
            form.add_error(
                None,
                _(
                    "The e-mail could not be sent: the mail server did not take it. Please "
                    "try again later, or ask a manager to set a new password for you."
                ),
            )
            return self.form_invalid(form)
