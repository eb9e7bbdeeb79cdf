# Data migration: no schema change.

from django.db import migrations

# The words of ours older versions stored on events (and, for an operator's decision, on the
# message) in English, with no parameter: each is its own message id.
FIXED = (
    "marked sent by an operator",
    "not sent (operator); resent",
    "credits available again",
    "quiet hours changed: goes now",
    "sent now by staff, despite the guest's quiet hours",
    "the worker stopped while sending: it may or may not have gone out",
)


def read_old_words(apps, schema_editor):
    """Give the fixed words older versions stored in English their words in no language (ORM
    only: it runs on SQLite and PostgreSQL alike)."""
    event = apps.get_model("channels_out", "DeliveryEvent")
    message = apps.get_model("channels_out", "OutboundMessage")
    for text in FIXED:
        event.objects.filter(detail={}, description=text).update(detail={"msgid": text})
        message.objects.filter(detail={}, reason=text).exclude(status="skipped").update(
            detail={"msgid": text}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("channels_out", "0020_inbound_keyword_as_written"),
    ]

    operations = [
        migrations.RunPython(read_old_words, migrations.RunPython.noop),
    ]
