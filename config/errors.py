"""Django's own error pages in the API's one error format, so a frontend never meets an
HTML page or a stack trace (an unknown URL, a request Django refuses before any view)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from api import errors


def _answer(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(errors.error_body(status=status, code=code, detail=detail), status=status)


def bad_request(request: HttpRequest, exception: Any = None) -> JsonResponse:
    return _answer(400, "bad_request", errors.BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Any = None) -> JsonResponse:
    return _answer(403, "permission_denied", "You do not have permission to do this.")


def not_found(request: HttpRequest, exception: Any = None) -> JsonResponse:
    return _answer(404, "not_found", errors.NOT_FOUND)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Every path under /api/ that names nothing: a view, not ``handler404``, so the answer is
    JSON even with DEBUG (whose 404 page is HTML) and no missing slash is ever redirected.
    Exempt from CSRF: it serves the API's clients, which send no cookie, on every method."""
    return not_found(request)


def server_error(request: HttpRequest) -> JsonResponse:
    return _answer(500, "server_error", errors.SERVER_ERROR)
