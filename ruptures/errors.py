"""Messages of the domain errors the ruptures services raise; tests and the API assert on them."""

EPISODE_CLOSED = "This episode is {status}; closed episodes are final. Record a recurrence instead."
TRANSITION_NOT_ALLOWED = "An episode cannot move from {old} to {new}."
RESOLVE_NEEDS_REPAIR = (
    "An episode is resolved through repair: record a repair attempt that resolved or partly "
    "resolved it first."
)
RECURRENCE_NEEDS_CLOSED = "Only a closed episode can recur; this one is still {status}."
RECURRENCE_EXISTS = "This episode already has a recurrence; record the new one against it."
SESSION_OTHER_CLIENT = "The session belongs to another client."
DATE_BEFORE_DETECTION = "This date is before the episode was detected."
DATE_IN_FUTURE = "This date is in the future."
MARKERS_WRONG_SCHEME = "These markers are not {scheme} markers for a {kind} rupture: {markers}."
MARKERS_ALLIANCE_ONLY = (
    "3RS markers are for ruptures with the therapist; a rupture with the {relationship} takes "
    "relational signs: {markers}."
)
KIND_NEEDED_FOR_ALLIANCE = (
    "Give the 3RS kind (withdrawal, confrontation or mixed) of a rupture with the therapist."
)
BOTH_INITIATED_NEEDS_BOTH_ENGAGED = (
    "An attempt both people initiated is one both engaged in: set both_engaged, or say who "
    "initiated it."
)
STRATEGIES_WRONG_KIND = (
    "These strategies do not apply to a rupture with the {relationship}: {items}."
)
SIGNAL_HANDLED = "This signal has already been {status}."
SIGNAL_EPISODE_OTHER_CLIENT = "A signal can be linked only to an episode of the same client."
SIGNALS_REPEATED = "Each signal once."
SIGNAL_HANDLED_OF = "Signal {id} has already been {status}."
DISMISSAL_NEEDS_REASON = "Say why the signal is dismissed."
RECURRENCE_OTHER_CLIENT = "A recurrence continues an episode of the same client."
RECURRENCE_FIELD_NOT_SETTABLE = "This field cannot be set here."
