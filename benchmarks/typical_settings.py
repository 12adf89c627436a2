"""Mend's production settings serving the typical DRF endpoint of ``benchmarks.typical_drf``
instead of Mend's URLs: the same middleware, authentication, throttles and database."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "benchmarks.typical_drf"
