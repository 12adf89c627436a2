"""Choice sets of the ruptures app, spelled as in DESIGN.md."""

from django.db import models


class Relationship(models.TextChoices):
    THERAPIST = "therapist", "Therapist (the alliance)"
    PARTNER = "partner", "Partner"
    PARENT = "parent", "Parent"
    CHILD = "child", "Child"
    SIBLING = "sibling", "Sibling"
    OTHER_FAMILY = "other_family", "Other family"
    FRIEND = "friend", "Friend"
    COWORKER = "coworker", "Co-worker"
    MANAGER = "manager", "Manager"
    DOCTOR = "doctor", "Doctor"
    OTHER = "other", "Other"


class Direction(models.TextChoices):
    """Who felt unheard."""

    CLIENT = "client", "The client"
    OTHER_PERSON = "other_person", "The other person"
    BOTH = "both", "Both"


class RuptureKind(models.TextChoices):
    WITHDRAWAL = "withdrawal", "Withdrawal"
    CONFRONTATION = "confrontation", "Confrontation"
    MIXED = "mixed", "Mixed"


class MarkerScheme(models.TextChoices):
    RRS_2015 = "3rs_2015", "3RS (Eubanks, Lubitz, Muran & Safran 2015)"
    RELATIONAL_SIGNS = "relational_signs", "Relational signs"


class Marker(models.TextChoices):
    # 3RS withdrawal markers
    DENIAL = "denial", "Denial"
    MINIMAL_RESPONSE = "minimal_response", "Minimal response"
    ABSTRACT_COMMUNICATION = "abstract_communication", "Abstract communication"
    AVOIDANT_STORYTELLING = "avoidant_storytelling", "Avoidant storytelling / shifting topic"
    DEFERENTIAL_APPEASING = "deferential_appeasing", "Deferential and appeasing"
    CONTENT_AFFECT_SPLIT = "content_affect_split", "Content/affect split"
    SELF_CRITICISM = "self_criticism", "Self-criticism / hopelessness"
    # 3RS confrontation markers
    COMPLAINTS_ABOUT_THERAPIST = "complaints_about_therapist", "Complaints about the therapist"
    REJECTS_INTERVENTION = "rejects_intervention", "Rejects therapist intervention"
    COMPLAINTS_ABOUT_ACTIVITIES = (
        "complaints_about_activities",
        "Complaints about the activities of therapy",
    )
    COMPLAINTS_ABOUT_PARAMETERS = (
        "complaints_about_parameters",
        "Complaints about the parameters of therapy",
    )
    COMPLAINTS_ABOUT_PROGRESS = "complaints_about_progress", "Complaints about progress"
    DEFENDS_SELF = "defends_self", "Defends self against therapist"
    CONTROLS_OR_PRESSURES = "controls_or_pressures", "Efforts to control or pressure the therapist"
    # Relational signs, for ruptures outside therapy
    FINE_AGAINST_TONE = "fine_against_tone", "\u201cIt's fine\u201d said against its tone"
    SURFACE_AFFECTION = "surface_affection", "Surface affection or gifts in place of support"
    DISENGAGEMENT = "disengagement", "Disengagement (screen, TV, \u201ctoo tired to talk\u201d)"
    STOPPED_SHARING = "stopped_sharing", "Stopped sharing or initiating"
    EMOTIONAL_WALLS = "emotional_walls", "Emotional walls / detachment"
    FUNCTIONAL_COEXISTENCE = (
        "functional_coexistence",
        "Functional coexistence (\u201croommates\u201d)",
    )


WITHDRAWAL_MARKERS = (
    Marker.DENIAL,
    Marker.MINIMAL_RESPONSE,
    Marker.ABSTRACT_COMMUNICATION,
    Marker.AVOIDANT_STORYTELLING,
    Marker.DEFERENTIAL_APPEASING,
    Marker.CONTENT_AFFECT_SPLIT,
    Marker.SELF_CRITICISM,
)
CONFRONTATION_MARKERS = (
    Marker.COMPLAINTS_ABOUT_THERAPIST,
    Marker.REJECTS_INTERVENTION,
    Marker.COMPLAINTS_ABOUT_ACTIVITIES,
    Marker.COMPLAINTS_ABOUT_PARAMETERS,
    Marker.COMPLAINTS_ABOUT_PROGRESS,
    Marker.DEFENDS_SELF,
    Marker.CONTROLS_OR_PRESSURES,
)
RELATIONAL_MARKERS = (
    Marker.FINE_AGAINST_TONE,
    Marker.SURFACE_AFFECTION,
    Marker.DISENGAGEMENT,
    Marker.STOPPED_SHARING,
    Marker.EMOTIONAL_WALLS,
    Marker.FUNCTIONAL_COEXISTENCE,
)
RRS_MARKERS = WITHDRAWAL_MARKERS + CONFRONTATION_MARKERS
# Each marker belongs to one scheme; an episode stores the scheme beside each of its markers.
MARKER_SCHEME_OF: dict[str, str] = {
    **{marker: MarkerScheme.RRS_2015 for marker in RRS_MARKERS},
    **{marker: MarkerScheme.RELATIONAL_SIGNS for marker in RELATIONAL_MARKERS},
}


