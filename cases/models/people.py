"""The people of a practice: who signs in, the practice itself, their roles in it and who
supervises whom."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from cases.choices import Role
from cases.history import track_history

# Trends: the privacy loss ε a monthly release may spend (ruptures.releases), and the days
# after a month closes before it is released (7 at least: signals need a week to be handled).
TRENDS_EPSILON_RANGE = (Decimal("0.1"), Decimal("4"))
PUBLICATION_LAG_RANGE = (7, 90)
# Signals: the SRS drop from the client's previous SRS that raises an alert. PCOMS/FIT read a
# drop of a point or more as meaningful; smaller ones are the scale's noise.
SRS_MIN_DROP_RANGE = (Decimal("0.1"), Decimal("40"))


class User(AbstractUser):
    """A person who signs in. What they may see comes from their memberships."""

    # Inherits the verbose names Django gives an abstract model's Meta; django-stubs declare
    # no Meta on AbstractUser.
    class Meta(AbstractUser.Meta):  # type: ignore[name-defined, misc]
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
