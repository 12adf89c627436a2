"""Names and text fragments for the demo practice.

Small built-in lists rather than a fake-data library: the seed must be fast at a million rows
and reproducible from one ``random.Random``. Names look real; every contact detail is
unmistakably fake (``example.org`` addresses, Ofcom's numbers reserved for drama).
"""

from __future__ import annotations

FIRST_NAMES = tuple(
    (
        "Aisha Alex Amara Amelia Arjun Ava Ben Bethany Callum Chloe Connor Daisy Daniel Dev "
        "Eleanor Eli Ellie Emeka Erin Ethan Fatima Finn Freya Gabriel Grace Hannah Harvey "
        "Imani Isaac Isla Jack Jada Jamal Jess Jordan Joseph Kai Kavya Kiran Laila Leo Lily "
        "Lucas Maya Megan Mohammed Nadia Nathan Niamh Noah Olivia Omar Oscar Owen Priya "
        "Rachel Rafael Riley Rosa Ruby Ryan Sam Sana Sophie Tariq Theo Tom Yusuf Zara Zoe"
    ).split()
)

LAST_NAMES = tuple(
    (
        "Adeyemi Ahmed Ali Bailey Baker Bennett Brooks Campbell Carter Chen Clarke Cooper "
        "Davies Doyle Edwards Ellis Evans Fisher Foster Garcia Gill Graham Green Hall Harris "
        "Hughes Hussain Jackson James Johnson Jones Kaur Kelly Khan King Kowalski Lee Lewis "
        "Martin Mensah Mitchell Moore Morgan Murphy Nguyen Novak O'Brien Okafor Owen Parker "
        "Patel Phillips Price Reid Roberts Robinson Rossi Russell Scott Shah Singh Smith "
        "Taylor Thomas Turner Walker Ward Watson White Williams Wilson Wood Wright Young"
    ).split()
)

# The logins a demo is driven with stay the same whatever the seed.
HEADLINE_STAFF = (
    # (username, first name, last name, roles)
    ("priya.shah", "Priya", "Shah", ("practice_admin",)),
    ("ruth.okafor", "Ruth", "Okafor", ("supervisor",)),
    ("daniel.meyer", "Daniel", "Meyer", ("clinician", "supervisor")),
    ("ellen.brooks", "Ellen", "Brooks", ("clinician",)),
)

# --- Progress notes ----------------------------------------------------------------------------

PRESENTING = (
    "low mood most days this week",
    "more settled than last week",
    "anxious about the return to work",
    "tired and irritable after poor sleep",
    "hopeful after a better weekend",
    "flat and withdrawn",
    "panicky on the commute twice this week",
    "angry after an argument at home",
    "tearful when talking about the anniversary of the loss",
    "calmer since starting the evening routine",
)
TOPICS = (
    "conflict at home over chores and money",
    "grief for a parent who died last year",
    "boundaries with their mother",
    "a performance review at work",
    "the children's school refusal",
    "feeling invisible in the relationship",
    "drinking more at weekends",
    "a friendship that has gone quiet",
    "the pursue-withdraw cycle between the partners",
    "who does the emotional labour in the family",
    "fear of being a burden",
    "a diagnosis and the waiting for results",
)
OBSERVED = (
    "Casually dressed, good eye contact, speech of normal rate and volume.",
    "Appeared tired; affect constricted, brightened when talking about the children.",
    "Restless, spoke quickly, laughed when describing painful events.",
    "Well groomed, guarded at first, more open in the second half.",
    "Tearful at times; able to settle with grounding.",
    "Partners sat apart and addressed the therapist rather than each other.",
)
INTERVENTIONS = (
    "Explored the pattern of withdrawing when criticised.",
    "Practised paced breathing and grounding.",
    "Chair work to voice the complaint that usually goes unsaid.",
    "Reviewed the thought record from the week.",
    "Psychoeducation on the stress response and sleep.",
    "Mapped the cycle of pursuing and withdrawing between the partners.",
    "Enactment: each partner described the other's bid for connection.",
    "Genogram work on how anger was handled in the family of origin.",
    "Validated the wish for closeness behind the criticism.",
    "Behavioural activation plan for the coming week.",
)
RESPONSES = (
    "Engaged well and linked the pattern to their early experience.",
    "Guarded at first; warmed up once the pace slowed.",
    "Found the exercise difficult but asked to continue next time.",
    "Reported feeling lighter by the end of the session.",
    "Partners were able to name one thing they appreciated in each other.",
    "Became quiet when the topic turned to the relationship with the therapist.",
)
PLANS = (
    "Continue weekly sessions.",
    "Thought record daily; review next session.",
    "Try the twenty-minute check-in twice this week.",
    "Keep the sleep diary; review medication with the GP.",
    "Continue fortnightly; review goals at session twelve.",
    "Practise the grounding exercise when panic rises.",
)
RISK = (
    "No current risk to self or others reported.",
    "Passive thoughts of not wanting to be here, no plan or intent; safety plan reviewed.",
    "No risk concerns raised.",
)
RUPTURE_IN_NOTE = "Alliance strain noted this session; addressed together before the end."
NO_SHOW_NOTE = "Client did not attend and did not cancel. Voicemail and email sent to rebook."

