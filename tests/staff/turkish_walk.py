"""What the Turkish walk shares (the client walk in tests/staff, the browser walk in
tests/browser): the demo hotel with a history of every kind, the staff screens to open, and
the check that a Turkish screen holds no English-only words and no raw codes.

Content staff or guests wrote — names, message bodies, campaign names, hotel reference data —
stays as written; screens mark it ``translate="no"`` (the HTML attribute that tells
translation tools the same) and the check leaves it out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from io import StringIO

from django.apps import apps
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

# --- the words ------------------------------------------------------------------------------------

# English-only words staff met on Turkish screens (issue 9) and the everyday words of the
# screens: none may show in Turkish outside content marked translate="no".
ENGLISH_WORDS = (
    "To",
    "From",
    "When",
    "Status",
    "Message",
    "Messages",
    "no consent",
    "No consent",
    "fallback",
    "Fallback",
    "campaign",
    "Campaign",
    "Campaigns",
    "credits",
    "Credits",
    "parts of",
    "characters",
    "Search",
    "Save",
    "Send",
    "Cancel",
    "Edit",
    "Show more",
    "Guests",
    "Reservations",
    "Reservation",
    "Arrival",
    "Departure",
    "Nights",
    "Booker",
    "Balance",
    "balance",
    "Channel",
    "Language",
    "Subject",
    "Settings",
    "Today",
    "Sent",
    "Delivered",
    "Queued",
    "Skipped",
    "Failed",
    "Undelivered",
    "Unknown",
    "Yes",
    "None",
    "True",
    "False",
    "business date",
    "front desk",
    "operator",
    "Operator",
    "sandbox",
    "Details",
    "Total",
    "Guest",
)
# Raw values: an origin label with its ISO timestamp, an ISO date-time, Python's reprs.
RAW_PATTERNS = (
    re.compile(r"\b[a-z_]+:\d{4}-\d{2}-\d{2}T"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    re.compile(r"\b(?:None|True|False)\b"),
    re.compile(r"<[A-Za-z]+: "),
    # A stored code (snake_case), not part of an address or a template expression.
    re.compile(r"(?<![\w.@-])[a-z]+_[a-z_]+(?![\w.@(-])"),
)


def enum_codes() -> set[str]:
    """Every stored code of a choice field in our apps that is not a word of its own
    (``front_desk``, ``checked_in``, ``days_before_arrival`` …): staff must never read one."""
    ours = {"guests", "channels_out", "campaigns", "portal", "staff", "crm_messaging"}
    codes: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in ours:
            continue
        for field in model._meta.get_fields():
            for value, _label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and re.fullmatch(r"[a-z]+(?:_[a-z]+)+", value):
                    codes.add(value)
    return codes


def choice_labels_translated() -> set[str]:
    """The English labels of our choice fields that have a Turkish translation of their own
    (``Checked in`` → ``Check-in yapıldı``): the English one on a Turkish screen is a miss."""
    ours = {"guests", "channels_out", "campaigns", "portal"}
    labels: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in ours:
            continue
        for field in model._meta.get_fields():
            for _value, label in getattr(field, "flatchoices", None) or ():
                english = str(label)
                with translation.override("tr"):
                    turkish = str(label)
                if english != turkish and len(english) > 2:
                    labels.add(english)
    return labels


class _Text(HTMLParser):
    """The text staff read on a page — text nodes (the options of a select too) and the labels
    of controls (title, aria-label, placeholder, alt, button values) — leaving out scripts, styles, templates,
    the language selector's own names and anything marked translate="no"."""

    SKIP = {"script", "style", "template"}
    VOID = {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr",
    }  # fmt: skip
    ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    @property
    def hidden(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skip = tag in self.SKIP or values.get("translate") == "no" or tag == "textarea"
        if not self.hidden and not skip:
            for name in self.ATTRIBUTES:
                if values.get(name):
                    self.parts.append(str(values[name]))
            if (
                tag == "input"
                and values.get("type") in {"submit", "button"}
                and values.get("value")
            ):
                self.parts.append(str(values["value"]))
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.parts.append(data)


class _FormData(HTMLParser):
    """The values a browser would submit from the form with ``id`` on a page."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside = form_id, False
        self.data: list[tuple[str, str]] = []
        self.select: str | None = None
        self.textarea: str | None = None
        self.first_option: tuple[str, str] | None = None
        self.selected = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name") and not a.get("disabled"):
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            if kind not in {"submit", "button", "file"}:
                self.data.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self.select, self.first_option, self.selected = a["name"], None, False
        elif tag == "option" and self.select:
            value = (self.select, a.get("value", ""))
            self.first_option = self.first_option or value
            if "selected" in a:
                self.data.append(value)
                self.selected = True
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.data.append((a["name"], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            if not self.selected and self.first_option:
                self.data.append(self.first_option)
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea and self.data and self.data[-1][0] == self.textarea:
            self.data[-1] = (self.textarea, self.data[-1][1] + data)


def form_data(html: str, form_id: str) -> dict[str, list[str]]:
    """What submitting the form ``form_id`` of ``html`` as it stands would send."""
    parser = _FormData(form_id)
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value.removeprefix("\n"))
    return data


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " \n ".join(parser.parts)


@dataclass
class Finding:
    url: str
    what: str
    context: str

    def __str__(self) -> str:
        return f"{self.url}: {self.what!r} in …{self.context}…"


class Checker:
    """Finds English-only words and raw codes in the text of a Turkish screen."""

    def __init__(self) -> None:
        words = set(ENGLISH_WORDS) | choice_labels_translated()
        self.words = [
            (word, re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])")) for word in sorted(words)
        ]
        self.codes = [
            (code, re.compile(rf"(?<![\w-]){re.escape(code)}(?![\w-])"))
            for code in sorted(enum_codes())
        ]

    def check(self, url: str, text: str) -> list[Finding]:
        found = []
        for what, pattern in [*self.words, *self.codes] + [(p.pattern, p) for p in RAW_PATTERNS]:
            for match in pattern.finditer(text):
                start, end = max(match.start() - 40, 0), match.end() + 40
                context = " ".join(text[start:end].split())
                found.append(Finding(url, what, context))
        return found


# --- the screens ----------------------------------------------------------------------------------

STAFF_NAMESPACES = ("staff", "guests", "campaigns", "channels_out")
# Staff URLs that are not screens to read: state changes (POST only), callbacks, downloads.
NOT_SCREENS = {
    "channels_out:status-webhook": "provider callback",
    "channels_out:inbound-webhook": "provider callback",
    "channels_out:meter": "POST only (the counter; walked with a POST below)",
    "channels_out:message-mark-sent": "POST only",
    "channels_out:message-resend": "POST only",
    "channels_out:message-send-now": "POST only",
    "channels_out:credit-order-create": "POST only",
    "channels_out:credit-order-mark-paid": "POST only",
    "channels_out:credit-order-cancel": "POST only",
    "channels_out:message-export": "a CSV file (tests/channels_out: its headers are translated)",
    "guests:reservation-check-in": "POST only",
    "guests:reservation-check-out": "POST only",
    "guests:reservation-cancel": "POST only",
    "guests:reservation-no-show": "POST only",
    "guests:reservation-notifications": "POST only",
    "guests:reservation-send": "POST only",
    "guests:greylist-lift": "POST only",
    "guests:guest-send": "POST only",
    "guests:guest-consent": "POST only",
    "guests:guest-greylist": "POST only",
    "campaigns:campaign-set-active": "POST only",
    "campaigns:campaign-duplicate": "POST only",
    "campaigns:campaign-gallery": "POST only",
    "campaigns:campaign-test-send": "POST only",
    "campaigns:run-approve": "POST only",
    "campaigns:run-reject": "POST only",
    "campaigns:email-preview": "the guest's e-mail itself, in the guest's language",
    "staff:two-factor": "walked by tests/staff/test_two_factor.py (needs a device)",
    "staff:credit-alert-dismiss": "POST only",
    "guests:suppression-clear": "POST only",
    "campaigns:account-check": "POST only",
    "channels_out:credit-invoice": "a PDF file",
    "channels_out:track-click": "a guest's link (redirect), not a staff screen",
    "channels_out:track-open": "a guest's e-mail pixel, not a staff screen",
    "channels_out:short-link": "a guest's SMS short link (redirect), not a staff screen",
}


# Screens known not to be in Turkish yet, each with why; the walk skips them until translated.
# Empty: the channel-account dialog (the admin's ChannelAccountForm) is walked since issue 12.
NOT_YET_TURKISH: dict[str, str] = {}


def staff_url_names() -> set[str]:
    """Every named URL of the staff screens' namespaces."""
    names: set[str] = set()

    def collect(patterns: list[URLPattern | URLResolver], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                collect(pattern.url_patterns, pattern.namespace or namespace)
            elif pattern.name and namespace in STAFF_NAMESPACES:
                names.add(f"{namespace}:{pattern.name}")

    collect(get_resolver().url_patterns, "")
    return names


# --- the demo hotel with a history of every kind -------------------------------------------------


@dataclass
class Demo:
    """The rows the screens with an id are opened for."""

    reservation: int
    guest: int
    other_guest: int
    message: int
    campaign: int
    operator_campaign: int
    run: int
    record: int
    greylist_entry: int
    account: int


def seed_demo_with_history() -> Demo:
    """``make demo`` (seed_demo, setup_sandbox, seed_demo_campaigns, the roles), then a day's
    traffic: a check-in's welcome SMS, one-off messages the sandbox fails, skips for lack of
    consent, a Viber→SMS fallback, an unknown outcome, an operator campaign's run, a credit
    order — so every status, skip reason and origin has a row to show."""
    from campaigns.models import Campaign, Trigger
    from campaigns.services import campaign_send
    from channels_out.dispatch import deliver
    from channels_out.models import ChannelAccount, OutboundMessage, Status
    from channels_out.services import Step, message_send
    from channels_out.services.credits import credit_order_create
    from guests.models import Guest, Reservation
    from guests.services import guest_create, guest_greylist, reservation_check_in
    from interfaces.staff.roles import sync_roles

    for command in ("seed_demo", "setup_sandbox", "seed_demo_campaigns"):
        call_command(command, stdout=StringIO())
    sync_roles()
    from django.contrib.auth import get_user_model

    demo_user = get_user_model().objects.get(username="demo")
    today = timezone.localdate()
    arriving = [
        r
        for r in Reservation.objects.filter(status=Reservation.Status.CONFIRMED, arrival=today)
        .exclude(booker__phone="")
        .select_related("booker")
    ]
    stay = arriving[0]
    reservation_check_in(reservation=stay, room_number="214", user=demo_user)
    guest = stay.booker
    for number, text in (("+905320000000", "Fails at once"), ("+905324444444", "Times out")):
        message_send(
            steps=Step(channel="sms", text=text, to=number),
            guest=guest,
            reservation=stay,
            source="front_desk",
            user=demo_user,
        )
    message_send(
        steps=Step(channel="viber", text="Viber first", to="+905322222222"),
        guest=guest,
        reservation=stay,
        source="front_desk",
        user=demo_user,
    )
    no_consent = Guest.objects.exclude(pk=guest.pk).exclude(phone="").first()
    assert no_consent is not None
    message_send(
        steps=Step(channel="sms", text="Offer"),
        purpose="marketing",
        guest=no_consent,
        source="front_desk",
        user=demo_user,
    )
    entry = guest_greylist(guest=no_consent, reason="Complained twice", user=demo_user)
    # Out to the sandbox, as a worker would send them: failed, unknown, Viber→SMS fallback.
    deliver(list(OutboundMessage.objects.filter(status=Status.QUEUED).values_list("pk", flat=True)))
    operator = Campaign.objects.get(trigger=Trigger.OPERATOR)
    run = campaign_send(campaign=operator, user=demo_user)
    credit_order_create(credits=1000, user=demo_user)
    welcome = Campaign.objects.get(trigger=Trigger.CHECK_IN)
    message = OutboundMessage.objects.filter(reservation=stay).order_by("pk").first()
    assert message is not None
    deliver(list(OutboundMessage.objects.filter(status=Status.QUEUED).values_list("pk", flat=True)))
    # A duplicate profile of the guest (same phone), for the merge screen.
    other = guest_create(
        first_name=guest.first_name, last_name=guest.last_name, phone=guest.phone, user=demo_user
    )
    return Demo(
        reservation=stay.pk,
        guest=guest.pk,
        other_guest=other.pk,
        message=message.pk,
        campaign=welcome.pk,
        operator_campaign=operator.pk,
        run=run.pk,
        record=guest.pk,
        greylist_entry=entry.pk,
        account=ChannelAccount.objects.order_by("pk").values_list("pk", flat=True)[0],
    )


# Panels the campaign editor POSTs its form to (hx-post): opened with the editor's own form.
EDITOR_PANELS = {"campaigns:campaign-forecast", "campaigns:campaign-preview"}


def screens(demo: Demo) -> Iterator[tuple[str, str]]:
    """(URL name, path) of every staff screen to read, with the demo's rows for their ids;
    the editor's panels (``EDITOR_PANELS``) are POSTed the editor's form."""
    ids: dict[str, tuple[object, ...]] = {
        "guests:reservation-detail": (demo.reservation,),
        "guests:reservation-send-form": (demo.reservation,),
        "guests:reservation-messages": (demo.reservation,),
        "guests:guest-detail": (demo.guest,),
        "guests:guest-edit": (demo.guest,),
        "guests:guest-history": (demo.guest,),
        "guests:guest-send-form": (demo.guest,),
        "guests:guest-merge": (demo.guest, demo.other_guest),
        "channels_out:message-detail": (demo.message,),
        "campaigns:campaign-edit": (demo.campaign,),
        "campaigns:campaign-forecast": (demo.campaign,),
        "campaigns:campaign-preview": (demo.campaign,),
        "campaigns:campaign-audience": (demo.operator_campaign,),
        "campaigns:recipient-message": (demo.operator_campaign, demo.record),
        "campaigns:campaign-send": (demo.operator_campaign,),
        "campaigns:campaign-runs": (demo.operator_campaign,),
        "campaigns:run-sample": (demo.run,),
        "campaigns:account-edit": (demo.account,),
        "campaigns:campaign-dry-run": (demo.campaign,),
    }
    for name in sorted(staff_url_names() - set(NOT_SCREENS) - set(NOT_YET_TURKISH)):
        yield name, reverse(name, args=ids.get(name, ()))
    # A second look where one name shows more than one screen.
    yield (
        "campaigns:campaign-edit (operator)",
        reverse("campaigns:campaign-edit", args=[demo.operator_campaign]),
    )
    yield (
        "guests:reservation-create (guest on file)",
        reverse("guests:reservation-create") + f"?guest={demo.guest}",
    )
    yield (
        "channels_out:message-list (failed)",
        reverse("channels_out:message-list") + "?status=failed",
    )


ANONYMOUS_SCREENS = ("login", "password_reset")
