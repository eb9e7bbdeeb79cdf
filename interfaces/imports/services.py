"""Every write of the import (I3): uploads, presets, the dry run and the import itself.

The dry run is the import run inside a transaction that is rolled back: the same rows go
through the same services and the same checks, so the table staff confirm says what the
import will do. A bad row is reported and changes nothing (a reservations row's guest and
stay stand or fall together), the good rows are applied.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_messaging.actors import Actor, acting_user, record_staff_action
from crm_messaging.handoff import hand_off_on_commit
from crm_messaging.i18n import lower_label

from .engine import import_table
from .fields import mapping_errors, source_key, suggest_mapping
from .models import ImportPreset, ImportUpload
from .reading import Table, UnreadableFile, read_table
from .report import ImportReport


def import_upload_create(
    *,
    data: bytes,
    filename: str,
    kind: str,
    source: str,
    encoding: str = "",
    delimiter: str = "",
    user: Actor = None,
) -> ImportUpload:
    """Keep an uploaded file for mapping and its dry run; raise ValidationError if it cannot
    be read as a table or has no rows."""
    source = source_key(source)
    try:
        table = read_table(data, filename, encoding=encoding, delimiter=delimiter)
    except UnreadableFile as exc:
        raise ValidationError(str(exc)) from exc
    if not table.rows:
        raise ValidationError(_("The file has a header row but no data rows."))
    return ImportUpload.objects.create(
        source=source,
        kind=kind,
        filename=filename[:255],
        content=data,
        encoding=table.encoding,
        delimiter=table.delimiter,
        uploaded_by=acting_user(user),
    )


def upload_table(upload: ImportUpload) -> Table:
    """Read an upload again, as it was read when it came in."""
    return read_table(
        bytes(upload.content), upload.filename, encoding=upload.encoding, delimiter=upload.delimiter
    )


def import_preset_save(
    *, source: str, kind: str, mapping: dict[str, str], user: Actor = None
) -> ImportPreset:
    """Remember ``mapping`` as the preset for files of ``kind`` from ``source``."""
    source = source_key(source)
    preset, created = ImportPreset.objects.update_or_create(
        source=source,
        kind=kind,
        defaults={
            "mapping": mapping,
            "updated_at": timezone.now(),
            "updated_by": acting_user(user),
        },
    )
    record_staff_action(user, preset, "Created." if created else "Changed mapping.", added=created)
    return preset


def import_check(*, upload: ImportUpload, mapping: dict[str, str], user: Actor = None) -> None:
    """Save the mapping (and the source's preset) and start the file's dry run with it (a
    task after commit). A checked file may be mapped and checked again before its import."""
    with transaction.atomic():
        locked = ImportUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status not in (ImportUpload.Status.UPLOADED, ImportUpload.Status.CHECKED):
            raise ValidationError(
                _("This file can no longer be mapped: it is %(status)s.")
                % {"status": lower_label(locked.get_status_display())}
            )
        import_preset_save(source=locked.source, kind=locked.kind, mapping=mapping, user=user)
        locked.mapping = mapping
        locked.status = ImportUpload.Status.CHECKING
        locked.dry_run = None
        locked.save(update_fields=["mapping", "status", "dry_run"])
        hand_off_on_commit("imports.run", locked.pk, _user_id(user))
    upload.refresh_from_db()


def import_apply(*, upload: ImportUpload, user: Actor = None) -> None:
    """Start the import of a checked upload with the mapping of its dry run (a task after
    commit), once: a second confirm (a double click, a resent form) is refused. Raise
    ValidationError."""
    with transaction.atomic():
        claimed = ImportUpload.objects.filter(
            pk=upload.pk, status=ImportUpload.Status.CHECKED
        ).update(status=ImportUpload.Status.APPLYING)
        if not claimed:
            current = ImportUpload.objects.get(pk=upload.pk)
            if current.status in (ImportUpload.Status.APPLYING, ImportUpload.Status.APPLIED):
                raise ValidationError(_("This file was already imported."))
            raise ValidationError(_("Check the file with a dry run first."))
        hand_off_on_commit("imports.run", upload.pk, _user_id(user))
    upload.refresh_from_db()


def import_run(*, upload_id: int, user_id: int | None = None) -> ImportReport | None:
    """Run what an upload waits for: its dry run (checking) or its import (applying); store
    the report. Return None when it waits for nothing (a task delivered twice)."""
    upload = ImportUpload.objects.filter(pk=upload_id).first()
    if upload is None or upload.status not in (
        ImportUpload.Status.CHECKING,
        ImportUpload.Status.APPLYING,
    ):
        return None
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    dry_run = upload.status == ImportUpload.Status.CHECKING
    report = import_table(
        table=upload_table(upload),
        kind=upload.kind,
        source=upload.source,
        mapping=upload.mapping,
        user=user,
        dry_run=dry_run,
    )
    if dry_run:
        ImportUpload.objects.filter(pk=upload.pk, status=ImportUpload.Status.CHECKING).update(
            dry_run=report.as_json(), status=ImportUpload.Status.CHECKED
        )
    else:
        ImportUpload.objects.filter(pk=upload.pk).update(
            result=report.as_json(), status=ImportUpload.Status.APPLIED, applied_at=timezone.now()
        )
    return report


def _user_id(user: Actor) -> int | None:
    author = acting_user(user)
    return author.pk if author is not None else None


def import_file(
    *,
    data: bytes,
    filename: str,
    kind: str,
    source: str,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    encoding: str = "",
    delimiter: str = "",
    user: Actor = None,
) -> ImportReport:
    """Import (or dry-run) a file in one go — the management command's path. Without a
    mapping the source's preset is used, else the headings' suggestions."""
    source = source_key(source)
    try:
        table = read_table(data, filename, encoding=encoding, delimiter=delimiter)
    except UnreadableFile as exc:
        raise ValidationError(str(exc)) from exc
    if mapping is None:
        preset = ImportPreset.objects.filter(source=source, kind=kind).first()
        mapping = preset.mapping if preset else suggest_mapping(table.headers, kind)
    if errors := mapping_errors(mapping, table.headers, kind):
        raise ValidationError(errors)
    return import_table(
        table=table, kind=kind, source=source, mapping=mapping, user=user, dry_run=dry_run
    )
