"""Therapy sessions and what is written about them: progress notes, their addenda and the
clinician's own process notes."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from cases import same_practice
from cases.choices import NOTE_SECTIONS, Attendance, Modality, NoteFormat, NoteStatus, Setting
from cases.history import track_history
from cases.models.base import Archivable, PracticeScoped
from cases.models.clients import Client
from cases.validators import NOTE_TEXT_MAX_LENGTH, REASON_MAX_LENGTH

# What a signed progress note documents about its session: once the note is signed these stay
# as they were, and the session is not archived. Corrections are addenda to the note.
SIGNED_SESSION_COLUMNS = ("starts_at", "duration_minutes", "attendance", "modality", "client_id")
_OLD_SESSION = ", ".join(f"OLD.{column}" for column in SIGNED_SESSION_COLUMNS)
_NEW_SESSION = ", ".join(f"NEW.{column}" for column in SIGNED_SESSION_COLUMNS)


@track_history()
class TherapySession(PracticeScoped, Archivable):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="sessions")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions_held"
    )
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    modality = models.CharField(max_length=12, choices=Modality.choices)
    setting = models.CharField(max_length=12, choices=Setting.choices)
    attendance = models.CharField(
        max_length=20, choices=Attendance.choices, default=Attendance.SCHEDULED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            same_practice.referenced_key("session_id_practice"),
            same_practice.referenced_key("session_id_client_practice", with_client=True),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=600),
                name="session_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(modality__in=Modality.values), name="session_modality_valid"
            ),
            models.CheckConstraint(
                condition=Q(setting__in=Setting.values), name="session_setting_valid"
            ),
            models.CheckConstraint(
                condition=Q(attendance__in=Attendance.values), name="session_attendance_valid"
            ),
        ]
        indexes = [
            # Lists: a client's sessions, a clinician's diary; trends: a practice by month.
            # ``archived_at`` rides along so a caseload's live sessions are found in page
            # order from this index alone (api.pagination.PageKeysFirst).
            models.Index(
                fields=["client", "-starts_at", "-id"],
                include=["archived_at"],
                name="session_client_time",
            ),
            models.Index(fields=["clinician", "-starts_at", "-id"], name="session_clinician_time"),
            models.Index(
                fields=["practice", "starts_at"],
                name="session_practice_attended",
                condition=Q(attendance=Attendance.ATTENDED),
            ),
        ]
        triggers = [
            # The service refuses first with a clear message; this holds the rule for raw SQL
            # and bulk updates. A WHEN clause cannot look at the note, so the body does.
            pgtrigger.Trigger(
                name="signed_session_locked",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    f"ROW({_OLD_SESSION}) IS DISTINCT FROM ROW({_NEW_SESSION}) "
                    "OR (OLD.archived_at IS NULL AND NEW.archived_at IS NOT NULL)"
                ),
                func=(
                    "IF EXISTS (SELECT 1 FROM cases_progressnote n "  # noqa: S608 (schema values)
                    f"WHERE n.session_id = OLD.id AND n.status = '{NoteStatus.SIGNED}') THEN "
                    "RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table: the "
                    "session''s progress note is signed', TG_TABLE_NAME; "
                    "END IF; RETURN NEW;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.pk} ({self.starts_at:%Y-%m-%d})"


def _sections_have_keys() -> Q:
    condition = Q()
    for note_format, sections in NOTE_SECTIONS.items():
        condition |= Q(format=note_format, sections__has_keys=list(sections))
    return condition


def _sections_beyond_format() -> str:
    """SQL true when a note holds a section its format does not define (the check constraint
    above holds the ones it must have; a CHECK cannot subtract jsonb keys, a trigger can)."""
    clauses = []
    for note_format, sections in NOTE_SECTIONS.items():
        keys = ", ".join(f"'{section}'" for section in sections)
        clauses.append(
            f"(NEW.format = '{note_format}' "
            f"AND (NEW.sections - ARRAY[{keys}]::text[]) <> '{{}}'::jsonb)"
        )
    return "(" + " OR ".join(clauses) + ")"


# Columns a signature freezes. The trigger compares them as one row value.
SIGNED_NOTE_COLUMNS = (
    "id",
    "practice_id",
    "session_id",
    "author_id",
    "format",
    "sections",
    "status",
    "signed_by_id",
    "signed_at",
    "created_at",
)
_OLD_ROW = ", ".join(f"OLD.{column}" for column in SIGNED_NOTE_COLUMNS)
_NEW_ROW = ", ".join(f"NEW.{column}" for column in SIGNED_NOTE_COLUMNS)


@track_history()
class ProgressNote(PracticeScoped, Archivable):
    """The clinical record of one session. Signed notes are immutable; corrections are addenda."""

    session = models.OneToOneField(
        TherapySession, on_delete=models.PROTECT, related_name="progress_note"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="progress_notes"
    )
    format = models.CharField(max_length=8, choices=NoteFormat.choices)
    sections = models.JSONField()
    status = models.CharField(max_length=8, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            same_practice.referenced_key("note_id_practice"),
            models.CheckConstraint(
                condition=Q(format__in=NoteFormat.values), name="note_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=NoteStatus.values), name="note_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=NoteStatus.DRAFT, signed_at__isnull=True, signed_by__isnull=True)
                    | Q(status=NoteStatus.SIGNED, signed_at__isnull=False, signed_by__isnull=False)
                ),
                name="note_signature_matches_status",
            ),
            # Only the author signs (the service refuses anyone else first).
            models.CheckConstraint(
                condition=Q(signed_by__isnull=True) | Q(signed_by=F("author")),
                name="note_signed_by_author",
            ),
            models.CheckConstraint(
                condition=_sections_have_keys(), name="note_sections_match_format"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="signed_note_immutable_update",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    f"OLD.status = '{NoteStatus.SIGNED}' "
                    f"AND ({_OLD_ROW}) IS DISTINCT FROM ({_NEW_ROW})"
                ),
            ),
            pgtrigger.Protect(
                name="note_sections_exactly_format",
                operation=pgtrigger.Insert | pgtrigger.Update,
                condition=pgtrigger.Condition(_sections_beyond_format()),
            ),
            pgtrigger.Protect(
                name="signed_note_no_delete",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Q(old__status=NoteStatus.SIGNED),
            ),
        ]

    def __str__(self) -> str:
        return f"Progress note {self.pk} ({self.status})"

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED


@track_history()
class NoteAddendum(PracticeScoped):
    """A correction or addition to a signed note: append-only, in the database too."""

    note = models.ForeignKey(ProgressNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=REASON_MAX_LENGTH)
    text = models.TextField(
        max_length=NOTE_TEXT_MAX_LENGTH, validators=[MaxLengthValidator(NOTE_TEXT_MAX_LENGTH)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__regex=r"\S"), name="addendum_reason_not_blank"
            ),
            models.CheckConstraint(condition=Q(text__regex=r"\S"), name="addendum_text_not_blank"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="addendum_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum {self.pk} to note {self.note_id}"


@track_history()
class ProcessNote(PracticeScoped, Archivable):
    """A psychotherapy note (45 CFR 164.501): its author's alone, kept apart from the record."""

    session = models.ForeignKey(
        TherapySession, on_delete=models.PROTECT, related_name="process_notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="process_notes"
    )
    text = models.TextField(
        max_length=NOTE_TEXT_MAX_LENGTH, validators=[MaxLengthValidator(NOTE_TEXT_MAX_LENGTH)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(text__regex=r"\S"), name="process_note_not_blank"),
        ]
        indexes = [models.Index(fields=["author", "session"], name="process_note_author_idx")]

    def __str__(self) -> str:
        return f"Process note {self.pk}"
