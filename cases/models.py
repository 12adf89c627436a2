"""Practice, people, clients, sessions, notes and measures.

Every clinical table carries ``practice_id``: it is the tenant key every query is scoped by and
the distribution key should a deployment outgrow one PostgreSQL. Rows that point at each other
are held to one practice by composite foreign keys (see migration ``0002_same_practice``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from cases import errors
from cases.choices import (
    NOTE_SECTIONS,
    Attendance,
    ClientKind,
    ClientStatus,
    Modality,
    NoteFormat,
    NoteStatus,
    ParticipantRole,
    Respondent,
    Role,
    Setting,
)
from cases.history import track_history
from cases.validators import (
    NOTE_TEXT_MAX_LENGTH,
    PARTICIPANT_LABEL_MAX_LENGTH,
    REASON_MAX_LENGTH,
    validate_plain_text,
)

# Trends: the privacy loss ε a monthly release may spend (ruptures.releases), and the days
# after a month closes before it is released (7 at least: signals need a week to be handled).
TRENDS_EPSILON_RANGE = (Decimal("0.1"), Decimal("4"))
PUBLICATION_LAG_RANGE = (7, 90)
# Signals: the SRS drop from the client's previous SRS that raises an alert. PCOMS/FIT read a
# drop of a point or more as meaningful; smaller ones are the scale's noise.
SRS_MIN_DROP_RANGE = (Decimal("0.1"), Decimal("40"))


class User(AbstractUser):
    """A person who signs in. What they may see comes from their memberships."""

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        swappable = "AUTH_USER_MODEL"
        db_table = "cases_user"


@track_history()
class Practice(models.Model):
    """The tenant. Its settings tune trends, signals and retention."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # Trends: the privacy loss of each monthly release and how long after its month it is made.
    trends_epsilon = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[
            MinValueValidator(TRENDS_EPSILON_RANGE[0]),
            MaxValueValidator(TRENDS_EPSILON_RANGE[1]),
        ],
    )
    trends_publication_lag_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[
            MinValueValidator(PUBLICATION_LAG_RANGE[0]),
            MaxValueValidator(PUBLICATION_LAG_RANGE[1]),
        ],
    )
    # Retention: years after the last service before a record may be purged.
    retention_years = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    # Signals: the thresholds of DESIGN.md's five rules.
    srs_cutoff = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        default=Decimal("36.0"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(40))],
    )
    srs_min_drop = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        default=Decimal("1.0"),
        validators=[
            MinValueValidator(SRS_MIN_DROP_RANGE[0]),
            MaxValueValidator(SRS_MIN_DROP_RANGE[1]),
        ],
    )
    ors_reliable_change = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        default=Decimal("5.0"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal(40))],
    )
    repeat_rupture_count = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(2), MaxValueValidator(100)]
    )
    repeat_rupture_window_days = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(3660)]
    )
    unrepaired_episode_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(3660)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    trends_epsilon__gte=TRENDS_EPSILON_RANGE[0],
                    trends_epsilon__lte=TRENDS_EPSILON_RANGE[1],
                ),
                name="practice_trends_epsilon_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    trends_publication_lag_days__gte=PUBLICATION_LAG_RANGE[0],
                    trends_publication_lag_days__lte=PUBLICATION_LAG_RANGE[1],
                ),
                name="practice_publication_lag_range",
            ),
            models.CheckConstraint(
                condition=Q(retention_years__gte=1), name="practice_retention_positive"
            ),
            models.CheckConstraint(
                condition=Q(srs_cutoff__gte=0, srs_cutoff__lte=40),
                name="practice_srs_cutoff_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    srs_min_drop__gte=SRS_MIN_DROP_RANGE[0], srs_min_drop__lte=SRS_MIN_DROP_RANGE[1]
                ),
                name="practice_srs_min_drop_range",
            ),
            models.CheckConstraint(
                condition=Q(ors_reliable_change__gt=0, ors_reliable_change__lte=40),
                name="practice_ors_change_range",
            ),
            models.CheckConstraint(
                condition=Q(repeat_rupture_count__gte=2), name="practice_repeat_count_min"
            ),
            models.CheckConstraint(
                condition=Q(repeat_rupture_window_days__gte=1, unrepaired_episode_days__gte=1),
                name="practice_signal_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@track_history()
class Membership(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "user", "role"], name="membership_unique_role"
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]
        indexes = [models.Index(fields=["user", "practice"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.practice}"


@track_history()
class SupervisionAssignment(models.Model):
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="supervision_assignments"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supervisees_assigned"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supervisors_assigned"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "supervisor", "clinician"], name="supervision_unique"
            ),
            models.CheckConstraint(
                condition=~Q(supervisor=F("clinician")), name="supervision_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supervisor} supervises {self.clinician}"


@track_history()
class Client(models.Model):
    """The unit of care. Identifying fields never leave through trends; ``code`` is the
    pseudonym used wherever a record must be referred to without naming anyone."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="clients")
    kind = models.CharField(max_length=12, choices=ClientKind.choices)
    code = models.CharField(max_length=16, editable=False)
    # Identifying fields.
    name = models.CharField(max_length=200, validators=[validate_plain_text])
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True, validators=[validate_plain_text])
    # Care.
    status = models.CharField(
        max_length=12, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    intake_date = models.DateField()
    discharge_date = models.DateField(null=True, blank=True)
    primary_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="primary_clients"
    )
    care_team: models.ManyToManyField = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CareTeamMember", related_name="care_team_clients"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by DELETE through the API: gone from every list and lookup, kept until purged.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A legal hold keeps the whole record past its retention period (purge_expired skips it).
    legal_hold = models.BooleanField(default=False, db_default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "code"], name="client_code_unique"),
            models.UniqueConstraint(fields=["id", "practice"], name="client_id_practice"),
            models.CheckConstraint(
                condition=Q(kind__in=ClientKind.values), name="client_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ClientStatus.values), name="client_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=ClientStatus.ACTIVE, discharge_date__isnull=True)
                    | Q(status=ClientStatus.DISCHARGED, discharge_date__isnull=False)
                ),
                name="client_discharge_date_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(discharge_date__isnull=True) | Q(discharge_date__gte=F("intake_date")),
                name="client_discharge_after_intake",
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z0-9-]{6,16}$"), name="client_code_format"
            ),
            models.CheckConstraint(condition=Q(name__regex=r"\S"), name="client_name_not_blank"),
        ]
        indexes = [
            models.Index(fields=["practice", "status"], name="client_practice_status"),
            # Scoping by care team checks each of a caseload's clients from this index alone.
            models.Index(
                fields=["id"],
                include=["practice"],
                condition=Q(archived_at__isnull=True),
                name="client_live_practice",
            ),
        ]
        triggers = [
            # A couple or family keeps its kind while it has participants (they are its
            # respondents); the service says so first.
            pgtrigger.Trigger(
                name="client_with_participants_not_individual",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    f"OLD.kind <> NEW.kind AND NEW.kind = '{ClientKind.INDIVIDUAL}'"
                ),
                func=(
                    "IF EXISTS (SELECT 1 FROM cases_participant p "
                    "WHERE p.client_id = NEW.id AND p.archived_at IS NULL) THEN "
                    "RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table: the client "
                    "has participants', TG_TABLE_NAME; "
                    "END IF; RETURN NEW;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.code


@track_history()
class CareTeamMember(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_team_members")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_team_memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "clinician"], name="care_team_unique"),
        ]
        indexes = [
            models.Index(fields=["clinician", "client"], name="care_team_clinician_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.clinician} on the care team of {self.client}"


@track_history()
class Participant(models.Model):
    """One member of a couple or family client as the record names them: a display label the
    clinician chooses ("Partner A", "Mum") and a role, nothing else. Client-side measures say
    which participant answered, so each partner can rate the same session."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="participants")
    label = models.CharField(
        max_length=PARTICIPANT_LABEL_MAX_LENGTH, validators=[validate_plain_text]
    )
    role = models.CharField(max_length=12, choices=ParticipantRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by DELETE through the API: gone from every list and lookup, kept until purged.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["id", "client"], name="participant_id_client"),
            models.UniqueConstraint(
                fields=["client", "label"],
                condition=Q(archived_at__isnull=True),
                name="participant_label_unique",
                violation_error_message=errors.PARTICIPANT_LABEL_TAKEN,
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=Q(role__in=ParticipantRole.values), name="participant_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(label__regex=r"\S"), name="participant_label_not_blank"
            ),
        ]
        triggers = [
            # Only a couple or a family has participants: an individual client is its own
            # respondent. The service says so first; this holds it for raw SQL.
            pgtrigger.Trigger(
                name="participant_of_couple_or_family",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=(
                    "IF EXISTS (SELECT 1 FROM cases_client c "  # noqa: S608 (schema values)
                    f"WHERE c.id = NEW.client_id AND c.kind = '{ClientKind.INDIVIDUAL}') THEN "
                    "RAISE EXCEPTION 'pgtrigger: Cannot write rows of % table: an individual "
                    "client has no participants', TG_TABLE_NAME; "
                    "END IF; RETURN NEW;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Participant {self.pk} of client {self.client_id}"


# What a signed progress note documents about its session: once the note is signed these stay
# as they were, and the session is not archived. Corrections are addenda to the note.
SIGNED_SESSION_COLUMNS = ("starts_at", "duration_minutes", "attendance", "modality", "client_id")
_OLD_SESSION = ", ".join(f"OLD.{column}" for column in SIGNED_SESSION_COLUMNS)
_NEW_SESSION = ", ".join(f"NEW.{column}" for column in SIGNED_SESSION_COLUMNS)


@track_history()
class TherapySession(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
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
    # Set by DELETE through the API: gone from every list and lookup, kept until purged.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["id", "practice"], name="session_id_practice"),
            models.UniqueConstraint(
                fields=["id", "client", "practice"], name="session_id_client_practice"
            ),
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
class ProgressNote(models.Model):
    """The clinical record of one session. Signed notes are immutable; corrections are addenda."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
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
    # Set by DELETE through the API: gone from every list and lookup, kept until purged.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["id", "practice"], name="note_id_practice"),
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
class NoteAddendum(models.Model):
    """A correction or addition to a signed note: append-only, in the database too."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
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
class ProcessNote(models.Model):
    """A psychotherapy note (45 CFR 164.501): its author's alone, kept apart from the record."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
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
    # Set by DELETE through the API: gone from every list and lookup, kept until purged.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(text__regex=r"\S"), name="process_note_not_blank"),
        ]
        indexes = [models.Index(fields=["author", "session"], name="process_note_author_idx")]

    def __str__(self) -> str:
        return f"Process note {self.pk}"


# --- Measures -------------------------------------------------------------------------------


def _item_field() -> models.DecimalField:
    """A 0–10 SRS or ORS item with one decimal."""
    return models.DecimalField(
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(10))],
    )


def _total_field() -> models.DecimalField:
    return models.DecimalField(max_digits=3, decimal_places=1)


def _rating_field(*, low: int = 1, high: int = 5, null: bool = False) -> Any:
    return models.PositiveSmallIntegerField(
        null=null,
        blank=null,
        validators=[MinValueValidator(low), MaxValueValidator(high)],
    )


class SessionMeasure(models.Model):
    """Fields every measure shares. ``client`` repeats the session's client so a client's
    series can be read from one index; a composite foreign key keeps the two in step."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    # Who answered a client-side measure of a couple or family client: each participant rates
    # the session for themselves. Null for an individual client and for the therapist's side.
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by DELETE through the API: gone from every list and lookup, kept until purged.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk} for session {self.session_id}"


def _item_range(prefix: str, fields: list[str], low: int, high: int) -> models.CheckConstraint:
    condition = Q()
    for field in fields:
        condition &= Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return models.CheckConstraint(condition=condition, name=f"{prefix}_items_range")


def _sum(*fields: str) -> Any:
    expression: Any = F(fields[0])
    for field in fields[1:]:
        expression = expression + F(field)
    return expression


SRS_ITEMS = ["relationship", "goals_and_topics", "approach_or_method", "overall"]
ORS_ITEMS = ["individually", "interpersonally", "socially", "overall"]
WAI_ITEMS = [f"item_{n}" for n in range(1, 13)]
WAI_SUBSCALES = {
    "task": [1, 2, 10, 12],
    "bond": [3, 5, 7, 9],
    "goal": [4, 6, 8, 11],
}


@track_history(exclude=["total"])
class SessionRatingScale(SessionMeasure):
    """SRS, end of session: four 0–10 items, total 0–40, scored by the database."""

    relationship = _item_field()
    goals_and_topics = _item_field()
    approach_or_method = _item_field()
    overall = _item_field()
    total = models.GeneratedField(
        expression=_sum(*SRS_ITEMS),
        output_field=_total_field(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"],
                nulls_distinct=False,
                name="srs_one_per_session",
                violation_error_message=errors.MEASURE_EXISTS,
                violation_error_code="unique",
            ),
            _item_range("srs", SRS_ITEMS, 0, 10),
        ]
        indexes = [models.Index(fields=["client", "created_at"], name="srs_client_idx")]

    def __str__(self) -> str:
        return super().__str__()


@track_history(exclude=["total"])
class OutcomeRatingScale(SessionMeasure):
    """ORS, start of session: four 0–10 items, total 0–40; clinical cutoff 25."""

    CLINICAL_CUTOFF = Decimal("25")

    individually = _item_field()
    interpersonally = _item_field()
    socially = _item_field()
    overall = _item_field()
    total = models.GeneratedField(
        expression=_sum(*ORS_ITEMS),
        output_field=_total_field(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"],
                nulls_distinct=False,
                name="ors_one_per_session",
                violation_error_message=errors.MEASURE_EXISTS,
                violation_error_code="unique",
            ),
            _item_range("ors", ORS_ITEMS, 0, 10),
        ]
        indexes = [models.Index(fields=["client", "created_at"], name="ors_client_idx")]

    def __str__(self) -> str:
        return super().__str__()

    @property
    def in_clinical_range(self) -> bool:
        return self.total < self.CLINICAL_CUTOFF


@track_history()
class PostSessionQuestionnaire(SessionMeasure):
    """PSQ rupture items from the client or the therapist."""

    respondent = models.CharField(max_length=10, choices=Respondent.choices)
    rupture_experienced = models.BooleanField()
    tension = _rating_field(null=True)
    resolution = _rating_field(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "respondent", "participant"],
                nulls_distinct=False,
                name="psq_one_per_session_respondent",
                violation_error_message=errors.MEASURE_EXISTS,
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=Q(respondent__in=Respondent.values), name="psq_respondent_valid"
            ),
            models.CheckConstraint(
                condition=Q(respondent=Respondent.CLIENT) | Q(participant__isnull=True),
                name="psq_participant_client_side",
                violation_error_message=errors.PARTICIPANT_NOT_FOR_THERAPIST,
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        rupture_experienced=True,
                        tension__isnull=False,
                        resolution__isnull=False,
                        tension__gte=1,
                        tension__lte=5,
                        resolution__gte=1,
                        resolution__lte=5,
                    )
                    | Q(rupture_experienced=False, tension__isnull=True, resolution__isnull=True)
                ),
                name="psq_ratings_match_rupture",
            ),
        ]

    def __str__(self) -> str:
        return super().__str__()


