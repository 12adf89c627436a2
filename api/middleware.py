from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from api import errors


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
