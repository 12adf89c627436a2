"""System checks of the API's deployment (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
UNSHARED_CACHE = "mend.E001"


@register(Tags.caches, deploy=True)
def shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Login and API throttles count in the default cache: a cache of one process lets each
    worker allow the whole limit again."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PROCESS_LOCAL_CACHES:
        return [
            Error(
                "The default cache lives in one process's memory, so throttles multiply by "
                "the number of server processes.",
                hint="Set REDIS_URL, or CACHE_BACKEND=database and run "
                "`manage.py createcachetable`.",
                id=UNSHARED_CACHE,
            )
        ]
    return []
