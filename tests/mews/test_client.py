"""The Mews client speaks the documented Connector API: tokens in the body, cursor pages,
errors sorted into retry-later and give-up (I4)."""

from __future__ import annotations

import datetime as dt

import pytest

from interfaces.mews import client as mews_client
from interfaces.mews.client import MewsClient, MewsError

from .conftest import ACCESS_TOKEN, CLIENT_TOKEN, ENTERPRISE_ID


def _client(fake, *, access_token: str = ACCESS_TOKEN) -> MewsClient:
    return MewsClient(
        platform_url=fake.base_url,
        client_token=CLIENT_TOKEN,
        access_token=access_token,
        client="Tests 1.0",
        enterprise_id=ENTERPRISE_ID,
        timeout=5,
    )


def test_it_pages_through_reservations_with_the_cursor(fake_mews, monkeypatch) -> None:
    monkeypatch.setattr(mews_client, "PAGE_SIZE", 2)
    customer = fake_mews.add_customer(first_name="Ayşe", last_name="Yılmaz")
    start = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)
    ids = {
        fake_mews.add_reservation(
            customer_id=customer, start=start, end=start + dt.timedelta(days=3)
        )
        for _ in range(5)
    }
    now = dt.datetime.now(dt.UTC)

    got = list(
        _client(fake_mews).reservations(
            updated=(now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1))
        )
    )

    assert {r["Id"] for r in got} == ids and len(got) == 5
    calls = fake_mews.operations("reservations/getAll/2023-06-06")
    assert len(calls) == 3  # 2 + 2 + 1
    first, second = calls[0].json, calls[1].json
    assert first["ClientToken"] == CLIENT_TOKEN and first["AccessToken"] == ACCESS_TOKEN
    assert first["Client"] == "Tests 1.0" and first["EnterpriseIds"] == [ENTERPRISE_ID]
    assert "Cursor" not in first["Limitation"] and first["Limitation"]["Count"] == 2
    assert second["Limitation"]["Cursor"] == got[1]["Id"]  # the last item of page one
    assert set(first["UpdatedUtc"]) == {"StartUtc", "EndUtc"}
    assert "Canceled" in first["States"] and "Processed" in first["States"]


def test_it_fetches_customers_by_id(fake_mews) -> None:
    wanted = fake_mews.add_customer(first_name="Hans", last_name="Müller", email="hans@example.de")
    fake_mews.add_customer(first_name="Other", last_name="Guest")

    got = list(_client(fake_mews).customers(ids=[wanted]))

    assert [c["Email"] for c in got] == ["hans@example.de"]
    assert fake_mews.operations("customers/getAll")[0].json["CustomerIds"] == [wanted]


def test_wrong_tokens_are_a_permanent_error(fake_mews) -> None:
    with pytest.raises(MewsError) as caught:
        list(_client(fake_mews, access_token="wrong").customers(ids=["x"]))
    assert caught.value.permanent and caught.value.status == 401
    assert "Invalid ClientToken or AccessToken" in str(caught.value)


def test_an_unreachable_platform_is_worth_a_retry() -> None:
    client = MewsClient(
        platform_url="http://127.0.0.1:9", client_token="c", access_token="a", client="t", timeout=1
    )
    with pytest.raises(MewsError) as caught:
        client.call("customers/getAll", {})
    assert not caught.value.permanent


def test_rooms_and_companions_are_read_as_documented_page_by_page(fake_mews, monkeypatch) -> None:
    monkeypatch.setattr(mews_client, "PAGE_SIZE", 2)
    client = _client(fake_mews)
    categories = [
        fake_mews.add_resource_category(names={"en-US": f"Category {n}"}) for n in range(3)
    ]
    rooms = [fake_mews.add_resource(str(100 + n)) for n in range(3)]

    got = list(client.resource_categories(ids=categories, service_ids=[fake_mews.service_id]))
    assert [c["Names"]["en-US"] for c in got] == ["Category 2", "Category 1", "Category 0"]
    assert {r["Name"] for r in client.resources(ids=rooms)} == {"100", "101", "102"}
    for operation in ("resourceCategories/getAll", "resources/getAll"):
        first, second = fake_mews.operations(operation)
        assert "Cursor" not in first.json["Limitation"] and second.json["Limitation"]["Cursor"]
    assert fake_mews.operations("resources/getAll")[0].json["Extent"]["Resources"] is True


def test_the_fake_refuses_what_mews_refuses(fake_mews) -> None:
    client = _client(fake_mews)
    with pytest.raises(MewsError, match="ServiceIds is required") as no_service:
        list(client.resource_categories(ids=["x"], service_ids=[]))
    assert no_service.value.permanent and no_service.value.status == 400
    with pytest.raises(MewsError, match="is required"):
        client.call("companionships/getAll", {"Extent": {}, "Limitation": {"Count": 10}})
    with pytest.raises(MewsError, match="Extent is required"):
        client.call("resources/getAll", {"ResourceIds": ["x"], "Limitation": {"Count": 10}})
