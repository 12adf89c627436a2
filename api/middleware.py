from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from api import errors
from config.logging import request_id

REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestIdMiddleware:
    """Give every request an id: the caller's ``X-Request-ID`` when it is a plausible one (a
    proxy's), a new one otherwise. Every log line and access event carries it, and the answer
    returns it so a user's report can be matched to the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        value = incoming if REQUEST_ID_SHAPE.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = value  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs a refused request's status after the
        # middleware returns. ``request_finished`` clears it (api.receivers).
        request_id.set(value)
        response = self.get_response(request)
        response["X-Request-ID"] = value
        return response


class RequestSizeLimitMiddleware:
    """Refuse oversized bodies with 413 before anything reads them. Django's own limit guards
    ``request.body`` and forms, but DRF's parsers read the stream directly."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return JsonResponse(
                errors.error_body(
                    status=413,
                    code="too_large",
                    detail=errors.BODY_TOO_LARGE.format(limit=limit),
                ),
                status=413,
            )
        return self.get_response(request)


class NoStoreMiddleware:
    """Clinical responses must not be kept by browsers or proxies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/v1/"):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
