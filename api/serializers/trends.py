from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers.base import StrictSerializer
from ruptures.trends import FIGURES, Trend

DIMENSIONS = sorted({d for figure in FIGURES.values() for d in figure.dimensions})


class MonthField(serializers.DateField):
    """``YYYY-MM`` (or a date, which snaps to its month)."""

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) == 7:
            value = f"{value}-01"
        return super().to_internal_value(value)


class TrendQuerySerializer(StrictSerializer):
    practice = serializers.IntegerField(
        required=False, min_value=1, help_text="Needed when you supervise in several practices."
    )
    # ``from`` is a Python keyword; the field is renamed in ``get_fields``.
    start = MonthField(required=False, help_text="First month, YYYY-MM (default: 11 months ago).")
    to = MonthField(required=False, help_text="Last month, YYYY-MM (default: this month).")
    by = serializers.ChoiceField(choices=DIMENSIONS, required=False)
    clinician = serializers.IntegerField(
        required=False, min_value=1, help_text="One of your supervisees."
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("start")
        return fields


def trend_body(trend: Trend) -> dict[str, Any]:
    groups = [{"key": g.key, "label": g.label} for g in trend.groups]
    rows, suppressed = [], []
    for row in trend.rows:
        month = row.month.strftime("%Y-%m")
        total = None if row.total_suppressed else row.total.values
        if row.total_suppressed:
            suppressed.append({"month": month, "group": None, "reason": "fewer_than_k"})
        cells: dict[str, Any] = {}
        for group in trend.groups:
            reason = row.suppressed.get(group.key)
            if reason:
                cells[group.key] = None
                suppressed.append({"month": month, "group": group.key, "reason": reason})
            else:
                cells[group.key] = row.cells[group.key].values
        rows.append({"month": month, "total": total, "cells": cells})
    return {
        "figure": trend.figure.name,
        "description": trend.figure.description,
        "values": trend.figure.values,
        "practice": trend.practice.pk,
        "k": trend.k,
        "period": {
            "from": trend.period.start.strftime("%Y-%m"),
            "to": trend.period.months[-1].strftime("%Y-%m"),
        },
        "by": trend.figure.inherent or trend.by,
        "clinician": trend.clinician.pk if trend.clinician else None,
        "groups": groups,
        "rows": rows,
        "suppressed": suppressed,
    }


class TrendCellSerializer(serializers.DictField):
    child = serializers.FloatField(allow_null=True)


class TrendRowSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    total = TrendCellSerializer(
        allow_null=True, help_text="The month's figure, undivided; null when suppressed."
    )
    cells = serializers.DictField(
        child=TrendCellSerializer(allow_null=True),
        help_text="By group key; null where suppressed.",
    )


class SuppressedSerializer(serializers.Serializer):
    month = serializers.CharField()
    group = serializers.CharField(allow_null=True, help_text="null: the month's total.")
    reason = serializers.ChoiceField(choices=["fewer_than_k", "complementary"])


class GroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class PeriodSerializer(serializers.Serializer):
    start = serializers.CharField()
    to = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("start")
        return fields


class TrendSerializer(serializers.Serializer):
    figure = serializers.ChoiceField(choices=sorted(FIGURES))
    description = serializers.CharField()
    values = serializers.DictField(child=serializers.CharField(), help_text="What each value is.")
    practice = serializers.IntegerField()
    k = serializers.IntegerField(help_text="Cells from fewer distinct clients are suppressed.")
    period = PeriodSerializer()
    by = serializers.CharField(allow_null=True)
    clinician = serializers.IntegerField(allow_null=True)
    groups = GroupSerializer(many=True)
    rows = TrendRowSerializer(many=True)
    suppressed = SuppressedSerializer(many=True)
