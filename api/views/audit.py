"""The access log, for practice admins."""

from __future__ import annotations

from rest_framework import mixins

from api import filtersets
from api.serializers.audit import AccessEventSerializer
from api.views.base import PracticeAdminViewSet
from cases import selectors
from cases.models import AccessEvent


class AccessEventViewSet(mixins.ListModelMixin, PracticeAdminViewSet[AccessEvent]):
    """Who read or changed which records of the practice, when, from where, and with what
    outcome, newest first: one event per request to clinical data, including list reads (the
    ids returned) and refused attempts. Records and clients appear as ids only. Reading the
    log is itself recorded. ``manage.py verify_audit`` checks that no event was altered or
    removed."""

    queryset = AccessEvent.objects.none()
    selector = selectors.access_event_list
    related = ("user",)
    serializer_class = AccessEventSerializer
    filterset_class = filtersets.AccessEventFilter
    ordering_fields = ["id"]
    ordering = ["-id"]
    http_method_names = ["get", "head", "options"]
