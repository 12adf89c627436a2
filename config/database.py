"""Database selection: ``DATABASE_URL`` when set, otherwise an embedded PostgreSQL.

The embedded server comes from the ``pgserver`` package, which ships PostgreSQL's binaries
as a wheel, so a fresh clone needs nothing installed by hand. Its data folder lives inside
the project (git ignores it) and is reused across runs; the server stops when the last
process that uses it exits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
EMBEDDED_DATA_DIR = Path(os.environ.get("MEND_PGDATA", BASE_DIR / ".pgdata"))
EMBEDDED_DATABASE_NAME = "mend"


def embedded_database_url() -> str:
    import pgserver  # imported lazily: deployments with DATABASE_URL never start it

    server = pgserver.get_server(EMBEDDED_DATA_DIR, cleanup_mode="stop")
    # The name is a constant of this module, not input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE_NAME};")
    return server.get_uri(EMBEDDED_DATABASE_NAME)


def database_config(*, conn_max_age: int = 60) -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL") or embedded_database_url()
    config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    config.setdefault("OPTIONS", {})
    return dict(config)
