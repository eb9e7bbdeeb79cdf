"""Demo data: a believable hotel built through the CRM services (``manage.py seed_demo``).

``plan`` draws the story as plain data (names per language, valid mobile numbers, stays in
every status relative to today, consents, greylist, facility bookings) from one seeded
generator; ``builder`` writes it through the services and backdates what happened earlier.
"""

from .builder import (
    DEMO_HOTEL,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    OTHER_DATA_MESSAGE,
    DemoError,
    demo_build,
    demo_reset,
    demo_state,
    demo_user,
)
from .plan import SEED, build_plan
from .summary import demo_summary

__all__ = [
    "DEMO_HOTEL",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "OTHER_DATA_MESSAGE",
    "SEED",
    "DemoError",
    "build_plan",
    "demo_build",
    "demo_reset",
    "demo_state",
    "demo_summary",
    "demo_user",
]
