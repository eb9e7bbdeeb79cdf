"""The README's signature check, run as written against a real delivery (I2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from interfaces.webhooks.signing import secret_generate
from interfaces.webhooks.tasks import sweep_webhooks
from tests.factories import GuestFactory

pytestmark = pytest.mark.django_db


def readme_verify():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = readme.split("## Webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace["verify"]


def test_the_readme_verification_accepts_our_delivery_and_refuses_a_forgery(
    endpoint, receiver
) -> None:
    _, secret = endpoint
    verify = readme_verify()
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )
    sweep_webhooks()
    (request,) = receiver.wait_for_requests(1)
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert verify(secret, headers, request.body)["type"] == "consent.changed"
    with pytest.raises(ValueError, match="bad signature"):
        verify(secret_generate(), headers, request.body)
    with pytest.raises(ValueError, match="bad signature"):
        verify(secret, headers, request.body + b" ")
