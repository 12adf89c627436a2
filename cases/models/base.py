"""Abstract bases for what the clinical models share, written once.

Fields of an abstract base come first among a model's fields; the table's columns stay in the
order the migrations gave them.
"""

from __future__ import annotations

from django.db import models

from cases.models.people import Practice


class PracticeScoped(models.Model):
    """A row that belongs to one practice. ``practice`` is the tenant key every query is
    scoped by; where the row points at other rows of the practice, composite foreign keys
    (``cases.same_practice``) hold them to the same one."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class Archivable(models.Model):
    """A row that DELETE through the API archives rather than deletes."""

    # Set by DELETE through the API: gone from every list and lookup, kept until purged.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True
