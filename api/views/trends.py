"""Supervisor trends, read from frozen differentially private releases (``ruptures.trends``),
and the caller's supervisees."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import AccessAuditMixin
from api.filters import refuse_unknown_parameters
from api.permissions import IsSupervisor, caller
from api.serializers.trends import (
    SuperviseeSerializer,
    TrendQuerySerializer,
    TrendSerializer,
    trend_body,
)
from cases.selectors import supervisees_of
from ruptures import trends

FIGURE_HELP = "; ".join(
    f"`{f.name}`: {f.description} (by: {', '.join(f.dimensions)})" for f in trends.FIGURES.values()
)

PRACTICE_PARAMETER = OpenApiParameter(
    "practice", OpenApiTypes.INT, description="Needed when you supervise in several practices."
)


class TrendView(AccessAuditMixin, APIView):
    """Monthly figures of rupture and repair from the practice's frozen, differentially
    private monthly releases: every value is noisy, with a 90 % interval; each response states
    ε, the privacy unit, the period and when each month was released. The month in progress
    (and any month not yet past its publication lag) is never shown."""

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
            PRACTICE_PARAMETER,
            OpenApiParameter("from", OpenApiTypes.STR, description="First month, YYYY-MM."),
            OpenApiParameter("to", OpenApiTypes.STR, description="Last month, YYYY-MM."),
            OpenApiParameter("by", OpenApiTypes.STR, enum=trends.DIMENSIONS),
            OpenApiParameter("clinician", OpenApiTypes.INT, description="One of your supervisees."),
            OpenApiParameter(
                "grain",
                OpenApiTypes.STR,
                enum=list(trends.GRAINS),
                description="Rows by month (default), calendar quarter, or rolling 12 months.",
            ),
        ],
        responses=TrendSerializer,
    )
    def get(self, request: Request, figure: str) -> Response:
        if figure not in trends.FIGURES:
            raise exceptions.NotFound(f"No figure “{figure}”.")
        query = TrendQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        user = caller(request)
        practice = trends.supervised_practice(user=user, practice_id=params.get("practice"))
        period = trends.requested_period(
            practice=practice, first=params.get("from"), last=params.get("to")
        )
        clinician = (
            trends.supervisee(user=user, practice=practice, clinician_id=params["clinician"])
            if "clinician" in params
            else None
        )
        trend = trends.trends_for(
            user=user,
            practice=practice,
            figure=figure,
            period=period,
            by=params.get("by"),
            clinician=clinician,
            grain=params["grain"],
        )
        return Response(trend_body(trend))


class SuperviseesView(APIView):
    """The clinicians the caller supervises in a practice: the ``clinician`` keys their
    trends can be narrowed or broken down by."""

    permission_classes = [IsAuthenticated, IsSupervisor]
    allowed_roles = "supervisor"

    @extend_schema(parameters=[PRACTICE_PARAMETER], responses=SuperviseeSerializer(many=True))
    def get(self, request: Request) -> Response:
        refuse_unknown_parameters(request, {"practice"})
        practice_id = request.query_params.get("practice")
        if practice_id is not None and not practice_id.isdigit():
            raise exceptions.ValidationError({"practice": ["A valid integer is required."]})
        user = caller(request)
        practice = trends.supervised_practice(
            user=user, practice_id=int(practice_id) if practice_id else None
        )
        people = supervisees_of(user=user, practice=practice).order_by("last_name", "id")
        return Response([{"id": u.pk, "name": u.get_full_name() or u.username} for u in people])
