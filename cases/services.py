"""Every write of the cases app. Keyword-only, validated, atomic; errors are Django's
``ValidationError`` with the messages in ``cases.errors``, and the refusals of
``cases.policies`` (``PermissionDenied``)."""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from cases import errors, policies
from cases.choices import (
    NOTE_SECTIONS,
    Attendance,
    ClientKind,
    ClientStatus,
    NoteStatus,
    Respondent,
    Role,
)
from cases.edits import apply_edit, refuse_other_fields
from cases.models import (
    MEASURE_MODELS,
    CareTeamMember,
    Client,
    Membership,
    NoteAddendum,
    Participant,
    PostSessionQuestionnaire,
    Practice,
    ProcessNote,
    ProgressNote,
    SupervisionAssignment,
    TherapySession,
    User,
)
from cases.models.base import Archivable
from cases.validators import NOTE_TEXT_MAX_LENGTH, TEXT_TOO_LONG

# Crockford's base32 without the letters that read as digits: codes are read aloud and typed.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_ATTEMPTS = 5


def _save(instance: Model, **full_clean_kwargs: Any) -> None:
    instance.full_clean(**full_clean_kwargs)
    instance.save()


def _insert(instance: Model, *, loaded: Sequence[str]) -> None:
    """Insert a new row in one statement. Python checks what it can without the database
    (each field's validators and choices); the relations named in ``loaded`` were read by the
    caller, so their existence is not asked again; the check constraints, each mirrored by a
    field's validators, stay the database's to hold."""
    instance.full_clean(exclude=list(loaded), validate_unique=False, validate_constraints=False)
    instance.save(force_insert=True)


# --- Practice and people ----------------------------------------------------------------------


@transaction.atomic
def membership_grant(
    *, practice: Practice, user: User, role: str, granted_by: User | None = None
) -> Membership:
    """``granted_by``: the practice admin granting it, who may not grant themselves a clinical
    role (the access that comes with it is for another admin to give)."""
    policies.require_may_grant(user=user, role=role, granted_by=granted_by)
    membership, _ = Membership.objects.get_or_create(practice=practice, user=user, role=role)
    if not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership) -> Membership:
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    return membership


@transaction.atomic
def supervision_assign(
    *, practice: Practice, supervisor: User, clinician: User
) -> SupervisionAssignment:
    if supervisor.pk == clinician.pk:
        raise ValidationError(errors.SUPERVISE_SELF)
    policies.require_member(practice=practice, user=supervisor, role=Role.SUPERVISOR)
    policies.require_member(practice=practice, user=clinician, role=Role.CLINICIAN)
    assignment, _ = SupervisionAssignment.objects.get_or_create(
        practice=practice, supervisor=supervisor, clinician=clinician
    )
    return assignment


class PracticeSettings(TypedDict, total=False):
    """The practice settings an admin may change."""

    name: str
    timezone: str
    trends_epsilon: Decimal
    trends_publication_lag_days: int
    retention_years: int
    srs_cutoff: Decimal
    srs_min_drop: Decimal
    ors_reliable_change: Decimal
    repeat_rupture_count: int
    repeat_rupture_window_days: int
    unrepaired_episode_days: int


PRACTICE_SETTINGS_FIELDS = tuple(PracticeSettings.__annotations__)


@transaction.atomic
def practice_update_settings(
    *, practice: Practice, **changes: Unpack[PracticeSettings]
) -> Practice:
    refuse_other_fields(changes, allowed=PRACTICE_SETTINGS_FIELDS)
    if "timezone" in changes and changes["timezone"] not in zoneinfo.available_timezones():
        raise ValidationError({"timezone": errors.UNKNOWN_TIMEZONE})
    apply_edit(practice, changes)
    _save(practice, validate_unique=False)
    return practice


# --- Accounts: onboarding within the practice ----------------------------------------------------

MAX_USER_ID = 2**63 - 1


@dataclass(frozen=True)
class PasswordSetToken:
    """What a new person needs to choose their password (``password_set``): their id encoded
    as Django's own password reset does, and a token that dies when the password is set."""

    uid: str
    token: str
    expires_at: dt.datetime


