"""OpenAPI generation (drf-spectacular): every operation says who may call it, and every
error response is described in the one error format."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from api.serializers.base import Body

ERROR_STATUSES = {
    "400": "The request is not valid; `errors` names each field.",
    "401": "No valid token: log in again.",
    "403": "The caller's roles have no business with this endpoint.",
    "404": "No such record in the caller's scope.",
    "405": "Method not allowed.",
    "413": "The body is too large.",
    "415": "Send `Content-Type: application/json`.",
    "429": "Too many requests, or login locked out for a while.",
    "503": "The access could not be recorded in the audit log, so nothing was done or shown.",
}


EDIT_STATUSES = {
    "412": "The record changed since the ETag in If-Match was read.",
    "428": "If-Match is missing.",
}
CREATE_STATUSES = {"422": "The Idempotency-Key was used for a different request."}


class ErrorItemSerializer(serializers.Serializer[Body]):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer[Body]):
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = ErrorItemSerializer(many=True)  # type: ignore[assignment]


class RoleAwareAutoSchema(AutoSchema):
    def get_description(self) -> str:  # type: ignore[override]
        description = super().get_description()
        roles = getattr(self.view, "allowed_roles", "")
        if roles:
            description = f"{description}\n\n**Who may call:** {roles}.".strip()
        return description

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            roles = getattr(self.view, "allowed_roles", "")
            if roles:
                operation["x-roles"] = roles
        return operation

    def _get_response_bodies(self, direction: Any = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        # drf-spectacular leaves this one unannotated.
        error = self._get_response_for_code(ErrorSerializer, "400")  # type: ignore[no-untyped-call]
        statuses = dict(ERROR_STATUSES)
        if self.method in ("PATCH", "PUT"):
            statuses.update(EDIT_STATUSES)
        if self._is_create():
            statuses.update(CREATE_STATUSES)
        for code, description in statuses.items():
            if code == "401" and not self.get_auth():
                continue
            responses.setdefault(code, {**error, "description": description})
        return responses

    def _is_create(self) -> bool:
        handler = getattr(self.view, getattr(self.view, "action", "") or "", None)
        return self.method == "POST" and getattr(handler, "idempotent", False)

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method in ("PATCH", "PUT"):
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    str,
                    OpenApiParameter.HEADER,
                    required=True,
                    description="The ETag of the version being edited (from its last GET).",
                )
            )
        if self._is_create():
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    description=(
                        "Optional. A retry with the same key and body creates nothing and "
                        "answers with the record created first, as it is now (404 if the "
                        "caller can no longer reach it); keys last 24 hours, per user."
                    ),
                )
            )
        return parameters


def close_request_bodies(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Request bodies refuse unknown fields (``StrictInputMixin``), so say so."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`, the token from `POST /api/v1/auth/login/`.",
        }
