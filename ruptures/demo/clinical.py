"""One client's whole record: intake, sessions, notes, measures, rupture episodes, repairs.

A client is generated in two passes. The first lays out the diary (a regular weekly or
fortnightly slot, holidays, reschedules, attendance); the second walks the attended sessions
in order and writes what happened in them, because a rupture's repair happens in *later*
sessions of the same client. Everything for one client is in memory at once (at most a few
hundred rows); nothing wider is, so memory stays flat whatever the scale.

The rates follow the rupture literature where it has figures: clients report a rupture on the
PSQ after roughly a third of sessions (Eubanks, Muran & Safran: 19-42 %), withdrawal is more
common than confrontation, about half of episodes end resolved, and SRS scores sit near the
ceiling (36-40) with dips around ruptures.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from cases.choices import (
    NOTE_SECTIONS,
    Attendance,
    ClientKind,
    ClientStatus,
    Modality,
    NoteFormat,
    NoteStatus,
    Respondent,
    Setting,
)
from cases.services import CODE_ALPHABET
from ruptures.choices import (
    CONFRONTATION_MARKERS,
    MARKER_SCHEME_OF,
    RELATIONAL_MARKERS,
    RELATIONAL_MOVES,
    RRS_STRATEGIES,
    WITHDRAWAL_MARKERS,
    Direction,
    EpisodeSource,
    EpisodeStatus,
    Factor,
    Initiator,
    Moment,
    Relationship,
    RepairOutcome,
    RuptureKind,
)
from ruptures.demo import vocabulary as words
from ruptures.demo.bulk import Loader, Table
from ruptures.demo.tables import Tables

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)

T = TypeVar("T")
# What a weighted choice draws: choice values and ids, which sort.
Value = TypeVar("Value", bound=str | int, covariant=True)


class Weighted(Generic[Value]):
    """A weighted choice drawn with one ``random()`` call: bisect over cumulative weights."""

    def __init__(self, pairs: dict[Value, float]) -> None:
        self.values = list(pairs)
        self.cumulative = list(accumulate(pairs.values()))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Value:
        return self.values[bisect(self.cumulative, rng.random() * self.total)]

    def pick_distinct(self, rng: random.Random, count: int) -> list[Value]:
        count = min(count, len(self.values))
        chosen: set[Value] = set()
        while len(chosen) < count:
            chosen.add(self.pick(rng))
        return sorted(chosen)


CLIENT_KIND = Weighted({ClientKind.INDIVIDUAL: 70, ClientKind.COUPLE: 20, ClientKind.FAMILY: 10})
SETTING = Weighted({Setting.IN_PERSON: 55, Setting.VIDEO: 38, Setting.PHONE: 7})
# Attendance for a past session, by how often the client tends not to turn up (no-shows
# cluster in a few clients; most rarely miss).
ATTENDANCE = {
    no_show: Weighted(
        {
            Attendance.ATTENDED: 82,
            Attendance.CANCELLED: 7,
            Attendance.LATE_CANCELLED: 3,
            Attendance.CLINICIAN_CANCELLED: 3,
            Attendance.NO_SHOW: no_show,
        }
    )
    for no_show in (1, 3, 5, 8, 15)
}
NO_SHOW_TENDENCY = (1, 3, 3, 5, 5, 8, 15)
# Chance that a client meets fortnightly rather than weekly.
FORTNIGHTLY: dict[str, float] = {
    ClientKind.INDIVIDUAL: 0.2,
    ClientKind.COUPLE: 0.5,
    ClientKind.FAMILY: 0.7,
}
MODALITY: dict[str, str] = {
    ClientKind.INDIVIDUAL: Modality.INDIVIDUAL,
    ClientKind.COUPLE: Modality.COUPLE,
    ClientKind.FAMILY: Modality.FAMILY,
}
NOTE_FORMAT = Weighted(
    {NoteFormat.SOAP: 35, NoteFormat.DAP: 30, NoteFormat.BIRP: 20, NoteFormat.FREE: 15}
)
# PSQ ratings when a rupture is reported: mostly mild tension, mostly some resolution.
PSQ_TENSION = Weighted({1: 15, 2: 30, 3: 30, 4: 17, 5: 8})
PSQ_RESOLUTION = Weighted({1: 5, 2: 12, 3: 28, 4: 33, 5: 22})

THERAPIST_KIND = Weighted(
    {RuptureKind.WITHDRAWAL: 55, RuptureKind.CONFRONTATION: 20, RuptureKind.MIXED: 25}
)
OUTSIDE_KIND = Weighted(
    {RuptureKind.WITHDRAWAL: 45, RuptureKind.CONFRONTATION: 30, RuptureKind.MIXED: 25}
)
WITHDRAWAL = Weighted(dict(zip(WITHDRAWAL_MARKERS, (12, 20, 10, 20, 18, 12, 8), strict=True)))
CONFRONTATION = Weighted(dict(zip(CONFRONTATION_MARKERS, (20, 15, 15, 12, 20, 10, 8), strict=True)))
RELATIONAL = Weighted(dict(zip(RELATIONAL_MARKERS, (22, 12, 20, 20, 14, 12), strict=True)))
MARKER_COUNT = Weighted({1: 45, 2: 40, 3: 15})

OUTSIDE_RELATIONSHIP: dict[str, Weighted[str]] = {
    ClientKind.INDIVIDUAL: Weighted(
        {
            Relationship.PARTNER: 30,
            Relationship.PARENT: 15,
            Relationship.COWORKER: 12,
            Relationship.MANAGER: 10,
            Relationship.FRIEND: 10,
            Relationship.SIBLING: 8,
            Relationship.CHILD: 5,
            Relationship.OTHER_FAMILY: 4,
            Relationship.DOCTOR: 3,
            Relationship.OTHER: 3,
        }
    ),
    ClientKind.COUPLE: Weighted(
        {
            Relationship.PARTNER: 70,
            Relationship.PARENT: 8,
            Relationship.OTHER_FAMILY: 8,
            Relationship.CHILD: 6,
            Relationship.FRIEND: 4,
            Relationship.COWORKER: 4,
        }
    ),
    ClientKind.FAMILY: Weighted(
        {
            Relationship.PARENT: 35,
            Relationship.CHILD: 30,
            Relationship.SIBLING: 20,
            Relationship.OTHER_FAMILY: 10,
            Relationship.PARTNER: 5,
        }
    ),
}
# Ruptures between the people in the room: their repairs often happen in a joint session.
IN_THE_ROOM = {
    Relationship.PARTNER,
    Relationship.PARENT,
    Relationship.CHILD,
    Relationship.SIBLING,
}
THERAPIST_MOMENT = Weighted(
    {
        Moment.VULNERABILITY_DISMISSED: 25,
        Moment.REPEATED_MISUNDERSTANDING: 20,
        Moment.UNRESOLVED_CONFLICT: 15,
        Moment.EMOTIONAL_CRISIS: 10,
        Moment.HOLLOW_AFFECTION: 5,
        Moment.OTHER: 25,
    }
)
OUTSIDE_MOMENT = Weighted(
    {
        Moment.VULNERABILITY_DISMISSED: 22,
        Moment.EMOTIONAL_CRISIS: 15,
        Moment.REPEATED_MISUNDERSTANDING: 20,
        Moment.HOLLOW_AFFECTION: 13,
        Moment.UNRESOLVED_CONFLICT: 22,
        Moment.OTHER: 8,
    }
)
FACTOR = Weighted(
    {
        Factor.STRESS: 30,
        Factor.RESENTMENT: 15,
        Factor.EXHAUSTION: 20,
        Factor.MENTAL_HEALTH: 20,
        Factor.INCOMPATIBILITY: 8,
        Factor.OTHER: 7,
    }
)
FACTOR_COUNT = Weighted({0: 25, 1: 45, 2: 25, 3: 5})
INTENSITY = Weighted({1: 20, 2: 35, 3: 28, 4: 12, 5: 5})
THERAPIST_DIRECTION = Weighted(
    {Direction.CLIENT: 80, Direction.BOTH: 15, Direction.OTHER_PERSON: 5}
)
OUTSIDE_DIRECTION = Weighted({Direction.CLIENT: 55, Direction.BOTH: 30, Direction.OTHER_PERSON: 15})

# What happens to an episode if nothing cuts it short (the present, a discharge).
RESOLVE, FAIL, ABANDON, END, LINGER = "resolve", "fail", "abandon", "end", "linger"
THERAPIST_COURSE = Weighted({RESOLVE: 64, FAIL: 12, ABANDON: 7, LINGER: 17})
OUTSIDE_COURSE = Weighted({RESOLVE: 54, FAIL: 13, ABANDON: 9, END: 8, LINGER: 16})
ATTEMPT_COUNT = Weighted({1: 38, 2: 30, 3: 20, 4: 12})
INTERIM_OUTCOME = Weighted(
    {RepairOutcome.PARTLY_RESOLVED: 55, RepairOutcome.NOT_RESOLVED: 35, RepairOutcome.WORSENED: 10}
)
THERAPIST_INITIATOR = Weighted({Initiator.THERAPIST: 70, Initiator.CLIENT: 20, Initiator.BOTH: 10})
OUTSIDE_INITIATOR = Weighted({Initiator.CLIENT: 50, Initiator.OTHER_PERSON: 25, Initiator.BOTH: 25})
STRATEGY_COUNT = Weighted({1: 45, 2: 40, 3: 15})
# 3RS strategies by kind of rupture: withdrawal invites the unsaid; confrontation needs the
# therapist to own their part and disclose.
RRS_WEIGHTS = {
    RuptureKind.WITHDRAWAL: (14, 6, 8, 22, 10, 6, 10, 8, 12, 4),
    RuptureKind.CONFRONTATION: (14, 10, 8, 12, 20, 12, 8, 4, 8, 4),
    RuptureKind.MIXED: (14, 8, 8, 16, 14, 10, 10, 6, 10, 4),
}
STRATEGIES: dict[str, Weighted[str]] = {
    kind: Weighted(dict(zip(RRS_STRATEGIES, weights, strict=True)))
    for kind, weights in RRS_WEIGHTS.items()
}
RELATIONAL_STRATEGIES = Weighted(
    dict(zip(RELATIONAL_MOVES, (20, 14, 18, 16, 10, 12, 10), strict=True))
)
OUTCOME_RATING: dict[str, Weighted[int]] = {
    RepairOutcome.RESOLVED: Weighted({4: 45, 5: 55}),
    RepairOutcome.PARTLY_RESOLVED: Weighted({2: 20, 3: 60, 4: 20}),
    RepairOutcome.NOT_RESOLVED: Weighted({1: 55, 2: 45}),
    RepairOutcome.WORSENED: Weighted({1: 100}),
}


@dataclass
class Clinician:
    id: int
    note_format: str
    uses_pcoms: bool
    therapist_psq: bool
    caseload: float


@dataclass
class Context:
    practice_id: int
    tz: ZoneInfo
    today: dt.date
    now: dt.datetime
    history_days: int
    course_sessions: float
    clinicians: list[Clinician]
    loader: Loader
    tables: Tables


@dataclass
class Visit:
    """A session of the diary, as the second pass needs it."""

    id: int
    clinician: Clinician
    starts_at: dt.datetime
    ends_at: dt.datetime
    attended: bool


@dataclass
class Booking:
    """A client's standing arrangement: who sees them, how often, when and how."""

    client_id: int
    kind: str
    team: list[Clinician]  # the primary clinician first
    active: bool
    cadence: int
    slots: int
    first_day: dt.date
    hour: int
    minute: int
    setting: str
    modality: str
    duration: int
    attendance: Weighted[str]
    referred: dt.datetime


