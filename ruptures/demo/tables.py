"""The tables the demo writes by COPY, with the field order every row follows."""

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

MEASURE_HEAD = ("practice", "session", "client", "recorded_by", "created_at")


class Tables:
    """Fresh ``Table`` objects per run (they hold the id counters and row buffers). The
    attribute order is the COPY order: every parent before its children. Generated columns
    (measure totals and WAI subscales) are absent: PostgreSQL computes them."""

    def __init__(self) -> None:
        self.clients = Table(
            Client,
            (
                "practice",
                "kind",
                "code",
                "name",
                "date_of_birth",
                "email",
                "phone",
                "status",
                "intake_date",
                "discharge_date",
                "primary_clinician",
                "created_at",
                "updated_at",
            ),
        )
        self.care_team = Table(CareTeamMember, ("practice", "client", "clinician", "added_at"))
        self.sessions = Table(
            TherapySession,
            (
                "practice",
                "client",
                "clinician",
                "starts_at",
                "duration_minutes",
                "modality",
                "setting",
                "attendance",
                "created_at",
                "updated_at",
            ),
        )
        self.notes = Table(
            ProgressNote,
            (
                "practice",
                "session",
                "author",
                "format",
                "sections",
                "status",
                "signed_by",
                "signed_at",
                "created_at",
                "updated_at",
            ),
        )
        self.addenda = Table(
            NoteAddendum, ("practice", "note", "author", "reason", "text", "created_at")
        )
        self.process_notes = Table(
            ProcessNote, ("practice", "session", "author", "text", "created_at", "updated_at")
        )
        self.srs = Table(
            SessionRatingScale,
            (*MEASURE_HEAD, "relationship", "goals_and_topics", "approach_or_method", "overall"),
        )
        self.ors = Table(
            OutcomeRatingScale,
            (*MEASURE_HEAD, "individually", "interpersonally", "socially", "overall"),
        )
        self.psq = Table(
            PostSessionQuestionnaire,
            (*MEASURE_HEAD, "respondent", "rupture_experienced", "tension", "resolution"),
        )
        self.wai = Table(
            WorkingAllianceInventory,
            (*MEASURE_HEAD, "respondent", *(f"item_{n}" for n in range(1, 13))),
        )
        self.episodes = Table(
            RuptureEpisode,
            (
                "practice",
                "client",
                "session",
                "relationship",
                "direction",
                "kind",
                "marker_schemes",
                "markers",
                "moment",
                "factors",
                "intensity",
                "detected_on",
                "source",
                "description",
                "status",
                "closed_on",
                "recurrence_of",
                "created_by",
                "created_at",
                "updated_at",
            ),
        )
        self.repairs = Table(
            RepairAttempt,
            (
                "practice",
                "episode",
                "client",
                "session",
                "attempted_on",
                "initiator",
                "both_engaged",
                "strategies",
                "outcome",
                "resolution_rating",
                "note",
                "recorded_by",
                "created_at",
            ),
        )

    def in_order(self) -> list[Table]:
        return list(vars(self).values())
