"""Access events: who read or changed which clinical records, when, from where, and with what
outcome (DESIGN.md, "Integrity, audit, retention").

The table is append-only in PostgreSQL: ``UPDATE`` and ``DELETE`` are refused by row triggers
and ``TRUNCATE`` by a statement trigger. Each practice's events form one **hash chain**
(events with no practice form their own): a ``BEFORE INSERT`` trigger, written in SQL in
migration ``0003_access_events``, locks the chain's row in ``AccessChainHead``, gives the new
event the next position (``seq``), the database clock (``occurred_at``) and

    hash = sha256(prev_hash || chr(30) || canonical text of the row)

where ``prev_hash`` is the hash of the chain's previous event (64 zeros for the first).
The application sends one ``INSERT`` and cannot choose any of those columns. Chains are per
practice, so recording an access waits only for other events of the same practice.

``verify_chains`` (``manage.py verify_audit``) recomputes every hash with the canonical form
defined here, independently of the trigger's function, and names the first broken row of
each chain. An edit, a deleted row (in the middle or at the end) or a reordering shows up as
a mismatch. Someone able to disable the triggers *and* rewrite every later hash and the chain
head could still forge a consistent chain; the heads printed by ``verify_audit``, kept outside
the database, anchor the chains against that.

The tables are models of ``cases`` like the others (``cases.models.audit``, where Django finds
them); they are importable from here too, beside the code that writes and verifies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, cast

from django.db import connection, models, transaction

from cases.models.audit import AccessAction, AccessChainHead, AccessEvent, AccessOutcome

GENESIS_HASH = "0" * 64
# The chain of events that belong to no practice (anonymous or unplaced requests).
NO_PRACTICE_CHAIN = 0
MAX_ID = 2**63 - 1

__all__ = [
    "GENESIS_HASH",
    "MAX_ID",
    "NO_PRACTICE_CHAIN",
    "AccessAction",
    "AccessChainHead",
    "AccessEvent",
    "AccessOutcome",
    "AuditReport",
    "ChainReport",
    "canonical_sql",
    "hash_sql",
    "record_access",
    "verify_chains",
]


# --- The canonical form, shared by the trigger (migration 0003) and the verifier ----------------


def canonical_sql(row: str) -> str:
    """SQL for the canonical text of the event ``row`` (``NEW`` in the trigger, an alias in the
    verifier): every column but the hashes, in a fixed order, joined by the unit separator.
    Strings are held by check constraints to characters that cannot be a separator; a missing
    value reads ``-``, which no present value can be."""
    parts = [
        f"{row}.id::text",
        f"coalesce({row}.practice_id::text, '-')",
        f"{row}.seq::text",
        f"coalesce({row}.user_id::text, '-')",
        f"{row}.action",
        f"{row}.resource",
        f"{row}.record_ids::text",
        f"{row}.client_ids::text",
        f"(extract(epoch FROM {row}.occurred_at) * 1000000)::bigint::text",
        f"coalesce(host({row}.ip_address), '-')",
        f"coalesce({row}.status_code::text, '-')",
        f"{row}.outcome",
        f"{row}.request_id",
    ]
    return "concat_ws(chr(31), " + ", ".join(parts) + ")"


def hash_sql(row: str, prev_hash: str) -> str:
    return (
        f"encode(sha256(convert_to({prev_hash} || chr(30) || {canonical_sql(row)}, 'UTF8')), 'hex')"
    )


# --- Recording ----------------------------------------------------------------------------------


_NOWHERE = "SELECT NULL::bigint, NULL::bigint, NULL::bigint WHERE false"


def _columns(model: type[models.Model]) -> dict[str, str]:
    """Field name to column, for the model's concrete fields."""
    return {f.name: f.column for f in model._meta.concrete_fields}


def _locator(model: type[models.Model] | None) -> str:
    """SELECT of ``(id, practice_id, client_id)`` for the rows of ``model`` whose id is in the
    CTE ``requested``: where a record lives and whose it is. Built from the model's fields, so
    any table with ``practice_id`` works; ``client_id`` comes from the row, or its session."""
    if model is None:
        return _NOWHERE
    meta, columns = model._meta, _columns(model)
    pk, join = meta.pk.column if meta.pk else "id", ""
    if meta.label == "cases.Practice":
        practice = f"t.{pk}"
    elif "practice" in columns:
        practice = f"t.{columns['practice']}"
    else:
        return _NOWHERE
    if meta.label == "cases.Client":
        client = f"t.{pk}"
    elif "client" in columns:
        client = f"t.{columns['client']}"
    elif "session" in columns:
        session_model = cast(type[models.Model], meta.get_field("session").related_model)
        session = _columns(session_model)
        join = (
            f"JOIN {session_model._meta.db_table} s ON s.{session['id']} = t.{columns['session']}"
        )
        client = f"s.{session['client']}"
    else:
        client = "NULL::bigint"
    return (
        f"SELECT t.{pk}, {practice}, {client} FROM {meta.db_table} t {join} "  # noqa: S608
        f"WHERE t.{pk} IN (SELECT id FROM requested)"
    )


