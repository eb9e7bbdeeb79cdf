"""The import screens' forms (I3): the upload, and the column mapping built from the file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .fields import KINDS, fields_for, mapping_errors, source_key

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ENCODINGS = (
    ("", _("Detect")),
    ("utf-8", "UTF-8"),
    ("cp1254", _("Windows Turkish (cp1254)")),
    ("cp1252", _("Windows Western (cp1252)")),
    ("cp1251", _("Windows Cyrillic (cp1251)")),
    ("iso8859-9", "ISO-8859-9"),
)
DELIMITERS = (("", _("Detect")), (",", ","), (";", ";"), ("\t", _("Tab")), ("|", "|"))


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File (CSV or XLSX)"))
    kind = forms.ChoiceField(label=_("What the file holds"), choices=KINDS)
    source = forms.CharField(
        label=_("Where it comes from"),
        max_length=40,
        help_text=_(
            "e.g. Elektraweb: the column mapping is remembered for the next file from there."
        ),
    )
    encoding = forms.ChoiceField(label=_("Encoding (CSV)"), choices=ENCODINGS, required=False)
    delimiter = forms.ChoiceField(label=_("Delimiter (CSV)"), choices=DELIMITERS, required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload

    def clean_source(self) -> str:
        return source_key(self.cleaned_data["source"])


class MappingForm(forms.Form):
    """One choice of column per field the import can fill; "—" leaves the field alone."""

    def __init__(self, *args: Any, headers: list[str], kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers, self.kind = headers, kind
        columns = [("", "—"), *((h, h) for h in headers)]
        for item in fields_for(kind):
            self.fields[item.key] = forms.ChoiceField(
                label=str(item.label), choices=columns, required=False
            )
            self.fields[item.key].group = item.group  # type: ignore[attr-defined]

    def mapping(self) -> dict[str, str]:
        return {key: column for key, column in self.cleaned_data.items() if column}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            for error in mapping_errors(self.mapping(), self.headers, self.kind):
                self.add_error(None, error)
        return cleaned

    def groups(self) -> list[tuple[Any, list[Any]]]:
        names = {
            "guest": _("Guest"),
            "consent": _("Consents (only when the column states them)"),
            "reservation": _("Stay"),
        }
        out: list[tuple[Any, list[Any]]] = []
        for group in ("reservation", "guest", "consent"):
            bound = [self[k] for k, f in self.fields.items() if getattr(f, "group", "") == group]
            if bound:
                out.append((names[group], bound))
        return out
