"""Couples and families: a client's participants (a label and a role), the client-side
measures each of them answers, the signals raised per participant, and the trends' one value
a client-month. Each rule is tried through the service and, where the database holds it, in
the database too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import errors, services
from cases.choices import Attendance, ClientKind, Modality, ParticipantRole, Respondent, Setting
from cases.models import (
    Client,
    OutcomeRatingScale,
    Participant,
    PostSessionQuestionnaire,
    SessionRatingScale,
    TherapySession,
    WorkingAllianceInventory,
)
from ruptures import releases
from ruptures import services as rupture_services
from ruptures.choices import SignalRule
from ruptures.models import RuptureSignal

pytestmark = pytest.mark.django_db


@pytest.fixture
def couple(practice, clinician) -> Client:
    return services.client_create(
        practice=practice,
        kind=ClientKind.COUPLE,
        name="Robin and Sky Hale",
        intake_date=timezone.localdate() - dt.timedelta(days=365),
        primary_clinician=clinician,
    )


@pytest.fixture
def partners(couple, clinician) -> tuple[Participant, Participant]:
    return (
        services.participant_create(
            client=couple, label="Partner A", role=ParticipantRole.PARTNER, user=clinician
        ),
        services.participant_create(
            client=couple, label="Partner B", role=ParticipantRole.PARTNER, user=clinician
        ),
    )


def _session(client, clinician, *, days_ago: int) -> TherapySession:
    return services.session_create(
        client=client,
        clinician=clinician,
        starts_at=timezone.now() - dt.timedelta(days=days_ago),
        duration_minutes=50,
        modality=Modality.COUPLE,
        setting=Setting.IN_PERSON,
        attendance=Attendance.ATTENDED,
    )


def _srs(session, clinician, total: str, participant=None):
    item = Decimal(total) / 4
    return rupture_services.measure_record(  # derives the signals too
        measure_model=SessionRatingScale,
        session=session,
        recorded_by=clinician,
        participant=participant,
        relationship=item,
        goals_and_topics=item,
        approach_or_method=item,
        overall=item,
    )


def _ors(session, clinician, total: str, participant=None):
    item = Decimal(total) / 4
    return rupture_services.measure_record(  # derives the signals too
        measure_model=OutcomeRatingScale,
        session=session,
        recorded_by=clinician,
        participant=participant,
        individually=item,
        interpersonally=item,
        socially=item,
        overall=item,
    )


def _messages(excinfo) -> list[str]:
    return [message for messages in excinfo.value.message_dict.values() for message in messages]


# --- Participants -------------------------------------------------------------------------------


def test_a_couple_has_participants_with_a_label_and_a_role(partners, couple):
    assert [(p.label, p.role) for p in couple.participants.order_by("id")] == [
        ("Partner A", "partner"),
        ("Partner B", "partner"),
    ]
    assert {p.practice_id for p in partners} == {couple.practice_id}


def test_an_individual_client_has_no_participants(client, clinician, trigger_refuses):
    with pytest.raises(ValidationError) as excinfo:
        services.participant_create(
            client=client, label="Partner A", role=ParticipantRole.PARTNER, user=clinician
        )
    assert _messages(excinfo) == [errors.PARTICIPANT_INDIVIDUAL_CLIENT]
    with trigger_refuses("participant_of_couple_or_family"):
        Participant.objects.create(
            practice=client.practice, client=client, label="Partner A", role="partner"
        )
    assert not Participant.objects.filter(client=client).exists()


def test_a_client_with_participants_stays_a_couple_or_family(
    couple, partners, clinician, trigger_refuses
):
    with pytest.raises(ValidationError) as excinfo:
        services.client_update(client=couple, user=clinician, kind=ClientKind.INDIVIDUAL)
    assert _messages(excinfo) == [errors.CLIENT_KIND_HAS_PARTICIPANTS]
    with trigger_refuses("client_with_participants_not_individual"):
        Client.objects.filter(pk=couple.pk).update(kind=ClientKind.INDIVIDUAL)
    # A couple may become a family: participants stay theirs.
    services.client_update(client=couple, user=clinician, kind=ClientKind.FAMILY)
    assert Client.objects.get(pk=couple.pk).kind == ClientKind.FAMILY


def test_labels_are_unique_among_a_clients_live_participants(
    couple, partners, clinician, other_clinician, refused
):
    with pytest.raises(ValidationError) as excinfo:
        services.participant_create(
            client=couple, label="Partner A", role=ParticipantRole.PARTNER, user=clinician
        )
    assert _messages(excinfo) == [errors.PARTICIPANT_LABEL_TAKEN]
    with refused("participant_label_unique"):
        Participant.objects.create(
            practice=couple.practice, client=couple, label="Partner A", role="partner"
        )
    # Once archived, the label is free again.
    services.record_archive(record=partners[0], user=clinician)
    again = services.participant_create(
        client=couple, label="Partner A", role=ParticipantRole.PARTNER, user=clinician
    )
    assert again.pk != partners[0].pk


@pytest.mark.parametrize("label", ["", "   ", "Partner\u200bA", "x" * 41])
def test_a_label_is_short_plain_visible_text(couple, clinician, label):
    with pytest.raises(ValidationError):
        services.participant_create(
            client=couple, label=label, role=ParticipantRole.PARTNER, user=clinician
        )
    assert not Participant.objects.filter(client=couple).exists()


def test_the_database_refuses_a_blank_label_and_an_unknown_role(couple, refused):
    with refused("participant_label_not_blank"):
        Participant.objects.create(
            practice=couple.practice, client=couple, label="  ", role="partner"
        )
    with refused("participant_role_valid"):
        Participant.objects.create(
            practice=couple.practice, client=couple, label="Partner A", role="lodger"
        )


def test_only_the_care_team_adds_or_edits_participants(couple, partners, other_clinician):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.participant_create(
            client=couple, label="Child", role=ParticipantRole.CHILD, user=other_clinician
        )
    with pytest.raises(PermissionDenied):
        services.participant_update(participant=partners[0], user=other_clinician, label="X")
    assert Participant.objects.get(pk=partners[0].pk).label == "Partner A"


def test_only_label_and_role_change(partners, clinician, other_client):
    with pytest.raises(ValidationError) as excinfo:
        services.participant_update(participant=partners[0], user=clinician, client=other_client)
    assert "client" in excinfo.value.message_dict
    changed = services.participant_update(
        participant=partners[0], user=clinician, label="Robin", role=ParticipantRole.OTHER
    )
    assert (changed.label, changed.role) == ("Robin", "other")


# --- Measures: who answered -------------------------------------------------------------------


def test_each_partner_rates_the_same_session(couple, partners, clinician):
    session = _session(couple, clinician, days_ago=7)
    a, b = partners

    _srs(session, clinician, "38", a)
    _srs(session, clinician, "30", b)
    _ors(session, clinician, "28", a)
    _ors(session, clinician, "22", b)
    for participant in partners:
        services.measure_record(
            measure_model=PostSessionQuestionnaire,
            session=session,
            recorded_by=clinician,
            participant=participant,
            respondent=Respondent.CLIENT,
            rupture_experienced=False,
        )
    services.measure_record(
        measure_model=PostSessionQuestionnaire,
        session=session,
        recorded_by=clinician,
        respondent=Respondent.THERAPIST,
        rupture_experienced=False,
    )

    totals = dict(
        SessionRatingScale.objects.filter(session=session).values_list("participant", "total")
    )
    assert totals == {a.pk: Decimal("38.0"), b.pk: Decimal("30.0")}
    assert PostSessionQuestionnaire.objects.filter(session=session).count() == 3


def test_a_participant_rates_a_session_once(couple, partners, clinician, refused):
    session = _session(couple, clinician, days_ago=7)
    first = _srs(session, clinician, "38", partners[0])

    with pytest.raises(ValidationError) as excinfo:
        _srs(session, clinician, "20", partners[0])
    assert errors.MEASURE_EXISTS in str(excinfo.value)
    with refused("srs_one_per_session"):
        SessionRatingScale.objects.create(
            practice=first.practice,
            session=session,
            client=couple,
            participant=partners[0],
            recorded_by=clinician,
            relationship=1,
            goals_and_topics=1,
            approach_or_method=1,
            overall=1,
        )


def test_a_joint_rating_is_once_a_session_too(client, clinician, refused):
    """Without participants (an individual client), one SRS a session, as before: NULL is
    not a way around the rule."""
    session = _session(client, clinician, days_ago=7)
    first = _srs(session, clinician, "38")
    with refused("srs_one_per_session"):
        SessionRatingScale.objects.create(
            practice=first.practice,
            session=session,
            client=client,
            recorded_by=clinician,
            relationship=1,
            goals_and_topics=1,
            approach_or_method=1,
            overall=1,
        )


def test_a_client_with_participants_names_who_answered(couple, partners, clinician):
    session = _session(couple, clinician, days_ago=7)
    with pytest.raises(ValidationError) as excinfo:
        _srs(session, clinician, "38")
    assert _messages(excinfo) == [errors.PARTICIPANT_NEEDED]
    # The therapist's own side names nobody.
    services.measure_record(
        measure_model=WorkingAllianceInventory,
        session=session,
        recorded_by=clinician,
        respondent=Respondent.THERAPIST,
        **{f"item_{n}": 4 for n in range(1, 13)},
    )
    assert not SessionRatingScale.objects.filter(session=session).exists()


def test_the_therapists_side_names_no_participant(couple, partners, clinician, refused):
    session = _session(couple, clinician, days_ago=7)
    with pytest.raises(ValidationError) as excinfo:
        services.measure_record(
            measure_model=PostSessionQuestionnaire,
            session=session,
            recorded_by=clinician,
            participant=partners[0],
            respondent=Respondent.THERAPIST,
            rupture_experienced=False,
        )
    assert _messages(excinfo) == [errors.PARTICIPANT_NOT_FOR_THERAPIST]
    with refused("psq_participant_client_side"):
        PostSessionQuestionnaire.objects.create(
            practice=couple.practice,
            session=session,
            client=couple,
            participant=partners[0],
            recorded_by=clinician,
            respondent=Respondent.THERAPIST,
            rupture_experienced=False,
        )


def test_a_participant_of_another_client_is_refused(couple, partners, clinician, practice, refused):
    other_couple = services.client_create(
        practice=practice,
        kind=ClientKind.FAMILY,
        name="The Ortiz family",
        intake_date=timezone.localdate() - dt.timedelta(days=100),
        primary_clinician=clinician,
    )
    stranger = services.participant_create(
        client=other_couple, label="Mum", role=ParticipantRole.PARENT, user=clinician
    )
    session = _session(couple, clinician, days_ago=7)

    with pytest.raises(ValidationError) as excinfo:
        _srs(session, clinician, "38", stranger)
    assert _messages(excinfo) == [errors.PARTICIPANT_OTHER_CLIENT]
    with refused("srs_participant_same_client"):
        SessionRatingScale.objects.create(
            practice=couple.practice,
            session=session,
            client=couple,
            participant=stranger,
            recorded_by=clinician,
            relationship=9,
            goals_and_topics=9,
            approach_or_method=9,
            overall=9,
        )


def test_an_archived_participant_answers_no_more(couple, partners, clinician):
    services.record_archive(record=partners[1], user=clinician)
    partners[1].refresh_from_db()
    session = _session(couple, clinician, days_ago=7)
    with pytest.raises(ValidationError) as excinfo:
        _srs(session, clinician, "38", partners[1])
    assert _messages(excinfo) == [errors.PARTICIPANT_OTHER_CLIENT]


# --- Signals: each participant against their own earlier answers ------------------------------


def test_an_srs_drop_is_a_participants_own(couple, partners, clinician):
    """Partner A drops 1.5 points from their own last rating; partner B rates lower than A
    every time but never drops. Compared across partners, B's every rating would look like
    a drop from A's; per participant, only A's drop raises a signal, and it names A."""
    a, b = partners
    for days_ago, (total_a, total_b) in zip(
        (21, 14, 7), (("39.6", "38.0"), ("39.6", "38.0"), ("38.0", "38.0")), strict=True
    ):
        session = _session(couple, clinician, days_ago=days_ago)
        _srs(session, clinician, total_a, a)
        _srs(session, clinician, total_b, b)

    (signal,) = RuptureSignal.objects.filter(client=couple, rule=SignalRule.SRS_ALERT)
    assert signal.participant_id == a.pk
    assert Decimal(str(signal.detail["previous_srs_total"])) == Decimal("39.6")
    assert signal.dedup_key.endswith(f":participant:{a.pk}")


def test_both_partners_can_raise_a_signal_for_one_session(couple, partners, clinician):
    session = _session(couple, clinician, days_ago=7)
    for participant in partners:
        _srs(session, clinician, "20", participant)  # below the cutoff: an alert each

    signals = RuptureSignal.objects.filter(client=couple, rule=SignalRule.SRS_ALERT)
    assert sorted(signals.values_list("participant", flat=True)) == sorted(p.pk for p in partners)
    assert {s.session_id for s in signals} == {session.pk}


def test_an_ors_deterioration_is_a_participants_own(couple, partners, clinician):
    a, b = partners
    first = _session(couple, clinician, days_ago=14)
    _ors(first, clinician, "30", a)
    _ors(first, clinician, "20", b)
    second = _session(couple, clinician, days_ago=7)
    _ors(second, clinician, "30", a)
    _ors(second, clinician, "12", b)  # B falls 8 points from B's own 20

    (signal,) = RuptureSignal.objects.filter(client=couple, rule=SignalRule.ORS_DETERIORATION)
    assert (signal.participant_id, signal.session_id) == (b.pk, second.pk)


def test_deriving_again_raises_nothing_new(couple, partners, clinician):
    from ruptures.services import signals_derive

    session = _session(couple, clinician, days_ago=7)
    for participant in partners:
        _srs(session, clinician, "20", participant)
    assert signals_derive(practice=couple.practice, client=couple) == 0
    assert RuptureSignal.objects.filter(client=couple).count() == 2


# --- Trends: one value a client-month, each respondent weighing alike ---------------------------


def test_a_couples_monthly_srs_is_the_mean_of_its_partners_means(
    couple, partners, clinician, practice
):
    """A rates 40 four times, B rates 20 once: the couple's value is 30, not the pooled 36."""
    a, b = partners
    month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    month = month.replace(day=1)
    for day in (2, 9, 16, 23):
        session = services.session_create(
            client=couple,
            clinician=clinician,
            starts_at=dt.datetime(month.year, month.month, day, 12, tzinfo=dt.UTC),
            duration_minutes=50,
            modality=Modality.COUPLE,
            setting=Setting.IN_PERSON,
            attendance=Attendance.ATTENDED,
        )
        _srs(session, clinician, "40", a)
        if day == 2:
            _srs(session, clinician, "20", b)
    practice.timezone = "UTC"
    practice.save()

    frames = releases.month_frames(practice, releases.MonthWindow(month, "UTC"), Decimal(36))

    row = frames["srs"].filter(frames["srs"]["client_id"] == couple.pk).to_dicts()
    assert len(row) == 1
    assert row[0]["srs"] == 300  # tenths of a point
    assert row[0]["below_cutoff"] == 1
