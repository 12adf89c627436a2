"""The API's one error format, and the messages tests assert on.

Every 4xx answers with::

    {
      "status": 400,
      "code": "invalid",
      "detail": "The request is not valid.",
      "errors": [{"field": "starts_at", "code": "invalid", "message": "..."}]
    }

``errors`` lists field problems for validation errors (``field`` is a dotted path such as
``sections.plan`` or ``care_team.0``; ``non_field_errors`` for the body as a whole) and is empty
otherwise.
"""

from __future__ import annotations

from typing import Any

VALIDATION_FAILED = "The request is not valid."
UNKNOWN_FIELD = "This field is not accepted here."
READ_ONLY_FIELD = "This field is set by the server and cannot be written."
NAIVE_DATETIME = "Give a time zone (for example 2026-03-01T10:00:00+01:00 or …Z)."
INVALID_CURSOR = "The cursor is not valid; start from the first page."
BODY_TOO_LARGE = "The request body is larger than {limit} bytes."
INVALID_CREDENTIALS = "Those credentials are not valid."
LOCKED_OUT = "Too many failed logins. Try again in {minutes} minutes."
CONFLICT = "The request conflicts with the current state of the record."
NOT_FOUND = "Not found."
SERVER_ERROR = "Something went wrong on our side; it has been logged."


def error_body(
    *, status: int, code: str, detail: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"status": status, "code": code, "detail": detail, "errors": errors or []}
