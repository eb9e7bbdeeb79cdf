"""Webhooks go to public addresses only (server-side request forgery, I2): an endpoint at a
loopback, private, link-local (cloud metadata), unique-local … address — written as a literal
or as a name resolving to one — is refused when registered (staff screen, API, admin) and
again at every delivery (DNS rebinding), unless the hotel names the network in
WEBHOOKS_ALLOWED_PRIVATE_NETWORKS; the delivery connects to the address it checked."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from crm_messaging.ui.once import new_nonce
from guests.models import ConsentPurpose, ConsentSource
from guests.services import guest_record_consent
from interfaces.staff.roles import sync_roles
from interfaces.webhooks import addresses
from interfaces.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from interfaces.webhooks.services import delivery_attempt, endpoint_create, endpoint_update
from tests.api.conftest import pointers, problem_of
from tests.factories import GuestFactory

from .conftest import Receiver, library_verified

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # a public address (example.com's, never connected to here)

# One URL per class of address that is not public, and the words the refusal uses.
NOT_PUBLIC = [
    ("http://127.0.0.1:8080/hooks", "loopback"),
    ("https://localhost/hooks", "loopback"),
    ("http://[::1]:8080/hooks", "loopback"),
    ("http://[::ffff:127.0.0.1]:8080/", "loopback"),  # IPv4-mapped IPv6
    ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),  # 169.254.169.254 through NAT64
    ("http://[2002:a00:1::1]/", "private"),  # 6to4 of 10.0.0.1
    ("http://10.1.2.3/hooks", "private"),
    ("http://172.16.0.5/hooks", "private"),
    ("https://192.168.1.10/hooks", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
    ("http://[fe80::1]/hooks", "link-local"),
    ("http://[fc00::1]/hooks", "unique-local"),
    ("http://[fd12:3456::1]/hooks", "unique-local"),
    ("http://100.64.0.1/hooks", "not public"),  # carrier-grade NAT
    ("http://0.0.0.0:8080/hooks", "unspecified"),
    ("http://224.0.0.1/hooks", "multicast"),
    ("https://pms.lan.test/hooks", "private"),  # a name the patched resolver gives 10.0.0.5
    ("https://split.test/hooks", "private"),  # one public and one private answer
]

# Malformed or otherwise refused addresses: each a clear error, never a 500.
MALFORMED = [
    "ftp://pms.example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "https://user:secret@pms.example.com/hooks",
    "https://pms.example.com:22/hooks",
    "https://pms.example.com:99999/hooks",
    "http://[::1/hooks",
    "http://[zz::1]/hooks",
    "https://",
    "https://exa mple.com/",
    "http://xn--/",
    "http://127.1:8080/hooks",  # a short form of 127.0.0.1 the system would resolve
    "http://2130706433/",  # 127.0.0.1 as one number
    "javascript:alert(1)",
    "not a url",
]


class Names(dict[str, list[str]]):
    """Name → addresses, and how often each name was looked up."""

    lookups: dict[str, int]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Names:
    """A patched system resolver: the names in the dict answer with their addresses (the
    test may change them between calls); other names resolve as usual. Each lookup of a
    patched name is counted under ``"#" + name``."""
    names = Names(
        {
            "pms.lan.test": ["10.0.0.5"],
            "split.test": [PUBLIC, "10.0.0.6"],
            "pms.example.com": [PUBLIC],
        }
    )
    lookups: dict[str, int] = {}
    names.lookups = lookups
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in names:
            lookups[name] = lookups.get(name, 0) + 1
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (ip, int(port or 0)),
                )
                for ip in names[name]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def manager(client: Any, django_user_model: Any) -> Any:
    sync_roles()
    user = django_user_model.objects.create_user("manager", first_name="Manager")
    user.groups.add(Group.objects.get(name="Manager"))
    client.force_login(user)
    return client


@pytest.fixture
def hooks(make_client: Callable[[list[str]], Any]) -> Any:
    return make_client(["webhooks:manage"])[0]


@pytest.fixture
def sink() -> Iterator[Receiver]:
    """A loopback receiver WITHOUT the setting that allows loopback (unlike ``receiver``)."""
    server = Receiver(200)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def consent_event() -> None:
    guest_record_consent(
        guest=GuestFactory(),
        purpose=ConsentPurpose.MARKETING,
        channel="sms",
        granted=True,
        source=ConsentSource.STAFF,
    )


# --- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "words"), NOT_PUBLIC)
def test_the_staff_screen_refuses_an_address_that_is_not_public(
    manager, resolver, url, words
) -> None:
    response = manager.post(
        reverse("webhooks:endpoint-list"),
        {"url": url, "events": ["consent.changed"], "nonce": new_nonce()},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Nothing was saved" in page
    assert words in page and "not a public one" in page
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(("url", "words"), NOT_PUBLIC)
def test_the_api_refuses_an_address_that_is_not_public_as_a_problem(
    hooks, resolver, url, words
) -> None:
    response = hooks.post(
        "/api/v1/webhooks/", {"url": url, "events": ["consent.changed"]}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert pointers(response) == {"/url"}
    assert words in str(problem_of(response)) and "not a public one" in str(problem_of(response))
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_or_odd_address_is_a_clear_error_everywhere(
    manager, hooks, resolver, url
) -> None:
    page = manager.post(
        reverse("webhooks:endpoint-list"),
        {"url": url, "events": ["consent.changed"], "nonce": new_nonce()},
    )
    assert page.status_code == 200 and "Nothing was saved" in page.content.decode()
    answer = hooks.post(
        "/api/v1/webhooks/", {"url": url, "events": ["consent.changed"]}, format="json"
    )
    assert answer.status_code == 400 and pointers(answer) == {"/url"}
    assert not WebhookEndpoint.objects.exists()


def test_the_error_says_why(resolver) -> None:
    with pytest.raises(ValidationError) as refused:
        endpoint_create(url="https://user:pw@pms.example.com/", events=["consent.changed"])
    assert "user name and password" in str(refused.value.message_dict["url"])
    with pytest.raises(ValidationError) as refused:
        endpoint_create(url="https://pms.example.com:25/", events=["consent.changed"])
    assert "Port 25 is not allowed" in str(refused.value.message_dict["url"])
    with pytest.raises(ValidationError) as refused:
        endpoint_create(url="https://pms.lan.test/", events=["consent.changed"])
    assert "pms.lan.test resolves to 10.0.0.5, a private-network address" in str(
        refused.value.message_dict["url"]
    )


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://2130706433/", "The address is not a valid URL."),
        ("https://exa mple.com/", "The address is not a valid URL."),
        ("ftp://pms.example.com/", "Enter an http:// or https:// address."),
    ],
)
def test_an_http_address_of_the_wrong_form_is_not_told_to_start_with_http(
    resolver, url, said
) -> None:
    with pytest.raises(ValidationError) as refused:
        endpoint_create(url=url, events=["consent.changed"])
    assert refused.value.message_dict["url"] == [said]


def test_a_public_address_and_an_unresolvable_name_are_accepted(resolver) -> None:
    endpoint, _ = endpoint_create(url="https://pms.example.com/hooks", events=["consent.changed"])
    # Not resolvable today (a name being set up): every delivery resolves and checks it.
    later, _ = endpoint_create(url="https://no-such-name.invalid/", events=["consent.changed"])
    assert endpoint.pk and later.pk


def test_changing_an_endpoint_to_a_private_address_is_refused_and_changes_nothing(
    hooks, resolver
) -> None:
    endpoint, _ = endpoint_create(url="https://pms.example.com/hooks", events=["consent.changed"])
    response = hooks.patch(
        f"/api/v1/webhooks/{endpoint.pk}", {"url": "http://169.254.169.254/"}, format="json"
    )
    assert response.status_code == 400 and pointers(response) == {"/url"}
    with pytest.raises(ValidationError):
        endpoint_update(endpoint=endpoint, url="http://[::1]:9000/", events=["consent.changed"])
    endpoint.refresh_from_db()
    assert endpoint.url == "https://pms.example.com/hooks"


def test_the_admin_refuses_a_private_address(admin_client, resolver) -> None:
    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "http://192.168.1.10/hooks", "description": "", "events": ["consent.changed"]},
        follow=True,
    )
    assert response.status_code == 200
    assert "a private-network address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_setting_allows_the_hotels_own_network_and_nothing_else(settings, resolver) -> None:
    settings.WEBHOOKS_ALLOWED_PRIVATE_NETWORKS = ["10.0.0.0/8", "fd12:3456::/32"]
    for url in ("http://10.1.2.3:8080/hooks", "https://pms.lan.test/", "http://[fd12:3456::1]/"):
        assert endpoint_create(url=url, events=["consent.changed"])[0].pk
    for url in ("http://192.168.1.10/", "http://169.254.169.254/", "http://127.0.0.1:8080/"):
        with pytest.raises(ValidationError):
            endpoint_create(url=url, events=["consent.changed"])


def test_a_malformed_setting_stops_start_up() -> None:
    with (
        override_settings(WEBHOOKS_ALLOWED_PRIVATE_NETWORKS=["10.0.0.0/33"]),
        pytest.raises(ImproperlyConfigured, match="WEBHOOKS_ALLOWED_PRIVATE_NETWORKS"),
    ):
        addresses.allowed_private_networks()


# --- delivery --------------------------------------------------------------------------------


def test_a_name_that_turns_private_after_registration_is_refused_at_delivery(
    resolver, sink
) -> None:
    """DNS rebinding: public when registered, loopback when the delivery is made."""
    resolver["pms.rebind.test"] = [PUBLIC]
    endpoint, _ = endpoint_create(
        url=f"http://pms.rebind.test:{sink.port}/pms/events", events=["consent.changed"]
    )
    resolver["pms.rebind.test"] = ["127.0.0.1"]
    consent_event()
    delivery = WebhookDelivery.objects.get()
    attempt = delivery_attempt(delivery.pk)

    assert attempt is not None and not attempt.succeeded and attempt.status_code is None
    assert attempt.error.startswith("Refused: pms.rebind.test resolves to 127.0.0.1, a loopback")
    assert sink.requests == []  # nothing was sent
    delivery.refresh_from_db()
    # A refusal is a failed attempt like any other: retried with backoff, then failed.
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_error == attempt.error
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at - timezone.now() <= dt.timedelta(seconds=31)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None


def test_a_refused_endpoint_is_disabled_after_24_hours_like_any_failing_one(resolver, sink) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        endpoint, _ = endpoint_create(
            url=f"http://pms.example.com:{sink.port}/", events=["consent.changed"]
        )
        resolver["pms.example.com"] = ["10.0.0.9"]
        consent_event()
        delivery = WebhookDelivery.objects.get()
        for _ in range(100):
            delivery.refresh_from_db()
            if delivery.status != WebhookDelivery.Status.PENDING:
                break
            clock.move_to(delivery.next_attempt_at)
            delivery_attempt(delivery.pk)
    endpoint.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert not endpoint.is_active and "Refused" in endpoint.disabled_reason
    assert sink.requests == []
    assert all("10.0.0.9" in a.error for a in WebhookAttempt.objects.all())


def test_a_delivery_connects_to_the_address_it_checked_with_the_names_host_header(
    settings, resolver, sink
) -> None:
    settings.WEBHOOKS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    resolver["pms.hotel.test"] = ["127.0.0.1"]
    _, secret = endpoint_create(
        url=f"http://pms.hotel.test:{sink.port}/pms/events?hotel=7", events=["consent.changed"]
    )
    lookups = resolver.lookups
    before = lookups["pms.hotel.test"]
    consent_event()
    attempt = delivery_attempt(WebhookDelivery.objects.get().pk)

    assert attempt is not None and attempt.succeeded, attempt and attempt.error
    (request,) = sink.requests
    assert request.header("Host") == f"pms.hotel.test:{sink.port}"
    assert request.path == "/pms/events" and request.query == {"hotel": ["7"]}
    assert library_verified(request, secret)["type"] == "consent.changed"
    # Resolved once, by the check: the connection went to that address, not a new lookup.
    assert lookups["pms.hotel.test"] == before + 1


def test_a_redirect_is_not_followed(settings, sink) -> None:
    settings.WEBHOOKS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    sink.status = 302
    endpoint_create(url=sink.url("/pms/events"), events=["consent.changed"])
    consent_event()
    attempt = delivery_attempt(WebhookDelivery.objects.get().pk)
    assert attempt is not None and attempt.status_code == 302 and not attempt.succeeded
    assert len(sink.requests) == 1


def test_without_the_setting_the_loopback_receiver_gets_nothing(settings, sink) -> None:
    settings.WEBHOOKS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    endpoint_create(url=sink.url("/pms/events"), events=["consent.changed"])
    settings.WEBHOOKS_ALLOWED_PRIVATE_NETWORKS = []  # taken back after registration
    consent_event()
    attempt = delivery_attempt(WebhookDelivery.objects.get().pk)
    assert attempt is not None and attempt.error.startswith("Refused: 127.0.0.1 is a loopback")
    assert sink.requests == []


@pytest.fixture
def tls_receiver(tmp_path: Any) -> Iterator[dict[str, Any]]:
    """An https receiver on 127.0.0.1 whose certificate names only ``pms.hotel.test`` (signed
    by itself); it records the SNI name of each handshake and the Host of each request."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pms.hotel.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("pms.hotel.test")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    seen: dict[str, Any] = {"sni": [], "host": [], "ca": str(cert_file)}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen["host"].append(self.headers.get("Host"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, server_name, ctx: seen["sni"].append(server_name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    seen["port"] = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def test_https_to_the_checked_address_keeps_the_names_sni_and_certificate_check(
    settings, resolver, tls_receiver, monkeypatch
) -> None:
    settings.WEBHOOKS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    monkeypatch.setattr(addresses, "_ca_bundle", lambda: tls_receiver["ca"])
    port = tls_receiver["port"]
    resolver["pms.hotel.test"] = ["127.0.0.1"]
    resolver["other.hotel.test"] = ["127.0.0.1"]  # the same address, a name the cert lacks
    endpoint_create(url=f"https://pms.hotel.test:{port}/hooks", events=["consent.changed"])
    endpoint_create(url=f"https://other.hotel.test:{port}/hooks", events=["consent.changed"])
    consent_event()
    attempts = {
        d.endpoint.url.split("/")[2].split(":")[0]: delivery_attempt(d.pk)
        for d in WebhookDelivery.objects.select_related("endpoint")
    }

    good, wrong = attempts["pms.hotel.test"], attempts["other.hotel.test"]
    assert good is not None and good.succeeded and good.status_code == 204, good and good.error
    assert tls_receiver["host"] == [f"pms.hotel.test:{port}"]  # only the good one got through
    assert "pms.hotel.test" in tls_receiver["sni"] and "other.hotel.test" in tls_receiver["sni"]
    # The certificate does not name other.hotel.test: refused although the address is the same.
    assert wrong is not None and not wrong.succeeded and wrong.status_code is None
    assert "SSL" in wrong.error or "certificate" in wrong.error.lower()


def test_a_name_that_does_not_resolve_at_delivery_is_a_failed_attempt(resolver, sink) -> None:
    # Accepted when it did not resolve yet (see above); it still does not when delivering.
    endpoint_create(url="https://pms.example.invalid/hooks", events=["consent.changed"])
    consent_event()
    attempt = delivery_attempt(WebhookDelivery.objects.get().pk)
    assert attempt is not None and not attempt.succeeded
    assert attempt.error == "The name pms.example.invalid could not be resolved."
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 1
