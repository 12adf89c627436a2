"""The access log as practice admins read it: ids, never names or note text."""

from __future__ import annotations

from rest_framework import serializers

from cases.models import AccessEvent


class AccessEventSerializer(serializers.ModelSerializer[AccessEvent]):
    username = serializers.CharField(
        source="user.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = AccessEvent
        fields = [
            "id",
            "practice",
            "seq",
            "occurred_at",
            "user",
            "username",
            "action",
            "resource",
            "record_ids",
            "client_ids",
            "ip_address",
            "status_code",
            "outcome",
            "request_id",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields
