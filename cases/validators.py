"""Rules about text that model fields share, kept in one place: what a name may hold, and how
long each free-text field may be (docs/api.md, "Errors"). Model fields carry them, so the
services (``full_clean``) and the API's serializers (which copy a model field's validators)
enforce the same rule."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# Caps of the free-text fields, in characters. A note may be long; an observation or a reason
# is short. A request body is capped too (256 KiB), so a progress note of several long
# sections may meet that limit first.
NOTE_TEXT_MAX_LENGTH = 50_000  # a process note, an addendum, each section of a progress note
OBSERVATION_MAX_LENGTH = 10_000  # a rupture episode's description, a repair attempt's note
PARTICIPANT_LABEL_MAX_LENGTH = 40  # a couple's or family's participant, as the record names them
REASON_MAX_LENGTH = 500  # an addendum's reason, a signal's dismissal reason

TEXT_TOO_LONG = "Ensure this field has no more than {max_length} characters."

# Characters that do not show, or that reorder what is shown around them: a name or a phone
# number holding one reads differently from what is stored (and from what a search finds).
#   C0 and C1 controls and DEL; zero-width space, non-joiner and joiner (U+200B–U+200D);
#   bidi embeddings and overrides (U+202A–U+202E); word joiner (U+2060); bidi isolates
#   (U+2066–U+2069); the byte order mark / zero-width no-break space (U+FEFF).
HIDDEN_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200d\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)
HIDDEN_CHARACTER = (
    "Remove the control, direction or zero-width character U+{code:04X}: "
    "names and phone numbers are plain text."
)


def validate_plain_text(value: str) -> None:
    """Refuse control, bidi-override/isolate and zero-width characters (client names and
    phone numbers)."""
    found = HIDDEN_CHARACTERS.search(value)
    if found is not None:
        raise ValidationError(
            HIDDEN_CHARACTER.format(code=ord(found.group())), code="hidden_character"
        )
