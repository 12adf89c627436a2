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
otherwise. Every string of an error body is made encodable here (``error_body``), so an error
that echoes a client's bad input can always be sent.
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
METHOD_NOT_ALLOWED = 'Method "{method}" not allowed.'
DUPLICATE = "This already exists."
TOO_MANY_PARAMETERS = "The request has too many parameters or fields."
BAD_REQUEST = "The request could not be understood."
UNKNOWN_PARAMETER = "This query parameter is not accepted here. Use: {allowed}."
NO_PARAMETERS = "This endpoint takes no query parameters."
SURROGATE_IN_BODY = (
    "JSON parse error - the body holds a lone surrogate (\\ud800–\\udfff), which is not a "
    "character. Send text as UTF-8."
)
SURROGATE_IN_VALUE = "This value holds a lone surrogate (\\ud800–\\udfff)."
SURROGATE_IN_KEY = "A key of this object holds a lone surrogate (\\ud800–\\udfff)."
WRONG_AUTHORIZATION_SCHEME = (
    "Send the token as “Authorization: Token <token>”: the Token scheme (not Bearer, nor any "
    "other)."
)


def encodable(text: str) -> str:
    """``text`` as it can be encoded in UTF-8: a lone surrogate (which only a client's
    ``\\udxxx`` escape can bring in) is written out as its escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_body(
    *, status: int, code: str, detail: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "status": status,
        "code": encodable(code),
        "detail": encodable(detail),
        "errors": [
            {key: encodable(str(value)) for key, value in item.items()} for item in errors or []
        ],
    }
