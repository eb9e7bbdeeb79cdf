"""Consent records are append-only in PostgreSQL too: a trigger refuses UPDATE and DELETE.

Two updates stay possible because the rows' meaning does not change: merging guests moves a
history to the surviving profile (``guest_id``), and deleting a staff user empties
``recorded_by_id`` (SET NULL). Anything else raises ``restrict_violation`` (Django's
IntegrityError), also for ``QuerySet.update()`` and ``.delete()``, which bypass the model's
own guard. The demo wipe (``guests.demo``) alone may delete, by setting
``crm.consent_wipe = 'demo'`` for its transaction. On SQLite the migration does nothing; the
model's ``save``/``delete`` guard stays.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION guests_consentrecord_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('crm.consent_wipe', true) = 'demo' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'consent records are append-only: % refused on record %', TG_OP, OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.purpose, NEW.channel, NEW.granted, NEW.source, NEW.wording_version,
        NEW.note, NEW.recorded_at)
       IS DISTINCT FROM
       (OLD.id, OLD.purpose, OLD.channel, OLD.granted, OLD.source, OLD.wording_version,
        OLD.note, OLD.recorded_at)
       OR (NEW.recorded_by_id IS DISTINCT FROM OLD.recorded_by_id AND NEW.recorded_by_id IS NOT NULL)
    THEN
        RAISE EXCEPTION 'consent records are append-only: % refused on record %', TG_OP, OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS guests_consentrecord_append_only ON guests_consentrecord;
CREATE TRIGGER guests_consentrecord_append_only
    BEFORE UPDATE OR DELETE ON guests_consentrecord
    FOR EACH ROW EXECUTE FUNCTION guests_consentrecord_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS guests_consentrecord_append_only ON guests_consentrecord;
DROP FUNCTION IF EXISTS guests_consentrecord_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, None)  # no parameters: the % in RAISE stay as they are

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("guests", "0006_external_ids"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