ADDENDUM_REASONS = (
    "Late entry: information received after signing.",
    "Correction of a factual detail.",
    "Clarification of the safety plan.",
    "Client asked for a detail to be corrected.",
)
ADDENDUM_TEXTS = (
    "Client emailed after the session to say the GP appointment has been moved forward.",
    "The date of the family meeting was the 14th, not the 4th as written.",
    "Safety plan includes calling the crisis line before going out alone at night.",
    "The argument described took place with a sibling, not the partner.",
)

PROCESS_NOTES = (
    "Noticed my impatience when we went over the same ground again; does this mirror the "
    "partner's response at home?",
    "I felt protective and wanted to rescue. Bring to supervision.",
    "Something in the way they said 'it's fine' stayed with me after the session.",
    "I may have moved to problem-solving too fast when the grief came up.",
    "Felt shut out for most of the hour, then a moment of real contact near the end.",
    "Wondering whether my holiday next month is behind the distance today.",
    "Caught myself siding with one partner; need to hold both.",
)

# --- Ruptures ---------------------------------------------------------------------------------

THERAPIST_RUPTURE_DESCRIPTIONS = {
    "withdrawal": (
        "Went quiet after I suggested the homework; said 'it's fine' with a flat voice.",
        "Shifted to a long story about work when I asked about the relationship with me.",
        "Agreed with everything I said, then cancelled the next session.",
        "Spoke about the loss without feeling; changed topic when I reflected the sadness.",
    ),
    "confrontation": (
        "Said the sessions are going nowhere and asked what I am actually doing.",
        "Rejected the thought record as pointless; annoyed I had suggested it again.",
        "Complained about the fee increase and the change of room.",
        "Felt I had taken the partner's side last week and said so sharply.",
    ),
    "mixed": (
        "Criticised the pace of therapy, then apologised and went quiet.",
        "Angry about the missed session, then said it did not matter.",
    ),
}
OUTSIDE_RUPTURE_DESCRIPTIONS = (
    "Told the {who} about the biopsy results; the {who} kept looking at the phone.",
    "The {who} said 'you're overreacting' when the client described the panic attack.",
    "Weeks of talking only about logistics with the {who}; no real conversation.",
    "The {who} brought flowers after the argument but would not talk about it.",
    "Felt dismissed by the {who} when asking for help with the move.",
    "The {who} forgot the anniversary of the loss again.",
    "Stopped telling the {who} about the bad days; 'too tired to talk' most evenings.",
)
RELATIONSHIP_WORDS = {
    "partner": "partner",
    "parent": "mother",
    "child": "teenage son",
    "sibling": "sister",
    "other_family": "aunt",
    "friend": "closest friend",
    "coworker": "colleague",
    "manager": "line manager",
    "doctor": "GP",
    "other": "landlord",
}
REPAIR_NOTES = (
    "Named the moment and asked what it had been like for them.",
    "Acknowledged I had moved too fast; agreed to slow down.",
    "Client said it helped to hear it was not their fault.",
    "They talked it through over the weekend and both apologised.",
    "Tried a 'when you..., I felt...' statement; partly heard.",
    "",
)
DISMISSAL_REASONS = (
    "Reviewed with the client; no rupture identified.",
    "Score reflects a hard week outside therapy, not the alliance.",
    "Discussed in supervision; no action needed.",
    "Client ticked the wrong box; confirmed verbally.",
)
