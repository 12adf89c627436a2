from rest_framework import serializers

from api.serializers.base import Body, StrictSerializer
from api.serializers.people import MeSerializer


class LoginSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False, write_only=True)


class LoginResponseSerializer(serializers.Serializer[Body]):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(
        help_text="When the token expires if unused; each use renews it, up to 12 hours in all."
    )
    user = MeSerializer()


class SetPasswordSerializer(StrictSerializer):
    # Any text is taken as a uid or token: a wrong one, whatever its shape, gets the one
    # answer of a token that is not valid (``cases.services.password_set``).
    uid = serializers.CharField(allow_blank=True, trim_whitespace=False)
    token = serializers.CharField(allow_blank=True, trim_whitespace=False)
    # As long as a login accepts.
    password = serializers.CharField(max_length=1024, trim_whitespace=False, write_only=True)