@dataclass
class Rupture:
    """What an episode records of the rupture itself, as drawn for its kind of relationship."""

    relationship: str
    kind: str
    markers: Sequence[str]
    moment: str
    direction: str
    intensity: int
    description: str
    source: str
    day: dt.date
    session_id: int | None  # None when the client told of it between sessions


@dataclass
class ClosedEpisode:
    id: int
    closed_on: dt.date


# random.Random's choice() and randint() cost about a microsecond each (they draw exact
# random bits); a million sessions call them tens of millions of times. One random() call
# scaled to the range is uniform enough for demo data and several times faster.
def choose(rng: random.Random, options: Sequence[T]) -> T:
    return options[int(rng.random() * len(options))]


def between(rng: random.Random, low: int, high: int) -> int:
    """An integer from low to high inclusive, as ``randint``."""
    return low + int(rng.random() * (high - low + 1))


def below(rng: random.Random, stop: int) -> int:
    return int(rng.random() * stop)


# Shifts of one or two days that keep a rescheduled session on a weekday, by weekday.
RESCHEDULE_SHIFTS = {
    weekday: tuple(shift for shift in (-2, -1, 1, 2) if 0 <= weekday + shift <= 4)
    for weekday in range(5)
}


def weekday_on_or_before(day: dt.date) -> dt.date:
    """Regular appointments fall Monday to Friday: a weekend day moves back to Friday."""
    return day - max(0, day.weekday() - 4) * DAY


