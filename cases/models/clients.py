"""Clients: the unit of care, the clinicians of its care team and, for a couple or family,
the participants the record names."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cases import errors, same_practice
from cases.choices import ClientKind, ClientStatus, ParticipantRole
from cases.history import track_history
from cases.models.base import Archivable, PracticeScoped
from cases.models.people import Practice, User
from cases.validators import PARTICIPANT_LABEL_MAX_LENGTH, validate_plain_text


@track_history()
class Client(Archivable):
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
    care_team: models.ManyToManyField[User, CareTeamMember] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CareTeamMember", related_name="care_team_clients"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A legal hold keeps the whole record past its retention period (purge_expired skips it).
    legal_hold = models.BooleanField(default=False, db_default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "code"], name="client_code_unique"),
            same_practice.referenced_key("client_id_practice"),
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
class CareTeamMember(PracticeScoped):
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
class Participant(PracticeScoped, Archivable):
    """One member of a couple or family client as the record names them: a display label the
    clinician chooses ("Partner A", "Mum") and a role, nothing else. Client-side measures say
    which participant answered, so each partner can rate the same session."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="participants")
    label = models.CharField(
        max_length=PARTICIPANT_LABEL_MAX_LENGTH, validators=[validate_plain_text]
    )
    role = models.CharField(max_length=12, choices=ParticipantRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

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
