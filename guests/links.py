"""Links to the guest's own pages that messages carry (P3): the opt-out link and headers, the
guest portal's address.

The core names what a message needs; the interface that serves those pages (the guest portal,
``interfaces.portal``) provides the links when it starts (``guest_links_register`` in its
``AppConfig.ready``). So the sender layer and the campaigns put links in messages without
importing an interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .models import Guest


class GuestLinks(Protocol):
    def unsubscribe_url(self, guest: Guest, channel: str) -> str:
        """The guest's own opt-out link for marketing on ``channel``."""
        ...

    def unsubscribe_secret(self, guest: Guest, channel: str) -> str:
        """The part of ``unsubscribe_url`` that works as a key (the send log masks it)."""
        ...

    def unsubscribe_headers(self, guest: Guest) -> dict[str, str]:
        """The one-click unsubscribe headers (RFC 2369, RFC 8058) of a marketing e-mail."""
        ...

    def portal_url(self) -> str:
        """The guest portal's start page."""
        ...


_provider: GuestLinks | None = None


def guest_links_register(provider: GuestLinks) -> None:
    """Make ``provider`` build the links every message to a guest carries."""
    global _provider
    _provider = provider


def guest_links() -> GuestLinks:
    """The links of the guests' own pages; raise ImproperlyConfigured when no app serves them."""
    if _provider is None:
        raise ImproperlyConfigured(
            "No installed app provides the guests' links (unsubscribe, portal): "
            "add interfaces.portal to INSTALLED_APPS."
        )
    return _provider