@track_history(exclude=["task", "bond", "goal", "total"])
class WorkingAllianceInventory(SessionMeasure):
    """WAI-SR: twelve 1–5 items; task, bond and goal subscales, each the sum of four items."""

    respondent = models.CharField(
        max_length=10, choices=Respondent.choices, default=Respondent.CLIENT
    )
    item_1 = _rating_field()
    item_2 = _rating_field()
    item_3 = _rating_field()
    item_4 = _rating_field()
    item_5 = _rating_field()
    item_6 = _rating_field()
    item_7 = _rating_field()
    item_8 = _rating_field()
    item_9 = _rating_field()
    item_10 = _rating_field()
    item_11 = _rating_field()
    item_12 = _rating_field()
    task = models.GeneratedField(
        expression=_sum(*[f"item_{n}" for n in WAI_SUBSCALES["task"]]),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    bond = models.GeneratedField(
        expression=_sum(*[f"item_{n}" for n in WAI_SUBSCALES["bond"]]),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    goal = models.GeneratedField(
        expression=_sum(*[f"item_{n}" for n in WAI_SUBSCALES["goal"]]),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    total = models.GeneratedField(
        expression=_sum(*WAI_ITEMS),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "respondent", "participant"],
                nulls_distinct=False,
                name="wai_one_per_session_respondent",
                violation_error_message=errors.MEASURE_EXISTS,
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=Q(respondent__in=Respondent.values), name="wai_respondent_valid"
            ),
            models.CheckConstraint(
                condition=Q(respondent=Respondent.CLIENT) | Q(participant__isnull=True),
                name="wai_participant_client_side",
                violation_error_message=errors.PARTICIPANT_NOT_FOR_THERAPIST,
            ),
            _item_range("wai", WAI_ITEMS, 1, 5),
        ]

    def __str__(self) -> str:
        return super().__str__()


MEASURE_MODELS = (
    SessionRatingScale,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    WorkingAllianceInventory,
)

# Access events live in their own module; imported here so Django registers them with cases.
from cases.audit import AccessChainHead, AccessEvent  # noqa: E402

__all__ = [
    "MEASURE_MODELS",
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
    "SessionRatingScale",
    "SupervisionAssignment",
    "TherapySession",
    "User",
    "WorkingAllianceInventory",
]
