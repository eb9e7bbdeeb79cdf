"""Self-tests of the provider fakes, driven by the real client libraries.

Run alone with ``.venv/bin/pytest tests/fakes -q -p no:django``; they need no
database and no Django settings.
"""

from __future__ import annotations

import hashlib
import json

import jwt
import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator

from tests.fakes._server import running_webhook_sink
from tests.fakes.twilio_api import (
    TwilioOutcome,
    count_segments,
    running_fake_twilio,
    signed_status_callback,
    status_callback_params,
    twilio_client_for,
)
from tests.fakes.vonage_messages import (
    VonageOutcome,
    running_fake_vonage,
    signed_webhook,
    status_webhook_payload,
)

SID = "AC" + "a1" * 16
TOKEN = "twilio-auth-token-for-tests"
FROM = "+15005550001"
TO = "+359888123456"

API_KEY = "abcd1234"
API_SECRET = "vonage-api-secret"
SIG_SECRET = "vonage-signature-secret-0123456789abcdef"
APP_ID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"


@pytest.fixture
def fake_twilio():
    with running_fake_twilio(SID, TOKEN) as fake:
        yield fake


@pytest.fixture
def twilio(fake_twilio):
    return twilio_client_for(fake_twilio.base_url, SID, TOKEN, timeout=2)


@pytest.fixture
def sink():
    with running_webhook_sink() as s:
        yield s


# ----------------------------------------------------------------------------- Twilio


def test_real_twilio_client_sends_through_fake(fake_twilio, twilio, sink):
    msg = twilio.messages.create(
        to=TO,
        from_=FROM,
        body="Your room is ready",
        status_callback=sink.url("/tw"),
        validity_period=600,
    )
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert msg.sid in fake_twilio.messages
    assert msg.status == "queued"
    assert msg.to == TO and msg.from_ == FROM and msg.body == "Your room is ready"
    assert msg.num_segments == "1" and msg.error_code is None
    assert msg.date_created is not None and msg.direction == "outbound-api"

    req = fake_twilio.requests[-1]
    assert req.method == "POST"
    assert req.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert req.auth == (SID, TOKEN)
    assert req.data == {
        "To": TO,
        "From": FROM,
        "Body": "Your room is ready",
        "StatusCallback": sink.url("/tw"),
        "ValidityPeriod": "600",
    }
    assert req.header("X-Twilio-Client", "").startswith("python-")

    fetched = twilio.messages(msg.sid).fetch()
    assert fetched.sid == msg.sid and fetched.status == "queued"


def test_messaging_service_and_content_template(fake_twilio, twilio):
    msg = twilio.messages.create(
        to="whatsapp:" + TO,
        messaging_service_sid="MG" + "0" * 32,
        content_sid="HX" + "1" * 32,
        content_variables=json.dumps({"1": "Ana"}),
    )
    assert msg.status == "accepted" and msg.num_segments == "0" and msg.from_ is None
    data = fake_twilio.requests[-1].data
    assert data["ContentSid"] == "HX" + "1" * 32 and json.loads(data["ContentVariables"]) == {
        "1": "Ana"
    }


def test_scripted_429_surfaces_as_twilio_rest_exception(fake_twilio, twilio):
    fake_twilio.script(TwilioOutcome.rate_limited())
    with pytest.raises(TwilioRestException) as info:
        twilio.messages.create(to=TO, from_=FROM, body="hi")
    assert info.value.status == 429
    assert info.value.code == 20429
    assert fake_twilio.messages == {}
    # the queue is consumed: the next request succeeds
    assert twilio.messages.create(to=TO, from_=FROM, body="hi").status == "queued"


@pytest.mark.parametrize(
    ("outcome", "status", "code"),
    [
        (TwilioOutcome.invalid_to(), 400, 21211),
        (TwilioOutcome.unsubscribed(), 400, 21610),
        (TwilioOutcome.region_not_enabled(), 400, 21408),
        (TwilioOutcome.server_error(), 500, 20500),
        (TwilioOutcome.service_unavailable(), 503, 20503),
    ],
)
def test_scripted_errors(fake_twilio, twilio, outcome, status, code):
    fake_twilio.script(outcome)
    with pytest.raises(TwilioRestException) as info:
        twilio.messages.create(to=TO, from_=FROM, body="hi")
    assert (info.value.status, info.value.code) == (status, code)
    assert fake_twilio.requests[-1].outcome == str(status)


def test_wrong_credentials_get_401_20003(fake_twilio):
    client = twilio_client_for(fake_twilio.base_url, SID, "wrong-token", timeout=2)
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=TO, from_=FROM, body="hi")
    assert (info.value.status, info.value.code) == (401, 20003)


def test_fake_validates_like_twilio(twilio):
    with pytest.raises(TwilioRestException) as info:
        twilio.messages.create(to="0888 123", from_=FROM, body="hi")
    assert info.value.code == 21211


