"""Test settings: fast password hashing, everything else as in base."""

from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# No collected static files in tests: WhiteNoise looks them up per request instead of warning
# that the folder is missing.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
