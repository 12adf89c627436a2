"""The access log's tables: ``AccessEvent`` and the head of each event chain (``AccessChainHead``).

How events are chained, recorded and verified is ``cases.audit``'s; the rows' hashes, positions
and times are written by the trigger of migration ``0003_access_events``. The models refer to
other models by name only.
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class AccessAction(models.TextChoices):
    """The usual actions; a custom API action is recorded by its own name (``sign``)."""

    LIST = "list", "List"
    READ = "read", "Read"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"


class AccessOutcome(models.TextChoices):
    # Allowed: it was done (2xx). Denied: the access rules refused the caller (401, 403, 404).
    # Failed: the rules let the request through but it was not done (an invalid body, a
    # conflict, a stale ETag, throttling, a server error); the status says which.
    ALLOWED = "allowed", "Allowed"
    DENIED = "denied", "Denied"
    FAILED = "failed", "Failed"


_EMPTY_IDS = models.Value([], output_field=ArrayField(models.BigIntegerField()))


class ProtectTruncate(pgtrigger.Trigger):
    """Refuse ``TRUNCATE``. It fires no row triggers, so ``pgtrigger.Protect`` on UPDATE and
    DELETE does not cover it; this is a statement-level trigger with the same message."""

    when = pgtrigger.Before
    operation = pgtrigger.Truncate
    level = pgtrigger.Statement

    def get_func(self, model: Any) -> str:
        return "RAISE EXCEPTION 'pgtrigger: Cannot truncate rows from % table', TG_TABLE_NAME;"


class AccessEvent(models.Model):
    """One access to clinical data through the API (or by a command). Ids only: no names, no
    note text, nothing a reader of the log could learn a client's identity from."""

    # Plain columns rather than foreign keys in the database: an event outlives the user and
    # the practice it names, and recording it takes no lock on their rows.
    practice = models.ForeignKey(
        "cases.Practice",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=40)
    # The API resource, as in its URL: ``client``, ``session``, ``progress-note``, ``srs``…
    resource = models.CharField(max_length=40)
    # The records addressed or returned: for a list, the ids on the page.
    record_ids = ArrayField(models.BigIntegerField(), db_default=_EMPTY_IDS, blank=True)
    client_ids = ArrayField(models.BigIntegerField(), db_default=_EMPTY_IDS, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # None for events that no HTTP request caused (a command).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=AccessOutcome.choices)
    request_id = models.CharField(max_length=64, blank=True, db_default="")
    # Set by the chain trigger whatever the writer sends.
    seq = models.BigIntegerField(db_default=0, editable=False)
    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    prev_hash = models.CharField(max_length=64, db_default="", editable=False)
    hash = models.CharField(max_length=64, db_default="", editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "seq"],
                name="access_event_chain_position",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=Q(seq__gte=1), name="access_event_seq_positive"),
            models.CheckConstraint(
                condition=Q(action__regex=r"^[a-z][a-z_]{0,39}$"), name="access_event_action"
            ),
            models.CheckConstraint(
                condition=Q(resource__regex=r"^[a-z][a-z0-9-]{0,39}$"),
                name="access_event_resource",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=AccessOutcome.values), name="access_event_outcome"
            ),
            models.CheckConstraint(
                condition=Q(status_code__isnull=True)
                | Q(status_code__gte=100, status_code__lte=599),
                name="access_event_status_code",
            ),
            models.CheckConstraint(
                condition=Q(request_id__regex=r"^[A-Za-z0-9._:-]{0,64}$"),
                name="access_event_request_id",
            ),
            models.CheckConstraint(
                condition=Q(prev_hash__regex=r"^[0-9a-f]{64}$", hash__regex=r"^[0-9a-f]{64}$"),
                name="access_event_hashes",
            ),
        ]
        indexes = [
            # The admin's log: a practice's events, newest first.
            models.Index(fields=["practice", "-id"], name="access_event_practice_idx"),
            # Who touched this client's records.
            GinIndex(fields=["client_ids"], name="access_event_client_idx"),
            # Date ranges; events arrive in time order, so a BRIN index is tiny.
            BrinIndex(fields=["occurred_at"], name="access_event_time_idx"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="access_event_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
            ProtectTruncate(name="access_event_no_truncate"),
        ]

    def __str__(self) -> str:
        return f"Access event {self.pk}: {self.action} {self.resource} ({self.outcome})"


class AccessChainHead(models.Model):
    """The newest event of each chain: its position and hash. Only the chain trigger writes
    here (a trigger refuses any other writer); ``verify_audit`` compares it with the last row
    of the chain, so deleting events at the end of a chain is seen too."""

    # The practice id, or ``cases.audit.NO_PRACTICE_CHAIN``.
    chain = models.BigIntegerField(primary_key=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        triggers = [ProtectTruncate(name="access_chain_head_no_truncate")]

    def __str__(self) -> str:
        return f"Chain {self.chain} at {self.seq}"