def test_delay_provokes_client_timeout_after_the_request_left(fake_twilio):
    client = twilio_client_for(fake_twilio.base_url, SID, TOKEN, timeout=0.3)
    fake_twilio.script(TwilioOutcome.delay(3))
    with pytest.raises(requests.exceptions.Timeout):
        client.messages.create(to=TO, from_=FROM, body="slow")
    # Twilio got (and created) the message even though we never saw the answer.
    assert len(fake_twilio.messages) == 1


def test_disconnect_is_a_connection_error(fake_twilio, twilio):
    fake_twilio.script(TwilioOutcome.disconnect())
    with pytest.raises(requests.exceptions.ConnectionError):
        twilio.messages.create(to=TO, from_=FROM, body="hi")


def test_status_callbacks_are_signed_and_validate(fake_twilio, twilio, sink):
    url = sink.url("/hooks/twilio/status?tenant=7")
    fake_twilio.script(TwilioOutcome.delivered())
    msg = twilio.messages.create(to=TO, from_=FROM, body="hi", status_callback=url)
    hooks = sink.wait_for_requests(2)

    validator = RequestValidator(TOKEN)
    assert [h.data["MessageStatus"] for h in hooks] == ["sent", "delivered"]
    for hook in hooks:
        assert hook.data["MessageSid"] == msg.sid == hook.data["SmsSid"]
        assert hook.data["AccountSid"] == SID and hook.data["To"] == TO
        assert validator.validate(url, hook.data, hook.header("X-Twilio-Signature"))
        assert not validator.validate(
            url, {**hook.data, "MessageStatus": "read"}, hook.header("X-Twilio-Signature")
        )
    assert "ErrorCode" not in hooks[1].data
    assert twilio.messages(msg.sid).fetch().status == "delivered"


def test_whatsapp_outside_window_fails_asynchronously_with_63016(fake_twilio, twilio, sink):
    fake_twilio.script(TwilioOutcome.whatsapp_outside_window())
    msg = twilio.messages.create(
        to="whatsapp:" + TO, from_="whatsapp:" + FROM, body="hi", status_callback=sink.url()
    )
    assert msg.status == "queued"  # accepted synchronously
    hook = sink.wait_for_requests(1)[0]
    assert hook.data["MessageStatus"] == "failed" and hook.data["ErrorCode"] == "63016"
    fetched = twilio.messages(msg.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("failed", 63016)


def test_explicit_callback_and_signed_helper(fake_twilio, twilio, sink):
    msg = twilio.messages.create(to=TO, from_=FROM, body="hi")
    rec = fake_twilio.callback(msg.sid, "undelivered", 30003, url=sink.url("/x"))
    assert rec.status_code == 200 and rec.payload["ErrorCode"] == "30003"

    params = status_callback_params(fake_twilio.message(msg.sid), "delivered")
    url = "http://testserver/webhooks/twilio/status/"
    headers, body = signed_status_callback(url, params, TOKEN)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert RequestValidator(TOKEN).validate(url, params, headers["X-Twilio-Signature"])
    own_headers, own_body = fake_twilio.signed_status_callback(url, params)
    assert own_headers["X-Twilio-Signature"] == headers["X-Twilio-Signature"] and own_body == body
    assert "MessageStatus=delivered" in body


def test_segment_counting():
    assert count_segments("a" * 160) == 1
    assert count_segments("a" * 161) == 2
    assert count_segments("ж" * 70) == 1
    assert count_segments("ж" * 71) == 2
    assert count_segments("€" * 80) == 1  # GSM-7 extension chars count double


def test_twilio_client_for_defaults_to_real_twilio():
    client = twilio_client_for(None, SID, TOKEN, timeout=5)
    assert type(client.http_client) is TwilioHttpClient
    assert client.http_client.timeout == 5
    with pytest.raises(ValueError):
        twilio_client_for("127.0.0.1:80", SID, TOKEN)


# ----------------------------------------------------------------------------- Vonage


def viber_body(**overrides):
    body = {
        "channel": "viber_service",
        "message_type": "text",
        "to": "359888123456",
        "from": "16273",
        "text": "Your room is ready",
        "viber_service": {"category": "transaction", "ttl": 600},
        "client_ref": "sendlog-42",
    }
    body.update(overrides)
    return body


@pytest.fixture
def fake_vonage(sink):
    with running_fake_vonage(
        API_KEY, API_SECRET, SIG_SECRET, status_url=sink.url("/vonage"), application_id=APP_ID
    ) as fake:
        yield fake


def test_vonage_send_returns_202_with_uuid(fake_vonage):
    r = requests.post(
        fake_vonage.messages_url, json=viber_body(), auth=(API_KEY, API_SECRET), timeout=2
    )
    assert r.status_code == 202
    uuid = r.json()["message_uuid"]
    assert len(uuid) == 36 and uuid in fake_vonage.messages
    req = fake_vonage.requests[-1]
    assert req.auth == (API_KEY, API_SECRET) and req.json == viber_body()


def test_vonage_bad_credentials_401_problem_details(fake_vonage):
    r = requests.post(
        fake_vonage.messages_url, json=viber_body(), auth=(API_KEY, "nope"), timeout=2
    )
    assert r.status_code == 401
    assert set(r.json()) == {"type", "title", "detail", "instance"}


def test_vonage_validation_422(fake_vonage):
    r = requests.post(
        fake_vonage.messages_url,
        auth=(API_KEY, API_SECRET),
        timeout=2,
        json=viber_body(to="+359888123456", viber_service={"ttl": 5}),
    )
    assert r.status_code == 422
    body = r.json()
    assert body["title"] == "Invalid params"
    assert {p["name"] for p in body["invalid_parameters"]} == {"to", "viber_service.ttl"}


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (VonageOutcome.rate_limited(), 429),
        (VonageOutcome.server_error(), 500),
        (VonageOutcome.invalid_sender(), 422),
        (VonageOutcome.low_balance(), 402),
    ],
)
def test_vonage_scripted_sync_errors(fake_vonage, outcome, status):
    fake_vonage.script(outcome)
    r = requests.post(
        fake_vonage.messages_url, json=viber_body(), auth=(API_KEY, API_SECRET), timeout=2
    )
    assert r.status_code == status
    assert {"type", "title", "detail", "instance"} <= set(r.json())
    assert fake_vonage.messages == {}


