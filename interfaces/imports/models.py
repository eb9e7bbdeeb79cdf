"""Import presets and uploads (I3).

A preset remembers, per source (the system a file comes from: "Elektraweb", "Opera export")
and kind, which column fills which field, so the next file from there maps itself. An upload
keeps the file between its dry run and the confirming POST, so what is applied is exactly
the file that was checked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import KINDS


class ImportPreset(models.Model):
    """The column mapping last used for files of ``kind`` from ``source``."""

    source = models.CharField(
        max_length=40, help_text=_("Where the files come from, e.g. Elektraweb.")
    )
    kind = models.CharField(max_length=20, choices=KINDS)
    mapping = models.JSONField(default=dict, help_text="{field: column heading}")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("source", "kind")
        constraints = [
            models.UniqueConstraint(fields=("source", "kind"), name="import_preset_once_per_source")
        ]
        permissions = [("run_import", "Can import guests and reservations from CSV/XLSX files")]

    def __str__(self) -> str:
        return f"{self.source} ({self.get_kind_display()})"


class ImportUpload(models.Model):
    """One uploaded file, its mapping and what its dry run and its import reported."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKING = "checking", _("Dry run under way")
        CHECKED = "checked", _("Dry run done")
        APPLYING = "applying", _("Import under way")
        APPLIED = "applied", _("Imported")

    source = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=KINDS)
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    # How the file was read when it came in, so every later read reads it the same way.
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    mapping = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    dry_run = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-uploaded_at", "-pk")

    def __str__(self) -> str:
        return f"{self.filename} ({self.source})"
