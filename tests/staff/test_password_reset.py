"""Staff password reset: the mail goes through the EMAIL_* server; a failure is said, not "done"."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.fakes.smtp_server import FakeSmtpServer, running_smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user(
        "frontdesk", email="desk@hotel.example", password="old password 123"
    )


@pytest.fixture
def smtp(settings) -> Iterator[FakeSmtpServer]:
    with running_smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        yield server


@pytest.fixture
def no_smtp(settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port


def _ask(email: str):
    return Client().post(reverse("password_reset"), {"email": email})


def test_the_reset_link_arrives_at_the_smtp_server_and_works(user, smtp) -> None:
    response = _ask("desk@hotel.example")
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    [mail] = smtp.received
    assert mail.rcpt_tos == ("desk@hotel.example",)
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.message.get_content())
    assert link, mail.message.get_content()
    client = Client()
    form = client.get(link.group(0), follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a new long password 987", "new_password2": "a new long password 987"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a new long password 987")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(user, smtp) -> None:
    response = _ask("nobody@hotel.example")
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert smtp.received == []


@pytest.mark.parametrize("email", ["desk@hotel.example", "nobody@hotel.example"])
def test_a_refused_connection_is_an_error_not_done(
    user, no_smtp, email: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = _ask(email)
    assert response.status_code == 200  # the form again, for any address: nothing to enumerate
    page = response.content.decode()
    assert "The e-mail could not be sent" in page
    assert "/accounts/reset/" not in caplog.text


def test_a_recipient_the_server_refuses_is_an_error(user, smtp) -> None:
    smtp.script("RCPT", 550)
    response = _ask("desk@hotel.example")
    assert response.status_code == 200
    assert "The e-mail could not be sent" in response.content.decode()