# One event per practice the records belong to. Records that are nowhere (an id that does not
# exist, or no records at all) go to the caller's practices, or to the no-practice chain.
# Rows are inserted in practice order, so two requests lock chain heads in the same order.
_RECORD_SQL = """
WITH requested AS (
    SELECT id, ord FROM unnest(%s::bigint[]) WITH ORDINALITY AS r(id, ord)
),
located (id, practice_id, client_id) AS ({locator}),
fallback_ids AS (SELECT %s::bigint[] AS ids),
fallback AS (
    SELECT p AS practice_id FROM fallback_ids, unnest(ids) AS f(p)
    UNION ALL SELECT NULL::bigint FROM fallback_ids WHERE cardinality(ids) = 0
),
placed AS (
    SELECT q.id, q.ord, l.practice_id, l.client_id
    FROM requested q JOIN located l ON l.id = q.id
    UNION ALL
    SELECT q.id, q.ord, f.practice_id, NULL::bigint
    FROM requested q CROSS JOIN fallback f
    WHERE NOT EXISTS (SELECT 1 FROM located l WHERE l.id = q.id)
    UNION ALL
    SELECT NULL::bigint, NULL::bigint, f.practice_id, NULL::bigint
    FROM fallback f WHERE NOT EXISTS (SELECT 1 FROM requested)
)
INSERT INTO {table} (
    practice_id, user_id, action, resource, record_ids, client_ids,
    ip_address, status_code, outcome, request_id
)
SELECT
    practice_id, %s, %s, %s,
    coalesce(array_agg(id ORDER BY ord) FILTER (WHERE id IS NOT NULL), '{{}}'),
    coalesce(array_agg(DISTINCT client_id) FILTER (WHERE client_id IS NOT NULL), '{{}}'),
    %s::inet, %s, %s, %s
FROM placed
GROUP BY practice_id
ORDER BY practice_id NULLS FIRST
RETURNING id
"""


@cache
def _record_sql(model: type[models.Model] | None) -> str:
    """The statement recording an access to rows of ``model``, written once per model."""
    return _RECORD_SQL.format(locator=_locator(model), table=AccessEvent._meta.db_table)


def _ids(values: Sequence[Any]) -> list[int]:
    seen: dict[int, None] = {}
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
            seen.setdefault(value, None)
    return list(seen)


def record_access(
    *,
    user_id: int | None,
    action: str,
    resource: str,
    model: type[models.Model] | None,
    record_ids: Sequence[int] = (),
    fallback_practice_ids: Sequence[int] = (),
    ip_address: str | None = None,
    status_code: int | None = None,
    outcome: str = AccessOutcome.ALLOWED,
    request_id: str = "",
    durable: bool = True,
) -> list[int]:
    """Record one access in a single statement (one round trip); returns the new event ids.

    The database looks up which practice and client each of ``record_ids`` (rows of
    ``model``) belongs to and writes one event per practice, so an attempt on another
    practice's record is logged where that practice's admins see it. Ids that match no row,
    or an access with no records, are logged under ``fallback_practice_ids`` (the caller's
    practices), or under no practice when there are none.

    Runs in the caller's transaction, if any: a write and its event commit together. Outside
    one, ``durable=False`` commits the event without waiting for the WAL flush (see
    ``AUDIT_ASYNC_READS`` in the README): a practice's chain is then locked for microseconds
    rather than for a disk flush, and a database crash can lose the last fraction of a
    second of such events, as a whole suffix of their chain, head included, so the chain
    still verifies.
    """
    # Positional, in the order of the statement (pgtrigger.ignore needs positional ones).
    params = [
        _ids(record_ids),
        sorted(set(_ids(fallback_practice_ids))),
        user_id,
        action,
        resource,
        ip_address,
        status_code,
        outcome,
        request_id,
    ]
    sql = _record_sql(model)
    if not durable and not connection.in_atomic_block:
        # The statement is its own transaction: let its COMMIT skip the wait for the disk.
        sql = "SELECT set_config('synchronous_commit', 'off', true);" + sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while cursor.nextset():  # to the INSERT's rows, past any statement put before it
            pass
        return [row[0] for row in cursor.fetchall()]


