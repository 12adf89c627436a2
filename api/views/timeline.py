"""One client's rupture-and-repair story in one list: ``GET /api/v1/clients/{id}/timeline/``."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from django.db.models import Model, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import AccessAuditMixin
from api.permissions import IsClinician, caller
from api.serializers.timeline import TimelinePageSerializer, entry_body
from cases.models import (
    Client,
    OutcomeRatingScale,
    PostSessionQuestionnaire,
    SessionRatingScale,
    TherapySession,
    WorkingAllianceInventory,
)
from cases.selectors import client_list
from ruptures.models import RepairAttempt, RuptureEpisode, RuptureSignal
from ruptures.selectors import TimelineEntry, client_timeline

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
BAD_CURSOR = "Invalid cursor."
BAD_PAGE_SIZE = f"A whole number from 1 to {MAX_PAGE_SIZE}."

# Each kind's records, with what its entry shows in the same query.
KINDS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "session": (TherapySession, ("progress_note",)),
    "srs": (SessionRatingScale, ()),
    "ors": (OutcomeRatingScale, ()),
    "psq": (PostSessionQuestionnaire, ()),
    "wai_sr": (WorkingAllianceInventory, ()),
    "episode": (RuptureEpisode, ()),
    "repair_attempt": (RepairAttempt, ()),
    "signal": (RuptureSignal, ()),
}


def _encode(entry: TimelineEntry) -> str:
    raw = json.dumps({"at": entry.at.isoformat(), "kind": entry.kind, "id": entry.id})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str) -> TimelineEntry:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        entry = TimelineEntry(
            str(raw["kind"]), int(raw["id"]), dt.datetime.fromisoformat(raw["at"])
        )
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError) as error:
        raise exceptions.ValidationError({"cursor": [BAD_CURSOR]}) from error
    if entry.kind not in KINDS or entry.at.tzinfo is None or not 0 < entry.id < 2**63:
        raise exceptions.ValidationError({"cursor": [BAD_CURSOR]})
    return entry


def _page_size(request: Request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise exceptions.ValidationError({"page_size": [BAD_PAGE_SIZE]})
    return int(raw)


def _records(kind: str, ids: list[int]) -> QuerySet[Any]:
    """Always one query (even for no ids), so a page costs the same whatever it holds."""
    model, related = KINDS[kind]
    records = model._default_manager.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
    return records.select_related(*related) if related else records


class ClientTimelineView(AccessAuditMixin, APIView):
    """One client's sessions, measure scores, rupture episodes, repair attempts and signals,
    newest first, as typed entries (`type`, `id`, `at`, `data`), cursor-paginated. Structured
    fields only: process notes are never part of it, and free text (notes, descriptions) is
    read from each record's own endpoint."""

    permission_classes = [IsAuthenticated, IsClinician]
    audit_resource = "client-timeline"
    allowed_roles = "clinician — clients on their care teams"
    queryset = Client.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next`."),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                description=f"1–{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}.",
            ),
        ],
        responses=TimelinePageSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        client = client_list(user=caller(request)).filter(pk=pk).first()
        if client is None:
            raise exceptions.NotFound()
        self._client_id = client.pk
        unknown = set(request.query_params) - {"cursor", "page_size"}
        if unknown:
            raise exceptions.ValidationError(
                {name: ["Unknown query parameter."] for name in sorted(unknown)}
            )
        size = _page_size(request)
        cursor = request.query_params.get("cursor")
        after = _decode(cursor) if cursor else None
        entries = client_timeline(client=client, after=after, limit=size + 1)
        page, more = entries[:size], len(entries) > size
        by_kind: dict[str, dict[int, Any]] = {}
        for kind in KINDS:
            ids = [e.id for e in page if e.kind == kind]
            by_kind[kind] = {record.pk: record for record in _records(kind, ids)}
        results = [entry_body(e, by_kind[e.kind][e.id]) for e in page]
        next_url = None
        if more:
            query = request.query_params.copy()
            query["cursor"] = _encode(page[-1])
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"next": next_url, "previous": None, "results": results})

    def _audit_record_ids(self, response: HttpResponseBase | None, status_code: int) -> list[Any]:
        client = getattr(self, "_client_id", None)
        return [client] if client is not None and status_code < 400 else []
