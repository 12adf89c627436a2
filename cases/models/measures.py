"""Session measures: SRS, ORS, PSQ and WAI-SR, one row per answer, scored by the database."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, TypeAlias, overload

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import Combinable, CombinedExpression

from cases import errors
from cases.choices import Respondent
from cases.history import track_history
from cases.models.base import Archivable, PracticeScoped
from cases.models.clients import Client, Participant
from cases.models.sessions import TherapySession

# Set from a number (or an expression), read back as a Decimal.
ScoreField: TypeAlias = "models.DecimalField[Decimal | float | str | Combinable, Decimal]"
RatingField: TypeAlias = "models.PositiveSmallIntegerField[int | Combinable, int]"
OptionalRatingField: TypeAlias = (
    "models.PositiveSmallIntegerField[int | Combinable | None, int | None]"
)


def _item_field() -> ScoreField:
    """A 0–10 SRS or ORS item with one decimal."""
    return models.DecimalField(
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(10))],
    )


def _total_field() -> ScoreField:
    return models.DecimalField(max_digits=3, decimal_places=1)


@overload
def _rating_field(*, low: int = 1, high: int = 5, null: Literal[False] = False) -> RatingField: ...
@overload
def _rating_field(*, low: int = 1, high: int = 5, null: Literal[True]) -> OptionalRatingField: ...
def _rating_field(
    *, low: int = 1, high: int = 5, null: bool = False
) -> RatingField | OptionalRatingField:
    field: OptionalRatingField = models.PositiveSmallIntegerField(
        null=null,
        blank=null,
        validators=[MinValueValidator(low), MaxValueValidator(high)],
    )
    return field


class SessionMeasure(PracticeScoped, Archivable):
    """Fields every measure shares. ``client`` repeats the session's client so a client's
    series can be read from one index; a composite foreign key keeps the two in step."""

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

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk} for session {self.session_id}"


def _item_range(prefix: str, fields: list[str], low: int, high: int) -> models.CheckConstraint:
    condition = Q()
    for field in fields:
        condition &= Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return models.CheckConstraint(condition=condition, name=f"{prefix}_items_range")


def _one_per_session(name: str, *also: str) -> models.UniqueConstraint:
    """One measure of its kind a session (and participant, and whatever ``also`` names)."""
    return models.UniqueConstraint(
        fields=["session", *also, "participant"],
        nulls_distinct=False,
        name=name,
        violation_error_message=errors.MEASURE_EXISTS,
        violation_error_code="unique",
    )


def _respondent_rules(prefix: str) -> list[models.CheckConstraint]:
    """A known respondent; a participant only on the client's side."""
    return [
        models.CheckConstraint(
            condition=Q(respondent__in=Respondent.values), name=f"{prefix}_respondent_valid"
        ),
        models.CheckConstraint(
            condition=Q(respondent=Respondent.CLIENT) | Q(participant__isnull=True),
            name=f"{prefix}_participant_client_side",
            violation_error_message=errors.PARTICIPANT_NOT_FOR_THERAPIST,
        ),
    ]


def _scale_total(items: list[str]) -> models.GeneratedField:
    """The total of a four-item 0–10 scale (SRS, ORS), computed by the database."""
    return models.GeneratedField(
        expression=_sum(*items), output_field=_total_field(), db_persist=True
    )


def _scale_rules(prefix: str, items: list[str]) -> list[models.BaseConstraint]:
    """One scale of its kind a session and participant; each item 0–10."""
    return [_one_per_session(f"{prefix}_one_per_session"), _item_range(prefix, items, 0, 10)]


def _sum(first: str, second: str, *rest: str) -> CombinedExpression:
    expression = F(first) + F(second)
    for field in rest:
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
    total = _scale_total(SRS_ITEMS)

    class Meta:
        constraints = _scale_rules("srs", SRS_ITEMS)
        indexes = [models.Index(fields=["client", "created_at"], name="srs_client_idx")]


@track_history(exclude=["total"])
class OutcomeRatingScale(SessionMeasure):
    """ORS, start of session: four 0–10 items, total 0–40; clinical cutoff 25."""

    CLINICAL_CUTOFF = Decimal("25")

    individually = _item_field()
    interpersonally = _item_field()
    socially = _item_field()
    overall = _item_field()
    total = _scale_total(ORS_ITEMS)

    class Meta:
        constraints = _scale_rules("ors", ORS_ITEMS)
        indexes = [models.Index(fields=["client", "created_at"], name="ors_client_idx")]

    @property
    def in_clinical_range(self) -> bool:
        total: Decimal = self.total  # a GeneratedField, typed Any: its output_field is decimal
        return total < self.CLINICAL_CUTOFF


@track_history()
class PostSessionQuestionnaire(SessionMeasure):
    """PSQ rupture items from the client or the therapist."""

    respondent = models.CharField(max_length=10, choices=Respondent.choices)
    rupture_experienced = models.BooleanField()
    tension = _rating_field(null=True)
    resolution = _rating_field(null=True)

    class Meta:
        constraints = [
            _one_per_session("psq_one_per_session_respondent", "respondent"),
            *_respondent_rules("psq"),
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
            _one_per_session("wai_one_per_session_respondent", "respondent"),
            *_respondent_rules("wai"),
            _item_range("wai", WAI_ITEMS, 1, 5),
        ]


MEASURE_MODELS = (
    SessionRatingScale,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    WorkingAllianceInventory,
)
