"""Messages of the domain errors the cases services raise; tests and the API assert on them."""

NOT_A_MEMBER = "This person has no active {role} membership in the practice."
SUPERVISE_SELF = "A clinician cannot supervise themselves."
CLIENT_DISCHARGED = "The client is discharged; reactivate the client before adding sessions."
DISCHARGE_BEFORE_INTAKE = "The discharge date cannot be before the intake date."
ALREADY_DISCHARGED = "The client is already discharged."
NOT_DISCHARGED = "The client is not discharged."
PRIMARY_NOT_REMOVABLE = "The primary clinician cannot leave the care team; name another first."
NOT_IN_CARE_TEAM = "The clinician is not on this client's care team."
NAIVE_DATETIME = "The start time must include a time zone."
NOTE_EXISTS = "This session already has a progress note."
NOTE_SIGNED_IMMUTABLE = "A signed note cannot be changed; add an addendum instead."
NOTE_ALREADY_SIGNED = "The note is already signed."
NOTE_NOT_SIGNED = "Addenda are for signed notes; edit the draft instead."
NOTE_EMPTY = "A note must have text in at least one section before it is signed."
NOTE_SIGNER_NOT_AUTHOR = "Only the note's author can sign it."
NOTE_EDITOR_NOT_AUTHOR = "Only the note's author can edit its draft."
NOTE_SECTIONS_MISMATCH = "The {format} format has the sections {expected}."
NOTE_SECTION_NOT_TEXT = "Each section must be text."
PROCESS_NOTE_AUTHOR_ONLY = "A process note can be changed only by its author."
MEASURE_NEEDS_ATTENDANCE = "Measures are recorded for attended sessions only."
MEASURE_EXISTS = "This measure is already recorded for the session."
UNKNOWN_TIMEZONE = "Give an IANA time zone name such as Europe/London."
SESSION_HAS_MEASURES = "Measures were recorded for this session, so it stays attended."
PSQ_RATING_NEEDED = "Rate tension and resolution (1–5) when a rupture was experienced."
PSQ_RATING_WITHOUT_RUPTURE = "Leave tension and resolution out when no rupture was experienced."
SESSION_SIGNED_LOCKED = (
    "The session's progress note is signed, so this is part of the record and cannot change; "
    "add an addendum to the note to correct it."
)
SESSION_SIGNED_NOT_ARCHIVABLE = (
    "The session's progress note is signed, so the session stays in the record; "
    "add an addendum to the note to correct it."
)
PRIMARY_CHANGE_PRIMARY_ONLY = (
    "Only the client's primary clinician can name another primary clinician."
)
CARE_TEAM_REMOVE_PRIMARY_ONLY = (
    "Only the client's primary clinician can remove others from the care team; "
    "anyone on it may leave it."
)
GRANT_SELF_CLINICAL = (
    "A practice admin cannot grant themselves a clinical role (clinician or supervisor); "
    "another practice admin has to."
)
NOT_PRACTICE_ADMIN = "Only a practice admin of this practice can do this."
ROLES_NEEDED = "Give at least one role."
ROLE_TWICE = "Give each role once."
USER_IN_OTHER_PRACTICE = (
    "This person also works in a practice you do not administer, so their account cannot be "
    "switched off or on here; revoke their memberships in your practice instead."
)
DEACTIVATE_SELF = "You cannot deactivate your own account; ask another practice admin."
USER_ALREADY_INACTIVE = "This account is already deactivated."
USER_ALREADY_ACTIVE = "This account is already active."
ONBOARDING_LINK_INVALID = (
    "This set-password token is not valid: it was used already, has expired (after 72 hours) "
    "or is wrong. Ask your practice admin."
)
PARTICIPANT_INDIVIDUAL_CLIENT = (
    "Only a couple or a family has participants; an individual client answers for themselves."
)
PARTICIPANT_LABEL_TAKEN = "Another participant of this client has this label."
PARTICIPANT_OTHER_CLIENT = "The participant belongs to another client."
PARTICIPANT_NEEDED = (
    "Name the participant who answered: this client's participants each answer for themselves."
)
PARTICIPANT_NOT_FOR_THERAPIST = "A participant answers client-side measures only."
CLIENT_KIND_HAS_PARTICIPANTS = (
    "The client has participants; remove them before making the client an individual."
)
# The edit guard of every service (``cases.edits``): fields a caller may not write there.
FIELD_NOT_EDITABLE = "This field cannot be changed."
FIELD_NOT_IN_MEASURE = "This field is not part of the measure."
