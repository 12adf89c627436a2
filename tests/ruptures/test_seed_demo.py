"""The demo data: realistic shape, every rule of the schema respected, safe to run again."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from statistics import median

import pghistory.models
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Model
from django.utils import timezone

from api.models import IdempotencyRecord
from cases.choices import (
    Attendance,
    ClientKind,
    ClientStatus,
    Modality,
    NoteStatus,
    Respondent,
    Role,
    Setting,
)
from cases.models import (
    CareTeamMember,
    Client,
    Membership,
    NoteAddendum,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    Practice,
    ProcessNote,
    ProgressNote,
    SessionRatingScale,
    SupervisionAssignment,
    TherapySession,
    User,
    WorkingAllianceInventory,
)
from cases.services import session_create
from ruptures.choices import (
    RELATIONAL_MOVES,
    RRS_STRATEGIES,
    EpisodeStatus,
    Relationship,
    RuptureKind,
    SignalRule,
)
from ruptures.demo import DEMO_PASSWORD, DEMO_PRACTICE_SLUG
from ruptures.demo.bulk import Loader, Table
from ruptures.demo.reset import _truncate
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal
from tests.api.test_idempotency_records import kept

pytestmark = pytest.mark.django_db

# A pinned day and seed: the same rows on every run, whatever the date.
SEED_ARGS = ("--seed", "11", "--today", "2026-03-02", "--no-progress")
COUNTED: tuple[type[Model], ...] = (
    User,
    Membership,
    SupervisionAssignment,
    Client,
    CareTeamMember,
    TherapySession,
    ProgressNote,
    NoteAddendum,
    ProcessNote,
    SessionRatingScale,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    WorkingAllianceInventory,
    RuptureEpisode,
    RepairAttempt,
    RuptureSignal,
)


def seed(*extra: str) -> str:
    out = StringIO()
    call_command("seed_demo", *SEED_ARGS, *extra, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in COUNTED}


def test_seed_demo_builds_a_practice_shaped_like_the_literature() -> None:
    output = seed()

    practice = Practice.objects.get(slug=DEMO_PRACTICE_SLUG)
    attended = TherapySession.objects.filter(practice=practice, attendance=Attendance.ATTENDED)
    client_psq = PostSessionQuestionnaire.objects.filter(respondent=Respondent.CLIENT)
    reported = client_psq.filter(rupture_experienced=True).count()
    # Clients report a rupture after 19-42 % of sessions (Eubanks, Muran & Safran).
    assert 0.20 <= reported / attended.count() <= 0.40
    assert 0.20 <= reported / client_psq.count() <= 0.40

    episodes = RuptureEpisode.objects.all()
    kinds = dict(episodes.values_list("kind").annotate(n=Count("id")))
    assert kinds[RuptureKind.WITHDRAWAL] > kinds[RuptureKind.CONFRONTATION]
    resolved = episodes.filter(status=EpisodeStatus.RESOLVED).count()
    assert 0.35 <= resolved / episodes.count() <= 0.65
    assert episodes.filter(relationship=Relationship.THERAPIST).exists()
    assert episodes.exclude(relationship=Relationship.THERAPIST).exists()

    srs_totals = [float(t) for t in SessionRatingScale.objects.values_list("total", flat=True)]
    assert median(srs_totals) >= 36
    assert any(total < 36 for total in srs_totals)

    roles = set(Membership.objects.filter(practice=practice).values_list("role", flat=True))
    assert roles == set(Role.values)
    both = (
        Membership.objects.filter(practice=practice, role__in=[Role.CLINICIAN, Role.SUPERVISOR])
        .values("user")
        .annotate(n=Count("role"))
        .filter(n=2)
    )
    assert both.exists()
    supervisors = Membership.objects.filter(practice=practice, role=Role.SUPERVISOR)
    for membership in supervisors:
        assert SupervisionAssignment.objects.filter(supervisor=membership.user).exists()
    assert set(Client.objects.values_list("kind", flat=True)) == set(ClientKind.values)

    assert RuptureSignal.objects.filter(practice=practice).exists()
    rules = set(RuptureSignal.objects.values_list("rule", flat=True))
    assert {SignalRule.SRS_ALERT, SignalRule.PSQ_RUPTURE} <= rules

    assert "mend-demo-2026" in output
    assert "ellen.brooks" in output
    assert User.objects.get(username="ellen.brooks").check_password(DEMO_PASSWORD)


def test_seed_demo_keeps_the_rules_the_schema_cannot_state() -> None:
    seed()

    # Measures belong to attended sessions only.
    for model in (SessionRatingScale, OutcomeRatingScale, PostSessionQuestionnaire):
        assert not model.objects.exclude(session__attendance=Attendance.ATTENDED).exists()
    # The primary clinician is always on the care team.
    for client in Client.objects.all():
        assert CareTeamMember.objects.filter(
            client=client, clinician_id=client.primary_clinician_id
        ).exists()
    # A resolved episode went through repair; repairs fall between detection and closure.
    resolved = RuptureEpisode.objects.filter(status=EpisodeStatus.RESOLVED)
    assert not resolved.annotate(n=Count("repair_attempts")).filter(n=0).exists()
    for attempt in RepairAttempt.objects.select_related("episode"):
        episode = attempt.episode
        assert attempt.attempted_on >= episode.detected_on
        assert episode.closed_on is None or attempt.attempted_on <= episode.closed_on
        fitting = (
            RRS_STRATEGIES if episode.relationship == Relationship.THERAPIST else RELATIONAL_MOVES
        )
        assert set(attempt.strategies) <= set(fitting)
    # Some notes are signed and carry addenda; recent ones may still be drafts.
    assert NoteAddendum.objects.exists()
    assert ProgressNote.objects.filter(status=NoteStatus.DRAFT).exists()
    assert TherapySession.objects.filter(attendance=Attendance.SCHEDULED).exists()


def test_seed_demo_runs_again_without_changes_and_resets_to_the_same_data() -> None:
    seed()
    first = counts()

    output = seed()
    assert "already exists" in output
    assert counts() == first

    seed("--reset")
    assert counts() == first

    # Another practice in the database: the reset must leave it alone (and so deletes the
    # demo rows one practice at a time, past the signed-note triggers).
    other = Practice.objects.create(name="Elsewhere", slug="elsewhere")
    seed("--reset")
    assert counts() == first
    assert Practice.objects.filter(pk=other.pk).exists()


def test_reset_truncates_with_the_records_that_point_into_the_demo_and_nothing_else() -> None:
    seed()
    demo_client = Client.objects.first()
    clinician = demo_client.care_team_members.first().clinician
    kept(clinician, "of-a-demo-client", timezone.now() + dt.timedelta(days=1), demo_client)

    # Alone, with only records of its own clients elsewhere: the fast path takes them along.
    with transaction.atomic():
        assert _truncate() is True
        assert not Client.objects.exists()
        assert not IdempotencyRecord.objects.exists()
        transaction.set_rollback(True)

    # A record that is not the practice's (of someone outside it, about no client): nothing is
    # truncated, and the rows go one by one.
    outsider = User.objects.create_user(username="outsider", password="not-the-demo-one")
    kept(outsider, "of-no-client", timezone.now() + dt.timedelta(days=1))
    with transaction.atomic():
        assert _truncate() is False
        assert Client.objects.exists()
        assert IdempotencyRecord.objects.count() == 2
        transaction.set_rollback(True)

    first = counts()
    seed("--reset")
    assert counts() == first
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["of-no-client"]


def test_seed_demo_refuses_usernames_that_belong_to_someone_else() -> None:
    User.objects.create_user(username="ellen.brooks", password="not-the-demo-one")

    with pytest.raises(CommandError, match="ellen.brooks"):
        seed()

    assert not Practice.objects.filter(slug=DEMO_PRACTICE_SLUG).exists()
    assert not User.objects.get(username="ellen.brooks").check_password(DEMO_PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_seed_demo_records_no_insert_history_and_later_writes_are_recorded() -> None:
    foreign_keys = _foreign_keys()
    # Transactional: the seed's transaction commits, as it does from the command line.
    seed("--scale", "0.1")

    # Alone in the database, the seed checked the foreign keys at the end: all are back.
    assert _foreign_keys() == foreign_keys

    history = [model for model in apps.get_models() if issubclass(model, pghistory.models.Event)]
    session_history = apps.get_model("cases", "TherapySessionEvent")
    assert session_history in history
    for model in history:
        assert not model.objects.filter(pgh_label="insert").exists(), model.__name__
    # Updates are recorded as ever: the seed back-dates and handles the signals it raised.
    signal_history = apps.get_model("ruptures", "RuptureSignalEvent")
    assert signal_history.objects.filter(pgh_label="update").exists()

    # The same connection, after the seed: a write through a service is recorded.
    client = Client.objects.filter(kind=ClientKind.INDIVIDUAL, status=ClientStatus.ACTIVE).first()
    assert client is not None
    session = session_create(
        client=client,
        clinician=client.primary_clinician,
        starts_at=timezone.now() + dt.timedelta(days=3),
        duration_minutes=50,
        modality=Modality.INDIVIDUAL,
        setting=Setting.IN_PERSON,
    )
    assert session_history.objects.filter(pgh_obj_id=session.pk, pgh_label="insert").exists()


def _foreign_keys() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2"
        )
        return cursor.fetchall()


def test_foreign_keys_checked_at_the_end_still_refuse_a_bad_row(practice, clinician) -> None:
    table = Table(CareTeamMember)
    missing_client = 10**9
    with Loader([table]) as loader:
        loader.begin(check_foreign_keys_at_end=True)
        loader.add(
            table, (table.new_id(), practice.pk, missing_client, clinician.pk, timezone.now())
        )
        loader.finish()

    with pytest.raises(IntegrityError):
        loader.check_foreign_keys()