@transaction.atomic
def user_create(
    *,
    practice: Practice,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    roles: Sequence[str],
    created_by: User,
) -> User:
    """A person of ``practice`` with ``roles`` there and no usable password: they choose one
    with the token of ``password_set_token``."""
    policies.require_practice_admin(practice=practice, user=created_by)
    if not roles:
        raise ValidationError({"roles": errors.ROLES_NEEDED})
    if len(set(roles)) != len(roles):
        raise ValidationError({"roles": errors.ROLE_TWICE})
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_unusable_password()
    _save(user)
    for role in roles:
        membership_grant(practice=practice, user=user, role=role, granted_by=created_by)
    return user


def password_set_token(*, user: User) -> PasswordSetToken | None:
    """A set-password token for a person who has not chosen a password yet; None once they
    have (a token then would let whoever holds it take over the account) or while the
    account is deactivated. Writes nothing: every token of a user dies when the password is
    set, and on its own after ``PASSWORD_RESET_TIMEOUT``."""
    if user.has_usable_password() or not user.is_active:
        return None
    return PasswordSetToken(
        uid=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
        expires_at=timezone.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
    )


def _user_of_uid(uid: str) -> User | None:
    """The user ``uid`` names, locked, so that of two requests with one token only the first
    sets the password; None for anything else."""
    try:
        decoded = urlsafe_base64_decode(uid).decode()
    except (TypeError, ValueError):
        return None
    if not (decoded.isascii() and decoded.isdigit()) or not 0 < int(decoded) <= MAX_USER_ID:
        return None
    return User.objects.select_for_update().filter(pk=int(decoded)).first()