def test_vonage_not_viber_user_is_an_async_rejected_webhook_signed_with_jwt(fake_vonage, sink):
    fake_vonage.script(VonageOutcome.not_viber_user())
    r = requests.post(
        fake_vonage.messages_url, json=viber_body(), auth=(API_KEY, API_SECRET), timeout=2
    )
    assert r.status_code == 202
    hook = sink.wait_for_requests(1)[0]
    payload = json.loads(hook.body)
    assert payload["message_uuid"] == r.json()["message_uuid"]
    assert payload["status"] == "rejected" and payload["channel"] == "viber_service"
    assert payload["to"] == "359888123456" and payload["from"] == "16273"
    assert payload["client_ref"] == "sendlog-42"
    assert payload["error"]["title"] == 1300
    assert payload["error"]["type"].endswith("#1300")

    assert hook.header("Authorization").startswith("Bearer ")
    claims = jwt.decode(hook.bearer, SIG_SECRET, algorithms=["HS256"])
    assert claims["iss"] == "Vonage" and claims["api_key"] == API_KEY
    assert claims["application_id"] == APP_ID
    assert claims["payload_hash"] == hashlib.sha256(hook.body).hexdigest()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(hook.bearer, "some-other-signature-secret-of-32-bytes", algorithms=["HS256"])


def test_vonage_delivered_and_read_sequence(fake_vonage, sink):
    fake_vonage.script(VonageOutcome.delivered(read=True))
    r = requests.post(
        fake_vonage.messages_url, json=viber_body(), auth=(API_KEY, API_SECRET), timeout=2
    )
    hooks = sink.wait_for_requests(3)
    payloads = [json.loads(h.body) for h in hooks]
    assert [p["status"] for p in payloads] == ["submitted", "delivered", "read"]
    assert payloads[1]["usage"]["currency"] == "EUR"
    assert fake_vonage.messages[r.json()["message_uuid"]]["status"] == "read"


def test_vonage_signed_webhook_helper_for_django_test_client():
    payload = status_webhook_payload(
        "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", "359888123456", "16273", "rejected", 1310
    )
    headers, body = signed_webhook(payload, SIG_SECRET, API_KEY, APP_ID)
    assert headers["Content-Type"] == "application/json"
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, SIG_SECRET, algorithms=["HS256"])
    assert claims["payload_hash"] == hashlib.sha256(body).hexdigest()
    assert json.loads(body)["error"]["title"] == 1310


def test_vonage_bearer_application_jwt(sink):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with running_fake_vonage(
        API_KEY, API_SECRET, SIG_SECRET, application_id=APP_ID, application_public_key=public_pem
    ) as fake:
        token = jwt.encode({"application_id": APP_ID, "iat": 1, "jti": "x"}, key, algorithm="RS256")
        r = requests.post(
            fake.messages_url,
            json=viber_body(),
            timeout=2,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 202
        bad = jwt.encode({"application_id": "other", "iat": 1}, key, algorithm="RS256")
        r = requests.post(
            fake.messages_url,
            json=viber_body(),
            timeout=2,
            headers={"Authorization": f"Bearer {bad}"},
        )
        assert r.status_code == 401


def test_vonage_delay_times_out_client(fake_vonage):
    fake_vonage.script(VonageOutcome.delay(3))
    with pytest.raises(requests.exceptions.Timeout):
        requests.post(
            fake_vonage.messages_url, json=viber_body(), auth=(API_KEY, API_SECRET), timeout=0.3
        )
    assert len(fake_vonage.messages) == 1
