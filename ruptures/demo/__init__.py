"""Demo data for Mend: one realistic practice, from a quick demo to the reference data set.

Used by ``manage.py seed_demo``; see that command for the options.
"""

from ruptures.demo.people import (
    DEMO_PASSWORD,
    DEMO_PRACTICE_NAME,
    DEMO_PRACTICE_SLUG,
    UsernameTaken,
)
from ruptures.demo.plan import REFERENCE_SCALE, Plan, parse_scale
from ruptures.demo.seed import DEFAULT_SEED, SeedResult, demo_practice, seed_demo

__all__ = [
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_PRACTICE_NAME",
    "DEMO_PRACTICE_SLUG",
    "REFERENCE_SCALE",
    "Plan",
    "SeedResult",
    "UsernameTaken",
    "demo_practice",
    "parse_scale",
    "seed_demo",
]
