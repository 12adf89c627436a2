"""The test database as a URL, for the real processes a test starts (gunicorn, the worker)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.db import connection


def current_database_url() -> str:
    """pytest-django's ``test_…`` database, on whichever server the suite runs: the machine's
    (``HOST``/``PORT``) or the embedded one, reached through its socket folder, which
    dj-database-url keeps in ``OPTIONS['host']``."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    login = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    name = quote(db["NAME"], safe="")
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host") or ""
    port = db.get("PORT") or db.get("OPTIONS", {}).get("port") or ""
    if host.startswith("/"):
        query = {"host": host, **({"port": str(port)} if port else {})}
        return f"postgresql://{login}/{name}?{urlencode(query)}"
    return f"postgresql://{login}{host or '127.0.0.1'}:{port or 5432}/{name}"
