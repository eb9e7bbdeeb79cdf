"""Signing in with a phone (P1): the code by SMS, checking it, the one-click link.

The code machinery (limits, hashing, tries) serves the phone change of ``details`` too."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from channels_out.models import OutboundMessage
from channels_out.services import Step, message_send
from crm_messaging.phones import phone_info
from guests.models import ConsentPurpose, ContactChannel, Guest, Hotel

from .. import conf, links, selectors, tokens
from ..codes import code_hash, code_matches, new_code
from ..models import LoginCode
from .common import SOURCE, PortalError, guest_phone

log = logging.getLogger(__name__)


def sendable_number(phone: str, *, client_ip: str | None) -> str:
    """Return ``phone`` in E.164 form if a code may be texted to it now; raise PortalError.

    The rules every code by SMS follows, for signing in and for a new number alike: a
    valid mobile number ("invalid_phone") in an allowed country ("country_not_allowed",
    against SMS pumping), and at most so many codes per number and per client address in
    the last hour ("rate_limited").
    """
    e164 = guest_phone(phone)
    info = phone_info(e164)
    if (info.region or "") not in conf.allowed_countries():
        raise PortalError(
            _("We cannot send text messages to this country. Please contact the hotel."),
            code="country_not_allowed",
        )
    if not info.can_message:
        raise PortalError(
            _("This number cannot receive text messages. Please give a mobile number."),
            code="invalid_phone",
        )
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    recent = LoginCode.objects.filter(created_at__gt=hour_ago)
    if recent.filter(phone=e164).count() >= conf.codes_per_number() or (
        client_ip and recent.filter(client_ip=client_ip).count() >= conf.codes_per_client()
    ):
        raise PortalError(
            _("Too many codes were asked for. Please try again in an hour."), code="rate_limited"
        )
    return e164


@transaction.atomic
def login_code_request(*, phone: str, client_ip: str | None, language: str = "") -> LoginCode:
    """Answer a request for a login code; send it by SMS if the number has a current or upcoming stay.

    Every accepted request writes a LoginCode row, known number or not, and the caller shows
    the same answer either way. Raises PortalError (and writes nothing) for what
    ``sendable_number`` refuses.
    """
    e164 = sendable_number(phone, client_ip=client_ip)
    now = timezone.now()
    guest = selectors.guest_for_login(e164)
    code = new_code()
    row = LoginCode.objects.create(
        phone=e164,
        client_ip=client_ip or None,
        guest=guest,
        code_hash=code_hash(e164, code) if guest else "",
        created_at=now,
        expires_at=now + conf.CODE_TTL,
    )
    if guest is not None:
        row.message = _send_login_code(row, guest, code, language=language or guest.language)
        row.save(update_fields=["message"])
    return row


def _send_login_code(
    row: LoginCode, guest: Guest, code: str, *, language: str
) -> OutboundMessage | None:
    hotel = Hotel.load()
    token = tokens.login_link_token(row.pk)
    with translation.override(language):
        text = _(
            "%(code)s is your %(hotel)s code. Or sign in with this link: %(link)s (valid for 10 minutes)"
        ) % {
            "code": code,
            "hotel": hotel.name,
            "link": links.login_link_url(row, token=token),
        }
    return send_code_sms(row, guest, text, secrets=(code, token), language=language)


def send_code_sms(
    row: LoginCode, guest: Guest, text: str, *, secrets: tuple[str, ...], language: str
) -> OutboundMessage | None:
    """Queue the SMS carrying ``row``'s code; the send log keeps it with ``secrets`` masked."""
    try:
        return message_send(
            steps=Step(channel=ContactChannel.SMS, text=text, to=row.phone),
            purpose=ConsentPurpose.SERVICE,
            guest=guest,
            dedupe_key=f"portal:{row.purpose}:{row.pk}",
            source=SOURCE,
            language=language,
            # A code that could not leave in time is useless: never send it late.
            expires_at=row.expires_at,
            secrets=secrets,
        )
    except ValidationError:
        # No SMS account: the guest gets the same answer as anybody else; staff see the log.
        log.exception("The %s code for guest %s could not be queued", row.purpose, guest.pk)
        return None


