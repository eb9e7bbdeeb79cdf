"""Mobile numbers that look like each country's and pass the app's own phone rules.

Candidates are drawn from each country's mobile ranges and kept only when
``crm_messaging.phones`` reads them as valid mobile numbers, so a newer phonenumbers release
that retires a range changes which numbers are drawn, never whether they are valid. They are
random numbers in real ranges: never point a live SMS account at demo data.
"""

from __future__ import annotations

import random

import phonenumbers

from crm_messaging.phones import InvalidPhone, normalise_phone, phone_info


def _mobiles(lead: str, digits: int, tails: str) -> tuple[tuple[str, int], ...]:
    """Prefixes ``lead`` + each of the space-separated ``tails``, each followed by ``digits``."""
    return tuple((f"{lead}{tail}", digits) for tail in tails.split())


# Country code and the national mobile prefixes with the number of digits that follow.
MOBILE_RANGES: dict[str, tuple[int, tuple[tuple[str, int], ...]]] = {
    "TR": (
        90,
        _mobiles("5", 7, "30 31 32 33 35 36 38 41 42 43 44 45 46 51 52 53 54 55 05 06 07"),
    ),
    "GB": (
        44,
        _mobiles(
            "7",
            7,
            "40 47 52 70 71 72 73 74 75 77 78 79 80 81 83 84 85 86 88 89 90 91 92 93 94 95 96 97 98 99",
        ),
    ),
    "DE": (
        49,
        (
            ("151", 8),
            ("152", 8),
            ("157", 8),
            ("159", 8),
            ("160", 7),
            ("162", 7),
            ("170", 7),
            ("171", 7),
            ("172", 7),
            ("173", 7),
            ("174", 7),
            ("175", 7),
            ("176", 8),
            ("177", 8),
            ("178", 8),
            ("179", 7),
        ),
    ),
    "AT": (43, (("650", 7), ("660", 7), ("664", 7), ("676", 7), ("680", 7), ("699", 8))),
    "CH": (41, (("76", 7), ("77", 7), ("78", 7), ("79", 7))),
    "RU": (
        7,
        tuple(
            (f"9{p:02d}", 7)
            for p in (
                1,
                3,
                5,
                6,
                8,
                9,
                11,
                12,
                15,
                16,
                17,
                19,
                20,
                21,
                25,
                26,
                29,
                50,
                52,
                60,
                61,
                62,
                63,
                65,
                67,
                77,
                85,
                99,
            )
        ),
    ),
    "KZ": (
        7,
        (
            ("701", 7),
            ("702", 7),
            ("705", 7),
            ("707", 7),
            ("747", 7),
            ("771", 7),
            ("775", 7),
            ("777", 7),
            ("778", 7),
        ),
    ),
    "UA": (
        380,
        tuple(
            (p, 7) for p in ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99")
        ),
    ),
    "SK": (
        421,
        _mobiles("9", 6, "01 02 03 04 05 06 07 08 10 11 12 14 15 16 17 18 40 44 48 49"),
    ),
    "PL": (
        48,
        tuple(
            (p, 7) for p in ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88")
        ),
    ),
    "NL": (31, tuple((f"6{p}", 7) for p in ("1", "2", "3", "4", "5"))),
    "BE": (
        32,
        _mobiles(
            "4", 6, "70 71 72 73 75 76 77 78 79 84 85 86 87 88 89 90 91 92 93 94 95 96 97 98 99"
        ),
    ),
    "FR": (
        33,
        _mobiles("", 7, "61 62 63 64 65 66 67 68 69 60 75 76 77 78"),
    ),
    "SA": (966, tuple((f"5{p}", 7) for p in ("0", "3", "4", "5", "6", "8", "9"))),
    "AE": (971, tuple((f"5{p}", 7) for p in ("0", "2", "4", "5", "6", "8"))),
}

_ATTEMPTS = 200


class PhoneBook:
    """Draw distinct valid mobile numbers, each with the spelling a guest might have typed."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def mobile(self, country: str) -> tuple[str, str]:
        """Return (as typed, E.164) for a fresh mobile number of ``country``; raise LookupError if none."""
        code, ranges = MOBILE_RANGES[country]
        for _ in range(_ATTEMPTS):
            prefix, digits = self._rng.choice(ranges)
            national = prefix + "".join(self._rng.choice("0123456789") for _ in range(digits))
            candidate = f"+{code}{national}"
            if candidate in self._used or not self._is_mobile(candidate):
                continue
            typed = self._as_typed(candidate, country)
            if normalise_phone(typed) != candidate:
                typed = candidate
            self._used.add(candidate)
            return typed, candidate
        raise LookupError(
            f"No valid {country} mobile number in {_ATTEMPTS} draws; check MOBILE_RANGES."
        )

    @staticmethod
    def _is_mobile(candidate: str) -> bool:
        try:
            info = phone_info(candidate)
        except InvalidPhone:
            return False
        return info.e164 == candidate and info.kind == "mobile"

    def _as_typed(self, e164: str, country: str) -> str:
        number = phonenumbers.parse(e164, None)
        style = self._rng.random()
        if country == "TR" and style < 0.6:
            # Turks write their own numbers the national way: 0532 123 45 67.
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if style < 0.2:
            return e164
        international = phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        if style < 0.35:
            return "00" + international[1:]
        return international
