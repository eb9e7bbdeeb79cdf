from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.fakes.mews_api import FakeMews, running_fake_mews

CLIENT_TOKEN = "E0D439EE522F44368DC78E1BFB03710C-D24FB11DBE31D4621C4817E028D9E1D"
ACCESS_TOKEN = "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D"
ENTERPRISE_ID = str(uuid.UUID(int=7))


@pytest.fixture
def fake_mews() -> Iterator[FakeMews]:
    with running_fake_mews(
        client_token=CLIENT_TOKEN, access_token=ACCESS_TOKEN, enterprise_id=ENTERPRISE_ID
    ) as fake:
        yield fake
