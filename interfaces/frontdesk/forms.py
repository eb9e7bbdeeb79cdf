"""Forms of the front-desk screens. They check what staff typed; the services decide the rest.

Each form validates on the server with a message next to the field; nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from crm_messaging.i18n import Phrase
from crm_messaging.phones import InvalidPhone, normalise_phone, phone_info
from crm_messaging.ui.once import NonceField
from guests.contacts import normalise_email
from guests.models import (
    NOTE_MAX_LENGTH,
    BoardType,
    ConsentPurpose,
    ConsentSource,
    ContactChannel,
    Guest,
    LoyaltyTier,
    RoomType,
    birth_date_error,
    stay_errors,
)

# The channels the send form offers, in the order staff expect them.
SEND_CHANNEL_ORDER = (
    ContactChannel.SMS,
    ContactChannel.WHATSAPP,
    ContactChannel.VIBER,
    ContactChannel.EMAIL,
)
# Where a consent statement came from, as the front desk records it.
STAFF_CONSENT_SOURCES = (
    ConsentSource.STAFF,
    ConsentSource.GUEST_PORTAL,
    ConsentSource.BOOKING,
    ConsentSource.IMPORT,
)


def apply_service_errors(
    form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's refusal next to the fields it names (``aliases`` maps its names to the
    form's); the rest above the form."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, errors in error.message_dict.items():
        field = aliases.get(name, name)
        form.add_error(field if field in form.fields else None, errors)
    focus_first_error(form)


def focus_first_error(form: forms.Form) -> None:
    """Put the keyboard focus on the first visible field in error when the form is shown again."""
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)
    for name, field in form.fields.items():
        if name in form.errors and not field.widget.is_hidden:
            field.widget.attrs["autofocus"] = True
            return


def check_phone(raw: str) -> str:
    """``raw`` as typed if the guest services will read it as a phone number, else raise the
    reader's own refusal (so a form shows it together with its other errors)."""
    if raw.strip():
        normalise_phone(raw)  # its refusal is lazy: read in the language the form renders in
    return raw


def check_email(raw: str) -> str:
    """``raw`` as typed if the guest services will take it as an e-mail address, else refuse."""
    if raw.strip():
        try:
            normalise_email(raw)
        except ValidationError as exc:
            raise ValidationError(
                _("“%(raw)s” is not a valid e-mail address.") % {"raw": raw.strip()}
            ) from exc
    return raw


class FrontDeskForm(forms.Form):
    """A form that, once it has errors, brings the keyboard to the first one."""

    def full_clean(self) -> None:
        super().full_clean()
        focus_first_error(self)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


# --- Reservations -------------------------------------------------------------------------------


