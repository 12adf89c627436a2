"""The bare server of the HTTP benchmark (``benchmarks.http``): one WSGI function over psycopg
and orjson, no Django, answering the benchmarked requests with the SQL Mend runs for them.

``benchmarks.http`` captures Mend's statements in process and writes them to the plan file
named by ``BENCHMARK_BARE_PLAN``; this server reads it at start. For each request it

* looks the token up as knox stores it: one SELECT on ``knox_authtoken`` by the token's key,
  then the digest and the expiry are compared here. The token must be the benchmark
  clinician's: the plan's statements are that clinician's, with their ids in the SQL;
* for a GET, runs the plan's statements for that path and query string in order, each on
  its own as Mend's reads do (autocommit), and answers every row as a JSON object;
* for ``POST /api/v1/sessions/``, runs Mend's INSERT of the session (the same SQL, bound on
  the client side as Django binds it) with the body's values, and answers the new id.

Nothing else: no roles lookup, no access event, no throttle, no validation, no idempotency
record (the ``Idempotency-Key`` header is ignored).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import psycopg

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _load_plan() -> dict[str, Any]:
    with open(os.environ["BENCHMARK_BARE_PLAN"], "rb") as plan:
        return orjson.loads(plan.read())  # type: ignore[no-any-return]


PLAN = _load_plan()
_connection: psycopg.Connection[Any] | None = None


def _database() -> psycopg.Connection[Any]:
    """One connection per worker, kept open, as Django keeps its own (``CONN_MAX_AGE``)."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(
            os.environ["DATABASE_URL"], autocommit=True, cursor_factory=psycopg.ClientCursor
        )
    return _connection


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)


def _authenticated(environ: dict[str, Any]) -> bool:
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme != "Token" or not token:
        return False
    rows = _database().execute(
        "SELECT digest, user_id, expiry FROM knox_authtoken WHERE token_key = %s",
        [token[: PLAN["token_key_length"]]],
    )
    digest = hashlib.new(PLAN["token_hash"], token.encode()).hexdigest()
    now = dt.datetime.now(dt.UTC)
    return any(
        hmac.compare_digest(stored, digest)
        and user_id == PLAN["user_id"]
        and (expiry is None or expiry > now)
        for stored, user_id, expiry in rows
    )


def _rows(sql: str) -> list[dict[str, Any]]:
    with _database().cursor() as cursor:
        cursor.execute(sql)
        if cursor.description is None:
            return []
        names: list[str] = []
        for column in cursor.description:
            # A joined table repeats names (two "id"s): keep every column.
            name = column.name
            while name in names:
                name += "_"
            names.append(name)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _create(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = orjson.loads(environ["wsgi.input"].read(length))
    create = PLAN["create"]
    now = dt.datetime.now(dt.UTC)
    values = {
        **create["defaults"],
        "client_id": body["client"],
        "starts_at": dt.datetime.fromisoformat(body["starts_at"]),
        "duration_minutes": body["duration_minutes"],
        "modality": body["modality"],
        "setting": body["setting"],
        "attendance": body["attendance"],
        "created_at": now,
        "updated_at": now,
    }
    row = _database().execute(create["sql"], [values[c] for c in create["columns"]]).fetchone()
    if row is None:
        raise RuntimeError("The INSERT returned no id.")
    return {"id": row[0], **body}


def _answer(start_response: StartResponse, status: str, body: Any) -> Iterable[bytes]:
    payload = orjson.dumps(body, default=_json_default)
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    try:
        if not _authenticated(environ):
            return _answer(start_response, "401 Unauthorized", {"detail": "Invalid token."})
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        statements = PLAN["reads"].get(f"{path}?{query}" if query else path)
        if method == "GET" and statements is not None:
            return _answer(start_response, "200 OK", {"rows": [_rows(s) for s in statements]})
        if method == "POST" and PLAN["create"] and path == PLAN["create"]["path"]:
            return _answer(start_response, "201 Created", _create(environ))
        return _answer(start_response, "404 Not Found", {"detail": "Not found."})
    except psycopg.OperationalError:
        # A lost connection: the next request opens another.
        global _connection
        _connection = None
        raise
