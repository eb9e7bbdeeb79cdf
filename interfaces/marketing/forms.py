"""Forms of the campaign screens: the editor (campaign, delivery plan, one message per language) and sends.

The editor reuses the admin's forms, so a refusal reads the same on both screens: the
campaign form files every ``definition_errors`` message under its field, the step form
refuses an account of another channel, and the message form runs ``validate_variant`` and
reports template problems with their line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.admin.forms import CampaignForm, CampaignStepForm, MessageVariantForm
from campaigns.admin.forms import GalleryForm as AdminGalleryForm
from campaigns.gallery import GalleryTemplate
from campaigns.models import M2M_FILTERS, VARIANT_CONTENT, Campaign, CampaignStep, MessageVariant
from campaigns.services import ApprovalSeen, campaign_save
from campaigns.validation import channels_lacking_text
from guests.models import ContactChannel

__all__ = [
    "MAX_STEPS",
    "ApprovalForm",
    "CampaignEditor",
    "CampaignEditorForm",
    "GalleryForm",
    "Problem",
    "StepForm",
    "TestSendForm",
    "VariantForm",
]

MAX_STEPS = 4


class CampaignEditorForm(CampaignForm):
    """Every field of a campaign, grouped the way the editor shows them."""

    class Meta(CampaignForm.Meta):
        # The fields whose model label is only their name, worded for translation here.
        labels = {
            "description": gettext_lazy("Description"),
            "valid_from": gettext_lazy("Valid from"),
            "valid_until": gettext_lazy("Valid until"),
            "purpose": gettext_lazy("Purpose"),
            "source": gettext_lazy("Source"),
            "trigger": gettext_lazy("Trigger"),
            "timing": gettext_lazy("Timing"),
            "scheduled_at": gettext_lazy("Scheduled at"),
            "catch_up": gettext_lazy("Catch up"),
            "repeat_guests_only": gettext_lazy("Repeat guests only"),
            "nights_min": gettext_lazy("Nights min"),
            "nights_max": gettext_lazy("Nights max"),
            "nationalities": gettext_lazy("Nationalities"),
            "excluded_nationalities": gettext_lazy("Excluded nationalities"),
            "stay_types": gettext_lazy("Stay types"),
            "agencies": gettext_lazy("Agencies"),
            "market_segments": gettext_lazy("Market segments"),
            "board_types": gettext_lazy("Board types"),
            "room_types": gettext_lazy("Room types"),
            "source_channels": gettext_lazy("Source channels"),
            "age_mode": gettext_lazy("Age mode"),
            "age_min": gettext_lazy("Age min"),
            "age_max": gettext_lazy("Age max"),
            "birthday": gettext_lazy("Birthday"),
            "loyalty_members_only": gettext_lazy("Loyalty members only"),
            "loyalty_tiers": gettext_lazy("Loyalty tiers"),
            "exclude_greylisted": gettext_lazy("Exclude greylisted"),
            "facility_types": gettext_lazy("Facility types"),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "send_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "scheduled_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            **{name: forms.CheckboxSelectMultiple for name in M2M_FILTERS},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Declared by the admin's form, which is not translated.
        self.fields["genders"].label = gettext_lazy("Genders")
        self.fields["genders"].help_text = gettext_lazy("None ticked: any gender.")
        self.fields["reservation_statuses"].label = gettext_lazy("Reservation status")
        self.fields["reservation_statuses"].help_text = gettext_lazy(
            "Reservations source only. None ticked: every stay that is not cancelled or a no-show."
        )
        self.fields["languages"].label = gettext_lazy("Languages")
        self.fields["languages"].help_text = gettext_lazy("None ticked: any language.")
        self.fields["stay_changes"].label = gettext_lazy("Changes that count")
        self.fields["stay_changes"].help_text = gettext_lazy(
            "“Reservation modified” only. None ticked: dates, room or number of guests."
        )
        for name in ("nationalities", "excluded_nationalities"):
            self.fields[name].widget.attrs["size"] = 8
        for name in ("rate_min", "rate_max", "balance_min"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"

    def _section(self, names: tuple[str, ...]) -> list[forms.BoundField]:
        return [self[name] for name in names]

    @property
    def basics(self) -> list[forms.BoundField]:
        return self._section(self.BASICS)

    @property
    def trigger_fields(self) -> list[forms.BoundField]:
        return self._section(self.TRIGGER)

    @property
    def stay_fields(self) -> list[forms.BoundField]:
        return self._section(self.STAY)

    @property
    def guest_fields(self) -> list[forms.BoundField]:
        return self._section(self.GUEST)

    @property
    def facility_fields(self) -> list[forms.BoundField]:
        return self._section(self.FACILITY)


class AccountSelect(forms.Select):
    """A select of channel accounts whose options say their channel, so the page can offer only matching ones."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        account = getattr(value, "instance", None)
        if account is not None:
            option["attrs"]["data-channel"] = account.channel
        return option


