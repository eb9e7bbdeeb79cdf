"""SMS through NetGSM's REST v2 API (Turkey; S2, S6). Sources: docs/providers.md §3.

Sending is one ``POST {api_base_url}/sms/rest/v2/send`` with HTTP Basic auth (the
subscriber's user code and API password) and a JSON body: the approved alphanumeric
originator (``msgheader``, the *başlık*), the message and number, ``encoding: "TR"`` when
the text needs Turkish letters, and ``iysfilter`` — İYS, Turkey's commercial-message
registry: ``"11"`` makes NetGSM check a marketing SMS against the guest's İYS consent
(individuals), ``"0"`` marks a service message as informational. NetGSM answers
``{"code": "00", "jobid": …}`` or one of its codes (table below).

NetGSM has no signed delivery webhook: receipts are read with ``POST /sms/rest/v2/report``
(``{"jobids": […]}`` → ``{"jobs": [{"jobid", "status"}]}``), which the sweeper's receipt
poll calls for messages still *sent* (``fetch_statuses``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests
from django.utils.translation import gettext

from guests.models import ConsentPurpose, ContactChannel

from ..text import count_segments, storable
from .base import Accepted, StatusUpdate, TransportError
from .http import ApiRequest, HttpBackend, network_error

if TYPE_CHECKING:
    from ..models import OutboundMessage

DEFAULT_API_BASE_URL = "https://api.netgsm.com.tr"
IYS_INFORMATIONAL, IYS_COMMERCIAL_INDIVIDUAL = "0", "11"

# The send call's answer codes: (what it means, how we take it). Transient codes are limits
# that lift by themselves; every other refusal is permanent for this message.
SEND_CODES: dict[str, tuple[str, str]] = {
    "20": ("the message text has a problem or exceeds the maximum length", "permanent"),
    "30": (
        "invalid user code or password, no API access, or an IP address the account does not allow",
        "permanent",
    ),
    "40": ("the message header (başlık) is not defined for the account", "permanent"),
    "50": ("İYS-checked sending is not possible with this subscriber account", "permanent"),
    "51": ("no İYS brand code is registered for the subscription", "permanent"),
    "70": ("invalid or missing request parameters", "permanent"),
    "80": ("the sending limit was exceeded", "transient"),
    "85": ("the same number was sent too many messages within a minute", "transient"),
}
# The report's per-message status numbers.
REPORT_STATUSES: dict[str, tuple[str, str]] = {
    "0": ("", "waiting to be delivered"),
    "1": ("delivered", "delivered"),
    "2": ("undelivered", "validity period expired"),
    "3": ("undelivered", "invalid or restricted number"),
    "4": ("failed", "not sent to the operator"),
    "11": ("undelivered", "not accepted by the operator"),
    "12": ("undelivered", "sending error"),
    "13": ("failed", "duplicate message"),
    "14": ("failed", "insufficient credit at NetGSM"),
    "15": ("failed", "number on the blacklist"),
    "16": ("failed", "refused by İYS: no commercial consent"),
    "17": ("failed", "İYS error"),
}
RETRY_AFTER_SECONDS = 60.0
NO_RECORDS = "60"  # the report found none of the jobs (yet)


def netgsm_number(e164: str) -> str:
    """Return a number as NetGSM reads it: Turkish ones as 5XXXXXXXXX, others 00 + country code."""
    digits = e164.lstrip("+")
    return digits[2:] if digits.startswith("90") else f"00{digits}"


class NetgsmBackend(HttpBackend):
    name = "netgsm"
    label = "NetGSM SMS"
    provider = "NetGSM"
    channels = (ContactChannel.SMS,)
    required_fields = {
        "account_id": "Enter the NetGSM user code (usercode).",
        "secret": "Enter the NetGSM API password.",
        "sender": "Enter the message header (başlık) NetGSM approved for the account.",
    }
    accepted_statuses = frozenset({200})
    polls_receipts = True
    status_map = {word: ours for word, (ours, _) in REPORT_STATUSES.items() if ours}
    uninformative_statuses = frozenset({"0"})

    @property
    def api_url(self) -> str:
        return (self.account.api_base_url or DEFAULT_API_BASE_URL).rstrip("/")

    @property
    def auth(self) -> tuple[str, str]:
        return (self.account.account_id, str(self.account.secret))

    def build_request(self, message: OutboundMessage) -> ApiRequest:
        """Return ``POST /sms/rest/v2/send`` for ``message``, İYS-flagged by its purpose."""
        body: dict[str, Any] = {
            "msgheader": self.account.sender,
            "messages": [{"msg": message.body, "no": netgsm_number(message.to)}],
            "iysfilter": IYS_COMMERCIAL_INDIVIDUAL
            if message.purpose == ConsentPurpose.MARKETING
            else IYS_INFORMATIONAL,
        }
        if count_segments(message.body).is_unicode:
            body["encoding"] = "TR"
        return ApiRequest("POST", f"{self.api_url}/sms/rest/v2/send", json=body, auth=self.auth)

    def check_answer(self, answer: requests.Response) -> None:
        """Refuse unless NetGSM said ``00``; its code decides permanent or transient."""
        code = _code(answer)
        if answer.status_code == 200 and code == "00":
            return
        if code in SEND_CODES:
            meaning, kind = SEND_CODES[code]
            text = f"NetGSM refused the message ({code}): {meaning}"
            if kind == "transient":
                raise TransportError(text, code=code, retry_after=RETRY_AFTER_SECONDS)
            raise TransportError(text, code=code, permanent=True)
        if answer.status_code != 200:
            super().check_answer(
                answer
            )  # the HTTP rule: 429 transient, 4xx permanent, 5xx ambiguous
        raise TransportError(
            f"NetGSM answered an unknown code {code or '—'}; the message may have been sent",
            code=code or "unknown",
            ambiguous=True,
        )

    def parse_accepted(self, answer: requests.Response, request: ApiRequest) -> Accepted:
        data = _json(answer)
        return self.accepted(str(data.get("jobid") or ""), provider_status="00", payload=data)

    def check_credentials(self) -> str:
        """List the account's message headers (``GET /sms/rest/v2/msgheader``): it needs the
        credentials and sends nothing; the account's header must be among them."""
        try:
            answer = requests.get(
                f"{self.api_url}/sms/rest/v2/msgheader",
                auth=self.auth,
                timeout=self.account.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise network_error(exc, self.provider) from exc
        data, code = _json(answer), _code(answer)
        if code != "00":
            meaning = SEND_CODES.get(code, (f"answered {answer.status_code}", ""))[0]
            raise TransportError(f"NetGSM refused ({code or '—'}): {meaning}", code=code)
        headers = [str(h) for h in data.get("msgheaders") or []]
        if self.account.sender not in headers:
            raise TransportError(
                gettext(
                    "the header “%(header)s” is not approved for this NetGSM account "
                    "(approved: %(approved)s)"
                )
                % {"header": self.account.sender, "approved": ", ".join(headers) or "—"},
                code="40",
            )
        return gettext("NetGSM user %(user)s may send as “%(header)s”") % {
            "user": self.account.account_id,
            "header": self.account.sender,
        }

    def fetch_statuses(self, provider_ids: list[str]) -> list[StatusUpdate]:
        """Ask the report endpoint about these job ids; return a receipt for each final one.

        Raises TransportError when the report cannot be read (the next poll asks again).
        """
        try:
            answer = requests.post(
                f"{self.api_url}/sms/rest/v2/report",
                json={"jobids": provider_ids},
                auth=self.auth,
                timeout=self.account.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise network_error(exc, self.provider) from exc
        data = _json(answer)
        if answer.status_code == 200 and data.get("code") == NO_RECORDS:
            return []
        if answer.status_code != 200 or data.get("code") != "00":
            raise TransportError(
                f"NetGSM's report answered {answer.status_code} code {data.get('code') or '—'}",
                code=str(data.get("code") or answer.status_code),
            )
        updates = []
        for job in data.get("jobs") or []:
            if not isinstance(job, dict):
                continue
            word = str(job.get("status", ""))
            update = self.status_update(
                provider_message_id=str(job.get("jobid") or ""),
                provider_status=word,
                code=word,
                description=REPORT_STATUSES.get(word, ("", "unknown report status"))[1],
                payload=job,
            )
            if update is not None:
                updates.append(update)
        return updates


def _json(answer: requests.Response) -> dict[str, Any]:
    """NetGSM's JSON answer, with what the database cannot store (a NUL) cleaned."""
    try:
        data = answer.json()
    except ValueError:
        return {}
    return storable(data) if isinstance(data, dict) else {}


def _code(answer: requests.Response) -> str:
    return str(_json(answer).get("code") or "")
