"""Login and logout. Tokens are django-rest-knox tokens (hashed at rest, idle and absolute
expiry); failed logins are counted by django-axes (three lockout limits: settings)."""

from __future__ import annotations

from typing import cast

from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from knox.models import get_token_model
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import errors
from api.authentication import lockout_response
from api.serializers.auth import LoginResponseSerializer, LoginSerializer, SetPasswordSerializer
from api.serializers.people import MeSerializer
from api.throttling import LoginRateThrottle
from cases import services


class InvalidCredentials(exceptions.APIException):
    # Not an AuthenticationFailed: DRF turns those into 403 on a view with no authenticators.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = errors.INVALID_CREDENTIALS
    default_code = "invalid_credentials"


def username_locked(username: str) -> bool:
    """The third lockout limit (settings, "Brute force"): the username's failures within the
    window, from every address, in django-axes' failure log."""
    since = timezone.now() - settings.USERNAME_FAILURE_WINDOW
    failures: int = AccessFailureLog.objects.filter(
        username=username, attempt_time__gte=since
    ).count()
    return failures >= settings.USERNAME_FAILURE_LIMIT


class LoginView(APIView):
    """Exchange a username and password for a token. An unknown user and a wrong password
    get the same answer; repeated failures lock a username at one address, an address, or
    (at a much higher count) a username from everywhere (429)."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]
    allowed_roles = "anyone"

    @extend_schema(request=LoginSerializer, responses={200: LoginResponseSerializer})
    def post(self, request: Request) -> Response:
        body = LoginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        django_request = request._request
        if username_locked(body.validated_data["username"]):
            return lockout_response(django_request)  # type: ignore[return-value]
        user = authenticate(django_request, **body.validated_data)
        if user is None:
            if getattr(django_request, "axes_locked_out", False):
                return lockout_response(django_request)  # type: ignore[return-value]
            raise InvalidCredentials()
        token_model = get_token_model()
        # Keep the newest tokens within the per-user limit rather than refusing a login.
        limit = cast(int, settings.REST_KNOX["TOKEN_LIMIT_PER_USER"])
        stale = token_model.objects.filter(user=user).order_by("-created")[limit - 1 :]
        token_model.objects.filter(pk__in=[token.pk for token in stale]).delete()
        instance, token = token_model.objects.create(user=user)
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        return Response(
            {"token": token, "expiry": instance.expiry, "user": MeSerializer(user).data},
            status=status.HTTP_200_OK,
        )


class LogoutView(APIView):
    """Revoke the token of this request at once."""

    permission_classes = [IsAuthenticated]
    allowed_roles = "any signed-in user"

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    """Revoke every token of the caller: every browser and device is signed out."""

    permission_classes = [IsAuthenticated]
    allowed_roles = "any signed-in user"

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        get_token_model().objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SetPasswordView(APIView):
    """Choose the password of a new account with the one-time token its practice admin was
    given (``POST /users/``). A used, expired, forged or mismatched token gets one answer (400
    on ``token``); a password Django's validators refuse, 400 on ``password``. Counts towards
    the address's login throttle."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]
    allowed_roles = "anyone with a set-password token"

    @extend_schema(request=SetPasswordSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        body = SetPasswordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.password_set(**body.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