def tenths(value: int) -> str:
    return f"{value // 10}.{value % 10}"


class ClientGenerator:
    def __init__(self, ctx: Context, rng: random.Random) -> None:
        self.ctx = ctx
        self.rng = rng
        self.codes: set[str] = set()
        self.primary = Weighted({c.id: c.caseload for c in ctx.clinicians})
        self.by_id = {c.id: c for c in ctx.clinicians}
        self.tz = ctx.tz
        self.now = ctx.now.astimezone(ctx.tz)

    # --- identity ---------------------------------------------------------------------------

    def _code(self) -> str:
        while True:
            body = "".join(self.rng.choices(CODE_ALPHABET, k=8))
            code = f"{body[:4]}-{body[4:]}"
            if code not in self.codes:
                self.codes.add(code)
                return code

    def _identity(self, kind: str) -> tuple[str, dt.date | None, str, str]:
        rng = self.rng
        first = choose(rng, words.FIRST_NAMES)
        last = choose(rng, words.LAST_NAMES)
        if rng.random() < 0.5:
            phone = f"07700 900{below(rng, 1000):03d}"
        else:
            phone = f"020 7946 0{below(rng, 1000):03d}"
        plain_last = last.replace("'", "").lower()
        if kind == ClientKind.INDIVIDUAL:
            age = 18 + int(rng.triangular(0, 60, 18))
            born = dt.date(self.ctx.today.year - age, between(rng, 1, 12), between(rng, 1, 28))
            email = f"{first.lower()}.{plain_last}{between(rng, 10, 99)}@example.org"
            return f"{first} {last}", born, email, phone
        if kind == ClientKind.COUPLE:
            other_first = choose(rng, words.FIRST_NAMES)
            other_last = last if rng.random() < 0.5 else choose(rng, words.LAST_NAMES)
            name = f"{first} {last} & {other_first} {other_last}"
            email = f"{first.lower()}.and.{other_first.lower()}{between(rng, 10, 99)}@example.org"
            return name, None, email, phone
        return (
            f"The {last} family",
            None,
            f"{plain_last}.family{between(rng, 10, 99)}@example.org",
            phone,
        )

    # --- the diary (first pass) -------------------------------------------------------------

    def _course_length(self, cadence: int) -> int:
        rng = self.rng
        mean = self.ctx.course_sessions
        # A long tail: most courses are short-to-medium, a few run for years.
        sessions = 4 + int(rng.gammavariate(1.4, (mean - 4) / 1.4))
        return max(2, min(sessions, self.ctx.history_days // cadence))

    def generate(self, *, primary: Clinician | None = None, active: bool | None = None) -> None:
        """One client and their record; ``primary`` and ``active`` pin what is otherwise
        drawn (the headline logins must have active clients to show)."""
        rng = self.rng
        kind = CLIENT_KIND.pick(rng)
        if primary is None:
            primary = self.by_id[self.primary.pick(rng)]
        team = self._team(kind, primary)
        cadence = self._cadence(kind)
        slots = self._course_length(cadence)
        if active is None:
            active = rng.random() < 0.55
        first_day = self._first_day(cadence, slots, active=active)
        booking = self._booking(kind, team, cadence, slots, first_day, active=active)
        visits = self._diary(booking)
        discharged_on = self._write_client(booking, visits)
        ClinicalCourse(self, booking.client_id, kind, primary, visits, discharged_on).write()

    def _team(self, kind: str, primary: Clinician) -> list[Clinician]:
        clinicians = self.ctx.clinicians
        co_therapist_chance = 0.08 if kind == ClientKind.INDIVIDUAL else 0.35
        if len(clinicians) > 1 and self.rng.random() < co_therapist_chance:
            while (other := choose(self.rng, clinicians)) is primary:
                pass
            return [primary, other]
        return [primary]

    def _cadence(self, kind: str) -> int:
        """Days between regular sessions: couples and families meet fortnightly more often."""
        return 14 if self.rng.random() < FORTNIGHTLY[kind] else 7

    def _first_day(self, cadence: int, slots: int, *, active: bool) -> dt.date:
        rng, today = self.rng, self.ctx.today
        if active:
            future = min(slots - 1, between(rng, 1, 3 if cadence == 7 else 2))
            last_past = weekday_on_or_before(today - below(rng, cadence) * DAY)
            return last_past - (slots - future - 1) * cadence * DAY
        span = (slots - 1) * cadence
        latest_gap = max(7, self.ctx.history_days - span)
        last_day = weekday_on_or_before(today - between(rng, 7, latest_gap) * DAY)
        return last_day - span * DAY

    def _booking(
        self,
        kind: str,
        team: list[Clinician],
        cadence: int,
        slots: int,
        first_day: dt.date,
        *,
        active: bool,
    ) -> Booking:
        rng = self.rng
        hour = choose(rng, (8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 17, 18, 18, 19))
        minute = 30 if rng.random() < 0.2 else 0
        setting = SETTING.pick(rng)
        duration = 50 if kind == ClientKind.INDIVIDUAL else choose(rng, (60, 75, 90))
        attendance = ATTENDANCE[choose(rng, NO_SHOW_TENDENCY)]
        client_id = self.ctx.tables.clients.new_id()
        first_start = dt.datetime.combine(first_day, dt.time(hour, minute), tzinfo=self.tz)
        referred = min(self.now, first_start - between(rng, 3, 30) * DAY)
        return Booking(
            client_id=client_id,
            kind=kind,
            team=team,
            active=active,
            cadence=cadence,
            slots=slots,
            first_day=first_day,
            hour=hour,
            minute=minute,
            setting=setting,
            modality=MODALITY[kind],
            duration=duration,
            attendance=attendance,
            referred=referred,
        )

    def _diary(self, booking: Booking) -> list[Visit]:
        visits: list[Visit] = []
        for slot in range(booking.slots):
            previous = visits[-1] if visits else None
            starts_at = self._slot_start(booking, slot, previous)
            if starts_at is None:
                continue
            ends_at = starts_at + booking.duration * MINUTE
            attendance = self._attendance(booking, ends_at, first=previous is None)
            if attendance is not None:
                visits.append(self._book(booking, starts_at, ends_at, attendance))
        return visits

    def _slot_start(
        self, booking: Booking, slot: int, previous: Visit | None
    ) -> dt.datetime | None:
        """When the slot's session starts, or None when none is booked for it."""
        rng = self.rng
        day = booking.first_day + slot * booking.cadence * DAY
        if slot and rng.random() < 0.04:
            return None  # holiday: no session booked that week
        hour = booking.hour
        if slot and rng.random() < 0.08:
            # Moved a day or two within the working week.
            day += choose(rng, RESCHEDULE_SHIFTS[day.weekday()]) * DAY
            hour = between(rng, 8, 18)
        if previous is not None and day <= previous.starts_at.date():
            return None
        return dt.datetime(day.year, day.month, day.day, hour, booking.minute, tzinfo=self.tz)

    def _attendance(self, booking: Booking, ends_at: dt.datetime, *, first: bool) -> str | None:
        """None for a future slot of a discharged client: nothing is booked then."""
        if ends_at <= self.now:
            # The first session is the intake: it happened, or there would be no client.
            return Attendance.ATTENDED if first else booking.attendance.pick(self.rng)
        return Attendance.SCHEDULED if booking.active else None

    def _book(
        self, booking: Booking, starts_at: dt.datetime, ends_at: dt.datetime, attendance: str
    ) -> Visit:
        rng, t = self.rng, self.ctx.tables
        team = booking.team
        clinician = team[1] if len(team) > 1 and rng.random() < 0.12 else team[0]
        modality = self._session_modality(booking)
        setting = booking.setting if rng.random() < 0.85 else SETTING.pick(rng)
        visit = Visit(
            id=t.sessions.new_id(),
            clinician=clinician,
            starts_at=starts_at,
            ends_at=ends_at,
            attended=attendance == Attendance.ATTENDED,
        )
        booked = min(self.now, max(booking.referred, starts_at - between(rng, 3, 21) * DAY))
        if attendance == Attendance.SCHEDULED:
            recorded = booked
        else:
            recorded = min(self.now, ends_at + between(rng, 5, 240) * MINUTE)
        self.ctx.loader.add(
            t.sessions,
            (
                visit.id,
                self.ctx.practice_id,
                booking.client_id,
                clinician.id,
                starts_at,
                booking.duration if modality != Modality.GROUP else 90,
                modality,
                setting,
                attendance,
                booked,
                recorded,
            ),
        )
        if attendance == Attendance.NO_SHOW and rng.random() < 0.5:
            self._no_show_note(visit)
        return visit

    def _session_modality(self, booking: Booking) -> str:
        """Now and then a family member comes alone, or an individual client joins a group."""
        if booking.kind == ClientKind.FAMILY and self.rng.random() < 0.1:
            return Modality.INDIVIDUAL
        if booking.kind == ClientKind.INDIVIDUAL and self.rng.random() < 0.03:
            return Modality.GROUP
        return booking.modality

    def _write_client(self, booking: Booking, visits: list[Visit]) -> dt.date | None:
        """The client row and their care team; returns the discharge day, if any."""
        ctx, t = self.ctx, self.ctx.tables
        status, discharged_on, updated = self._standing(booking, visits)
        name, born, email, phone = self._identity(booking.kind)
        ctx.loader.add(
            t.clients,
            (
                booking.client_id,
                ctx.practice_id,
                booking.kind,
                self._code(),
                name,
                born,
                email,
                phone,
                status,
                visits[0].starts_at.date(),
                discharged_on,
                booking.team[0].id,
                booking.referred,
                updated,
            ),
        )
        for member in booking.team:
            ctx.loader.add(
                t.care_team,
                (
                    t.care_team.new_id(),
                    ctx.practice_id,
                    booking.client_id,
                    member.id,
                    booking.referred,
                ),
            )
        return discharged_on

    def _standing(
        self, booking: Booking, visits: list[Visit]
    ) -> tuple[str, dt.date | None, dt.datetime]:
        """Status, discharge day and last update of the client."""
        if booking.active:
            past = [v.ends_at for v in visits if v.ends_at <= self.now]
            return ClientStatus.ACTIVE, None, max(past) if past else booking.referred
        last_visit = visits[-1].starts_at.date()
        discharged_on = min(self.ctx.today, last_visit + between(self.rng, 0, 14) * DAY)
        updated = min(self.now, dt.datetime.combine(discharged_on, dt.time(17), tzinfo=self.tz))
        return ClientStatus.DISCHARGED, discharged_on, updated

    def _no_show_note(self, visit: Visit) -> None:
        t = self.ctx.tables
        written = min(self.now, visit.ends_at + 30 * MINUTE)
        self.ctx.loader.add(
            t.notes,
            (
                t.notes.new_id(),
                self.ctx.practice_id,
                visit.id,
                visit.clinician.id,
                NoteFormat.FREE,
                json.dumps({"text": words.NO_SHOW_NOTE}),
                NoteStatus.SIGNED,
                visit.clinician.id,
                written,
                written,
                written,
            ),
        )


class ClinicalCourse:
    """The second pass over one client's attended sessions."""

    def __init__(
        self,
        generator: ClientGenerator,
        client_id: int,
        kind: str,
        primary: Clinician,
        visits: list[Visit],
        discharged_on: dt.date | None,
    ) -> None:
        self.g = generator
        self.ctx = generator.ctx
        self.rng = generator.rng
        self.t = generator.ctx.tables
        self.add = generator.ctx.loader.add
        self.practice_id = generator.ctx.practice_id
        self.client_id = client_id
        self.kind = kind
        self.primary = primary
        self.attended = [v for v in visits if v.attended]
        self.discharged_on = discharged_on
        # Nothing is recorded after the present, nor after a discharge.
        self.horizon = min(generator.ctx.today, discharged_on or generator.ctx.today)
        rng = self.rng
        self.rupture_rate = rng.betavariate(2, 4)
        self.psq_rate = rng.betavariate(9, 1.6)
        self.outside_rate = rng.gammavariate(2, 0.035)
        self.srs_base = [min(100, 88 + int(rng.betavariate(2, 1.3) * 12)) for _ in range(4)]
        self.srs_last = list(self.srs_base)
        self.ors_start = max(40, min(340, int(rng.gauss(190, 50))))
        self.ors_gain = int(rng.gauss(80, 50))
        self.ors_pace = rng.uniform(4, 14)
        self.wai_every = choose(rng, (4, 5, 6)) if rng.random() < 0.35 else 0
        self.alliance = rng.uniform(3.2, 4.7)
        self.last_closed: dict[str, ClosedEpisode] = {}

    def write(self) -> None:
        for index, visit in enumerate(self.attended):
            self._session(index, visit)

    # --- one attended session ---------------------------------------------------------------

    def _session(self, index: int, visit: Visit) -> None:
        rng = self.rng
        rupture = rng.random() < self.rupture_rate
        reported, tension = self._measures(index, visit, rupture=rupture)
        in_session = self._therapist_episode(
            index, visit, rupture=rupture, reported=reported, tension=tension
        )
        if rng.random() < self.outside_rate:
            self._episode(index, visit, therapist=False, source=EpisodeSource.CLIENT_REPORTED)
        if rng.random() < 0.98:
            self._progress_note(visit, in_session)
        if rng.random() < (0.3 if in_session else 0.12):
            self._process_note(visit)

    def _therapist_episode(
        self, index: int, visit: Visit, *, rupture: bool, reported: bool, tension: int
    ) -> bool:
        """Whether the session's rupture with the therapist (if any) became an episode."""
        if reported:
            source, chance = EpisodeSource.CLIENT_REPORTED, 0.35
        else:
            # Not on the client's PSQ: the clinician may still have seen it in the room, and
            # now and then sees one where the client felt none.
            source = EpisodeSource.CLINICIAN_OBSERVED
            chance = 0.15 if rupture else 0.015
            tension = 0
        if self.rng.random() >= chance:
            return False
        self._episode(index, visit, therapist=True, source=source, tension=tension)
        return True

    def _process_note(self, visit: Visit) -> None:
        rng, t = self.rng, self.t
        written = min(self.g.now, visit.ends_at + between(rng, 10, 120) * MINUTE)
        self.add(
            t.process_notes,
            (
                t.process_notes.new_id(),
                self.practice_id,
                visit.id,
                visit.clinician.id,
                choose(rng, words.PROCESS_NOTES),
                written,
                written,
            ),
        )

    # --- measures ---------------------------------------------------------------------------

    def _measures(self, index: int, visit: Visit, *, rupture: bool) -> tuple[bool, int]:
        """The session's questionnaires; returns whether the client reported a rupture on the
        PSQ, and its tension."""
        reported, tension = self._client_psq(visit, rupture=rupture)
        self._therapist_psq(visit, rupture=rupture)
        if visit.clinician.uses_pcoms:
            self._ors(index, visit)
            self._srs(visit, dip=rupture and self.rng.random() < 0.6)
        if self.wai_every and index % self.wai_every == self.wai_every - 1:
            self._wai(visit, strained=rupture)
        return reported, tension

    def _client_psq(self, visit: Visit, *, rupture: bool) -> tuple[bool, int]:
        rng = self.rng
        if rng.random() >= self.psq_rate:
            return False, 0
        tension = PSQ_TENSION.pick(rng) if rupture else 0
        self._psq(visit, Respondent.CLIENT, rupture, tension)
        return rupture, tension

    def _therapist_psq(self, visit: Visit, *, rupture: bool) -> None:
        rng = self.rng
        if visit.clinician.therapist_psq and rng.random() < 0.5:
            noticed = rng.random() < (0.8 if rupture else 0.25)
            self._psq(visit, Respondent.THERAPIST, noticed, PSQ_TENSION.pick(rng) if noticed else 0)

    def _measure_head(self, visit: Visit, table: Table, at: dt.datetime) -> tuple[Any, ...]:
        at = min(at, self.g.now)
        return (table.new_id(), self.practice_id, visit.id, self.client_id, visit.clinician.id, at)

    def _psq(self, visit: Visit, respondent: str, rupture: bool, tension: int) -> None:
        t = self.t
        head = self._measure_head(visit, t.psq, visit.ends_at + 5 * MINUTE)
        if rupture:
            resolution = PSQ_RESOLUTION.pick(self.rng)
            self.add(t.psq, (*head, respondent, True, tension, resolution))
        else:
            self.add(t.psq, (*head, respondent, False, None, None))

    def _srs(self, visit: Visit, *, dip: bool) -> None:
        rng = self.rng
        if dip:
            # The relationship and approach items carry most of a rupture.
            drops = (
                between(rng, 10, 35),
                between(rng, 0, 15),
                between(rng, 5, 30),
                between(rng, 0, 20),
            )
            items = [max(0, value - drop) for value, drop in zip(self.srs_last, drops, strict=True)]
        else:
            if rng.random() < 0.35:
                # Clients tend to mark the same spot; now and then they move, mostly upwards.
                self.srs_last = [
                    max(70, min(100, base + between(rng, -4, 6))) for base in self.srs_base
                ]
            items = self.srs_last
        head = self._measure_head(visit, self.t.srs, visit.ends_at)
        self.add(self.t.srs, (*head, *(tenths(v) for v in items)))

    def _ors(self, index: int, visit: Visit) -> None:
        rng = self.rng
        progress = 1 - 2.718281828 ** (-index / self.ors_pace)
        total = self.ors_start + self.ors_gain * progress + rng.gauss(0, 18)
        if rng.random() < 0.04:
            total -= between(rng, 50, 90)  # a hard week: reliable deterioration
        mean_item = max(0.0, min(100.0, total / 4))
        items = [max(0, min(100, int(mean_item + rng.gauss(0, 9)))) for _ in range(4)]
        head = self._measure_head(visit, self.t.ors, visit.starts_at + 3 * MINUTE)
        self.add(self.t.ors, (*head, *(tenths(v) for v in items)))

    def _wai(self, visit: Visit, *, strained: bool) -> None:
        rng = self.rng
        level = self.alliance - (0.7 if strained else 0.0)
        items = [max(1, min(5, round(level + rng.gauss(0, 0.6)))) for _ in range(12)]
        head = self._measure_head(visit, self.t.wai, visit.ends_at + 4 * MINUTE)
        self.add(self.t.wai, (*head, Respondent.CLIENT, *items))

    # --- notes ------------------------------------------------------------------------------

    def _progress_note(self, visit: Visit, rupture: bool) -> None:
        rng, t = self.rng, self.t
        clinician = visit.clinician
        note_format = clinician.note_format if rng.random() < 0.85 else NOTE_FORMAT.pick(rng)
        now = self.g.now
        created = min(now, visit.ends_at + between(rng, 5, 90) * MINUTE)
        signed_at = created + between(rng, 1, 72) * HOUR
        recent = now - visit.ends_at < 7 * DAY
        signed = signed_at <= now and rng.random() < (0.45 if recent else 0.98)
        sections = self._sections(note_format, rupture, draft=not signed)
        note_id = t.notes.new_id()
        signer, signed_on = (clinician.id, signed_at) if signed else (None, None)
        self.add(
            t.notes,
            (
                note_id,
                self.practice_id,
                visit.id,
                clinician.id,
                note_format,
                json.dumps(sections),
                NoteStatus.SIGNED if signed else NoteStatus.DRAFT,
                signer,
                signed_on,
                created,
                signed_at if signed else created,
            ),
        )
        if signed and rng.random() < 0.012:
            self._addendum(note_id, clinician, signed_at)

    def _addendum(self, note_id: int, clinician: Clinician, signed_at: dt.datetime) -> None:
        rng, t = self.rng, self.t
        added = signed_at + between(rng, 1, 20) * DAY
        if added > self.g.now:
            return
        self.add(
            t.addenda,
            (
                t.addenda.new_id(),
                self.practice_id,
                note_id,
                clinician.id,
                choose(rng, words.ADDENDUM_REASONS),
                choose(rng, words.ADDENDUM_TEXTS),
                added,
            ),
        )

    def _sections(self, note_format: str, rupture: bool, *, draft: bool) -> dict[str, str]:
        rng = self.rng
        subjective = (
            f"Reported {choose(rng, words.PRESENTING)}; talked about {choose(rng, words.TOPICS)}."
        )
        observed = choose(rng, words.OBSERVED)
        intervention = choose(rng, words.INTERVENTIONS)
        response = choose(rng, words.RESPONSES)
        if rupture:
            response = f"{response} {words.RUPTURE_IN_NOTE}"
        assessment = f"{response} {choose(rng, words.RISK)}"
        plan = "" if draft and rng.random() < 0.3 else choose(rng, words.PLANS)
        if note_format == NoteFormat.SOAP:
            values: tuple[str, ...] = (subjective, observed, f"{intervention} {assessment}", plan)
        elif note_format == NoteFormat.DAP:
            values = (f"{subjective} {observed} {intervention}", assessment, plan)
        elif note_format == NoteFormat.BIRP:
            values = (f"{observed} {subjective}", intervention, assessment, plan)
        else:
            values = (f"{subjective} {intervention} {assessment} {plan}".strip(),)
        return dict(zip(NOTE_SECTIONS[note_format], values, strict=True))

    # --- rupture episodes and repairs -------------------------------------------------------

    def _episode(
        self,
        index: int,
        visit: Visit,
        *,
        therapist: bool,
        source: str,
        tension: int = 0,
    ) -> None:
        rng, t = self.rng, self.t
        if therapist:
            rupture = self._therapist_rupture(visit, source, tension)
        else:
            rupture = self._outside_rupture(index, visit, source)
        factors = FACTOR.pick_distinct(rng, FACTOR_COUNT.pick(rng))
        episode_id = t.episodes.new_id()
        recurrence_of = self._recurrence_of(rupture)
        status, closed_on, attempts = self._course(index, episode_id, rupture)
        created, updated = self._episode_times(visit, rupture, attempts, closed_on)
        self.add(
            t.episodes,
            (
                episode_id,
                self.practice_id,
                self.client_id,
                rupture.session_id,
                rupture.relationship,
                rupture.direction,
                rupture.kind,
                rupture.markers,
                [MARKER_SCHEME_OF[marker] for marker in rupture.markers],
                rupture.moment,
                factors,
                rupture.intensity,
                rupture.day,
                rupture.source,
                rupture.description,
                status,
                closed_on,
                recurrence_of,
                visit.clinician.id,
                created,
                updated,
            ),
        )
        for attempt in attempts:
            self.add(t.repairs, attempt)
        if closed_on is not None:
            self.last_closed[rupture.relationship] = ClosedEpisode(episode_id, closed_on)

    def _therapist_rupture(self, visit: Visit, source: str, tension: int) -> Rupture:
        rng = self.rng
        kind = THERAPIST_KIND.pick(rng)
        markers = self._therapist_markers(kind)
        moment = THERAPIST_MOMENT.pick(rng)
        direction = THERAPIST_DIRECTION.pick(rng)
        if tension:
            intensity = max(1, min(5, tension + choose(rng, (-1, 0, 0, 1))))
        else:
            intensity = INTENSITY.pick(rng)
        description = choose(rng, words.THERAPIST_RUPTURE_DESCRIPTIONS[kind])
        return Rupture(
            relationship=Relationship.THERAPIST,
            kind=kind,
            markers=markers,
            moment=moment,
            direction=direction,
            intensity=intensity,
            description=description,
            source=source,
            day=visit.starts_at.date(),
            session_id=visit.id,
        )

    def _therapist_markers(self, kind: str) -> Sequence[str]:
        rng = self.rng
        count = MARKER_COUNT.pick(rng)
        if kind == RuptureKind.WITHDRAWAL:
            return WITHDRAWAL.pick_distinct(rng, count)
        if kind == RuptureKind.CONFRONTATION:
            return CONFRONTATION.pick_distinct(rng, count)
        return sorted(
            set(WITHDRAWAL.pick_distinct(rng, 1) + CONFRONTATION.pick_distinct(rng, count))
        )

    def _outside_rupture(self, index: int, visit: Visit, source: str) -> Rupture:
        rng = self.rng
        relationship = OUTSIDE_RELATIONSHIP[self.kind].pick(rng)
        kind = OUTSIDE_KIND.pick(rng)
        markers = RELATIONAL.pick_distinct(rng, MARKER_COUNT.pick(rng))
        moment = OUTSIDE_MOMENT.pick(rng)
        direction = OUTSIDE_DIRECTION.pick(rng)
        intensity = INTENSITY.pick(rng)
        if rng.random() < 0.15:
            source = EpisodeSource.CLINICIAN_OBSERVED
        description = choose(rng, words.OUTSIDE_RUPTURE_DESCRIPTIONS).format(
            who=words.RELATIONSHIP_WORDS[relationship]
        )
        day = visit.starts_at.date()
        session_id: int | None = visit.id
        if rng.random() < 0.3:
            # Told the clinician between sessions (a message, a call).
            previous = self.attended[index - 1].starts_at.date() if index else day
            day = max(previous, day - between(rng, 1, 6) * DAY)
            session_id = None
        return Rupture(
            relationship=relationship,
            kind=kind,
            markers=markers,
            moment=moment,
            direction=direction,
            intensity=intensity,
            description=description,
            source=source,
            day=day,
            session_id=session_id,
        )

    def _recurrence_of(self, rupture: Rupture) -> int | None:
        """Half the ruptures soon after a closed episode in the same relationship recur it."""
        earlier = self.last_closed.get(rupture.relationship)
        if earlier is None or earlier.closed_on > rupture.day:
            return None
        if (rupture.day - earlier.closed_on).days > 180:
            return None
        recurs = self.rng.random() < 0.5
        del self.last_closed[rupture.relationship]  # one recurrence per episode
        return earlier.id if recurs else None

    def _episode_times(
        self,
        visit: Visit,
        rupture: Rupture,
        attempts: list[tuple[Any, ...]],
        closed_on: dt.date | None,
    ) -> tuple[dt.datetime, dt.datetime]:
        """When the episode was recorded, and last changed (its last attempt or closure)."""
        now, tz = self.g.now, self.g.tz
        if rupture.session_id is not None:
            created = visit.ends_at + between(self.rng, 10, 60) * MINUTE
        else:
            created = dt.datetime.combine(
                rupture.day, dt.time(17, between(self.rng, 0, 59)), tzinfo=tz
            )
        created = min(created, now)
        updated = created
        if attempts:
            updated = max(updated, attempts[-1][-1])
        if closed_on is not None:
            updated = max(updated, dt.datetime.combine(closed_on, dt.time(18), tzinfo=tz))
        return created, min(updated, now)

    def _course(
        self, index: int, episode_id: int, rupture: Rupture
    ) -> tuple[str, dt.date | None, list[tuple[Any, ...]]]:
        """Plan the episode's repair and closure, then keep what has happened by the horizon
        (today, or the discharge). Returns status, closed_on and the repair rows."""
        therapist = rupture.relationship == Relationship.THERAPIST
        course = (THERAPIST_COURSE if therapist else OUTSIDE_COURSE).pick(self.rng)
        planned = self._planned_attempts(course)
        if therapist:
            attempts_at = self._therapist_attempts_at(index, rupture, planned)
        else:
            attempts_at = self._outside_attempts_at(index, rupture, planned)
        happened = [at for at in attempts_at if at[0] <= self.horizon]
        rows = self._repairs(episode_id, rupture, course, happened, planned)
        complete = len(attempts_at) == planned == len(happened)
        status, closed_on = self._closure(
            course, rupture, happened, complete=complete, repairing=bool(rows)
        )
        return status, closed_on, rows

    def _repairs(
        self,
        episode_id: int,
        rupture: Rupture,
        course: str,
        happened: list[tuple[dt.date, Visit | None]],
        planned: int,
    ) -> list[tuple[Any, ...]]:
        therapist = rupture.relationship == Relationship.THERAPIST
        rows = []
        for number, (day, at_session) in enumerate(happened):
            outcome = self._outcome(course, last=number == planned - 1)
            rows.append(self._repair(episode_id, therapist, rupture.kind, day, at_session, outcome))
        return rows

    def _planned_attempts(self, course: str) -> int:
        if course in (RESOLVE, FAIL):
            return ATTEMPT_COUNT.pick(self.rng)
        if course == LINGER:
            return choose(self.rng, (0, 1, 1, 2))
        if course == END:
            return choose(self.rng, (0, 1, 1))
        return 0

    def _therapist_attempts_at(
        self, index: int, rupture: Rupture, planned: int
    ) -> list[tuple[dt.date, Visit | None]]:
        """Repairs with the therapist happen in sessions: this one, or the next few."""
        rng = self.rng
        in_session = rupture.session_id is not None and rng.random() < 0.6
        position = index if in_session else index + 1
        attempts_at: list[tuple[dt.date, Visit | None]] = []
        while len(attempts_at) < planned and position < len(self.attended):
            later = self.attended[position]
            attempts_at.append((later.starts_at.date(), later))
            position += 1 + (rng.random() < 0.3)
        return attempts_at

    def _outside_attempts_at(
        self, index: int, rupture: Rupture, planned: int
    ) -> list[tuple[dt.date, Visit | None]]:
        """Repairs outside therapy happen on days of their own, or in a joint session when
        the other person is in the room."""
        rng = self.rng
        joint = self.kind != ClientKind.INDIVIDUAL and rupture.relationship in IN_THE_ROOM
        day, position = rupture.day, index
        attempts_at: list[tuple[dt.date, Visit | None]] = []
        for number in range(planned):
            low, high = (0, 10) if number == 0 else (3, 21)
            day += between(rng, low, high) * DAY
            if joint and rng.random() < 0.6:
                position = self._attended_from(position, day)
                if position < len(self.attended):
                    later = self.attended[position]
                    day = later.starts_at.date()
                    attempts_at.append((day, later))
                    position += 1
                    continue
            attempts_at.append((day, None))
        return attempts_at

    def _attended_from(self, position: int, day: dt.date) -> int:
        """The first attended session from ``position`` on that is on or after ``day``."""
        attended = self.attended
        while position < len(attended) and attended[position].starts_at.date() < day:
            position += 1
        return position

    def _outcome(self, course: str, *, last: bool) -> str:
        if last and course == RESOLVE:
            return RepairOutcome.RESOLVED
        if last and course == FAIL:
            if self.rng.random() < 0.7:
                return RepairOutcome.NOT_RESOLVED
            return RepairOutcome.WORSENED
        return INTERIM_OUTCOME.pick(self.rng)

    def _closure(
        self,
        course: str,
        rupture: Rupture,
        happened: list[tuple[dt.date, Visit | None]],
        *,
        complete: bool,
        repairing: bool,
    ) -> tuple[str, dt.date | None]:
        """Status and closed_on by the horizon: as planned once every planned attempt has
        happened (and the closure is not still ahead), else closed by a discharge, else live."""
        if complete:
            last_day = happened[-1][0] if happened else rupture.day
            closure = self._planned_closure(course, rupture.day, last_day)
            if closure is not None and closure[1] <= self.horizon:
                return closure
        if self.discharged_on is not None:
            return self._closed_at_discharge(rupture, self.discharged_on)
        return EpisodeStatus.REPAIRING if repairing else EpisodeStatus.OPEN, None

    def _planned_closure(
        self, course: str, detected: dt.date, last_day: dt.date
    ) -> tuple[str, dt.date] | None:
        """How a course whose attempts have all happened ends; None for one that lingers."""
        rng = self.rng
        if course == RESOLVE:
            return EpisodeStatus.RESOLVED, last_day
        if course == FAIL:
            return EpisodeStatus.UNRESOLVED, last_day + between(rng, 0, 30) * DAY
        if course == ABANDON:
            return EpisodeStatus.UNRESOLVED, detected + between(rng, 30, 120) * DAY
        if course == END:
            return EpisodeStatus.RELATIONSHIP_ENDED, last_day + between(rng, 7, 60) * DAY
        return None

    def _closed_at_discharge(self, rupture: Rupture, discharged_on: dt.date) -> tuple[str, dt.date]:
        """Still live at discharge: closed then, and a late rupture with the therapist may be
        why the client stopped coming."""
        detected = rupture.day
        therapist = rupture.relationship == Relationship.THERAPIST
        dropout = therapist and (discharged_on - detected).days <= 30
        if dropout and self.rng.random() < 0.5:
            status = EpisodeStatus.RELATIONSHIP_ENDED
        else:
            status = EpisodeStatus.UNRESOLVED
        return status, max(detected, discharged_on)

    def _repair(
        self,
        episode_id: int,
        therapist: bool,
        kind: str,
        day: dt.date,
        later: Visit | None,
        outcome: str,
    ) -> tuple[Any, ...]:
        rng = self.rng
        if therapist:
            initiator = THERAPIST_INITIATOR.pick(rng)
            strategies: Sequence[str] = STRATEGIES[kind].pick_distinct(
                rng, STRATEGY_COUNT.pick(rng)
            )
        else:
            initiator = OUTSIDE_INITIATOR.pick(rng)
            strategies = RELATIONAL_STRATEGIES.pick_distinct(rng, STRATEGY_COUNT.pick(rng))
        # "You can't fix an empathic rupture alone": resolution mostly needs both engaged.
        both = rng.random() < (0.9 if outcome == RepairOutcome.RESOLVED else 0.35)
        both = both or initiator == Initiator.BOTH  # started together, engaged together
        recorder = later.clinician.id if later is not None else self.primary.id
        if later is not None:
            created = later.ends_at + between(rng, 10, 90) * MINUTE
        else:
            created = (
                dt.datetime.combine(day, dt.time(18), tzinfo=self.g.tz) + between(rng, 0, 96) * HOUR
            )
        created = min(created, self.g.now)
        return (
            self.t.repairs.new_id(),
            self.practice_id,
            episode_id,
            self.client_id,
            later.id if later is not None else None,
            day,
            initiator,
            both,
            strategies,
            outcome,
            OUTCOME_RATING[outcome].pick(rng),
            choose(rng, words.REPAIR_NOTES),
            recorder,
            created,
        )


__all__ = ["ClientGenerator", "Clinician", "Context"]