class Moment(models.TextChoices):
    """The five critical moments, or another."""

    VULNERABILITY_DISMISSED = "vulnerability_dismissed", "Vulnerability dismissed"
    EMOTIONAL_CRISIS = "emotional_crisis", "Emotional crisis"
    REPEATED_MISUNDERSTANDING = "repeated_misunderstanding", "Repeated misunderstanding"
    HOLLOW_AFFECTION = "hollow_affection", "Hollow affection"
    UNRESOLVED_CONFLICT = "unresolved_conflict", "Unresolved conflict"
    OTHER = "other", "Other"


class Factor(models.TextChoices):
    STRESS = "stress", "Stress"
    RESENTMENT = "resentment", "Resentment"
    EXHAUSTION = "exhaustion", "Exhaustion"
    MENTAL_HEALTH = "mental_health", "Mental health"
    INCOMPATIBILITY = "incompatibility", "Incompatibility"
    OTHER = "other", "Other"


class EpisodeSource(models.TextChoices):
    CLIENT_REPORTED = "client_reported", "Reported by the client"
    CLINICIAN_OBSERVED = "clinician_observed", "Observed by the clinician"


class EpisodeStatus(models.TextChoices):
    OPEN = "open", "Open"
    REPAIRING = "repairing", "Repairing"
    RESOLVED = "resolved", "Resolved"
    UNRESOLVED = "unresolved", "Unresolved"
    RELATIONSHIP_ENDED = "relationship_ended", "Relationship ended"


CLOSED_STATUSES = (
    EpisodeStatus.RESOLVED,
    EpisodeStatus.UNRESOLVED,
    EpisodeStatus.RELATIONSHIP_ENDED,
)
# Every move an episode may make. Closed states have none: a rupture that comes back is a
# new episode linked to the old one. Resolution is reached through repair.
EPISODE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    EpisodeStatus.OPEN: (
        EpisodeStatus.REPAIRING,
        EpisodeStatus.UNRESOLVED,
        EpisodeStatus.RELATIONSHIP_ENDED,
    ),
    EpisodeStatus.REPAIRING: CLOSED_STATUSES,
    EpisodeStatus.RESOLVED: (),
    EpisodeStatus.UNRESOLVED: (),
    EpisodeStatus.RELATIONSHIP_ENDED: (),
}


class Initiator(models.TextChoices):
    CLIENT = "client", "Client"
    THERAPIST = "therapist", "Therapist"
    OTHER_PERSON = "other_person", "Other person"
    BOTH = "both", "Both"


class Strategy(models.TextChoices):
    # 3RS resolution strategies (ruptures in the alliance)
    CLARIFY_MISUNDERSTANDING = "clarify_misunderstanding", "Clarify a misunderstanding"
    CHANGE_TASKS_OR_GOALS = "change_tasks_or_goals", "Change tasks or goals"
    ILLUSTRATE_TASKS = "illustrate_tasks", "Illustrate tasks or give a rationale"
    INVITE_DISCUSSION = (
        "invite_discussion",
        "Invite discussion of thoughts/feelings about the therapist or therapy",
    )
    ACKNOWLEDGE_OWN_CONTRIBUTION = "acknowledge_own_contribution", "Acknowledge own contribution"
    DISCLOSE_OWN_EXPERIENCE = (
        "disclose_own_experience",
        "Disclose own experience of the interaction",
    )
    LINK_TO_ALLIANCE_PATTERNS = "link_to_alliance_patterns", "Link to patterns in the alliance"
    LINK_TO_OTHER_RELATIONSHIPS = (
        "link_to_other_relationships",
        "Link to patterns in other relationships",
    )
    VALIDATE_DEFENSIVE_POSTURE = "validate_defensive_posture", "Validate the defensive posture"
    REDIRECT_OR_REFOCUS = "redirect_or_refocus", "Redirect or refocus"
    # Relational repair moves (ruptures outside therapy)
    ACKNOWLEDGE_RUPTURE = "acknowledge_rupture", "Acknowledge the rupture"
    VULNERABLE_STATEMENT = (
        "vulnerable_statement",
        "Vulnerable \u201cI felt unheard when\u2026\u201d",
    )
    ACTIVE_LISTENING = "active_listening", "Active listening"
    VALIDATE_FEELINGS = "validate_feelings", "Validate feelings"
    ASK_HOW_TO_SHOW_UP = "ask_how_to_show_up", "Ask \u201chow can I show up for you better?\u201d"
    SMALL_CONSISTENT_ACTIONS = "small_consistent_actions", "Small consistent actions"
    HARD_CONVERSATION = "hard_conversation", "Hard conversation"


RRS_STRATEGIES = tuple(Strategy)[:10]
RELATIONAL_MOVES = tuple(Strategy)[10:]


class RepairOutcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    PARTLY_RESOLVED = "partly_resolved", "Partly resolved"
    NOT_RESOLVED = "not_resolved", "Not resolved"
    WORSENED = "worsened", "Worsened"


# An episode is resolved only after an attempt with one of these outcomes.
RESOLVING_OUTCOMES = (RepairOutcome.RESOLVED, RepairOutcome.PARTLY_RESOLVED)


class SignalRule(models.TextChoices):
    SRS_ALERT = "srs_alert", "SRS below the cutoff or dropped"
    PSQ_RUPTURE = "psq_rupture", "PSQ rupture with tension and little resolution"
    ORS_DETERIORATION = "ors_deterioration", "ORS reliable deterioration"
    REPEATED_RUPTURE = "repeated_rupture", "Same relationship ruptured repeatedly"
    UNREPAIRED_EPISODE = "unrepaired_episode", "Episode open with no repair attempt"


class SignalStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    DISMISSED = "dismissed", "Dismissed"
