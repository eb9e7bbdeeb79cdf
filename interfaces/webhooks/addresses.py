"""Where a webhook may go: public addresses only (no server-side request forgery).

An endpoint's URL is checked when it is registered or changed (``url_refusal``), and its
host is resolved again at every delivery (``destination``): a name that resolves to any
address that is not public — loopback, the private ranges, link-local (with the cloud
metadata service at 169.254.169.254), unique-local IPv6, CGNAT, multicast, reserved — is
refused, and the request is made to the address that was checked (``post_pinned``), so a
name that changes its answer between the check and the connection (DNS rebinding) cannot
send it elsewhere. TLS still checks the certificate against the name (SNI and Host are the
name's).

A hotel whose PMS sits on its own network lists those networks (CIDR) in
``WEBHOOKS_ALLOWED_PRIVATE_NETWORKS``; nothing else that is not public is ever allowed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from urllib.parse import SplitResult, urlsplit

import urllib3
from django.utils.translation import gettext

from crm_messaging.networks import Network, configured_networks

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
# Below 1024 only the web's own ports: no SMTP, SSH, LDAP … behind a "webhook".
LOWEST_OTHER_PORT = 1024
# How much of an answer is read (the log keeps the first 500 characters of it).
ANSWER_READ_LIMIT = 64 * 1024


class Refused(Exception):
    """The URL or its host's addresses may not be used; ``str()`` says why, for a person."""


class Unresolved(Refused):
    """The host's name gave no address (now): nothing to check, nothing to connect to."""


def allowed_private_networks() -> tuple[Network, ...]:
    return configured_networks("WEBHOOKS_ALLOWED_PRIVATE_NETWORKS")


