"""The API's own bookkeeping: what an ``Idempotency-Key`` replay needs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first successful create sent with an ``Idempotency-Key``: which request it was and
    which record it made, so that a retry creates nothing and gets that record as it is now.
    Ids only, never the answer's body: no client name or note text outlives its record here.
    Keys belong to one user and expire (``api.tasks``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The created record: its model's label (``cases.NoteAddendum``) and id.
    object_type = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    # Whose record it is part of (the client itself for a client), so that the retention purge,
    # which deletes clients with raw SQL, takes the key with them: the foreign key is declared
    # in migration 0002 with ON DELETE CASCADE, which Django 5.2 cannot express (its
    # ``on_delete`` runs in Python only). None for records of no client (a membership).
    client = models.ForeignKey(
        "cases.Client",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