@transaction.atomic
def password_set(*, uid: str, token: str, password: str) -> User:
    """Set the password of the user ``uid`` names with their token. A used, expired, forged or
    mismatched token, or a deactivated account, all get the one error on ``token``; the
    password is checked (against the user too) only after the token passed."""
    user = _user_of_uid(uid)
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": errors.ONBOARDING_LINK_INVALID})
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({"password": error.error_list}) from error
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_deactivate(*, user: User, by: User) -> User:
    """Switch the account off: it cannot log in, and its tokens are revoked as it is saved
    (``api.receivers``)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == by.pk:
        raise ValidationError(errors.DEACTIVATE_SELF)
    policies.require_account_in_reach(user=user, by=by)
    if not user.is_active:
        raise ValidationError(errors.USER_ALREADY_INACTIVE)
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def user_reactivate(*, user: User, by: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    policies.require_account_in_reach(user=user, by=by)
    if user.is_active:
        raise ValidationError(errors.USER_ALREADY_ACTIVE)
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


# --- Clients -----------------------------------------------------------------------------------


def generate_client_code() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{body[:4]}-{body[4:]}"


@transaction.atomic
def client_create(
    *,
    practice: Practice,
    kind: str,
    name: str,
    intake_date: dt.date,
    primary_clinician: User,
    care_team: list[User] | tuple[User, ...] = (),
    date_of_birth: dt.date | None = None,
    email: str = "",
    phone: str = "",
    legal_hold: bool = False,
) -> Client:
    team = {primary_clinician.pk: primary_clinician, **{u.pk: u for u in care_team}}
    for clinician in team.values():
        policies.require_member(practice=practice, user=clinician, role=Role.CLINICIAN)
    client = Client(
        practice=practice,
        kind=kind,
        name=name,
        intake_date=intake_date,
        primary_clinician=primary_clinician,
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
        legal_hold=legal_hold,
    )
    client.full_clean(exclude=["code"], validate_unique=False)
    # The code is random; a collision is rare, so retry rather than lock.
    for attempt in range(CODE_ATTEMPTS):
        client.code = generate_client_code()
        try:
            with transaction.atomic():
                client.save()
            break
        except IntegrityError:
            client.pk = None
            if attempt == CODE_ATTEMPTS - 1:
                raise
    CareTeamMember.objects.bulk_create(
        CareTeamMember(practice=practice, client=client, clinician=clinician)
        for clinician in team.values()
    )
    return client


class ClientChanges(TypedDict, total=False):
    legal_hold: bool
    kind: str
    name: str
    date_of_birth: dt.date | None
    email: str
    phone: str
    intake_date: dt.date
    primary_clinician: User


CLIENT_EDITABLE_FIELDS = tuple(ClientChanges.__annotations__)


@transaction.atomic
def client_update(*, client: Client, user: User, **changes: Unpack[ClientChanges]) -> Client:
    refuse_other_fields(changes, allowed=CLIENT_EDITABLE_FIELDS)
    if (
        changes.get("kind") == ClientKind.INDIVIDUAL
        and client.kind != ClientKind.INDIVIDUAL
        and Participant.objects.filter(client=client, archived_at__isnull=True).exists()
    ):
        raise ValidationError({"kind": errors.CLIENT_KIND_HAS_PARTICIPANTS})
    new_primary = changes.get("primary_clinician")
    if new_primary is not None:
        policies.require_primary_to_name_primary(client=client, user=user, new_primary=new_primary)
    apply_edit(client, changes)
    if "primary_clinician" in changes:
        policies.require_member(
            practice=client.practice, user=client.primary_clinician, role=Role.CLINICIAN
        )
        CareTeamMember.objects.get_or_create(
            practice=client.practice, client=client, clinician=client.primary_clinician
        )
    _save(client, validate_unique=False)
    return client


@transaction.atomic
def client_discharge(*, client: Client, discharge_date: dt.date) -> Client:
    if client.status == ClientStatus.DISCHARGED:
        raise ValidationError(errors.ALREADY_DISCHARGED)
    if discharge_date < client.intake_date:
        raise ValidationError({"discharge_date": errors.DISCHARGE_BEFORE_INTAKE})
    client.status = ClientStatus.DISCHARGED
    client.discharge_date = discharge_date
    _save(client, validate_unique=False)
    return client


@transaction.atomic
def client_reactivate(*, client: Client) -> Client:
    if client.status != ClientStatus.DISCHARGED:
        raise ValidationError(errors.NOT_DISCHARGED)
    client.status = ClientStatus.ACTIVE
    client.discharge_date = None
    _save(client, validate_unique=False)
    return client


@transaction.atomic
def care_team_add(*, client: Client, clinician: User) -> CareTeamMember:
    policies.require_member(practice=client.practice, user=clinician, role=Role.CLINICIAN)
    member, _ = CareTeamMember.objects.get_or_create(
        practice=client.practice, client=client, clinician=clinician
    )
    return member


@transaction.atomic
def care_team_remove(*, client: Client, clinician: User, user: User) -> None:
    """``user`` removes ``clinician``: themselves (leaving the team), or, as the client's
    primary clinician, anyone else but the primary."""
    if client.primary_clinician_id == clinician.pk:
        raise ValidationError(errors.PRIMARY_NOT_REMOVABLE)
    policies.require_may_remove_from_care_team(client=client, clinician=clinician, user=user)
    CareTeamMember.objects.filter(client=client, clinician=clinician).delete()


# --- Sessions ----------------------------------------------------------------------------------


# --- Participants of couples and families ------------------------------------------------------


def _require_couple_or_family(client: Client) -> None:
    if client.kind == ClientKind.INDIVIDUAL:
        raise ValidationError({"client": errors.PARTICIPANT_INDIVIDUAL_CLIENT})


@transaction.atomic
def participant_create(*, client: Client, label: str, role: str, user: User) -> Participant:
    policies.require_care_team(client=client, user=user)
    _require_couple_or_family(client)
    participant = Participant(practice_id=client.practice_id, client=client, label=label, role=role)
    _save(participant)
    return participant


class ParticipantChanges(TypedDict, total=False):
    label: str
    role: str


PARTICIPANT_EDITABLE_FIELDS = tuple(ParticipantChanges.__annotations__)


@transaction.atomic
def participant_update(
    *, participant: Participant, user: User, **changes: Unpack[ParticipantChanges]
) -> Participant:
    refuse_other_fields(changes, allowed=PARTICIPANT_EDITABLE_FIELDS)
    policies.require_care_team(client=participant.client, user=user)
    apply_edit(participant, changes)
    _save(participant)
    return participant


def _check_participant(
    *, session: TherapySession, participant: Participant | None, respondent: str
) -> None:
    """A couple's or family's client-side answers name the participant who gave them, once
    the client has participants; the therapist's side and an individual client name none."""
    if participant is None:
        if (
            respondent == Respondent.CLIENT
            and Participant.objects.filter(
                client_id=session.client_id, archived_at__isnull=True
            ).exists()
        ):
            raise ValidationError({"participant": errors.PARTICIPANT_NEEDED})
        return
    if respondent != Respondent.CLIENT:
        raise ValidationError({"participant": errors.PARTICIPANT_NOT_FOR_THERAPIST})
    if participant.client_id != session.client_id or participant.archived_at is not None:
        raise ValidationError({"participant": errors.PARTICIPANT_OTHER_CLIENT})


def session_create(  # reads, then one INSERT: atomic as it is
    *,
    client: Client,
    clinician: User,
    starts_at: dt.datetime,
    duration_minutes: int,
    modality: str,
    setting: str,
    attendance: str = Attendance.SCHEDULED,
    logged_by: User | None = None,
) -> TherapySession:
    """``logged_by``: the colleague who logs the session for ``clinician``, when it is not
    the clinician themselves; a clinician off the care team is then refused on
    ``clinician``."""
    named = logged_by is not None and logged_by.pk != clinician.pk
    policies.require_care_team(client=client, user=clinician, field="clinician" if named else None)
    if client.status == ClientStatus.DISCHARGED:
        raise ValidationError(errors.CLIENT_DISCHARGED)
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": errors.NAIVE_DATETIME})
    session = TherapySession(
        practice_id=client.practice_id,
        client=client,
        clinician=clinician,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        modality=modality,
        setting=setting,
        attendance=attendance,
    )
    _insert(session, loaded=("practice", "client", "clinician"))
    return session


class SessionChanges(TypedDict, total=False):
    starts_at: dt.datetime
    duration_minutes: int
    modality: str
    setting: str
    attendance: str


SESSION_EDITABLE_FIELDS = tuple(SessionChanges.__annotations__)
# What a signed note documents: fixed once it is signed (the trigger on SIGNED_SESSION_COLUMNS
# holds the same for every writer).
SESSION_SIGNED_FIELDS = ("starts_at", "duration_minutes", "attendance", "modality", "client")


def has_signed_note(session: TherapySession) -> bool:
    return ProgressNote.objects.filter(session=session, status=NoteStatus.SIGNED).exists()


@transaction.atomic
def session_update(*, session: TherapySession, **changes: Unpack[SessionChanges]) -> TherapySession:
    refuse_other_fields(changes, allowed=SESSION_EDITABLE_FIELDS)
    if "starts_at" in changes and timezone.is_naive(changes["starts_at"]):
        raise ValidationError({"starts_at": errors.NAIVE_DATETIME})
    given: Mapping[str, object] = changes
    locked_changes = [
        field
        for field in SESSION_SIGNED_FIELDS
        if field in given and given[field] != getattr(session, field)
    ]
    if locked_changes and has_signed_note(session):
        raise ValidationError({field: errors.SESSION_SIGNED_LOCKED for field in locked_changes})
    if (
        changes.get("attendance", Attendance.ATTENDED) != Attendance.ATTENDED
        and session.attendance == Attendance.ATTENDED
        and any(m._default_manager.filter(session=session).exists() for m in MEASURE_MODELS)
    ):
        raise ValidationError({"attendance": errors.SESSION_HAS_MEASURES})
    apply_edit(session, changes)
    _save(session, validate_unique=False)
    return session


# --- Progress notes and addenda ----------------------------------------------------------------


def validate_sections(*, note_format: str, sections: Any) -> dict[str, str]:
    expected = NOTE_SECTIONS.get(note_format)
    if expected is None:
        raise ValidationError({"format": f"“{note_format}” is not a valid note format."})
    if not isinstance(sections, dict) or set(sections) != set(expected):
        raise ValidationError(
            {
                "sections": errors.NOTE_SECTIONS_MISMATCH.format(
                    format=note_format, expected=", ".join(expected)
                )
            }
        )
    if not all(isinstance(value, str) for value in sections.values()):
        raise ValidationError({"sections": errors.NOTE_SECTION_NOT_TEXT})
    too_long = {
        f"sections.{key}": ValidationError(
            TEXT_TOO_LONG.format(max_length=NOTE_TEXT_MAX_LENGTH), code="max_length"
        )
        for key in expected
        if len(sections[key]) > NOTE_TEXT_MAX_LENGTH
    }
    if too_long:
        raise ValidationError(too_long)
    return {key: sections[key] for key in expected}


@transaction.atomic
def note_create(
    *, session: TherapySession, author: User, format: str, sections: dict[str, str]
) -> ProgressNote:
    policies.require_care_team(client=session.client, user=author)
    if ProgressNote.objects.filter(session=session).exists():
        raise ValidationError({"session": ValidationError(errors.NOTE_EXISTS, code="unique")})
    note = ProgressNote(
        practice_id=session.practice_id,
        session=session,
        author=author,
        format=format,
        sections=validate_sections(note_format=format, sections=sections),
    )
    _save(note, validate_unique=False)
    return note


def _lock_note(note: ProgressNote) -> ProgressNote:
    return ProgressNote.objects.select_for_update().get(pk=note.pk)


@transaction.atomic
def note_update(
    *,
    note: ProgressNote,
    editor: User,
    format: str | None = None,
    sections: dict[str, str] | None = None,
) -> ProgressNote:
    locked = _lock_note(note)
    if locked.status == NoteStatus.SIGNED:
        raise ValidationError(errors.NOTE_SIGNED_IMMUTABLE)
    policies.require_author(note=locked, user=editor, refusal=errors.NOTE_EDITOR_NOT_AUTHOR)
    new_format = format or locked.format
    new_sections = locked.sections if sections is None else sections
    locked.format = new_format
    locked.sections = validate_sections(note_format=new_format, sections=new_sections)
    _save(locked, validate_unique=False)
    return locked


@transaction.atomic
def note_sign(*, note: ProgressNote, signer: User) -> ProgressNote:
    # The session first: an edit of its start or attendance and this signature wait for each
    # other, so the edit never lands unseen beside a note being signed.
    list(
        TherapySession.objects.select_for_update(no_key=True)
        .filter(pk=note.session_id)
        .values_list("pk")
    )
    locked = _lock_note(note)
    if locked.status == NoteStatus.SIGNED:
        raise ValidationError(errors.NOTE_ALREADY_SIGNED)
    policies.require_author(note=locked, user=signer, refusal=errors.NOTE_SIGNER_NOT_AUTHOR)
    if not any(value.strip() for value in locked.sections.values()):
        raise ValidationError(errors.NOTE_EMPTY)
    locked.status = NoteStatus.SIGNED
    locked.signed_by = signer
    locked.signed_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def addendum_add(*, note: ProgressNote, author: User, reason: str, text: str) -> NoteAddendum:
    if note.status != NoteStatus.SIGNED:
        raise ValidationError(errors.NOTE_NOT_SIGNED)
    policies.require_care_team(client=note.session.client, user=author)
    addendum = NoteAddendum(
        practice_id=note.practice_id, note=note, author=author, reason=reason, text=text
    )
    _save(addendum)
    return addendum


# --- Process notes -----------------------------------------------------------------------------


@transaction.atomic
def process_note_create(*, session: TherapySession, author: User, text: str) -> ProcessNote:
    policies.require_care_team(client=session.client, user=author)
    note = ProcessNote(practice_id=session.practice_id, session=session, author=author, text=text)
    _save(note)
    return note


@transaction.atomic
def process_note_update(*, note: ProcessNote, author: User, text: str) -> ProcessNote:
    policies.require_author(note=note, user=author, refusal=errors.PROCESS_NOTE_AUTHOR_ONLY)
    note.text = text
    _save(note)
    return note


# --- Measures ----------------------------------------------------------------------------------

MeasureModel = type[Model]
# Fields a caller may give for each measure; totals and subscales are the database's.
MEASURE_INPUT_FIELDS: dict[MeasureModel, tuple[str, ...]] = {
    model: tuple(
        f.name
        for f in model._meta.concrete_fields
        if f.name not in {"id", "practice", "session", "client", "recorded_by", "created_at"}
        and not f.generated
    )
    for model in MEASURE_MODELS
}


def lock_client_for_signals(*, client_id: int) -> None:
    """Signals compare a client's records with each other (an SRS with the one before, the
    episodes of 90 days), so two writes of one client must not derive them side by side, each
    blind to the other's uncommitted row. This queues them for the rest of the transaction;
    FOR NO KEY UPDATE does not hold back writes that merely point at the client."""
    list(Client.objects.select_for_update(no_key=True).filter(pk=client_id).values_list("pk"))


class MeasureValues(TypedDict, total=False):
    """What a caller gives of a measure: its items, and who answered. Each measure takes its
    own of these (``MEASURE_INPUT_FIELDS``)."""

    participant: Participant | None
    respondent: str
    # SRS
    relationship: Decimal
    goals_and_topics: Decimal
    approach_or_method: Decimal
    overall: Decimal  # SRS and ORS
    # ORS
    individually: Decimal
    interpersonally: Decimal
    socially: Decimal
    # PSQ
    rupture_experienced: bool
    tension: int | None
    resolution: int | None
    # WAI-SR
    item_1: int
    item_2: int
    item_3: int
    item_4: int
    item_5: int
    item_6: int
    item_7: int
    item_8: int
    item_9: int
    item_10: int
    item_11: int
    item_12: int


def _check_psq_ratings(values: MeasureValues) -> None:
    """Tension and resolution are rated exactly when a rupture was experienced."""
    rupture = values.get("rupture_experienced")
    problems = {}
    for item in ("tension", "resolution"):
        given = values.get(item) is not None
        if rupture and not given:
            problems[item] = errors.PSQ_RATING_NEEDED
        elif rupture is False and given:
            problems[item] = errors.PSQ_RATING_WITHOUT_RUPTURE
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def measure_record(
    *,
    measure_model: MeasureModel,
    session: TherapySession,
    recorded_by: User,
    **values: Unpack[MeasureValues],
) -> Model:
    """Record one measure for a session. Recording it derives no rupture signal here (cases
    knows nothing of them): the API records through ``ruptures.services.measure_record``,
    which does."""
    refuse_other_fields(
        values, allowed=MEASURE_INPUT_FIELDS[measure_model], message=errors.FIELD_NOT_IN_MEASURE
    )
    if session.attendance != Attendance.ATTENDED:
        raise ValidationError(errors.MEASURE_NEEDS_ATTENDANCE)
    if measure_model is PostSessionQuestionnaire:
        _check_psq_ratings(values)
    policies.require_care_team(client=session.client, user=recorded_by)
    _check_participant(
        session=session,
        participant=values.get("participant"),
        respondent=values.get("respondent", Respondent.CLIENT),
    )
    lock_client_for_signals(client_id=session.client_id)
    measure = measure_model(
        practice_id=session.practice_id,
        session=session,
        client_id=session.client_id,
        recorded_by=recorded_by,
        **values,
    )
    # Validating constraints here names the offending item (and the one-per-session rule)
    # before the database is asked; the database still holds both.
    measure.full_clean()
    try:
        with transaction.atomic():
            measure.save()
    except IntegrityError as error:
        # A concurrent request recorded the same measure between the check and the insert.
        raise ValidationError(errors.MEASURE_EXISTS, code="unique") from error
    measure.refresh_from_db()  # read back the scores the database computed
    return measure


# --- Archiving ---------------------------------------------------------------------------------


@transaction.atomic
def record_archive(*, record: Archivable, user: User) -> Archivable:
    """What DELETE does to a clinical record: it leaves every list and lookup but stays in
    the database until the retention period has passed (``manage.py purge_expired``).
    The caller must be on the client's care team; a process note, its author."""
    policies.require_may_archive(record=record, user=user)
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    if isinstance(locked, TherapySession) and has_signed_note(locked):
        raise ValidationError(errors.SESSION_SIGNED_NOT_ARCHIVABLE)
    if locked.archived_at is None:
        locked.archived_at = timezone.now()
        locked.save(update_fields=["archived_at"])
    return locked