def _kind(address: Address) -> str | None:
    """What kind of non-public address it is, in words; None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return _kind(embedded)
        if address.teredo is not None:
            return _kind(address.teredo[1])
        if address in _NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway
            return _kind(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.is_unspecified:
        return gettext("an unspecified address")
    if address.is_loopback:
        return gettext("a loopback address")
    if address.is_link_local:
        return gettext("a link-local address (such as the cloud metadata service)")
    if address.is_multicast:
        return gettext("a multicast address")
    if isinstance(address, ipaddress.IPv6Address) and address in _UNIQUE_LOCAL:
        return gettext("a unique-local (private) address")
    if address.is_private:
        return gettext("a private-network address")
    if address.is_reserved or not address.is_global:
        return gettext("an address that is not public")
    return None


_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_refusal(address: Address) -> str | None:
    """Why a delivery may not go to ``address`` (None: it may): it is not public and not in
    ``WEBHOOKS_ALLOWED_PRIVATE_NETWORKS``."""
    kind = _kind(address)
    if kind is None:
        return None
    plain = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    if any(address in net or (plain and plain in net) for net in allowed_private_networks()):
        return None
    return kind


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts, and (after resolving) the addresses it may be sent to."""

    parts: SplitResult
    host: str  # as in the URL, lower case, without brackets
    port: int
    addresses: tuple[Address, ...] = ()

    @property
    def literal(self) -> Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse(url: str) -> Target:
    """Split and check the URL's form: http(s), a host, no user or password, a usable port.
    Raises Refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
    except ValueError as exc:  # an unclosed [ or a port that is no number
        raise Refused(gettext("The address is not a valid URL.")) from exc
    if parts.scheme not in DEFAULT_PORTS:
        raise Refused(gettext("Enter an http:// or https:// address."))
    if not host:
        raise Refused(gettext("The address has no host name."))
    if parts.username is not None or parts.password is not None:
        raise Refused(
            gettext(
                "Leave the user name and password out of the address: deliveries are signed "
                "with the endpoint's secret instead."
            )
        )
    if port is None:
        port = DEFAULT_PORTS[parts.scheme]
    elif port < LOWEST_OTHER_PORT and port not in DEFAULT_PORTS.values():
        raise Refused(
            gettext("Port %(port)s is not allowed: use 80, 443 or a port from 1024 up.")
            % {"port": port}
        )
    return Target(parts=parts, host=host.lower(), port=port)


def _resolve(target: Target) -> tuple[Address, ...]:
    literal = target.literal
    if literal is not None:
        return (literal,)
    try:
        answers = socket.getaddrinfo(
            target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
        raise Unresolved(
            gettext("The name %(host)s could not be resolved.") % {"host": target.host}
        ) from exc
    found: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise Unresolved(gettext("The name %(host)s has no address.") % {"host": target.host})
    return tuple(found)


def _checked_addresses(target: Target, addresses: Sequence[Address]) -> None:
    for address in addresses:
        kind = address_refusal(address)
        if kind is None:
            continue
        if target.literal is not None:
            message = gettext("%(address)s is %(kind)s, not a public one.")
        else:
            message = gettext("%(host)s resolves to %(address)s, %(kind)s, not a public one.")
        raise Refused(
            message % {"host": target.host, "address": address, "kind": kind}
            + " "
            + gettext(
                "Webhooks go to public addresses only (a PMS on the hotel's own network: "
                "WEBHOOKS_ALLOWED_PRIVATE_NETWORKS)."
            )
        )


def url_refusal(url: str) -> str | None:
    """Why an endpoint may not have this URL (None: it may). Used on registration and change
    (the staff screens, the admin and the API all go through the service that calls it).

    A name that does not resolve now is accepted (it may be made later): every delivery
    resolves it again and checks the answer."""
    try:
        target = parse(url)
        try:
            addresses = _resolve(target)
        except Unresolved:
            return None
        _checked_addresses(target, addresses)
    except Refused as exc:
        return str(exc)
    return None


def destination(url: str) -> Target:
    """Resolve the URL's host now and check every address it has; return the target with
    the addresses to connect to. Raises Refused."""
    target = parse(url)
    addresses = _resolve(target)
    _checked_addresses(target, addresses)
    return Target(parts=target.parts, host=target.host, port=target.port, addresses=addresses)


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


def post_pinned(
    target: Target, *, body: bytes, headers: dict[str, str], timeout: tuple[float, float]
) -> Answer:
    """POST ``body`` to the target's URL, connecting only to its checked addresses (the first
    that accepts a connection), never following a redirect. Raises urllib3's HTTPError."""
    parts = target.parts
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    shown_host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != DEFAULT_PORTS[parts.scheme]:
        shown_host += f":{target.port}"
    headers = {**headers, "Host": shown_host}
    last_error: urllib3.exceptions.HTTPError | None = None
    for address in target.addresses:
        pool = _pool(target, address, timeout)
        try:
            response = pool.urlopen(
                "POST",
                path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except (
            urllib3.exceptions.NewConnectionError,
            urllib3.exceptions.ConnectTimeoutError,
        ) as exc:
            last_error = exc  # try the next checked address
            pool.close()
            continue
        try:
            raw = response.read(ANSWER_READ_LIMIT, decode_content=True) or b""
        finally:
            response.release_conn()
            pool.close()
        return Answer(status=response.status, text=_text(raw, response.headers.get("Content-Type")))
    assert last_error is not None
    raise last_error


def _text(raw: bytes, content_type: str | None) -> str:
    header = Message()
    header["Content-Type"] = content_type or "text/plain"
    try:
        return raw.decode(header.get_content_charset() or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", errors="replace")


def _pool(
    target: Target, address: Address, timeout: tuple[float, float]
) -> urllib3.HTTPConnectionPool:
    limits = urllib3.Timeout(connect=timeout[0], read=timeout[1])
    if target.parts.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(address),
            target.port,
            timeout=limits,
            retries=False,
            maxsize=1,
            server_hostname=target.host,  # SNI, and the certificate must name the host
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=_ca_bundle(),
        )
    return urllib3.HTTPConnectionPool(
        str(address), target.port, timeout=limits, retries=False, maxsize=1
    )


def _ca_bundle() -> str | None:
    """The CA bundle requests would use (certifi's), else the system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - requests brings certifi
        return None
    return str(certifi.where())