# --- Verifying ----------------------------------------------------------------------------------

# Every row whose position, link or content is wrong, the first of each chain. One pass over
# the (practice, seq) index; sha256 runs in the database.
_BROKEN_SQL = f"""
WITH walked AS (
    SELECT e.id, e.practice_id, e.seq, e.prev_hash, e.hash,
           lag(e.seq) OVER w AS previous_seq,
           lag(e.hash) OVER w AS previous_hash,
           {hash_sql("e", "e.prev_hash")} AS recomputed
    FROM cases_accessevent e
    WINDOW w AS (PARTITION BY e.practice_id ORDER BY e.seq)
)
SELECT DISTINCT ON (practice_id)
    id, practice_id, seq, prev_hash, hash, previous_seq, previous_hash, recomputed
FROM walked
WHERE seq <> coalesce(previous_seq, 0) + 1
   OR prev_hash <> coalesce(previous_hash, %s)
   OR hash <> recomputed
ORDER BY practice_id, seq
"""  # noqa: S608

_CHAINS_SQL = f"""
SELECT coalesce(c.practice_id, h.chain_practice) AS practice_id,
       coalesce(c.events, 0), c.last_seq, c.last_hash, h.seq, h.hash, h.chain IS NOT NULL
FROM (
    SELECT practice_id, count(*) AS events, max(seq) AS last_seq,
           (array_agg(hash ORDER BY seq DESC))[1] AS last_hash
    FROM cases_accessevent GROUP BY practice_id
) c
FULL JOIN (
    SELECT chain, nullif(chain, {NO_PRACTICE_CHAIN}) AS chain_practice, seq, hash
    FROM cases_accesschainhead
) h ON h.chain = coalesce(c.practice_id, {NO_PRACTICE_CHAIN})
ORDER BY 1 NULLS FIRST
"""  # noqa: S608


@dataclass(frozen=True)
class ChainReport:
    practice_id: int | None
    events: int
    head_hash: str
    # The first broken row of the chain, and what is wrong with it.
    broken_event_id: int | None = None
    broken_seq: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class AuditReport:
    chains: list[ChainReport] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return all(chain.intact for chain in self.chains)

    @property
    def events(self) -> int:
        return sum(chain.events for chain in self.chains)


def _row_problem(row: tuple[Any, ...]) -> str:
    _, _, seq, prev_hash, stored, previous_seq, previous_hash, recomputed = row
    expected_seq = (previous_seq or 0) + 1
    expected_prev = previous_hash or GENESIS_HASH
    if seq != expected_seq:
        missing = f"seq {expected_seq}" + (f" to {seq - 1}" if seq > expected_seq + 1 else "")
        return f"the events before it are missing ({missing}): rows were deleted"
    if prev_hash != expected_prev:
        return (
            f"its prev_hash {prev_hash[:12]}… is not the hash of the event before it "
            f"({expected_prev[:12]}…): rows were deleted or reordered"
        )
    return (
        f"its content does not match its hash (stored {stored[:12]}…, recomputed "
        f"{recomputed[:12]}…): the row was changed after it was recorded"
    )


def _chain_report(chain: tuple[Any, ...], broken: dict[int | None, tuple[Any, ...]]) -> ChainReport:
    practice, events, last_seq, last_hash, head_seq, head_hash, has_head = chain
    report = ChainReport(practice_id=practice, events=events, head_hash=head_hash or "")
    row = broken.get(practice)
    if row is not None:
        return replace(report, broken_event_id=row[0], broken_seq=row[2], problem=_row_problem(row))
    if not has_head:
        return replace(
            report, problem="the chain has no head row: the chain heads were tampered with"
        )
    if (head_seq, head_hash) != (last_seq, last_hash):
        ends = f"seq {last_seq}" if events else "no event at all"
        return replace(
            report,
            broken_seq=(last_seq or 0) + 1,
            problem=(
                f"the chain head records seq {head_seq} but the chain ends at {ends}: "
                "the newest events were deleted"
            ),
        )
    return report


def verify_chains() -> AuditReport:
    """Recompute every chain and report the first broken row of each. Reads one snapshot,
    so events recorded meanwhile cannot look like a tampered tail."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(_BROKEN_SQL, [GENESIS_HASH])
        broken = {row[1]: row for row in cursor.fetchall()}
        cursor.execute(_CHAINS_SQL)
        chains = cursor.fetchall()
    return AuditReport(chains=[_chain_report(chain, broken) for chain in chains])
