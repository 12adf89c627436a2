"""factory_boy factories for every model of cases and ruptures.

They write rows straight through the ORM (``Model.objects.create``), bypassing services, so a
test can put any row, good or bad, in front of the database. Defaults are coherent: a row's
``practice`` and ``client`` follow its parent, so an unmodified factory call passes every
constraint and composite foreign key. Tests of the service layer use the persona fixtures in
``tests/conftest.py``, which go through the services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

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
from cases.models import (
    CareTeamMember,
    Client,
    Membership,
    NoteAddendum,
    OutcomeRatingScale,
    Participant,
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
from ruptures.choices import (
    Direction,
    EpisodeSource,
    EpisodeStatus,
    Initiator,
    Moment,
    Relationship,
    RepairOutcome,
    RuptureKind,
    SignalRule,
    SignalStatus,
)
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal

PASSWORD = "correct horse battery staple"


def days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


class PracticeFactory(DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    practice = factory.SubFactory(PracticeFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.CLINICIAN


def member(practice: Practice, role: str = Role.CLINICIAN, **user_fields: object) -> User:
    """A new user holding an active ``role`` membership in ``practice``."""
    return MembershipFactory(practice=practice, role=role, user=UserFactory(**user_fields)).user


class SupervisionAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = SupervisionAssignment

    practice = factory.SubFactory(PracticeFactory)
    supervisor = factory.LazyAttribute(lambda o: member(o.practice, Role.SUPERVISOR))
    clinician = factory.LazyAttribute(lambda o: member(o.practice))


class ClientFactory(DjangoModelFactory):
    """A client whose care team is its primary clinician (plus ``care_team=[...]``)."""

    class Meta:
        model = Client
        skip_postgeneration_save = True

    practice = factory.SubFactory(PracticeFactory)
    kind = ClientKind.INDIVIDUAL
    code = factory.Sequence(lambda n: f"TEST-{n:06d}")
    name = factory.Faker("name")
    status = ClientStatus.ACTIVE
    intake_date = factory.LazyFunction(lambda: days_ago(365))
    primary_clinician = factory.LazyAttribute(lambda o: member(o.practice))

    @factory.post_generation
    def care_team(obj: Client, create: bool, extracted: list[User] | None, **kwargs: object):
        if not create:
            return
        for clinician in [obj.primary_clinician, *(extracted or [])]:
            CareTeamMember.objects.get_or_create(
                practice=obj.practice, client=obj, clinician=clinician
            )


class CareTeamMemberFactory(DjangoModelFactory):
    class Meta:
        model = CareTeamMember

    client = factory.SubFactory(ClientFactory)
    practice = factory.SelfAttribute("client.practice")
    clinician = factory.LazyAttribute(lambda o: member(o.client.practice))


class ParticipantFactory(DjangoModelFactory):
    class Meta:
        model = Participant

    client = factory.SubFactory(ClientFactory, kind=ClientKind.COUPLE)
    practice = factory.SelfAttribute("client.practice")
    label = factory.Sequence(lambda n: f"Partner {n}")
    role = ParticipantRole.PARTNER


class TherapySessionFactory(DjangoModelFactory):
    class Meta:
        model = TherapySession

    client = factory.SubFactory(ClientFactory)
    practice = factory.SelfAttribute("client.practice")
    clinician = factory.SelfAttribute("client.primary_clinician")
    starts_at = factory.Sequence(
        lambda n: timezone.now() - dt.timedelta(days=60) + dt.timedelta(hours=n)
    )
    duration_minutes = 50
    modality = Modality.INDIVIDUAL
    setting = Setting.IN_PERSON
    attendance = Attendance.ATTENDED


def sections_for(note_format: str, text: str = "Client talked about the week.") -> dict:
    return {section: text for section in NOTE_SECTIONS[note_format]}


class ProgressNoteFactory(DjangoModelFactory):
    class Meta:
        model = ProgressNote

    session = factory.SubFactory(TherapySessionFactory)
    practice = factory.SelfAttribute("session.practice")
    author = factory.SelfAttribute("session.clinician")
    format = NoteFormat.SOAP
    sections = factory.LazyAttribute(lambda o: sections_for(o.format))
    status = NoteStatus.DRAFT

    class Params:
        signed = factory.Trait(
            status=NoteStatus.SIGNED,
            signed_by=factory.SelfAttribute("author"),
            signed_at=factory.LazyFunction(timezone.now),
        )


class NoteAddendumFactory(DjangoModelFactory):
    class Meta:
        model = NoteAddendum

    note = factory.SubFactory(ProgressNoteFactory, signed=True)
    practice = factory.SelfAttribute("note.practice")
    author = factory.SelfAttribute("note.author")
    reason = "Late entry"
    text = "The client also mentioned trouble sleeping."


class ProcessNoteFactory(DjangoModelFactory):
    class Meta:
        model = ProcessNote

    session = factory.SubFactory(TherapySessionFactory)
    practice = factory.SelfAttribute("session.practice")
    author = factory.SelfAttribute("session.clinician")
    text = "I felt pulled to rescue; notice it next time."


class MeasureFactory(DjangoModelFactory):
    session = factory.SubFactory(TherapySessionFactory)
    practice = factory.SelfAttribute("session.practice")
    client = factory.SelfAttribute("session.client")
    recorded_by = factory.SelfAttribute("session.clinician")


class SessionRatingScaleFactory(MeasureFactory):
    class Meta:
        model = SessionRatingScale

    relationship = Decimal("9.5")
    goals_and_topics = Decimal("9.5")
    approach_or_method = Decimal("9.5")
    overall = Decimal("9.5")


class OutcomeRatingScaleFactory(MeasureFactory):
    class Meta:
        model = OutcomeRatingScale

    individually = Decimal("6.0")
    interpersonally = Decimal("6.0")
    socially = Decimal("6.0")
    overall = Decimal("6.0")


class PostSessionQuestionnaireFactory(MeasureFactory):
    class Meta:
        model = PostSessionQuestionnaire

    respondent = Respondent.CLIENT
    rupture_experienced = False
    tension = None
    resolution = None

    class Params:
        rupture = factory.Trait(rupture_experienced=True, tension=4, resolution=2)


class WorkingAllianceInventoryFactory(MeasureFactory):
    class Meta:
        model = WorkingAllianceInventory

    respondent = Respondent.CLIENT
    item_1 = 4
    item_2 = 4
    item_3 = 4
    item_4 = 4
    item_5 = 4
    item_6 = 4
    item_7 = 4
    item_8 = 4
    item_9 = 4
    item_10 = 4
    item_11 = 4
    item_12 = 4


class RuptureEpisodeFactory(DjangoModelFactory):
    class Meta:
        model = RuptureEpisode

    client = factory.SubFactory(ClientFactory)
    practice = factory.SelfAttribute("client.practice")
    relationship = Relationship.THERAPIST
    direction = Direction.CLIENT
    kind = RuptureKind.WITHDRAWAL
    markers = factory.LazyFunction(list)
    # marker_schemes: written by the database's trigger from the markers.
    moment = Moment.VULNERABILITY_DISMISSED
    factors = factory.LazyFunction(list)
    intensity = 3
    detected_on = factory.LazyFunction(lambda: days_ago(10))
    source = EpisodeSource.CLINICIAN_OBSERVED
    status = EpisodeStatus.OPEN
    created_by = factory.SelfAttribute("client.primary_clinician")

    class Params:
        closed = factory.Trait(
            status=EpisodeStatus.UNRESOLVED,
            closed_on=factory.SelfAttribute("detected_on"),
        )


class RepairAttemptFactory(DjangoModelFactory):
    class Meta:
        model = RepairAttempt

    episode = factory.SubFactory(RuptureEpisodeFactory)
    practice = factory.SelfAttribute("episode.practice")
    client = factory.SelfAttribute("episode.client")
    attempted_on = factory.SelfAttribute("episode.detected_on")
    initiator = Initiator.THERAPIST
    both_engaged = True
    strategies = factory.LazyFunction(list)
    outcome = RepairOutcome.PARTLY_RESOLVED
    resolution_rating = 3
    recorded_by = factory.SelfAttribute("episode.created_by")


class RuptureSignalFactory(DjangoModelFactory):
    class Meta:
        model = RuptureSignal

    client = factory.SubFactory(ClientFactory)
    practice = factory.SelfAttribute("client.practice")
    rule = SignalRule.SRS_ALERT
    detail = factory.LazyFunction(dict)
    dedup_key = factory.Sequence(lambda n: f"test:{n}")
    status = SignalStatus.OPEN
