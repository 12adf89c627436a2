from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers.base import Body, StrictSerializer
from api.serializers.fields import AnyField
from ruptures.trends import DIMENSIONS, FIGURES, GRAINS, INTERVAL_LEVEL, Trend

PRIVACY_UNIT = "one client's records in one month"


MONTHS_FROM, MONTHS_TO = 1900, 2999
MONTH_OUT_OF_RANGE = f"A month from {MONTHS_FROM}-01 to {MONTHS_TO}-12."


class MonthField(serializers.DateField):
    """``YYYY-MM`` (or a date, which snaps to its month), within years that leave room for
    the period arithmetic (a rolling year reaches eleven months back)."""

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) == 7:
            value = f"{value}-01"
        month = super().to_internal_value(value)
        if not MONTHS_FROM <= month.year <= MONTHS_TO:
            raise serializers.ValidationError(MONTH_OUT_OF_RANGE)
        return month


class TrendQuerySerializer(StrictSerializer):
    practice = serializers.IntegerField(
        required=False, min_value=1, help_text="Needed when you supervise in several practices."
    )
    # ``from`` is a Python keyword; the field is renamed in ``get_fields``.
    start = MonthField(
        required=False, help_text="First month, YYYY-MM (default: 11 months before `to`)."
    )
    to = MonthField(required=False, help_text="Last month, YYYY-MM (default: the last released).")
    by = serializers.ChoiceField(choices=DIMENSIONS, required=False)
    clinician = serializers.IntegerField(
        required=False, min_value=1, help_text="One of your supervisees."
    )
    grain = serializers.ChoiceField(choices=GRAINS, required=False, default="month")

    def get_fields(self) -> dict[str, AnyField]:
        fields = super().get_fields()
        fields["from"] = fields.pop("start")
        return fields


def trend_body(trend: Trend) -> dict[str, Any]:
    def values(estimates: dict[str, Any]) -> dict[str, Any]:
        return {name: estimate.as_json() for name, estimate in estimates.items()}

    epsilons = sorted({float(r.settings["epsilon"]) for r in trend.releases})
    return {
        "figure": trend.figure.name,
        "description": trend.figure.description,
        "values": trend.figure.values,
        "practice": trend.practice.pk,
        "period": {
            "from": trend.period.start.strftime("%Y-%m"),
            "to": trend.period.last.strftime("%Y-%m"),
        },
        "grain": trend.grain,
        "by": trend.by,
        "clinician": trend.clinician.pk if trend.clinician else None,
        "privacy": {
            "privacy_unit": PRIVACY_UNIT,
            "epsilon_per_month": epsilons[0] if len(epsilons) == 1 else epsilons,
            "delta_per_month": trend.releases[0].settings["delta"] if trend.releases else None,
            "interval_level": INTERVAL_LEVEL,
        },
        "releases": [
            {
                "month": r.month.strftime("%Y-%m"),
                "released_at": r.made_at.isoformat(),
                "epsilon": float(r.settings["epsilon"]),
                "timezone": r.settings["timezone"],
                "srs_cutoff": r.settings["srs_cutoff"],
            }
            for r in trend.releases
        ],
        "groups": [{"key": g.key, "label": g.label} for g in trend.groups],
        "rows": [
            {
                "period": row.label,
                "months": [m.strftime("%Y-%m") for m in row.months],
                "total": values(row.total),
                "cells": {key: values(cell) for key, cell in row.cells.items()},
            }
            for row in trend.rows
        ],
    }


class EstimateSerializer(serializers.Serializer[Body]):
    value = serializers.FloatField(allow_null=True, help_text="null when too few to show")
    low = serializers.FloatField(allow_null=True, help_text="90 % interval, lower end")
    high = serializers.FloatField(allow_null=True, help_text="90 % interval, upper end")
    too_few_to_show = serializers.BooleanField(
        help_text="The noisy data cannot support a value here (decided on noisy values only)."
    )


class ValuesSerializer(serializers.DictField):
    child = EstimateSerializer()


class TrendRowSerializer(serializers.Serializer[Body]):
    period = serializers.CharField(help_text="YYYY-MM, YYYY-Qn, or YYYY-MM/YYYY-MM (rolling)")
    months = serializers.ListField(child=serializers.CharField(), help_text="Months summed.")
    total = ValuesSerializer(help_text="The figure for the whole practice.")
    cells = serializers.DictField(child=ValuesSerializer(), help_text="By group key.")


class GroupSerializer(serializers.Serializer[Body]):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class PeriodSerializer(serializers.Serializer[Body]):
    start = serializers.CharField()
    to = serializers.CharField()

    def get_fields(self) -> dict[str, AnyField]:
        fields = super().get_fields()
        fields["from"] = fields.pop("start")
        return fields


class PrivacySerializer(serializers.Serializer[Body]):
    privacy_unit = serializers.CharField()
    epsilon_per_month = serializers.JSONField(help_text="ε of each month (a list if they differ)")
    delta_per_month = serializers.FloatField(allow_null=True)
    interval_level = serializers.FloatField()


class ReleaseSerializer(serializers.Serializer[Body]):
    month = serializers.CharField()
    released_at = serializers.DateTimeField()
    epsilon = serializers.FloatField()
    timezone = serializers.CharField()
    srs_cutoff = serializers.CharField()


class TrendSerializer(serializers.Serializer[Body]):
    figure = serializers.ChoiceField(choices=sorted(FIGURES))
    description = serializers.CharField()
    values = serializers.DictField(child=serializers.CharField(), help_text="What each value is.")
    practice = serializers.IntegerField()
    period = PeriodSerializer()
    grain = serializers.ChoiceField(choices=GRAINS)
    by = serializers.CharField(allow_null=True)
    clinician = serializers.IntegerField(allow_null=True)
    privacy = PrivacySerializer()
    releases = ReleaseSerializer(many=True)
    groups = GroupSerializer(many=True)
    rows = TrendRowSerializer(many=True)


class SuperviseeSerializer(serializers.Serializer[Body]):
    id = serializers.IntegerField()
    name = serializers.CharField()
