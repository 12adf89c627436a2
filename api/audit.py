"""Access events for the API (DESIGN.md, "Integrity, audit, retention").

Every request to a view with ``AccessAuditMixin`` (every clinical and practice-admin viewset,
through ``ScopedViewSet``, and the trends) writes an access event with
``cases.audit.record_access``: one INSERT, whose trigger chains it. It names the caller, the
action (``list``, ``read``, ``create``, ``update``, ``delete`` or the API action's name), the
resource, the records (the id in the URL; for a list, the ids on the page; for a create, the
new id), the caller's address, the status and the outcome, and the request id. The database
adds the practice and client of each record; nothing else about them is stored.

When the event is written, and what happens when it cannot be (we fail closed):

* A write (POST, PATCH, PUT, DELETE) runs in one transaction with its event: the view, then
  the INSERT, then COMMIT; the practice's chain is locked only from the INSERT to the COMMIT.
  If the event cannot be written, the write is rolled back and the answer is 503: nothing
  changes unrecorded.
* A write that does not succeed (4xx) is rolled back whole; its event is written after.
* A read writes its event once the answer is built. If that fails, the answer is withheld
  and replaced by 503: no clinical data leaves unrecorded.
* A refusal or error (4xx) goes out even when its event could not be written: it discloses
  nothing. Every failure to record is logged.
* An unhandled error is recorded as a 500, if the database allows, and raised as before.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from api import errors
from api.permissions import memberships_held
from cases.audit import AccessAction, AccessOutcome, record_access

logger = logging.getLogger(__name__)

AUDIT_UNAVAILABLE = (
    "The access could not be recorded in the audit log, so it was not carried out. "
    "Try again; if it persists, tell the practice admin."
)
DENIED_STATUSES = frozenset({401, 403, 404})
VIEW_ACTIONS = {
    "list": AccessAction.LIST,
    "retrieve": AccessAction.READ,
    "create": AccessAction.CREATE,
    "update": AccessAction.UPDATE,
    "partial_update": AccessAction.UPDATE,
    "destroy": AccessAction.DELETE,
}
METHOD_ACTIONS = {
    "GET": AccessAction.READ,
    "HEAD": AccessAction.READ,
    "POST": AccessAction.CREATE,
    "PUT": AccessAction.UPDATE,
    "PATCH": AccessAction.UPDATE,
    "DELETE": AccessAction.DELETE,
}
READ_METHODS = frozenset({"GET", "HEAD"})
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RecordingFailed(Exception):
    """The access event could not be written."""


def request_id_of(request: HttpRequest) -> str:
    """The request's id, as ``RequestIdMiddleware`` set it for the logs; a new one (kept on
    the request) if it did not run."""
    current = getattr(request, "request_id", None)
    if isinstance(current, str) and REQUEST_ID.fullmatch(current):
        return current
    new = uuid.uuid4().hex
    request.request_id = new  # type: ignore[attr-defined]
    return new


def client_address(request: HttpRequest) -> str | None:
    """The caller's address as django-axes sees it: REMOTE_ADDR, unless trusted proxies are
    configured (``PROXY_COUNT``), so a forged X-Forwarded-For is not believed."""
    address = get_client_ip_address(request)
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return None


def outcome_of(status_code: int) -> str:
    if status_code < 400:
        return AccessOutcome.ALLOWED
    if status_code in DENIED_STATUSES:
        return AccessOutcome.DENIED
    return AccessOutcome.FAILED


def _is_read(request: Request | None) -> bool:
    return request is not None and request.method in READ_METHODS


def audit_unavailable() -> JsonResponse:
    return JsonResponse(
        errors.error_body(status=503, code="audit_unavailable", detail=AUDIT_UNAVAILABLE),
        status=503,
    )


def _caller(request: Request | None) -> Any:
    if request is None:
        return None
    try:
        user = request.user
    except exceptions.APIException:  # authentication failed (and is answered 401)
        return None
    return user if user is not None and user.is_authenticated else None


def _ids_in_body(data: Any, model: type[Model] | None, *, created: bool) -> list[Any]:
    """Ids of ``model`` rows in an answer: a page of a list, or one record. An action that
    answers with another kind of record (an addendum of a note) adds nothing."""
    if model is None:
        return []
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        rows = data["results"]
    elif isinstance(data, list):
        rows = data
    elif isinstance(data, Mapping):
        instance = getattr(getattr(data, "serializer", None), "instance", None)
        # A replayed create renders the record created first; anything else of another
        # model (or with no instance) is not this resource's row.
        if (instance is None and not created) or (
            instance is not None and not isinstance(instance, model)
        ):
            return []
        rows = [data]
    else:
        return []
    return [row.get("id") for row in rows if isinstance(row, Mapping)]


class AccessAuditMixin(APIView):
    """Writes an access event for every request (see the module docstring). The resource is
    ``audit_resource``, or a viewset's router basename."""

    audit_resource: ClassVar[str] = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "OPTIONS":  # the endpoint's description: no records
            return super().dispatch(request, *args, **kwargs)
        if request.method in READ_METHODS:
            try:
                response = super().dispatch(request, *args, **kwargs)
            except Exception:
                self._record_quietly(500)
                raise
            return self._recorded(response)
        return self._dispatch_write(request, *args, **kwargs)

    def _dispatch_write(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                if response.status_code >= 400:
                    # A write that did not succeed leaves nothing behind.
                    transaction.set_rollback(True)
                else:
                    self._record(response)
                    return response
        except RecordingFailed:
            return audit_unavailable()
        except Exception:
            self._record_quietly(500)
            raise
        return self._recorded(response)

    def _recorded(self, response: HttpResponseBase) -> HttpResponseBase:
        try:
            self._record(response)
        except RecordingFailed:
            if response.status_code < 400:
                return audit_unavailable()
        return response

    def _record_quietly(self, status_code: int) -> None:
        try:
            self._record(None, status_code=status_code)
        except RecordingFailed:
            pass

    def _record(self, response: HttpResponseBase | None, status_code: int | None = None) -> None:
        request: Request | None = getattr(self, "request", None)
        status_code = status_code or (response.status_code if response is not None else 500)
        try:
            django_request = request._request if request is not None else None
            caller = _caller(request)
            record_access(
                user_id=caller.pk if caller is not None else None,
                action=self._audit_action(),
                resource=self._audit_resource(),
                model=self._audit_model(),
                record_ids=self._audit_record_ids(response, status_code),
                fallback_practice_ids=self._audit_practices(request, caller),
                ip_address=client_address(django_request) if django_request else None,
                status_code=status_code,
                outcome=outcome_of(status_code),
                request_id=request_id_of(django_request) if django_request else "",
                # Reads only: a write's event commits with the write, durably.
                durable=not (settings.AUDIT_ASYNC_READS and _is_read(request)),
            )
        except Exception as error:
            logger.exception(
                "The access event of %s %s (%s) could not be recorded",
                getattr(request, "method", "?"),
                getattr(request, "path", "?"),
                status_code,
            )
            raise RecordingFailed from error

    def _audit_action(self) -> str:
        action: str | None = getattr(self, "action", None)
        if action:
            return VIEW_ACTIONS.get(action, action)
        method: str = getattr(getattr(self, "request", None), "method", None) or "GET"
        return METHOD_ACTIONS.get(method, method.lower())

    def _audit_resource(self) -> str:
        return self.audit_resource or getattr(self, "basename", "") or "unknown"

    def _audit_model(self) -> type[Model] | None:
        return getattr(getattr(self, "queryset", None), "model", None)

    def _audit_record_ids(self, response: HttpResponseBase | None, status_code: int) -> list[Any]:
        ids: list[Any] = []
        lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")
        raw = getattr(self, "kwargs", {}).get(lookup)
        if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
            ids.append(int(raw))
        if response is not None and status_code < 400:
            created = self._audit_action() == AccessAction.CREATE
            data = getattr(response, "data", None)
            ids.extend(_ids_in_body(data, self._audit_model(), created=created))
        return ids

    def _audit_practices(self, request: Request | None, caller: Any) -> list[int]:
        """The caller's practices, for an access that touched no record: those where they
        hold a role this endpoint is for, or else all of them."""
        if request is None or caller is None:
            return []
        held = memberships_held(request)
        roles = {getattr(permission, "role", "") for permission in self.get_permissions()}
        relevant = [practice for role, practice in held if role in roles]
        return relevant or [practice for _, practice in held]
