"""Give the derived signals a history, in set-based SQL.

``signals_derive`` raises every signal at once, now, and leaves them open. A practice that had
used Mend all along would have met each signal when its evidence arrived and handled most of
the old ones: linked them to the episode they pointed at, or dismissed them with a reason.
Without that, the demo's inbox would hold months of stale signals and the "acknowledged
within 7 days" trend would be empty. Choices are made by hashing the signal's evidence key,
so the same data gives the same history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from ruptures.demo import vocabulary as words

# One statement, so each signal row is rewritten once. Draws are abs(hashtext(dedup_key ||
# salt)): a stable pseudo-random number from the evidence key, one salt per decision
# (hashtext is int4, widened before abs() so that -2^31 does not overflow).
_HISTORY = """
WITH evidence AS (
    SELECT
        sig.id,
        -- When the signal would have been raised had Mend been in use at the time: as the
        -- session's measures came in, or when the episode was recorded (or went unrepaired
        -- for too long).
        CASE
            WHEN sig.rule IN ('srs_alert', 'psq_rupture', 'ors_deterioration')
                THEN s.starts_at + make_interval(mins => s.duration_minutes + 15)
            WHEN sig.rule = 'unrepaired_episode'
                THEN LEAST(
                    %(now)s, e.created_at + make_interval(days => p.unrepaired_episode_days + 1)
                )
            ELSE LEAST(%(now)s, e.created_at)
        END AS raised_at,
        -- The episode a clinician would link it to: its own, or one recorded in its session.
        COALESCE(sig.episode_id, in_session.id) AS episode_id,
        c.primary_clinician_id AS clinician_id,
        abs(hashtext(sig.dedup_key || 'a')::bigint) AS draw_acknowledge,
        abs(hashtext(sig.dedup_key || 'd')::bigint) AS draw_dismiss,
        abs(hashtext(sig.dedup_key || 'h')::bigint) AS draw_hours,
        abs(hashtext(sig.dedup_key || 'r')::bigint) AS draw_reason
    FROM ruptures_rupturesignal AS sig
    JOIN cases_practice AS p ON p.id = sig.practice_id
    JOIN cases_client AS c ON c.id = sig.client_id
    LEFT JOIN cases_therapysession AS s ON s.id = sig.session_id
    LEFT JOIN ruptures_ruptureepisode AS e ON e.id = sig.episode_id
    LEFT JOIN LATERAL (
        SELECT ep.id FROM ruptures_ruptureepisode AS ep
        WHERE ep.session_id = sig.session_id AND ep.client_id = sig.client_id
        ORDER BY ep.id LIMIT 1
    ) AS in_session ON sig.episode_id IS NULL
    WHERE sig.practice_id = %(practice)s AND sig.status = 'open'
),
decided AS (
    SELECT
        evidence.*,
        CASE
            -- Most signals pointing at a recorded episode were linked to it within a week.
            WHEN episode_id IS NOT NULL
                 AND raised_at < %(now)s - interval '3 days'
                 AND mod(draw_acknowledge, 100) < 85
                THEN 'acknowledged'
            -- Nearly all the rest, once three weeks old, were looked at and dismissed: the
            -- inbox holds the recent signals and a few old ones nobody got to.
            WHEN raised_at < %(now)s - interval '21 days' AND mod(draw_dismiss, 100) < 95
                THEN 'dismissed'
            ELSE 'open'
        END AS status
    FROM evidence
)
UPDATE ruptures_rupturesignal AS sig
SET raised_at = decided.raised_at,
    status = decided.status,
    linked_episode_id = CASE WHEN decided.status = 'acknowledged' THEN decided.episode_id END,
    dismissal_reason = CASE
        WHEN decided.status = 'dismissed'
            THEN (%(reasons)s::text[])[1 + mod(decided.draw_reason, %(reason_count)s)]
        ELSE ''
    END,
    handled_by_id = CASE WHEN decided.status <> 'open' THEN decided.clinician_id END,
    handled_at = CASE decided.status
        WHEN 'acknowledged' THEN LEAST(
            %(now)s, decided.raised_at + interval '1 hour' * (1 + mod(decided.draw_hours, 200))
        )
        WHEN 'dismissed' THEN LEAST(
            %(now)s, decided.raised_at + interval '1 hour' * (4 + mod(decided.draw_hours, 300))
        )
    END
FROM decided
WHERE sig.id = decided.id
"""


def give_signals_history(*, practice_id: int, now: dt.datetime) -> None:
    params: dict[str, Any] = {
        "practice": practice_id,
        "now": now,
        "reasons": list(words.DISMISSAL_REASONS),
        "reason_count": len(words.DISMISSAL_REASONS),
    }
    with connection.cursor() as cursor:
        cursor.execute(_HISTORY, params)
