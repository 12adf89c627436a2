"""How big the demo practice is at a given ``--scale``.

Scale 1 is the small demo: 12 clinicians, 150 clients, about nine months of history. The
reference data set of DESIGN.md (200 clinicians, 20,000 clients, about a million sessions) is
scale 20000 / 150 ≈ 133.3, also reachable as ``--scale reference``. Between the two the
practice grows smoothly: more clients per clinician, a longer history, longer courses of
therapy (on a log scale, so scale 10 is already a sizeable practice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SMALL_CLIENTS = 150
SMALL_CLINICIANS = 12
REFERENCE_CLIENTS = 20_000
REFERENCE_CLINICIANS = 200
REFERENCE_SCALE = REFERENCE_CLIENTS / SMALL_CLIENTS
MAX_SCALE = 1_000.0

SMALL_HISTORY_DAYS = 274  # nine months
REFERENCE_HISTORY_DAYS = 913  # thirty months
# Mean sessions per client course before a course is cut short by the history's start; the
# reference figure lands on about 50 sessions per client, DESIGN.md's 1,000,000 / 20,000.
SMALL_COURSE_SESSIONS = 30.0
REFERENCE_COURSE_SESSIONS = 60.5


def parse_scale(value: str) -> float:
    if value.strip().lower() == "reference":
        return REFERENCE_SCALE
    if value.strip().lower() == "small":
        return 1.0
    scale = float(value)
    if not 0 < scale <= MAX_SCALE or math.isnan(scale):
        raise ValueError(f"scale must be above 0 and at most {MAX_SCALE:g}")
    return scale


@dataclass(frozen=True)
class Plan:
    scale: float
    clients: int
    clinicians: int
    supervisors: int
    history_days: int
    course_sessions: float

    @classmethod
    def for_scale(cls, scale: float) -> Plan:
        clients = max(20, round(SMALL_CLIENTS * scale))
        # At least four clinicians so every kind of login exists; from scale 1 up, the
        # caseload grows towards the reference's 100 clients per clinician.
        per_clinician = REFERENCE_CLIENTS / REFERENCE_CLINICIANS
        clinicians = max(
            4, round(SMALL_CLINICIANS * min(scale, 1.0)), round(clients / per_clinician)
        )
        growth = min(1.0, max(0.0, math.log(scale) / math.log(REFERENCE_SCALE)))
        history_days = round(
            SMALL_HISTORY_DAYS + (REFERENCE_HISTORY_DAYS - SMALL_HISTORY_DAYS) * growth
        )
        course_sessions = (
            SMALL_COURSE_SESSIONS + (REFERENCE_COURSE_SESSIONS - SMALL_COURSE_SESSIONS) * growth
        )
        # About one supervisor for eight clinicians; never fewer than the two the demo needs
        # (one who only supervises, one clinician who also supervises).
        supervisors = max(2, round(clinicians / 8))
        return cls(
            scale=scale,
            clients=clients,
            clinicians=clinicians,
            supervisors=supervisors,
            history_days=history_days,
            course_sessions=course_sessions,
        )
