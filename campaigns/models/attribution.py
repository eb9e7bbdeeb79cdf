"""Booking attribution (E4): the campaign message a reservation is attributed to, stored."""

from __future__ import annotations

from django.db import models


class BookingAttribution(models.Model):
    """The last campaign message its booker got before a reservation was made (last touch).

    One row per reservation at most (the primary key is the reservation: "once" held by the
    database), written when the reservation is made and rewritten when what decides it changes
    (a touch bounces, guests are merged): see ``campaigns.attribution``. The row keeps the last
    touch whatever its age; the attribution window (``ATTRIBUTION_WINDOW_DAYS``) is applied
    when the figures are read, so changing the setting needs no rebuild. The reservation's
    status, dates and rate are read from the reservation itself. ``channel``, ``language``,
    ``run``, ``campaign``, ``touched_at`` and ``booked_at`` are copies of fields that never
    change once set (the message's and the reservation's), kept here so the figures are
    grouped without joining the send log.
    """

    reservation = models.OneToOneField(
        "guests.Reservation", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    message = models.ForeignKey(
        "channels_out.OutboundMessage", on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey("campaigns.CampaignRun", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    channel = models.CharField(max_length=20)
    language = models.CharField(max_length=10, blank=True)
    touched_at = models.DateTimeField(help_text="When the message was sent.")
    booked_at = models.DateTimeField(help_text="When the reservation was made.")

    class Meta:
        indexes = [
            models.Index(fields=("booked_at",), name="attribution_booked_idx"),
            models.Index(fields=("campaign", "booked_at"), name="attribution_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"reservation {self.reservation_id} ← message {self.message_id}"
