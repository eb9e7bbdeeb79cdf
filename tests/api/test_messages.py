"""POST /api/v1/messages/ through message_send (consent, credits), Idempotency-Key, reading
statuses, events and cost, the cursor-paginated list and the credit balance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from channels_out.models import OutboundMessage
from guests.models import ConsentRecord, Guest
from guests.services import guest_upsert

from .conftest import pointers, problem_of

pytestmark = pytest.mark.django_db
URL = "/api/v1/messages/"


@pytest.fixture
def guest(db: None) -> Guest:
    guest, _ = guest_upsert(
        source="mews",
        external_id="G1",
        data={"first_name": "Ayşe", "phone": "+905321234567", "email": "ayse@example.com"},
    )
    return guest


@pytest.fixture
def ready(accounts: dict, top_up: Any, guest: Guest) -> Guest:
    top_up(100)
    return guest


def _send(client: Any, body: dict[str, Any], key: str = "") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, body, format="json", **headers)


SMS = {"channel": "sms", "guest": "mews:G1", "text": "Your room is ready."}


def test_a_message_is_queued_through_the_one_send_path_and_written_under_the_key(
    make_client, ready: Guest
) -> None:
    client, key = make_client(name="Mews")

    response = _send(client, SMS)

    body = response.json()
    assert response.status_code == 201
    assert (body["status"], body["channel"], body["guest"]) == ("queued", "sms", ready.pk)
    message = OutboundMessage.objects.get()
    assert (message.source, message.sent_by, message.to) == ("api", key.user, "+905321234567")


def test_its_status_events_and_cost_are_read_back_after_delivery(
    api, ready: Guest, deliver_queued: Any
) -> None:
    sent = _send(api, SMS).json()
    deliver_queued()

    response = api.get(f"{URL}{sent['id']}")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] in {"sent", "delivered"}
    assert Decimal(body["credits_spent"]) > 0
    assert [e["status"] for e in body["events"]][-1] == body["status"]


def test_the_same_idempotency_key_answers_200_with_the_same_message(api, ready: Guest) -> None:
    first = _send(api, SMS, key="retry-1")
    second = _send(api, SMS, key="retry-1")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert OutboundMessage.objects.count() == 1


def test_the_same_idempotency_key_with_another_request_is_422_and_sends_nothing(
    api, ready: Guest
) -> None:
    _send(api, SMS, key="retry-1")

    response = _send(api, {**SMS, "text": "Something else."}, key="retry-1")

    assert response.status_code == 422
    problem_of(response)
    assert OutboundMessage.objects.count() == 1


def test_without_a_key_or_with_another_api_key_each_request_is_a_message(
    make_client, ready: Guest
) -> None:
    one, _ = make_client(name="One")
    two, _ = make_client(name="Two")

    _send(one, SMS)
    _send(one, SMS)
    _send(one, SMS, key="k")
    _send(two, SMS, key="k")

    assert OutboundMessage.objects.count() == 4


@pytest.mark.parametrize("header", ["x" * 101, "with space", "ünicode"])
def test_a_malformed_idempotency_key_is_400(api, ready: Guest, header: str) -> None:
    response = api.post(
        URL, SMS, format="json", HTTP_IDEMPOTENCY_KEY=header.encode().decode("latin-1")
    )

    assert response.status_code == 400
    assert "/Idempotency-Key" in pointers(response)
    assert not OutboundMessage.objects.exists()


def test_marketing_without_consent_is_logged_as_skipped(api, ready: Guest) -> None:
    response = _send(api, {**SMS, "purpose": "marketing"})

    body = response.json()
    assert response.status_code == 201
    assert (body["status"], body["skip_reason"]) == ("skipped", "no_consent")


def test_a_bad_number_is_a_send_logged_as_skipped_but_a_guest_record_refuses_it(
    api, ready: Guest
) -> None:
    """The difference the README states: a send is logged, a guest record refuses bad data."""
    send = _send(api, {"channel": "sms", "to": "12", "text": "Hi"})
    put = api.put("/api/v1/guests/mews:G1", {"phone": "12"}, format="json")

    assert send.status_code == 201
    assert (send.json()["status"], send.json()["skip_reason"]) == ("skipped", "invalid_number")
    assert put.status_code == 400 and pointers(put) == {"/phone"}
    ready.refresh_from_db()
    assert ready.phone == "+905321234567"


def test_marketing_with_consent_from_the_api_goes(api, ready: Guest) -> None:
    api.put(
        "/api/v1/guests/mews:G1",
        {"consents": [{"purpose": "marketing", "channel": "sms", "granted": True}]},
        format="json",
    )

    body = _send(api, {**SMS, "purpose": "marketing"}).json()

    assert ConsentRecord.objects.get().source == "api:Test PMS"
    assert body["status"] == "queued"


def test_codes_named_as_secrets_never_come_back(api, ready: Guest, deliver_queued: Any) -> None:
    sent = _send(api, {**SMS, "text": "Your door code is 482913.", "secrets": ["482913"]}).json()
    deliver_queued()

    read = api.get(f"{URL}{sent['id']}")
    listed = api.get(URL)

    assert "482913" not in sent["body"]
    assert "482913" not in read.content.decode()
    assert "482913" not in listed.content.decode()


def test_a_plan_sends_by_the_first_channel_and_keeps_the_rest_as_fallback(
    api, ready: Guest
) -> None:
    response = _send(api, {"plan": ["viber", "sms"], "guest": "mews:G1", "text": "Hello"})

    message = OutboundMessage.objects.get(pk=response.json()["id"])
    assert response.status_code == 201
    assert message.channel == "viber"
    assert [step["channel"] for step in message.fallback_plan] == ["sms"]


def test_an_address_of_a_known_guest_is_his_message(api, ready: Guest) -> None:
    response = _send(api, {"channel": "sms", "to": "0532 123 45 67", "text": "Hi"})

    assert response.status_code == 201
    assert response.json()["guest"] == ready.pk


MALFORMED = [
    ({"guest": "mews:G1", "text": "Hi"}, "/channel"),
    ({**SMS, "plan": ["sms"]}, "/channel"),
    ({**SMS, "channel": "pigeon"}, "/channel"),
    ({"channel": "sms", "text": "Hi"}, "/to"),
    ({"channel": "sms", "guest": "mews:G1"}, "/text"),
    ({**SMS, "template_id": "HX123"}, "/text"),
    ({**SMS, "guest": "mews:nobody"}, "/guest"),
    ({**SMS, "guest": "nobody"}, "/guest"),
    ({"plan": ["sms", "sms"], "guest": "mews:G1", "text": "Hi"}, "/plan"),
    ({**SMS, "purpose": "gossip"}, "/purpose"),
    ({**SMS, "priority": "high"}, "/priority"),
    ({**SMS, "text": "x" * 20_001}, "/text"),
    ({**SMS, "template_variables": {"1": "a"}}, "/template_variables"),
]


@pytest.mark.parametrize(("body", "pointer"), MALFORMED)
def test_a_malformed_message_is_400_naming_the_field_and_sends_nothing(
    api, ready: Guest, body: dict[str, Any], pointer: str
) -> None:
    response = _send(api, body)

    assert response.status_code == 400
    assert pointer in pointers(response)
    assert not OutboundMessage.objects.exists()


@pytest.mark.parametrize(
    ("method", "url", "scope"),
    [
        ("post", URL, "messages:send"),
        ("get", URL, "messages:read"),
        ("get", f"{URL}1", "messages:read"),
        ("get", "/api/v1/credits", "messages:read"),
    ],
)
def test_a_key_without_the_scope_gets_403(
    make_client, ready: Guest, method: str, url: str, scope: str
) -> None:
    others = [s for s in ("messages:send", "messages:read", "guests:write") if s != scope]
    client, _ = make_client(scopes=others)

    response = (
        getattr(client, method)(url, SMS, format="json") if method == "post" else client.get(url)
    )

    assert response.status_code == 403
    assert scope in problem_of(response)["detail"]
    assert not OutboundMessage.objects.exists()


def test_an_unknown_message_is_404(api) -> None:
    response = api.get(f"{URL}999999")

    assert response.status_code == 404
    problem_of(response)


def test_the_list_filters_and_pages_by_cursor(make_client, ready: Guest) -> None:
    mine, _ = make_client(name="Mine")
    other, _ = make_client(name="Other")
    for index in range(3):
        _send(mine, {**SMS, "text": f"Mine {index}"})
    _send(other, {**SMS, "channel": "email", "subject": "Hi", "text": "Mail"})

    first = mine.get(URL, {"channel": "sms", "limit": 2}).json()
    second = mine.get(first["next"]).json()
    only_mine = mine.get(URL, {"mine": "true"}).json()
    nobody = mine.get(URL, {"guest": "mews:nobody"}).json()

    texts = [m["body"] for m in first["results"] + second["results"]]
    assert texts == ["Mine 2", "Mine 1", "Mine 0"]
    assert second["next"] is None
    assert len(only_mine["results"]) == 3
    assert nobody["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"status": "lost"},
        {"status": ""},
        {"created_after": "yesterday"},
        {"channel": "fax"},
        {"limit": "x"},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "\u00b2"},  # a digit to str.isdigit, none to int
        {"limit": "\u0663"},  # ARABIC-INDIC DIGIT THREE: int() would read 3
        {"limit": "9" * 30},
        {"chanel": "sms"},
    ],
)
def test_a_bad_filter_is_400_naming_it(api, query: dict[str, str]) -> None:
    response = api.get(URL, query)

    assert response.status_code == 400
    assert {f"/{name}" for name in query} <= pointers(response)


# "garbage" is no base64; "cD1hYmM=" is base64 of "p=abc", a position that is no id; then
# "p=²" (a digit to str.isdigit, none to int) and a position past any bigint.
@pytest.mark.parametrize(
    "cursor",
    ["garbage", "cD1hYmM=", "ç", "cD3Csg==", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk="],
)
def test_a_cursor_no_link_gave_is_400_naming_it(api, cursor: str) -> None:
    response = api.get(URL, {"cursor": cursor})

    assert response.status_code == 400
    body = problem_of(response)
    assert body["type"].endswith("/invalid-request")
    assert [e["pointer"] for e in body["errors"]] == ["/cursor"]
    assert "next or previous link" in body["errors"][0]["detail"]


def test_credits_give_the_balance(api, top_up: Any) -> None:
    top_up(250)

    body = api.get("/api/v1/credits").json()

    assert Decimal(body["available"]) == Decimal("250")
    assert Decimal(body["reserved"]) == 0
    assert body["is_low"] is False
