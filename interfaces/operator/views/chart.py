"""The spend chart of the credits report: stacked bars by channel, drawn on the server as SVG.

No chart library and no script: the view computes every rectangle, the template writes it
out with a <title> per bar, and a table with the same numbers follows for screen readers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.utils.formats import date_format

from guests.models import ContactChannel

# Colours that keep 3:1 against white and differ in lightness, not only in hue.
CHANNEL_COLOURS = {
    str(ContactChannel.SMS.label): "#0b6e99",
    str(ContactChannel.VIBER.label): "#7b519d",
    str(ContactChannel.WHATSAPP.label): "#1f7a3f",
    str(ContactChannel.EMAIL.label): "#a15c00",
}
OTHER_COLOUR = "#5b6776"
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 36
DAILY_UP_TO = 62  # longer periods are drawn a bar per month


@dataclass
class Segment:
    channel: str
    credits: Decimal
    y: float
    height: float
    colour: str


@dataclass
class Bar:
    label: str
    total: Decimal
    x: float
    width: float
    segments: list[Segment] = field(default_factory=list)
    show_label: bool = True

    @property
    def label_x(self) -> float:
        return self.x + self.width / 2


@dataclass
class SpendChart:
    title: str
    per: str  # "day" or "month"
    channels: list[tuple[str, str]]  # (label, colour)
    bars: list[Bar]
    ticks: list[tuple[float, Decimal]]  # (y, value)
    total: Decimal
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_height: int = HEIGHT - TOP - BOTTOM
    right_edge: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM

    @property
    def rows(self) -> list[tuple[str, list[Decimal], Decimal]]:
        """The same numbers as a table: a row per bar, a column per channel, and the total."""
        out = []
        for bar in self.bars:
            by_channel = {s.channel: s.credits for s in bar.segments}
            out.append(
                (bar.label, [by_channel.get(c, Decimal(0)) for c, _ in self.channels], bar.total)
            )
        return out


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value`` (a readable axis maximum)."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= value:
            return (
                candidate.quantize(Decimal(1), rounding=ROUND_CEILING)
                if candidate >= 1
                else candidate
            )
    return Decimal(10).scaleb(exponent)


def _buckets(start: dt.date, end: dt.date) -> tuple[str, list[tuple[dt.date, str]]]:
    if (end - start).days + 1 <= DAILY_UP_TO:
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        return "day", [(day, date_format(day, "j M")) for day in days]
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append((day, date_format(day, "M Y")))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return "month", months


def spend_chart(
    daily: list[tuple[dt.date, str, Decimal]], *, start: dt.date, end: dt.date
) -> SpendChart:
    """Lay out ``daily`` (day, channel label, credits) from ``start`` to ``end`` as stacked bars."""
    per, buckets = _buckets(start, end)
    spent: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for day, channel, credits in daily:
        key = day if per == "day" else day.replace(day=1)
        spent[key][channel] += credits
    present = {channel for per_bucket in spent.values() for channel, c in per_bucket.items() if c}
    order = [c for c in CHANNEL_COLOURS if c in present] + sorted(present - set(CHANNEL_COLOURS))
    channels = [(c, CHANNEL_COLOURS.get(c, OTHER_COLOUR)) for c in order]

    totals = {key: sum(values.values(), Decimal(0)) for key, values in spent.items()}
    top = 4 * _nice_ceiling(max(totals.values(), default=Decimal(0)) / 4)  # four readable steps
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(buckets), 1)
    label_every = max(1, round(len(buckets) / 12))
    bars = []
    for index, (key, label) in enumerate(buckets):
        bar = Bar(
            label=label,
            total=totals.get(key, Decimal(0)),
            x=round(LEFT + index * slot + slot * 0.15, 2),
            width=round(slot * 0.7, 2),
            show_label=index % label_every == 0,
        )
        y = float(HEIGHT - BOTTOM)
        for channel, colour in channels:
            credits = spent.get(key, {}).get(channel, Decimal(0))
            if not credits:
                continue
            height = float(credits / top) * plot_height
            y -= height
            bar.segments.append(Segment(channel, credits, round(y, 2), round(height, 2), colour))
        bars.append(bar)
    ticks = [(round(TOP + plot_height * (1 - n / 4), 2), top * n / 4) for n in range(5)]
    total = sum(totals.values(), Decimal(0))
    title = f"{date_format(start, 'j M Y')} – {date_format(end, 'j M Y')}"
    return SpendChart(title=title, per=per, channels=channels, bars=bars, ticks=ticks, total=total)
