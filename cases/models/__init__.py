"""Practice, people, clients, sessions, notes and measures.

Every clinical table carries ``practice_id``: it is the tenant key every query is scoped by and
the distribution key should a deployment outgrow one PostgreSQL. Rows that point at each other
are held to one practice by composite foreign keys (see migration ``0002_same_practice``).

The models live in modules by concern; everything is imported here, which is how Django finds
them (and pghistory puts each tracked model's event model, ``ClientEvent`` and the rest).
"""

from cases.models.audit import AccessChainHead, AccessEvent
from cases.models.clients import CareTeamMember, Client, Participant
from cases.models.measures import (
    MEASURE_MODELS,
    ORS_ITEMS,
    SRS_ITEMS,
    WAI_ITEMS,
    WAI_SUBSCALES,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    SessionMeasure,
    SessionRatingScale,
    WorkingAllianceInventory,
)
from cases.models.people import (
    PUBLICATION_LAG_RANGE,
    SRS_MIN_DROP_RANGE,
    TRENDS_EPSILON_RANGE,
    Membership,
    Practice,
    SupervisionAssignment,
    User,
)
from cases.models.sessions import (
    SIGNED_NOTE_COLUMNS,
    SIGNED_SESSION_COLUMNS,
    NoteAddendum,
    ProcessNote,
    ProgressNote,
    TherapySession,
)

__all__ = [
    "MEASURE_MODELS",
    "ORS_ITEMS",
    "PUBLICATION_LAG_RANGE",
    "SIGNED_NOTE_COLUMNS",
    "SIGNED_SESSION_COLUMNS",
    "SRS_ITEMS",
    "SRS_MIN_DROP_RANGE",
    "TRENDS_EPSILON_RANGE",
    "WAI_ITEMS",
    "WAI_SUBSCALES",
    "AccessChainHead",
    "AccessEvent",
    "CareTeamMember",
    "Client",
    "Membership",
    "NoteAddendum",
    "OutcomeRatingScale",
    "Participant",
    "PostSessionQuestionnaire",
    "Practice",
    "ProcessNote",
    "ProgressNote",
    "SessionMeasure",
    "SessionRatingScale",
    "SupervisionAssignment",
    "TherapySession",
    "User",
    "WorkingAllianceInventory",
]