class ReservationSearchForm(FrontDeskForm):
    """The reservation list's search (GET)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Guest name, reservation number (R0000042), phone or e-mail."),
        widget=forms.TextInput(attrs={"type": "search", "size": 36}),
    )


class ReservationCreateForm(FrontDeskForm):
    """A new stay at the front desk: for a guest already on file (``booker``, from the guest's
    page) or for a new one typed here; a walk-in is checked in at once.

    Every field is checked before anything is written, and every problem is shown at once:
    the stay by the model's rule (``stay_errors``), the new guest's contact details by the
    readers the guest services use. The services check again when writing.
    """

    booker = forms.IntegerField(widget=forms.HiddenInput, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=80, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text=_("Written without a country code, it is read as a local number."),
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.GUEST_LANGUAGES)
    arrival = forms.DateField(label=_("Arrival"), widget=DateInput())
    departure = forms.DateField(label=_("Departure"), widget=DateInput())
    room_type = forms.ModelChoiceField(label=_("Room type"), queryset=RoomType.objects.none())
    board_type = forms.ModelChoiceField(label=_("Board"), queryset=BoardType.objects.none())
    room_number = forms.CharField(
        label=_("Room number"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "size": 6}),
    )
    adults = forms.IntegerField(label=_("Adults"), initial=1, min_value=0, max_value=20)
    children = forms.IntegerField(label=_("Children"), initial=0, min_value=0, max_value=20)
    nightly_rate = forms.DecimalField(
        label=_("Nightly rate"), max_digits=10, decimal_places=2, initial=0
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    walk_in = forms.BooleanField(
        label=_("Walk-in: check the guest in now"),
        required=False,
        help_text=_("Only for a stay arriving on the business date."),
    )

    def __init__(
        self, *args: Any, today: dt.date, booker: Guest | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today, self.booker_guest = today, booker
        room_type, board_type = self.fields["room_type"], self.fields["board_type"]
        assert isinstance(room_type, forms.ModelChoiceField)
        assert isinstance(board_type, forms.ModelChoiceField)
        room_type.queryset = RoomType.objects.filter(is_active=True).order_by("name")
        board_type.queryset = BoardType.objects.filter(is_active=True).order_by("name")
        if booker is not None:
            for name in ("first_name", "last_name", "phone", "email", "language"):
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.booker_guest is None:
            self._clean_new_guest(cleaned)
        for field, errors in stay_errors(
            arrival=cleaned.get("arrival"),
            departure=cleaned.get("departure"),
            nightly_rate=cleaned.get("nightly_rate"),
            adults=cleaned.get("adults"),
        ).items():
            if field not in self.errors:
                self.add_error(field, errors)
        if cleaned.get("walk_in") and cleaned.get("arrival") not in (None, self.today):
            self.add_error(
                "walk_in",
                _("A walk-in arrives on the business date (%(day)s).")
                % {"day": f"{self.today:%d.%m.%Y}"},
            )
        return cleaned

    def clean_phone(self) -> str:
        return check_phone(self.cleaned_data.get("phone") or "")

    def clean_email(self) -> str:
        return check_email(self.cleaned_data.get("email") or "")

    def _clean_new_guest(self, cleaned: dict[str, Any]) -> None:
        if not (cleaned.get("first_name") or "").strip() and "first_name" not in self.errors:
            self.add_error("first_name", _("Type the guest's first name."))


class CheckInForm(FrontDeskForm):
    room_number = forms.CharField(
        label=_("Room number"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "size": 6}),
    )


class CancelForm(FrontDeskForm):
    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        max_length=255,
        error_messages={"required": _("Say why the reservation is cancelled.")},
    )


class NoShowForm(FrontDeskForm):
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class NotificationsForm(FrontDeskForm):
    send_notifications = forms.BooleanField(
        label=_("Send automatic messages to this stay's guests"), required=False
    )


# --- One-off messages (S4) ----------------------------------------------------------------------


class SendMessageForm(FrontDeskForm):
    """A one-off message to one of the guests shown, on a channel the hotel has an account for.

    ``to`` is the guest's own number (or e-mail) unless staff type another; it is checked here
    so a bad number is refused next to the field and nothing is sent. The hidden ``nonce`` is
    the message's dedupe key: the same form submitted twice sends one message.
    """

    recipient = forms.TypedChoiceField(label=_("Guest"), coerce=int)
    channel = forms.ChoiceField(label=_("Channel"))
    to = forms.CharField(label=_("Phone number"), max_length=254, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=255, required=False)
    text = forms.CharField(
        label=_("Message"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "true"}),
        error_messages={"required": _("Write the message.")},
    )
    nonce = NonceField()

    def __init__(
        self,
        *args: Any,
        recipients: Sequence[Guest],
        channels: Sequence[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.recipients = {guest.pk: guest for guest in recipients}
        self.offered_channels = [value for value, _label in channels]
        recipient, channels_field = self.fields["recipient"], self.fields["channel"]
        assert isinstance(recipient, forms.ChoiceField) and isinstance(
            channels_field, forms.ChoiceField
        )
        recipient.choices = [
            (guest.pk, label) for guest, label in self.recipient_labels(recipients)
        ]
        if len(recipients) == 1:
            recipient.widget = forms.HiddenInput()
        channels_field.choices = list(channels)
        channel = self.current_channel()
        to = self.fields["to"]
        to.widget.attrs["autocomplete"] = "off"
        if channel == ContactChannel.EMAIL:
            to.label = _("E-mail address")
            to.widget.input_type = "email"
        else:
            to.widget.input_type = "tel"
            self.fields["to"].help_text = _(
                "Written without a country code, it is read as a local number."
            )
            del self.fields["subject"]

    @staticmethod
    def recipient_labels(recipients: Sequence[Guest]) -> list[tuple[Guest, str]]:
        labels = []
        for index, guest in enumerate(recipients):
            role = _("booker") if index == 0 else _("companion")
            labels.append(
                (guest, f"{guest.full_name} ({role})" if len(recipients) > 1 else guest.full_name)
            )
        return labels

    def current_channel(self) -> str:
        """The channel shown: the submitted one if offered, else the first offered."""
        offered = self.offered_channels
        wanted = self.data.get("channel") if self.is_bound else self.initial.get("channel")
        return wanted if wanted in offered else (offered[0] if offered else ContactChannel.SMS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        guest = self.recipients.get(cleaned.get("recipient") or 0)
        channel = cleaned.get("channel")
        if guest is None or channel is None:
            return cleaned
        cleaned["guest"] = guest
        raw = (cleaned.get("to") or "").strip()
        if channel == ContactChannel.EMAIL:
            raw = raw or guest.email
            if not raw:
                self.add_error(
                    "to", _("%(name)s has no e-mail address; type one.") % {"name": guest.full_name}
                )
            else:
                try:
                    cleaned["to"] = normalise_email(raw)
                except ValidationError:
                    self.add_error(
                        "to", _("“%(raw)s” is not a valid e-mail address.") % {"raw": raw}
                    )
            if not (cleaned.get("subject") or "").strip():
                self.add_error("subject", _("An e-mail needs a subject."))
        else:
            raw = raw or guest.phone
            if not raw:
                self.add_error(
                    "to", _("%(name)s has no phone number; type one.") % {"name": guest.full_name}
                )
            else:
                try:
                    info = phone_info(raw)
                except InvalidPhone as exc:
                    self.add_error("to", exc)
                else:
                    if not info.can_message:
                        self.add_error(
                            "to",
                            _("%(number)s is a %(kind)s number and cannot take messages.")
                            % {"number": info.e164, "kind": Phrase(info.kind)},
                        )
                    cleaned["to"] = info.e164
        if cleaned.get("text") is not None and not cleaned["text"].strip():
            self.add_error("text", _("Write the message."))
        return cleaned


# --- Guests ---------------------------------------------------------------------------------------


class GuestSearchForm(FrontDeskForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name, phone or e-mail."),
        widget=forms.TextInput(attrs={"type": "search", "size": 36}),
    )


class GuestForm(FrontDeskForm):
    """The profile as the front desk edits it; contact details are normalised by the service."""

    first_name = forms.CharField(label=_("First name"), max_length=80)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text=_("Stored with its country code, e.g. +90 532 123 45 67."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.GUEST_LANGUAGES)
    nationality = forms.ChoiceField(label=_("Nationality"), required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
    gender = forms.ChoiceField(label=_("Gender"), choices=Guest.Gender.choices, required=False)
    vip_level = forms.TypedChoiceField(
        label=_("VIP level"), choices=Guest.VipLevel.choices, coerce=int
    )
    loyalty_tier = forms.ModelChoiceField(
        label=_("Loyalty tier"), queryset=LoyaltyTier.objects.none(), required=False
    )
    loyalty_number = forms.CharField(label=_("Loyalty number"), max_length=40, required=False)
    warning_note = forms.CharField(
        label=_("Warning note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown prominently to staff wherever this guest appears."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    preferences = forms.CharField(
        label=_("Preferences"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    allergens = forms.CharField(
        label=_("Allergens"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        nationality, tier = self.fields["nationality"], self.fields["loyalty_tier"]
        assert isinstance(nationality, forms.ChoiceField) and isinstance(
            tier, forms.ModelChoiceField
        )
        nationality.choices = [("", "—"), *countries]
        tier.queryset = LoyaltyTier.objects.filter(is_active=True).order_by("rank", "name")

    def clean_birth_date(self) -> Any:
        born = self.cleaned_data.get("birth_date")
        if error := birth_date_error(born):
            raise ValidationError(error)
        return born

    def clean_phone(self) -> str:
        return check_phone(self.cleaned_data.get("phone") or "")

    def clean_email(self) -> str:
        return check_email(self.cleaned_data.get("email") or "")

    @classmethod
    def initial_for(cls, guest: Guest) -> dict[str, Any]:
        initial = {name: getattr(guest, name) for name in cls.base_fields}
        initial["nationality"] = getattr(guest.nationality, "code", "") or ""
        return initial


class ConsentForm(FrontDeskForm):
    """One consent statement (G6): what, by which channel, given or withdrawn, and how we know."""

    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("— every channel (data processing) —")), *ContactChannel.choices],
    )
    granted = forms.TypedChoiceField(
        label=_("Statement"),
        choices=(("1", _("Given")), ("0", _("Withdrawn"))),
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the guest gives or withdraws consent.")},
    )
    source = forms.ChoiceField(
        label=_("How the guest told us"),
        choices=[(s.value, s.label) for s in STAFF_CONSENT_SOURCES],
        initial=ConsentSource.STAFF,
    )
    wording_version = forms.CharField(
        label=_("Wording version"),
        max_length=40,
        required=False,
        help_text=_("The version of the consent text the guest agreed to, if any."),
    )
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "auto_id", "consent_%s"
        )  # the send form on the same page has a "channel" too
        super().__init__(*args, **kwargs)


class GreylistForm(FrontDeskForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        error_messages={"required": _("Say why the guest is greylisted.")},
    )
    expires_at = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text=_("Leave empty for no expiry."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "greylist_%s")
        super().__init__(*args, **kwargs)

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise ValidationError(_("The expiry must be in the future."))
        return expires_at


class GreylistLiftForm(FrontDeskForm):
    reason = forms.CharField(label=_("Why it is lifted"), max_length=255, required=False)


class MergeForm(FrontDeskForm):
    """Which of the two profiles stays; the other is merged into it and removed."""

    keep = forms.ChoiceField(label=_("Keep"), widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args: Any, pair: tuple[Guest, Guest], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep = self.fields["keep"]
        assert isinstance(keep, forms.ChoiceField)
        keep.choices = [
            (
                str(guest.pk),
                _("%(name)s (profile #%(pk)s)") % {"name": guest.full_name, "pk": guest.pk},
            )
            for guest in pair
        ]
