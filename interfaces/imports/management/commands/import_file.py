"""Import guests or reservations from a CSV/XLSX file (I3), as the import screen does.

    manage.py import_file guests.xlsx --kind guests --source Elektraweb --dry-run
    manage.py import_file stays.csv --kind reservations --source Opera \\
        --map reservation_id=ConfNo --map arrival=Arrival --map departure=Departure --save-preset

Without --map the source's saved preset is used, else the headings are recognised. Rows with
errors are listed and left out; the others are imported. The exit status is 1 when any row
had an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...fields import GUESTS, RESERVATIONS
from ...report import ERROR
from ...services import import_file, import_preset_save


class Command(BaseCommand):
    help = "Import guests or reservations from a CSV or XLSX file (upsert by id, e-mail or phone)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", help="the CSV or XLSX file")
        parser.add_argument("--kind", choices=(GUESTS, RESERVATIONS), required=True)
        parser.add_argument("--source", required=True, help="the system the file comes from")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="which column fills a field (repeat); replaces the preset",
        )
        parser.add_argument("--save-preset", action="store_true", help="keep --map for the source")
        parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")
        parser.add_argument("--encoding", default="", help="CSV encoding (default: detect)")
        parser.add_argument("--delimiter", default="", help="CSV delimiter (default: detect)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        mapping: dict[str, str] | None = None
        if options["map"]:
            mapping = {}
            for item in options["map"]:
                field, sep, column = item.partition("=")
                if not sep or not field.strip() or not column.strip():
                    raise CommandError(f"--map takes FIELD=COLUMN, not {item!r}")
                mapping[field.strip()] = column.strip()
        try:
            report = import_file(
                data=path.read_bytes(),
                filename=path.name,
                kind=options["kind"],
                source=options["source"],
                mapping=mapping,
                dry_run=options["dry_run"],
                encoding=options["encoding"],
                delimiter=options["delimiter"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if mapping and options["save_preset"] and not options["dry_run"]:
            import_preset_save(source=options["source"], kind=options["kind"], mapping=mapping)
        for row in report.errors:
            self.stdout.write(f"line {row.line}: {row.label or '—'}: {row.text}")
        counts = report.counts
        prefix = "Dry run (nothing written)" if options["dry_run"] else "Imported"
        self.stdout.write(
            f"{prefix}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts[ERROR]} with errors."
        )
        if counts[ERROR]:
            raise SystemExit(1)
