"""The field lists that stay written by hand, and what each leaves out on purpose.

What the API shows and what a service lets a caller change are decisions, not something to
derive from the models. So each such list is named here together with the model's concrete
fields it deliberately leaves out, and ``tests/test_field_lists.py`` fails when a model gains
a field that one of its lists neither includes nor leaves out here: a new field is a decision
for every list of its model. (The demo seed's columns and the purge's and the demo reset's
tables are derived from the models instead: ``ruptures.demo.tables``, ``cases.model_graph``.)

The lists themselves stay where they are written: the services' here by import, the
serializers' (``Meta.fields``) read from the classes by the test.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Model

from cases.models import Client, Participant, Practice, TherapySession
from cases.services import (
    CLIENT_EDITABLE_FIELDS,
    PARTICIPANT_EDITABLE_FIELDS,
    PRACTICE_SETTINGS_FIELDS,
    SESSION_EDITABLE_FIELDS,
    SESSION_SIGNED_FIELDS,
)
from ruptures.models import RuptureEpisode
from ruptures.services import EPISODE_EDITABLE_FIELDS

# Left out of most lists, for the same reasons everywhere:
# the row's id and the server's own timestamps, which no caller sets;
SERVER_SET = ("id", "created_at", "updated_at")
# the tenant key, which the server takes from the record's parent and callers never see;
TENANT = ("practice",)
# the archiving stamp: an archived record is gone from every answer, so the stamp never shows.
ARCHIVED = ("archived_at",)


@dataclass(frozen=True)
class ServiceFields:
    """A service's list of the fields a caller may give, written in the service."""

    name: str  # where it is written
    model: type[Model]
    fields: Collection[str]
    left_out: Collection[str]


SERVICE_FIELDS = (
    ServiceFields(
        "cases.services.PRACTICE_SETTINGS_FIELDS",
        Practice,
        PRACTICE_SETTINGS_FIELDS,
        # The slug is the practice's name in URLs and logs: fixed at creation.
        left_out=("id", "slug", "created_at"),
    ),
    ServiceFields(
        "cases.services.CLIENT_EDITABLE_FIELDS",
        Client,
        CLIENT_EDITABLE_FIELDS,
        # The code is the pseudonym, fixed; status and discharge date change by discharge.
        left_out=(*SERVER_SET, *TENANT, *ARCHIVED, "code", "status", "discharge_date"),
    ),
    ServiceFields(
        "cases.services.PARTICIPANT_EDITABLE_FIELDS",
        Participant,
        PARTICIPANT_EDITABLE_FIELDS,
        left_out=("id", "created_at", *TENANT, *ARCHIVED, "client"),
    ),
    ServiceFields(
        "cases.services.SESSION_EDITABLE_FIELDS",
        TherapySession,
        SESSION_EDITABLE_FIELDS,
        # Whose session it is and who held it are fixed at creation.
        left_out=(*SERVER_SET, *TENANT, *ARCHIVED, "client", "clinician"),
    ),
    ServiceFields(
        "cases.services.SESSION_SIGNED_FIELDS",
        TherapySession,
        SESSION_SIGNED_FIELDS,
        # What a signed note documents is fixed by signing; the rest is not (the clinician
        # cannot change anyway).
        left_out=(*SERVER_SET, *TENANT, *ARCHIVED, "clinician", "setting"),
    ),
    ServiceFields(
        "ruptures.services.EPISODE_EDITABLE_FIELDS",
        RuptureEpisode,
        EPISODE_EDITABLE_FIELDS,
        # The relationship is what the episode is about (another one is another episode);
        # status and closing go through their own services; marker schemes are the
        # database's; a recurrence is recorded as such.
        left_out=(
            *SERVER_SET,
            *TENANT,
            *ARCHIVED,
            "client",
            "relationship",
            "marker_schemes",
            "status",
            "closed_on",
            "recurrence_of",
            "created_by",
        ),
    ),
)

# Every ModelSerializer of ``api.serializers``, by class name: the model's concrete fields it
# does not show (its ``Meta.fields`` are what it shows).
_USER_PRIVATE = ("password", "last_login", "is_superuser", "is_staff", "date_joined")
_PRACTICE_SETTINGS = tuple(
    name for name in PRACTICE_SETTINGS_FIELDS if name not in ("name", "timezone")
)
SERIALIZER_LEFT_OUT: dict[str, tuple[str, ...]] = {
    # The log shows every column: it holds ids only.
    "AccessEventSerializer": (),
    # A person as others see them: a name, no account details.
    "PersonSerializer": (
        *_USER_PRIVATE,
        "first_name",
        "last_name",
        "email",
        "is_active",
    ),
    "MeSerializer": (*_USER_PRIVATE, "is_active"),
    "UserSerializer": _USER_PRIVATE,
    "UserCreateSerializer": _USER_PRIVATE,
    # A practice as its members see it: what it is called and its clock, not its settings.
    "PracticeBriefSerializer": (*_PRACTICE_SETTINGS, "created_at"),
    "PracticeSettingsSerializer": (),
    "MyMembershipSerializer": ("id", "user", "is_active", "created_at"),
    "MembershipSerializer": (),
    "UserMembershipSerializer": ("user", "created_at"),
    "SupervisionAssignmentSerializer": (),
    "ClientSerializer": ARCHIVED,
    "ParticipantSerializer": (*TENANT, *ARCHIVED),
    "TherapySessionSerializer": (*TENANT, *ARCHIVED),
    # Addenda are shown inside their note, which names it and its author.
    "AddendumSerializer": (*TENANT, "note"),
    "ProgressNoteSerializer": (*TENANT, *ARCHIVED),
    # Only its author ever reads a process note.
    "ProcessNoteSerializer": (*TENANT, *ARCHIVED, "author"),
    "SessionRatingScaleSerializer": (*TENANT, *ARCHIVED),
    "OutcomeRatingScaleSerializer": (*TENANT, *ARCHIVED),
    "PostSessionQuestionnaireSerializer": (*TENANT, *ARCHIVED),
    "WorkingAllianceInventorySerializer": (*TENANT, *ARCHIVED),
    "RuptureEpisodeSerializer": (*TENANT, *ARCHIVED),
    # A recurrence takes its client and relationship from the episode it recurs.
    "EpisodeRecurrenceSerializer": (*TENANT, *ARCHIVED, "client", "relationship"),
    "RepairAttemptSerializer": (*TENANT, *ARCHIVED),
    # The dedup key is the server's bookkeeping for deriving each signal once.
    "RuptureSignalSerializer": (*TENANT, "dedup_key"),
}
