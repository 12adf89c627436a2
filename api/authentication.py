"""Token authentication for a browser frontend (django-rest-knox) and the lockout answer.

Knox stores only a SHA-512 digest of each token, expires a token after 30 idle minutes and
12 hours in all (settings ``REST_KNOX``), and refuses the tokens of deactivated users.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from api import errors

TOKEN_SHAPE = re.compile(rb"[0-9a-fA-F]{8,256}")


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request: Request) -> Any:
        # Knox passes over a header of another scheme, and the caller hears only that no
        # credentials came. Mend has one scheme: say which (a frontend sending the usual
        # "Bearer" is the common mistake).
        header = get_authorization_header(request).split()
        if header and header[0].lower() != self.authenticate_header(request).encode().lower():
            raise exceptions.AuthenticationFailed(errors.WRONG_AUTHORIZATION_SCHEME)
        return super().authenticate(request)

    def authenticate_credentials(self, token: bytes) -> Any:
        # Knox tokens are hex. Anything else (bytes that are not UTF-8, a NUL the database
        # would refuse) is a bad token, answered 401 before any lookup.
        if not TOKEN_SHAPE.fullmatch(token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = JsonResponse(
        errors.error_body(
            status=429, code="locked_out", detail=errors.LOCKED_OUT.format(minutes=minutes)
        ),
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
