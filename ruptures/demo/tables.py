"""The tables the demo writes by COPY.

Each table's columns come from its model (``ruptures.demo.bulk.Table``): every concrete field
in the model's order, less the generated ones. What the demo does not write is named here.
"""

from __future__ import annotations

from cases.models import (
    CareTeamMember,
    Client,
    NoteAddendum,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    ProcessNote,
    ProgressNote,
    SessionRatingScale,
    TherapySession,
    WorkingAllianceInventory,
)
from ruptures.demo.bulk import Table
from ruptures.models import RepairAttempt, RuptureEpisode

# Nothing in the demo is archived: a demo record is live until someone archives it.
LIVE = ("archived_at",)
# Demo clients are individuals, each their own respondent: no participants answer measures.
MEASURE_OMIT = (*LIVE, "participant")


class Tables:
    """Fresh ``Table`` objects per run (they hold the id counters and row buffers). The
    attribute order is the COPY order: every parent before its children."""

    def __init__(self) -> None:
        # No demo record is on legal hold.
        self.clients = Table(Client, omit=(*LIVE, "legal_hold"))
        self.care_team = Table(CareTeamMember)
        self.sessions = Table(TherapySession, omit=LIVE)
        self.notes = Table(ProgressNote, omit=LIVE)
        self.addenda = Table(NoteAddendum)
        self.process_notes = Table(ProcessNote, omit=LIVE)
        self.srs = Table(SessionRatingScale, omit=MEASURE_OMIT)
        self.ors = Table(OutcomeRatingScale, omit=MEASURE_OMIT)
        self.psq = Table(PostSessionQuestionnaire, omit=MEASURE_OMIT)
        self.wai = Table(WorkingAllianceInventory, omit=MEASURE_OMIT)
        self.episodes = Table(RuptureEpisode, omit=LIVE)
        self.repairs = Table(RepairAttempt, omit=LIVE)

    def in_order(self) -> list[Table]:
        return list(vars(self).values())
