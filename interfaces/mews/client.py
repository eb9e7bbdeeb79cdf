"""A small client of the Mews Connector API (I4): POST JSON with the three tokens, cursor
pagination, and the answers sorted into retry-later and give-up.

Documented in MewsSystems/gitbook-connector-api: guidelines/requests.md (every operation is a
POST to ``[PlatformAddress]/api/connector/v1/[Resource]/[Action]`` with ``ClientToken``,
``AccessToken`` and ``Client`` in the body), guidelines/responses.md (errors carry a
``Message``; 429 with ``Retry-After``; 408 for a too-heavy request), guidelines/pagination.md
(``Limitation {Count ≤ 1000, Cursor}``; the answer's ``Cursor`` is the last item returned).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

import requests

from channels_out.text import storable

PAGE_SIZE = 1000  # the most Mews returns at once
IDS_PER_REQUEST = 1000  # "max 1000 items" for ReservationIds and CustomerIds
# Every state, so cancellations and check-outs come back too.
RESERVATION_STATES = (
    "Inquired",
    "Requested",
    "Optional",
    "Confirmed",
    "Started",
    "Processed",
    "Canceled",
)


class MewsError(Exception):
    """A request that failed; ``permanent`` when retrying cannot help (bad tokens, bad request)."""

    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


def utc_text(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with a Z, as Mews writes its times."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str | None) -> dt.datetime | None:
    """Read a Mews time (``2023-04-22T17:00:00Z``, fractions allowed); None if absent."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def _chunks(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in ids:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class MewsClient:
    def __init__(
        self,
        *,
        platform_url: str,
        client_token: str,
        access_token: str,
        client: str,
        enterprise_id: str = "",
        timeout: float = 30.0,
    ) -> None:
        self.base = platform_url.rstrip("/") + "/api/connector/v1/"
        self.auth = {"ClientToken": client_token, "AccessToken": access_token, "Client": client}
        self.enterprise_id = enterprise_id
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST one operation and return its JSON answer; raise MewsError."""
        try:
            response = self.session.post(
                self.base + operation, json={**self.auth, **body}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise MewsError(
                f"Mews did not answer {operation}: {type(exc).__name__}", permanent=False
            ) from exc
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError as exc:
                raise MewsError(f"Mews answered {operation} with no JSON", permanent=False) from exc
            if not isinstance(data, dict):
                raise MewsError(f"Mews answered {operation} with no object", permanent=False)
            # A NUL in a name would fail its guest's write and hold the pull's window for ever.
            return storable(data)
        try:
            message = str(response.json().get("Message") or "")
        except (ValueError, AttributeError):
            message = ""
        status = response.status_code
        # 408 (too heavy), 409 (changed meanwhile), 429 (limit) and 5xx pass; the rest is ours.
        permanent = status < 500 and status not in (408, 409, 429)
        raise MewsError(
            f"Mews refused {operation} (HTTP {status}){': ' + message[:200] if message else ''}",
            permanent=permanent,
            status=status,
        )

    def get_all(self, operation: str, key: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a paginated operation: pages of PAGE_SIZE, each after the previous's Cursor."""
        cursor: str | None = None
        while True:
            limitation: dict[str, Any] = {"Count": PAGE_SIZE}
            if cursor:
                limitation["Cursor"] = cursor
            data = self.call(operation, {**body, "Limitation": limitation})
            items = data.get(key) or []
            yield from items
            cursor = data.get("Cursor")
            if not cursor or len(items) < PAGE_SIZE:
                return

    def _scope(self) -> dict[str, Any]:
        return {"EnterpriseIds": [self.enterprise_id]} if self.enterprise_id else {}

    def reservations(
        self,
        *,
        updated: tuple[dt.datetime, dt.datetime] | None = None,
        ids: Iterable[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Reservations (ver 2023-06-06) updated in a window, or by id."""
        operation = "reservations/getAll/2023-06-06"
        base = {**self._scope(), "States": list(RESERVATION_STATES)}
        if updated is not None:
            window = {"StartUtc": utc_text(updated[0]), "EndUtc": utc_text(updated[1])}
            yield from self.get_all(operation, "Reservations", {**base, "UpdatedUtc": window})
        for batch in _chunks(ids, IDS_PER_REQUEST):
            yield from self.get_all(operation, "Reservations", {**base, "ReservationIds": batch})

    def customers(
        self,
        *,
        updated: tuple[dt.datetime, dt.datetime] | None = None,
        ids: Iterable[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Customers updated in a window, or by id."""
        base = {"Extent": {"Customers": True, "Addresses": False}}
        if updated is not None:
            window = {"StartUtc": utc_text(updated[0]), "EndUtc": utc_text(updated[1])}
            yield from self.get_all("customers/getAll", "Customers", {**base, "UpdatedUtc": window})
        for batch in _chunks(ids, IDS_PER_REQUEST):
            yield from self.get_all("customers/getAll", "Customers", {**base, "CustomerIds": batch})

    def companionships(self, *, reservation_ids: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The companionships (``{Id, CustomerId, ReservationGroupId, ReservationId}``) of the
        reservations: who stays in each (the owner is usually one of them)."""
        base = {
            **self._scope(),
            "Extent": {"Customers": False, "Reservations": False, "ReservationGroups": False},
        }
        for batch in _chunks(reservation_ids, IDS_PER_REQUEST):
            yield from self.get_all(
                "companionships/getAll", "Companionships", {**base, "ReservationIds": batch}
            )

    def resource_categories(
        self, *, ids: Iterable[str], service_ids: Iterable[str]
    ) -> Iterator[dict[str, Any]]:
        """Resource (room) categories by id, with their ``Names`` and ``ShortNames`` by
        language; ``ServiceIds`` (the reservations' services) is required by Mews."""
        services = sorted(set(service_ids))
        base = {**self._scope(), "ServiceIds": services, "ActivityStates": ["Active", "Deleted"]}
        for batch in _chunks(ids, IDS_PER_REQUEST):
            yield from self.get_all(
                "resourceCategories/getAll",
                "ResourceCategories",
                {**base, "ResourceCategoryIds": batch},
            )

    def resources(self, *, ids: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Resources (rooms) by id, with their ``Name`` (the room number)."""
        base = {**self._scope(), "Extent": {"Resources": True, "Inactive": True}}
        for batch in _chunks(ids, IDS_PER_REQUEST):
            yield from self.get_all("resources/getAll", "Resources", {**base, "ResourceIds": batch})
