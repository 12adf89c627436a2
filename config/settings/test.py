"""Test settings: fast password hashing, everything else as in base."""

from config.database import database_config
from config.settings.base import *  # noqa: F403

# With no DATABASE_URL, the embedded PostgreSQL, as in development.
DATABASES = {"default": database_config(embedded=True)}

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# No collected static files in tests: WhiteNoise looks them up per request instead of warning
# that the folder is missing.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