class StepForm(CampaignStepForm):
    """One row of the delivery plan; an empty channel leaves the row out."""

    class Meta(CampaignStepForm.Meta):
        fields = ("channel", "account")  # type: ignore[assignment]
        widgets = {
            "channel": forms.Select(attrs={"data-step-channel": ""}),
            "account": AccountSelect(attrs={"data-step-account": ""}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel = self.fields["channel"]
        channel.required = False
        channel.choices = [("", _("— not used —")), *ContactChannel.choices]  # type: ignore[attr-defined]
        account = self.fields["account"]
        account.empty_label = _("The channel's default account")  # type: ignore[attr-defined]
        account.label_from_instance = lambda obj: (  # type: ignore[attr-defined]
            obj.name if obj.is_active else _("%(name)s (switched off)") % {"name": obj.name}
        )
        # The plan is a table: name each box after its row for screen readers.
        number = (
            int(self.prefix.rpartition("-")[2]) + 1
            if self.prefix and self.prefix[-1:].isdigit()
            else 1
        )
        channel.widget.attrs["aria-label"] = _("Channel of step %(n)s") % {"n": number}
        account.widget.attrs["aria-label"] = _("Account of step %(n)s") % {"n": number}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("channel") and cleaned.get("account") is not None:
            self.add_error(
                "channel", _("Choose the channel of this account, or clear the account.")
            )
        return cleaned


StepFormSet = forms.formset_factory(StepForm, extra=MAX_STEPS, max_num=MAX_STEPS, validate_max=True)


class VariantForm(MessageVariantForm):
    """The message in one language; a language left empty has no variant."""

    class Meta(MessageVariantForm.Meta):
        widgets: dict[str, Any] = {  # type: ignore[misc]
            "language": forms.HiddenInput,
            "subject": forms.TextInput(attrs={"data-placeholders": ""}),
            "text": forms.Textarea(
                attrs={"rows": 5, "data-placeholders": "", "data-placeholder-default": ""}
            ),
            "html": forms.Textarea(
                attrs={"rows": 10, "data-placeholders": "", "spellcheck": "false"}
            ),
            "whatsapp_content_sid": forms.TextInput(attrs={"spellcheck": "false"}),
            "whatsapp_variables": forms.TextInput(attrs={"spellcheck": "false"}),
            "note": forms.TextInput(attrs={"data-placeholders": ""}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)
        self.fields["language"].disabled = True  # the tab decides it, never the posted data

    def full_clean(self) -> None:
        if self.is_bound and not self.has_content:
            # An empty language is no message, not an invalid one: nothing to check.
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()

    @property
    def code(self) -> str:
        """The language of this form (``language`` is its field)."""
        return str(self.instance.language)

    @property
    def language_name(self) -> str:
        return dict(settings.GUEST_LANGUAGES).get(self.code, self.code)

    @property
    def is_blank(self) -> bool:
        """Whether the (valid) form leaves this language without a message."""
        return not any(self.cleaned_data.get(name) for name in VARIANT_CONTENT)

    @property
    def has_content(self) -> bool:
        """Whether the boxes hold a message (the tab is marked)."""
        if self.is_bound:
            values = [self.data.get(self.add_prefix(name), "") for name in VARIANT_CONTENT]
        else:
            values = [self[name].value() for name in VARIANT_CONTENT]
        return any(str(value or "").strip() not in ("", "{}") for value in values)

    @property
    def extras_open(self) -> bool:
        """Open the e-mail/WhatsApp parts when they hold something or an error."""
        return any(
            self[name].value() not in (None, "", {}, "{}") or self[name].errors
            for name in ("html", "whatsapp_content_sid", "whatsapp_variables", "note")
        )


@dataclass(frozen=True)
class Problem:
    """One refusal, for the summary above the editor: where it is, and a link to the field."""

    where: str
    message: str
    anchor: str


class CampaignEditor:
    """The campaign form, its delivery plan and a message form per guest language, as one unit."""

    def __init__(
        self,
        data: Any = None,
        *,
        campaign: Campaign | None = None,
        gallery: GalleryTemplate | None = None,
    ) -> None:
        self.campaign = campaign if campaign is not None else Campaign()
        self.is_new = self.campaign.pk is None
        initial: dict[str, Any] = {}
        if gallery is not None:
            initial = {
                "name": gallery.title,
                "purpose": gallery.purpose,
                "source": gallery.source,
                "trigger": gallery.trigger,
                "timing": gallery.timing,
                "offset": gallery.offset,
            }
        self.form = CampaignEditorForm(data, instance=self.campaign, initial=initial)
        steps = list(self.campaign.steps.order_by("position", "pk")) if not self.is_new else []
        # Every row is read, unchanged or not: the rows are the plan, not additions to it.
        self.steps = StepFormSet(
            data,
            prefix="steps",
            form_kwargs={"empty_permitted": False},
            initial=[{"channel": s.channel, "account": s.account_id} for s in steps],
        )
        variants = {v.language: v for v in self.campaign.variants.all()} if not self.is_new else {}
        self.variants = []
        for code, _name in settings.GUEST_LANGUAGES:
            variant_initial: dict[str, Any] = {}
            if gallery is not None and code in gallery.variants:
                source = gallery.variants[code]
                variant_initial = {
                    "subject": source.subject,
                    "html": source.html,
                    "text": source.text,
                }
            self.variants.append(
                VariantForm(
                    data,
                    prefix=f"v-{code}",
                    initial=variant_initial,
                    instance=variants.get(code) or MessageVariant(language=code),
                )
            )

    # --- checking ---------------------------------------------------------------------------

    def is_valid(self) -> bool:
        results = [
            self.form.is_valid(),
            self.steps.is_valid(),
            *(form.is_valid() for form in self.variants),
        ]
        return all(results) & self._texts_present()  # every refusal at once, not the first

    def _texts_present(self) -> bool:
        """Refuse a language kept without the text an SMS or Viber step of the plan sends: it
        would be saved, then fail every send. Emptying all of a language's boxes removes it."""
        if not self.steps.is_valid():
            return True  # the plan is refused on its own; what it needs is not known yet
        channels = [channel for channel, _account in self._wanted_steps(self.steps.forms)]
        present = True
        for form in self.variants:
            if form.errors or form.is_blank:
                continue
            for channel in channels_lacking_text(form.instance, channels):
                present = False
                form.add_error(
                    "text",
                    _(
                        "The %(channel)s step sends this text: write it, or empty every box "
                        "of this language to remove the language."
                    )
                    % {"channel": ContactChannel(channel).label},
                )
        return present

    def problems(self) -> list[Problem]:
        """Every refusal, in the order of the page (call after ``is_valid``)."""
        found: list[Problem] = []
        for name, messages in self.form.errors.items():
            field = self.form.fields.get(name)
            where = capfirst(str(field.label or name)) if field is not None else _("Campaign")
            anchor = self.form[name].auto_id if field is not None else "campaign-form"
            found += [Problem(where, str(message), anchor) for message in messages]
        for message in self.steps.non_form_errors():
            found.append(Problem(_("Delivery plan"), str(message), "plan"))
        for index, step in enumerate(self.steps.forms, start=1):
            for name, messages in step.errors.items():
                anchor = step[name].auto_id if name in step.fields else "plan"
                found += [
                    Problem(_("Delivery step %(n)s") % {"n": index}, str(m), anchor)
                    for m in messages
                ]
        for variant in self.variants:
            for name, messages in variant.errors.items():
                field = variant.fields.get(name)
                label = str(field.label) if field is not None else ""
                where = f"{variant.language_name} — {label}" if label else variant.language_name
                anchor = variant[name].auto_id if field is not None else f"panel-{variant.code}"
                found += [Problem(where, str(message), anchor) for message in messages]
        return found

    def first_language(self) -> str:
        """The tab to open first: the first with an error, else with a message, else the hotel's language."""
        for form in self.variants:
            if form.is_bound and form.errors:
                return form.code
        for form in self.variants:
            if form.has_content:
                return form.code
        return settings.HOTEL_DEFAULT_LANGUAGE

    # --- saving -----------------------------------------------------------------------------

    def save(self, *, user: Any = None) -> Campaign:
        """Write the campaign, its plan and its messages through ``campaign_save`` (after
        ``is_valid``), kept in the campaign's history with ``user``."""
        return campaign_save(
            campaign=self.campaign,
            fields=self.form.campaign_fields(),
            steps=self._wanted_steps(self.steps.forms),
            variants=self._contents(self.variants),
            user=user,
            where="in the campaign editor",
        )

    def draft(self) -> Campaign:
        """The campaign as the form stands, in memory only: its fields, filters, plan and messages
        from the cleaned form data, never saved (call after ``is_valid`` returned True).

        A forecast or preview reads it through the same selectors and services as a saved
        campaign (``Campaign.plan_steps``, ``Campaign.message_variants`` and the prefetched
        filters answer from memory), and nothing is written to the database.
        """
        campaign = self.form.instance  # the form's cleaning already put the posted fields on it
        chosen = {name: list(self.form.cleaned_data.get(name) or []) for name in M2M_FILTERS}
        campaign._prefetched_objects_cache = {
            **getattr(campaign, "_prefetched_objects_cache", {}),
            **{name: objects for name, objects in chosen.items()},
        }
        campaign.draft_steps = [
            CampaignStep(campaign=campaign, position=position, channel=channel, account=account)
            for position, (channel, account) in enumerate(self._wanted_steps(self.steps.forms))
        ]
        drafts = []
        for form in self.variants:
            if form.is_blank:
                continue
            variant = form.instance  # cleaned content already on it
            variant.campaign = campaign
            drafts.append(variant)
        campaign.draft_variants = drafts
        return campaign

    @staticmethod
    def _wanted_steps(forms_: list[StepForm]) -> list[tuple[str, Any]]:
        return [
            (form.cleaned_data["channel"], form.cleaned_data.get("account"))
            for form in forms_
            if form.cleaned_data.get("channel")
        ]

    @staticmethod
    def _contents(forms_: list[VariantForm]) -> dict[str, dict[str, Any] | None]:
        """Each language's message as cleaned, or None for a language left empty."""
        return {
            form.code: None
            if form.is_blank
            else {name: form.cleaned_data.get(name) for name in VARIANT_CONTENT}
            for form in forms_
        }


class GalleryForm(AdminGalleryForm):
    """The admin's gallery form, worded for the editor's readers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].label = gettext_lazy("standard template")
        self.fields["languages"].label = gettext_lazy("Languages")
        self.fields["languages"].help_text = gettext_lazy(
            "None ticked: every language the template is written in."
        )
        self.fields["overwrite"].label = gettext_lazy("replace existing languages")
        self.fields["overwrite"].help_text = gettext_lazy(
            "Otherwise a language the campaign already has is left as it is. Staff notes and "
            "WhatsApp templates are kept either way."
        )


class TestSendForm(forms.Form):
    """Send the message, rendered for a sample guest, to a member of staff."""

    to = forms.CharField(
        label=gettext_lazy("Send a test to"),
        max_length=254,
        help_text=gettext_lazy("Your e-mail address or mobile number (+90 532 …)."),
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "test")
        super().__init__(*args, **kwargs)
        labels = dict(ContactChannel.choices)
        channels = list(dict.fromkeys(step.channel for step in campaign.steps.all()))
        self.fields["channel"].choices = [(c, labels.get(c, c)) for c in channels]  # type: ignore[attr-defined]
        names = dict(settings.GUEST_LANGUAGES)
        languages = [v.language for v in campaign.variants.all()]
        self.fields["language"].choices = [(code, names.get(code, code)) for code in languages]  # type: ignore[attr-defined]


class ApprovalForm(forms.Form):
    """What the approver was shown of a waiting send (hidden on the *Approve and send* button):
    approving approves exactly this, and is refused when the send no longer matches it."""

    recipients = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    credits = forms.DecimalField(
        min_value=0, max_digits=14, decimal_places=2, widget=forms.HiddenInput
    )
    version = forms.DateTimeField(widget=forms.HiddenInput)

    def seen(self) -> ApprovalSeen:
        """The figures and campaign version shown (call after ``is_valid``)."""
        data = self.cleaned_data
        return ApprovalSeen(data["recipients"], data["credits"], data["version"])
