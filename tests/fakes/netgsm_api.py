"""A loopback fake of NetGSM's SMS REST v2 API (Turkey).

* ``POST /sms/rest/v2/send`` (JSON ``msgheader``, ``messages: [{msg, no}]``, optional
  ``encoding``, ``iysfilter``, ``startdate``/``stopdate``, ``partnercode``, ``appname``), HTTP
  Basic auth ``usercode:password`` → ``200 {"code": "00", "jobid": "<id>", "description": …}``.
  Refusals come as NetGSM's codes in the same shape: 20 (message text), 30 (credentials / IP),
  40 (header not defined), 50/51 (İYS), 70 (parameters), 80 (sending limit), 85 (the same
  number too often in a minute).
* ``POST /sms/rest/v2/report`` (JSON ``jobids``) → ``200 {"code": "00", "jobs": [{"jobid",
  "status", …}]}`` where ``status`` is the report's number: 0 waiting, 1 delivered,
  2 expired, 3 invalid number, 4 not sent to the operator, 11 rejected by the operator,
  12 sending error, 13 duplicate, 14 no credit, 15 blacklisted, 16 İYS refused, 17 İYS error.
* ``GET /sms/rest/v2/msgheader`` → ``{"code": "00", "msgheaders": [...]}`` (the headers of
  the account; used to check credentials without sending).

Test-only code, stdlib only. Sources: docs/providers.md §3.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator
from typing import Any

from ._server import FakeProviderServer, Outcome, RecordedRequest, Response, json_response

__all__ = ["FakeNetgsm", "NetgsmOutcome", "running_fake_netgsm"]

DESCRIPTIONS = {
    "00": "Success",
    "20": "Message text error or too long",
    "30": "Invalid username, password or no API access",
    "40": "Message header not defined",
    "50": "IYS controlled sending not allowed for this account",
    "51": "No IYS brand code",
    "70": "Invalid query",
    "80": "Sending limit exceeded",
    "85": "Duplicate sending limit exceeded",
}


class NetgsmOutcome:
    """Canned answers of the send call."""

    @staticmethod
    def code(code: str, http_status: int = 406) -> Outcome:
        """NetGSM refuses with ``code`` (its REST v2 answers a refusal 406 with the code)."""
        return Outcome(
            "error",
            http_status=http_status,
            body={"code": code, "description": DESCRIPTIONS.get(code, "")},
            label=code,
        )

    @staticmethod
    def server_error() -> Outcome:
        return Outcome("error", http_status=503, body={"error": "unavailable"}, label="503")

    @staticmethod
    def disconnect() -> Outcome:
        return Outcome("disconnect", label="disconnect")


class FakeNetgsm(FakeProviderServer):
    """The fake server; ``headers`` are the account's approved message headers."""

    def __init__(
        self, usercode: str, password: str, headers: tuple[str, ...] = ("LYKIA BAY",)
    ) -> None:
        super().__init__()
        self.usercode, self.password, self.headers = usercode, password, headers
        self.jobs: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1_310_000_001)
        self._jobs_lock = threading.Lock()

    def set_status(self, jobid: str, status: int) -> None:
        """What the report says about ``jobid`` from now on."""
        with self._jobs_lock:
            self.jobs[jobid]["status"] = status

    def route(self, req: RecordedRequest) -> Response:
        if req.auth != (self.usercode, self.password):
            return _answer("30", 406)
        if req.path == "/sms/rest/v2/msgheader" and req.method == "GET":
            return json_response(200, {"code": "00", "msgheaders": list(self.headers)})
        if req.method != "POST":
            return Response(405)
        if req.path == "/sms/rest/v2/report":
            return self._report(req)
        if req.path != "/sms/rest/v2/send":
            return Response(404)
        outcome = self._take_outcome("POST")
        if outcome is not None and outcome.kind == "error":
            return json_response(outcome.http_status, outcome.body)
        if outcome is not None and outcome.kind == "disconnect":
            return Response(200, disconnect=True)
        body = req.json if isinstance(req.json, dict) else {}
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not body.get("msgheader"):
            return _answer("70", 406)
        if body["msgheader"] not in self.headers:
            return _answer("40", 406)
        if body.get("iysfilter", "") not in ("", "0", "11", "12"):
            return _answer("70", 406)
        for item in messages:
            if not isinstance(item, dict) or not item.get("msg") or not item.get("no"):
                return _answer("70", 406)
            if len(str(item["msg"])) > 917:
                return _answer("20", 406)
        jobid = str(next(self._ids))
        with self._jobs_lock:
            self.jobs[jobid] = {"request": body, "status": 0}
        return json_response(200, {"code": "00", "jobid": jobid, "description": "queued"})

    def _report(self, req: RecordedRequest) -> Response:
        body = req.json if isinstance(req.json, dict) else {}
        ids = body.get("jobids")
        if not isinstance(ids, list):
            return _answer("70", 406)
        with self._jobs_lock:
            jobs = [
                {
                    "jobid": jobid,
                    "status": self.jobs[jobid]["status"],
                    "telno": self.jobs[jobid]["request"]["messages"][0]["no"],
                }
                for jobid in map(str, ids)
                if jobid in self.jobs
            ]
        if not jobs:
            return json_response(200, {"code": "60", "description": "No records"})
        return json_response(200, {"code": "00", "jobs": jobs})


def _answer(code: str, status: int) -> Response:
    return json_response(status, {"code": code, "description": DESCRIPTIONS.get(code, "")})


@contextlib.contextmanager
def running_fake_netgsm(usercode: str, password: str, **kwargs: Any) -> Iterator[FakeNetgsm]:
    with FakeNetgsm(usercode, password, **kwargs) as server:
        yield server
