"""The bookings-over-time chart of a campaign: bars of attributed revenue per day, as SVG.

Drawn on the server like the credits report's chart (no script, no library): the view lays
out every bar, the template writes the rectangles with a <title> each, and a table with the
same numbers follows for screen readers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 12, 32


@dataclass(frozen=True)
class DayBar:
    label: str
    bookings: int
    revenue: Decimal
    x: float
    y: float
    width: float
    height: float
    show_label: bool


@dataclass(frozen=True)
class BookingChart:
    bars: list[DayBar]
    top: Decimal
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM
    right_edge: int = WIDTH - RIGHT


def booking_chart(days: list[tuple[dt.date, int, Decimal]]) -> BookingChart | None:
    """Lay out (day, bookings, revenue) from the first to the last day with a booking."""
    if not days:
        return None
    first, last = days[0][0], days[-1][0]
    span = (last - first).days + 1
    found = {day: (n, revenue) for day, n, revenue in days}
    top = max(revenue for _, _, revenue in days) or Decimal(1)
    slot = (WIDTH - LEFT - RIGHT) / span
    plot = HEIGHT - TOP - BOTTOM
    every = max(1, round(span / 10))
    bars = []
    for index in range(span):
        day = first + dt.timedelta(days=index)
        n, revenue = found.get(day, (0, Decimal(0)))
        height = round(float(revenue / top) * plot, 2)
        bars.append(
            DayBar(
                label=date_format(day, "j M"),
                bookings=n,
                revenue=revenue,
                x=round(LEFT + index * slot + slot * 0.15, 2),
                y=round(HEIGHT - BOTTOM - height, 2),
                width=round(slot * 0.7, 2),
                height=height,
                show_label=index % every == 0,
            )
        )
    return BookingChart(bars=bars, top=top)
