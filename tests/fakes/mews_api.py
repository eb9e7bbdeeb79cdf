"""A loopback fake of the Mews Connector API and its General Webhooks.

It speaks what MewsSystems/gitbook-connector-api documents:

* every operation is ``POST [PlatformAddress]/api/connector/v1/[Resource]/[Action]`` with a
  JSON body carrying ``ClientToken``, ``AccessToken`` and ``Client`` (guidelines/requests.md);
  wrong tokens → 401, errors as ``{"Message": …}`` (guidelines/responses.md); a path that is
  not exactly an operation → 404;
* ``reservations/getAll/2023-06-06`` filtered by ``ReservationIds``, ``UpdatedUtc``,
  ``States``, ``EnterpriseIds``, and ``customers/getAll`` by ``CustomerIds`` / ``UpdatedUtc``
  (``Extent`` required) — both with ``Limitation {Count 1…1000, Cursor}``: items newest first,
  the answer's ``Cursor`` is the id of the last (oldest) item returned, the next page starts
  after it (guidelines/pagination.md); windows longer than 3 months are refused;
* ``companionships/getAll`` (``Extent`` required; one of ``ReservationIds``, ``CustomerIds``,
  ``ReservationGroupIds`` required) — who stays in a reservation; the owner is one of them;
* ``resourceCategories/getAll`` (``ServiceIds`` required; ``ResourceCategoryIds``,
  ``ActivityStates``) — room categories with ``Names`` / ``ShortNames`` by language — and
  ``resources/getAll`` (``Extent`` required; ``ResourceIds``, ``Names``) — rooms, ``Name`` is
  the number; all paged with ``Limitation`` like the others;
* the General Webhook body ``{EnterpriseId, IntegrationId, Events: [{Discriminator, Value:
  {Id}}]}`` (events/wh-general.md), POSTed to the webhook URL with the shared token in it.

Test-only code: a store of customers and reservations that tests change like a hotel would in
Mews, each change moving the record's ``UpdatedUtc``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from ._server import (
    CallbackRecord,
    FakeProviderServer,
    RecordedRequest,
    Response,
    json_response,
    post_webhook,
)

__all__ = ["FakeMews", "running_fake_mews"]

PREFIX = "/api/connector/v1/"
MAX_WINDOW = dt.timedelta(days=92)


def _text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _read(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeMews(FakeProviderServer):
    def __init__(
        self,
        *,
        client_token: str,
        access_token: str,
        enterprise_id: str,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.client_token = client_token
        self.access_token = access_token
        self.enterprise_id = enterprise_id
        self.integration_id = str(uuid.uuid4())
        self.chain_id = str(uuid.uuid4())
        self.customers: dict[str, dict[str, Any]] = {}
        self.reservations: dict[str, dict[str, Any]] = {}
        self._order: dict[str, int] = {}  # id → creation sequence ("time order")
        self._sequence = itertools.count(1)
        self._numbers = itertools.count(100)
        self._last = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        self._store_lock = threading.Lock()
        self.service_id = "bd26d8db-86da-4f96-9efc-e5a4654a4a94"
        self.companionships: dict[str, dict[str, Any]] = {}
        self.resource_categories: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        # Every reservation asks for a category; this one unless the test names another.
        self.default_category = self.add_resource_category(
            names={"en-US": "Standard Double", "tr-TR": "Standart Çift Kişilik"},
            short_names={"en-US": "STD"},
        )

    # -- the hotel changes things in Mews ------------------------------------------------
    def _now(self) -> str:
        # Strictly increasing, so every change has a later UpdatedUtc than the one before.
        moment = max(dt.datetime.now(dt.UTC), self._last + dt.timedelta(milliseconds=1))
        self._last = moment
        return _text(moment)

    def add_customer(
        self,
        *,
        first_name: str,
        last_name: str,
        email: str | None = None,
        phone: str | None = None,
        **extra: Any,
    ) -> str:
        customer_id = str(uuid.uuid4())
        with self._store_lock:
            now = self._now()
            self.customers[customer_id] = {
                "Id": customer_id,
                "ChainId": self.chain_id,
                "Number": str(next(self._numbers)),
                "Title": None,
                "Sex": None,
                "FirstName": first_name,
                "LastName": last_name,
                "SecondLastName": None,
                "NationalityCode": None,
                "PreferredLanguageCode": None,
                "LanguageCode": None,
                "BirthDate": None,
                "Email": email,
                "HasOtaEmail": False,
                "Phone": phone,
                "LoyaltyCode": None,
                "Notes": "",
                "CreatedUtc": now,
                "UpdatedUtc": now,
                "Classifications": [],
                "Options": [],
                "IsActive": True,
                "ActivityState": "Active",
                **extra,
            }
            self._order[customer_id] = next(self._sequence)
        return customer_id

    def update_customer(self, customer_id: str, **changes: Any) -> None:
        with self._store_lock:
            self.customers[customer_id].update(changes, UpdatedUtc=self._now())

    def add_reservation(
        self,
        *,
        customer_id: str,
        start: dt.datetime,
        end: dt.datetime,
        state: str = "Confirmed",
        adults: int = 2,
        channel_number: str | None = None,
        category_id: str | None = None,
        resource_id: str | None = None,
    ) -> str:
        """A reservation owned by ``customer_id``, who is also its first companion (as Mews
        makes it)."""
        reservation_id = str(uuid.uuid4())
        with self._store_lock:
            now = self._now()
            self.reservations[reservation_id] = {
                "Id": reservation_id,
                "ServiceId": self.service_id,
                "AccountId": customer_id,
                "AccountType": "Customer",
                "BookerId": None,
                "Number": str(next(self._numbers)),
                "State": state,
                "Origin": "Connector",
                "CreatedUtc": now,
                "UpdatedUtc": now,
                "CancelledUtc": None,
                "Options": {
                    "OwnerCheckedIn": False,
                    "AllCompanionsCheckedIn": False,
                    "AnyCompanionCheckedIn": False,
                    "ConnectorCheckIn": False,
                },
                "RateId": "ed4b660b-19d0-434b-9360-a4de2ea42eda",
                "GroupId": str(uuid.uuid4()),
                "RequestedResourceCategoryId": category_id or self.default_category,
                "AssignedResourceId": resource_id,
                "AssignedResourceLocked": False,
                "ChannelNumber": channel_number,
                "ChannelManagerNumber": "",
                "CancellationReason": None,
                "ScheduledStartUtc": _text(start),
                "ActualStartUtc": None,
                "ScheduledEndUtc": _text(end),
                "ActualEndUtc": None,
                "StartUtc": _text(start),
                "EndUtc": _text(end),
                "Purpose": "Leisure",
                "PersonCounts": [
                    {"AgeCategoryId": "1f67644f-052d-4863-acdf-ae1600c60ca0", "Count": adults}
                ],
                "EnterpriseId": self.enterprise_id,
            }
            self._order[reservation_id] = next(self._sequence)
            self._link(reservation_id, customer_id)
        return reservation_id

    def _link(self, reservation_id: str, customer_id: str) -> str:
        companionship_id = str(uuid.uuid4())
        self.companionships[companionship_id] = {
            "Id": companionship_id,
            "CustomerId": customer_id,
            "ReservationGroupId": self.reservations[reservation_id]["GroupId"],
            "ReservationId": reservation_id,
        }
        self._order[companionship_id] = next(self._sequence)
        return companionship_id

    def add_companion(self, reservation_id: str, customer_id: str, *, touch: bool = True) -> str:
        """reservations/addCompanion: ``customer_id`` stays in the reservation too. ``touch``
        moves the reservation's ``UpdatedUtc`` (who stays was a field of the reservation,
        ``CompanionIds``, until ver 2017-04-12); False leaves it, to test that companions are
        read afresh whenever a reservation is fetched."""
        with self._store_lock:
            companionship_id = self._link(reservation_id, customer_id)
            if touch:
                self.reservations[reservation_id]["UpdatedUtc"] = self._now()
        return companionship_id

    def remove_companion(
        self, reservation_id: str, customer_id: str, *, touch: bool = True
    ) -> None:
        """reservations/deleteCompanion: the companionship is gone."""
        with self._store_lock:
            for key, link in list(self.companionships.items()):
                if link["ReservationId"] == reservation_id and link["CustomerId"] == customer_id:
                    del self.companionships[key]
            if touch:
                self.reservations[reservation_id]["UpdatedUtc"] = self._now()

    def add_resource_category(
        self, *, names: dict[str, str], short_names: dict[str, str] | None = None
    ) -> str:
        category_id = str(uuid.uuid4())
        self.resource_categories[category_id] = {
            "Id": category_id,
            "EnterpriseId": self.enterprise_id,
            "ServiceId": self.service_id,
            "IsActive": True,
            "Type": "Room",
            "Names": names,
            "ShortNames": short_names or {},
            "Descriptions": {},
            "Ordering": len(self.resource_categories),
            "Capacity": 2,
            "ExtraCapacity": 0,
            "ExternalIdentifier": None,
        }
        self._order[category_id] = next(self._sequence)
        return category_id

    def add_resource(self, name: str) -> str:
        """A room (a Space resource) called ``name`` — its number."""
        resource_id = str(uuid.uuid4())
        now = self._now()
        self.resources[resource_id] = {
            "Id": resource_id,
            "EnterpriseId": self.enterprise_id,
            "IsActive": True,
            "ParentResourceId": None,
            "Name": name,
            "State": "Clean",
            "Descriptions": {},
            "CreatedUtc": now,
            "UpdatedUtc": now,
            "Data": {"Discriminator": "Space", "Value": {"FloorNumber": name[:1]}},
            "ExternalNames": {},
            "Directions": {},
        }
        self._order[resource_id] = next(self._sequence)
        return resource_id

    def update_reservation(self, reservation_id: str, **changes: Any) -> None:
        """reservations/update: e.g. ``AssignedResourceId`` or ``RequestedResourceCategoryId``."""
        with self._store_lock:
            self.reservations[reservation_id].update(changes, UpdatedUtc=self._now())

    def set_state(self, reservation_id: str, state: str, *, reason: str | None = None) -> None:
        """Move a reservation as Mews Operations would (check-in → Started, check-out → Processed)."""
        with self._store_lock:
            record = self.reservations[reservation_id]
            now = self._now()
            record.update(State=state, UpdatedUtc=now)
            if state == "Started":
                record["ActualStartUtc"] = now
                record["Options"] = {**record["Options"], "OwnerCheckedIn": True}
            elif state == "Processed":
                record["ActualEndUtc"] = now
            elif state == "Canceled":
                record.update(CancelledUtc=now, CancellationReason=reason or "RequestedByGuest")

    # -- webhooks ------------------------------------------------------------------------
    def webhook_body(self, *events: tuple[str, str]) -> dict[str, Any]:
        """A General Webhook message: ``events`` are (Discriminator, entity id) pairs."""
        return {
            "EnterpriseId": self.enterprise_id,
            "IntegrationId": self.integration_id,
            "Events": [{"Discriminator": d, "Value": {"Id": i}} for d, i in events],
        }

    def notify(self, url: str, *events: tuple[str, str]) -> CallbackRecord:
        """POST a General Webhook message to ``url`` (which carries the shared token)."""
        payload = self.webhook_body(*events)
        body = json.dumps(payload).encode()
        return self._record_callback(
            post_webhook(url, body, {"Content-Type": "application/json"}, payload)
        )

    # -- the API -------------------------------------------------------------------------
    def operations(self, name: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == PREFIX + name]

    def route(self, req: RecordedRequest) -> Response:
        if req.method != "POST":
            return json_response(405, {"Message": "Only POST is allowed."})
        scripted = self._take_outcome(req.method)
        if scripted is not None and scripted.kind == "error":
            return json_response(scripted.http_status, scripted.body)
        handlers = {
            PREFIX + "reservations/getAll/2023-06-06": self._reservations,
            PREFIX + "customers/getAll": self._customers,
            PREFIX + "companionships/getAll": self._companionships,
            PREFIX + "resourceCategories/getAll": self._resource_categories,
            PREFIX + "resources/getAll": self._resources,
        }
        handler = handlers.get(req.path)
        if handler is None:
            return json_response(404, {"Message": "Not found."})
        body = req.json
        if not isinstance(body, dict):
            return json_response(400, {"Message": "Invalid request body."})
        if (
            body.get("ClientToken") != self.client_token
            or body.get("AccessToken") != self.access_token
        ):
            return json_response(401, {"Message": "Invalid ClientToken or AccessToken."})
        if not body.get("Client"):
            return json_response(400, {"Message": "Client is required."})
        limitation = body.get("Limitation")
        if not isinstance(limitation, dict) or not isinstance(limitation.get("Count"), int):
            return json_response(400, {"Message": "Limitation is required."})
        if not 1 <= limitation["Count"] <= 1000:
            return json_response(400, {"Message": "Count must be between 1 and 1000."})
        try:
            return handler(body, limitation)
        except _BadRequest as exc:
            return json_response(400, {"Message": str(exc)})

    def _window(self, body: dict[str, Any], name: str) -> tuple[dt.datetime, dt.datetime] | None:
        window = body.get(name)
        if window is None:
            return None
        try:
            start, end = _read(window["StartUtc"]), _read(window["EndUtc"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _BadRequest(f"Invalid {name}.") from exc
        if end - start > MAX_WINDOW:
            raise _BadRequest("The interval must not exceed 3M1D.")
        return start, end

    def _page(self, items: list[dict[str, Any]], key: str, limitation: dict[str, Any]) -> Response:
        items.sort(key=lambda item: self._order[item["Id"]], reverse=True)  # newest first
        cursor = limitation.get("Cursor")
        if cursor:
            ids = [item["Id"] for item in items]
            if cursor not in ids:
                raise _BadRequest("Invalid Cursor.")
            items = items[ids.index(cursor) + 1 :]
        page = items[: limitation["Count"]]
        return json_response(200, {key: page, "Cursor": page[-1]["Id"] if page else None})

    def _reservations(self, body: dict[str, Any], limitation: dict[str, Any]) -> Response:
        updated = self._window(body, "UpdatedUtc")
        ids = body.get("ReservationIds")
        if updated is None and not ids:
            raise _BadRequest("At least one filter must be specified.")
        with self._store_lock:
            found = [dict(r) for r in self.reservations.values()]
        if ids:
            found = [r for r in found if r["Id"] in ids]
        if updated is not None:
            found = [r for r in found if updated[0] <= _read(r["UpdatedUtc"]) < updated[1]]
        if body.get("States"):
            found = [r for r in found if r["State"] in body["States"]]
        if body.get("EnterpriseIds"):
            found = [r for r in found if r["EnterpriseId"] in body["EnterpriseIds"]]
        for record in found:
            record.pop("EnterpriseId")  # not part of the documented Reservation
        return self._page(found, "Reservations", limitation)

    def _customers(self, body: dict[str, Any], limitation: dict[str, Any]) -> Response:
        if not isinstance(body.get("Extent"), dict):
            raise _BadRequest("Extent is required.")
        updated = self._window(body, "UpdatedUtc")
        ids = body.get("CustomerIds")
        if updated is None and not ids:
            raise _BadRequest("At least one filter must be specified.")
        with self._store_lock:
            found = [dict(c) for c in self.customers.values()]
        if ids:
            found = [c for c in found if c["Id"] in ids]
        if updated is not None:
            found = [c for c in found if updated[0] <= _read(c["UpdatedUtc"]) < updated[1]]
        if not body["Extent"].get("Customers"):
            found_ids = [c["Id"] for c in found]
            response = self._page(found, "Customers", limitation)
            payload = json.loads(response.body)
            payload["Customers"] = []
            payload["Cursor"] = payload["Cursor"] if found_ids else None
            return json_response(200, payload)
        return self._page(found, "Customers", limitation)

    def _companionships(self, body: dict[str, Any], limitation: dict[str, Any]) -> Response:
        if not isinstance(body.get("Extent"), dict):
            raise _BadRequest("Extent is required.")
        filters = {
            "ReservationId": body.get("ReservationIds"),
            "CustomerId": body.get("CustomerIds"),
            "ReservationGroupId": body.get("ReservationGroupIds"),
        }
        if not any(filters.values()):
            raise _BadRequest("CustomerIds, ReservationIds or ReservationGroupIds is required.")
        with self._store_lock:
            found = [dict(c) for c in self.companionships.values()]
        for key, wanted in filters.items():
            if wanted:
                found = [c for c in found if c[key] in wanted]
        if body.get("CompanionshipIds"):
            found = [c for c in found if c["Id"] in body["CompanionshipIds"]]
        response = self._page(found, "Companionships", limitation)
        payload = json.loads(response.body)
        with self._store_lock:
            customers = [
                dict(self.customers[c["CustomerId"]])
                for c in payload["Companionships"]
                if c["CustomerId"] in self.customers
            ]
        payload.update(
            Customers=customers if body["Extent"].get("Customers") else None,
            Reservations=None,
            ReservationGroups=None,
        )
        return json_response(200, payload)

    def _resource_categories(self, body: dict[str, Any], limitation: dict[str, Any]) -> Response:
        services = body.get("ServiceIds")
        if not isinstance(services, list) or not services:
            raise _BadRequest("ServiceIds is required.")
        with self._store_lock:
            found = [dict(c) for c in self.resource_categories.values()]
        found = [c for c in found if c["ServiceId"] in services]
        if body.get("ResourceCategoryIds"):
            found = [c for c in found if c["Id"] in body["ResourceCategoryIds"]]
        states = body.get("ActivityStates") or ["Active", "Deleted"]
        found = [c for c in found if ("Active" if c["IsActive"] else "Deleted") in states]
        return self._page(found, "ResourceCategories", limitation)

    def _resources(self, body: dict[str, Any], limitation: dict[str, Any]) -> Response:
        extent = body.get("Extent")
        if not isinstance(extent, dict):
            raise _BadRequest("Extent is required.")
        with self._store_lock:
            found = [dict(r) for r in self.resources.values()]
        if body.get("ResourceIds"):
            found = [r for r in found if r["Id"] in body["ResourceIds"]]
        if body.get("Names"):
            found = [r for r in found if r["Name"] in body["Names"]]
        if not extent.get("Inactive"):
            found = [r for r in found if r["IsActive"]]
        if not extent.get("Resources"):
            found = []
        return self._page(found, "Resources", limitation)


class _BadRequest(ValueError):
    pass


@contextlib.contextmanager
def running_fake_mews(
    *, client_token: str, access_token: str, enterprise_id: str
) -> Iterator[FakeMews]:
    fake = FakeMews(
        client_token=client_token, access_token=access_token, enterprise_id=enterprise_id
    )
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
