"""Anonymised trends for supervisors (see ``ruptures.trends`` for how cells are protected)."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import AccessAuditMixin
from api.permissions import IsSupervisor, caller
from api.serializers.trends import (
    DIMENSIONS,
    TrendQuerySerializer,
    TrendSerializer,
    trend_body,
)
from cases.choices import Role
from cases.models import User
from cases.selectors import practices_where
from ruptures import trends
from ruptures.services import practice_today

FIGURE_HELP = "; ".join(
    f"`{f.name}`: {f.description} (by: {', '.join(f.dimensions) or f.inherent})"
    for f in trends.FIGURES.values()
)


class TrendView(AccessAuditMixin, APIView):
    """Monthly figures of rupture and repair, anonymised. Cells from fewer than *k* distinct
    clients are suppressed, with complementary suppression where a month's total would
    reveal them; each response states *k*, the period and the suppressed cells."""

    permission_classes = [IsAuthenticated, IsSupervisor]
    audit_resource = "trend"
    allowed_roles = "supervisor — practice-wide, and per clinician for their supervisees only"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "figure",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=sorted(trends.FIGURES),
                description=FIGURE_HELP,
            ),
            OpenApiParameter("practice", OpenApiTypes.INT),
            OpenApiParameter("from", OpenApiTypes.STR, description="First month, YYYY-MM."),
            OpenApiParameter("to", OpenApiTypes.STR, description="Last month, YYYY-MM."),
            OpenApiParameter("by", OpenApiTypes.STR, enum=DIMENSIONS),
            OpenApiParameter("clinician", OpenApiTypes.INT, description="One of your supervisees."),
        ],
        responses=TrendSerializer,
    )
    def get(self, request: Request, figure: str) -> Response:
        if figure not in trends.FIGURES:
            raise exceptions.NotFound(f"No figure “{figure}”.")
        query = TrendQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        practice = self._practice(caller(request), params.get("practice"))
        today = practice_today(practice)
        last = params.get("to") or today
        first = params.get("from") or (last.replace(day=1) - dt.timedelta(days=300))
        clinician = None
        if "clinician" in params:
            clinician = User.objects.filter(pk=params["clinician"]).first()
            if clinician is None:
                raise exceptions.ValidationError({"clinician": ["Not one of your supervisees."]})
        try:
            trend = trends.trends_for(
                user=caller(request),
                practice=practice,
                figure=figure,
                period=trends.period_of(first, last),
                by=params.get("by"),
                clinician=clinician,
            )
        except trends.TrendsError as error:
            raise exceptions.ValidationError({error.field: [str(error)]}) from error
        return Response(trend_body(trend))

    def _practice(self, user: User, practice_id: int | None):  # type: ignore[no-untyped-def]
        practices = practices_where(user=user, role=Role.SUPERVISOR)
        if practice_id is not None:
            return get_object_or_404(practices, pk=practice_id)
        found = list(practices[:2])
        if len(found) != 1:
            raise exceptions.ValidationError(
                {"practice": ["You supervise in several practices: say which one."]}
            )
        return found[0]
