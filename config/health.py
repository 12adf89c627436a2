from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from api import errors


@csrf_exempt
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness in one: answers 200 only when the database answers. Any other
    method than GET is a JSON 405 (exempt from CSRF, which would answer an HTML 403 first)."""
    if request.method != "GET":
        refused = JsonResponse(
            errors.error_body(
                status=405,
                code="method_not_allowed",
                detail=errors.METHOD_NOT_ALLOWED.format(method=request.method),
            ),
            status=405,
        )
        refused["Allow"] = "GET"
        return refused
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
