"""A small practice whose trends are worked out by hand (see test_trends.py), and its twin in
which the one client with rare properties has different rare properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from cases import services
from cases.choices import ClientKind, Modality, Role
from ruptures.choices import EpisodeStatus, Relationship, RuptureKind, SignalStatus
from tests.factories import (
    ClientFactory,
    PracticeFactory,
    RepairAttemptFactory,
    RuptureEpisodeFactory,
    RuptureSignalFactory,
    SessionRatingScaleFactory,
    TherapySessionFactory,
    UserFactory,
)

SEPTEMBER = dt.date(2026, 9, 1)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 9, day, hour, tzinfo=dt.UTC)


def build(*, twin: bool = False, suffix: str = "") -> dict:
    """Six clients of Ann (a1–a6) and six of Bo (b1–b6), two attended sessions each in
    September 2026. Ann is supervised by Sue. a6 (Ann's) is the only couple, seen as a
    couple, whose rupture is the only one with a sibling, the only confrontation, the only one
    marked by emotional walls; b6 (Bo's) is the only family, seen as a family, with the only
    rupture with a friend, the only mixed one, the only 'stopped sharing'. In the twin the two
    clients swap all of these: whose are the rare properties is what must not leak."""
    practice = PracticeFactory(timezone="UTC")
    ann, bo, sue = (UserFactory(username=f"{name}{suffix}") for name in ("ann", "bo", "sue"))
    for user, role in ((ann, Role.CLINICIAN), (bo, Role.CLINICIAN), (sue, Role.SUPERVISOR)):
        services.membership_grant(practice=practice, user=user, role=role)
    services.supervision_assign(practice=practice, supervisor=sue, clinician=ann)

    def client(clinician, kind=ClientKind.INDIVIDUAL):
        return ClientFactory(practice=practice, primary_clinician=clinician, kind=kind)

    rare_a, rare_b = (ClientKind.COUPLE, ClientKind.FAMILY)
    if twin:
        rare_a, rare_b = rare_b, rare_a
    a = [client(ann) for _ in range(5)] + [client(ann, rare_a)]
    b = [client(bo) for _ in range(5)] + [client(bo, rare_b)]
    seen_as = {ClientKind.COUPLE: Modality.COUPLE, ClientKind.FAMILY: Modality.FAMILY}
    sessions = {}
    for person in a + b:
        clinician = ann if person in a else bo
        modality = seen_as.get(person.kind, Modality.INDIVIDUAL)
        sessions[person.pk] = [
            TherapySessionFactory(
                client=person, clinician=clinician, starts_at=at(day), modality=modality
            )
            for day in (3, 17)
        ]

    episodes = []
    for n, person in enumerate(a[:5]):
        episodes.append(
            RuptureEpisodeFactory(
                client=person,
                session=sessions[person.pk][0],
                relationship=Relationship.THERAPIST,
                kind=RuptureKind.WITHDRAWAL,
                markers=["denial"],
                detected_on=dt.date(2026, 9, 3),
                factors=["stress"],
            )
        )
        if n < 3:  # a1–a3 resolved after 4, 6 and 10 days
            episode = episodes[-1]
            RepairAttemptFactory(
                episode=episode,
                attempted_on=dt.date(2026, 9, 4),
                strategies=["acknowledge_own_contribution"],
                outcome="resolved",
            )
            episode.status = EpisodeStatus.REPAIRING
            episode.save()
            episode.status = EpisodeStatus.RESOLVED
            episode.closed_on = episode.detected_on + dt.timedelta(days=(4, 6, 10)[n])
            episode.save()
    for person in b[:5]:
        episodes.append(
            RuptureEpisodeFactory(
                client=person,
                relationship=Relationship.PARTNER,
                kind=RuptureKind.WITHDRAWAL,
                markers=["fine_against_tone"],
                detected_on=dt.date(2026, 9, 10),
            )
        )
    rare = {}
    first = (Relationship.SIBLING, RuptureKind.CONFRONTATION, "emotional_walls")
    second = (Relationship.FRIEND, RuptureKind.MIXED, "stopped_sharing")
    if twin:
        first, second = second, first
    for person, (relationship, kind, marker) in ((a[5], first), (b[5], second)):
        rare[person.pk] = RuptureEpisodeFactory(
            client=person,
            relationship=relationship,
            kind=kind,
            markers=[marker],
            detected_on=dt.date(2026, 9, 12),
        )
    # SRS at the first session of Ann's clients, 38 × 4, 34, 30, and of b6, 36.
    for person, total in zip([*a, b[5]], (38, 38, 38, 38, 34, 30, 36), strict=True):
        item = Decimal(total) / 4
        SessionRatingScaleFactory(
            session=sessions[person.pk][0],
            relationship=item,
            goals_and_topics=item,
            approach_or_method=item,
            overall=item,
        )
    # Signals raised in September for a1–a5: three acknowledged within 7 days, one after 9.
    for n, person in enumerate(a[:5]):
        signal = RuptureSignalFactory(client=person)
        raised = at(5)
        handled = {0: 2, 1: 3, 2: 7, 3: 9}.get(n)
        fields = {"raised_at": raised}
        if handled is not None:
            fields.update(
                status=SignalStatus.ACKNOWLEDGED,
                linked_episode_id=episodes[n].pk,
                handled_by_id=ann.pk,
                handled_at=raised + dt.timedelta(days=handled),
            )
        type(signal).objects.filter(pk=signal.pk).update(**fields)
    return {
        "practice": practice,
        "ann": ann,
        "bo": bo,
        "sue": sue,
        "a": a,
        "b": b,
        "rare": rare,
        "now": timezone.now(),
    }
