"""A clinician's caseload at a glance."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import AccessAuditMixin
from api.permissions import IsClinician, caller
from api.serializers.worklist import WorklistSerializer, worklist_body
from cases.models import Client
from ruptures.selectors import worklist

UNKNOWN_PARAMETER = "The worklist takes no query parameters."


class WorklistView(AccessAuditMixin, APIView):
    """What needs the caller's attention across their care teams, in one answer: open signals
    (per client and rule), live episodes with the days since detection and the last repair
    attempt, draft notes of sessions that ended over 24 hours ago, and the sessions of today
    and of this week in each practice's time zone, with counts of each."""

    permission_classes = [IsAuthenticated, IsClinician]
    audit_resource = "worklist"
    allowed_roles = "clinician — their care teams"
    # The access event names every client the answer shows.
    queryset = Client.objects.none()

    @extend_schema(responses=WorklistSerializer)
    def get(self, request: Request) -> Response:
        if request.query_params:
            raise exceptions.ValidationError(
                {name: [UNKNOWN_PARAMETER] for name in sorted(request.query_params)}
            )
        now = timezone.now()
        work = worklist(user=caller(request), now=now)
        self._clients = sorted(work.client_ids)
        return Response(worklist_body(work, now=now))

    def _audit_record_ids(self, response: HttpResponseBase | None, status_code: int) -> list[Any]:
        return getattr(self, "_clients", []) if status_code < 400 else []