def login_code_verify(*, phone: str, code: str) -> Guest:
    """Return the guest whose newest sign-in code for ``phone`` is ``code``, and use the code up.

    Only the newest code of a number counts. Raises PortalError as ``code_use`` does.
    """
    row = (
        LoginCode.objects.filter(phone=phone, purpose=LoginCode.Purpose.SIGN_IN)
        .order_by("-created_at", "-pk")
        .first()
    )
    code_use(row, code)
    assert row is not None and row.guest is not None  # only rows with a guest have a hash
    return row.guest


def code_use(row: LoginCode | None, code: str) -> None:
    """Use up ``row`` if ``code`` is its code; raise PortalError otherwise.

    Each entry uses one of ``MAX_ATTEMPTS`` tries, whatever the outcome, so the limit holds
    under parallel guesses. Raises PortalError: "no_code", "used", "expired", "locked" or
    "wrong_code" (with the tries left).
    """
    if row is None:
        raise PortalError(_("Please ask for a code first."), code="no_code")
    now = timezone.now()
    if row.used_at is not None:
        raise PortalError(
            _("This code has already been used. Please ask for a new one."), code="used"
        )
    if row.is_expired(now):
        raise PortalError(_("This code has expired. Please ask for a new one."), code="expired")
    took_a_try = LoginCode.objects.filter(
        pk=row.pk, used_at__isnull=True, expires_at__gt=now, attempts__lt=conf.MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not took_a_try:
        raise PortalError(_("Too many wrong codes. Please ask for a new one."), code="locked")
    if code_matches(row.code_hash, row.phone, code.strip()):
        if LoginCode.objects.filter(pk=row.pk, used_at__isnull=True).update(
            used_at=now, used_via=LoginCode.Via.CODE
        ):
            return
        raise PortalError(
            _("This code has already been used. Please ask for a new one."), code="used"
        )
    left = conf.MAX_ATTEMPTS - row.attempts - 1
    if left <= 0:
        raise PortalError(_("Too many wrong codes. Please ask for a new one."), code="locked")
    raise PortalError(
        translation.ngettext(
            "This code is not right. You have %(left)d more try.",
            "This code is not right. You have %(left)d more tries.",
            left,
        )
        % {"left": left},
        code="wrong_code",
    )


def login_link_use(*, token: str) -> Guest:
    """Return the guest a one-click sign-in link was sent to, and use its code up.

    The link works once and only while its code is valid. Raises PortalError "invalid_link",
    "used" or "expired".
    """
    try:
        code_id = tokens.read_login_link_token(token, max_age=conf.CODE_TTL)
    except tokens.BadToken as exc:
        raise PortalError(
            _("This sign-in link is not valid or has expired."), code="invalid_link"
        ) from exc
    row = (
        LoginCode.objects.filter(pk=code_id, guest__isnull=False, purpose=LoginCode.Purpose.SIGN_IN)
        .select_related("guest")
        .first()
    )
    if row is None:
        raise PortalError(_("This sign-in link is not valid or has expired."), code="invalid_link")
    now = timezone.now()
    if LoginCode.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now, used_via=LoginCode.Via.LINK
    ):
        assert row.guest is not None
        return row.guest
    if row.used_at is not None:
        raise PortalError(
            _("This sign-in link has already been used. Please ask for a new code."), code="used"
        )
    raise PortalError(_("This sign-in link is not valid or has expired."), code="expired")


def login_codes_purge(*, older_than: dt.timedelta = conf.LOGIN_CODE_RETENTION) -> int:
    """Delete login-code rows older than ``older_than``; return how many.

    The rows serve the hourly limits and a short audit of who asked for codes (numbers and
    client addresses are personal data): after that they go.
    """
    deleted, _by_model = LoginCode.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
