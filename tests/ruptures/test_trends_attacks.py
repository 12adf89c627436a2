import time
import datetime as dt
from decimal import Decimal
import pytest
from ruptures import releases
from tests.ruptures.trends_world import SEPTEMBER, build

pytestmark = pytest.mark.django_db


def test_probe():
    w = build()
    p = w["practice"]
    frames = releases.month_frames(p, releases.MonthWindow(SEPTEMBER, "UTC"), Decimal(36))
    keys = releases._keys(p)
    print(releases.rho_of(1.0))
    names = (
        "srs_by_modality",
        "srs_by_clinician",
        "ors",
        "ors_by_modality",
        "episodes_by_relationship",
        "repairs_by_strategy",
    )
    plan = [releases.PLAN_BY_NAME[n] for n in names]
    for m in releases.measure(frames, keys=keys, rho=releases.rho_of(1.0), plan=plan):
        print(m.name, m.scales, m.rho)
        for c in m.cells[:12]:
            print("   ", c)
