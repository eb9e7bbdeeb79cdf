"""The OpenAPI schema: generated without warnings, valid, and the same as docs/openapi.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

CHECKED_IN = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


def test_the_checked_in_schema_is_what_the_code_generates(tmp_path: Path) -> None:
    generated = tmp_path / "openapi.yaml"

    call_command("spectacular", validate=True, fail_on_warn=True, file=str(generated))

    assert generated.read_text() == CHECKED_IN.read_text(), (
        "docs/openapi.yaml is out of date: run `make openapi` and commit it"
    )


@pytest.mark.django_db
def test_the_schema_and_the_docs_are_served(client) -> None:
    schema = client.get("/api/v1/schema/")
    docs = client.get("/api/v1/docs/")
    script = client.get("/api/v1/docs/?script=")

    assert schema.status_code == 200 and b"/api/v1/guests/" in schema.content
    assert docs.status_code == 200
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
    assert "script-src 'self'" in docs["Content-Security-Policy"]
    assert b"<script>" not in docs.content
