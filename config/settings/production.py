"""Production: every secret and host comes from the environment; unsafe defaults refuse to start."""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool, env_list

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure") or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production."
    )

DEBUG = False
if env_bool("DEBUG", False):
    raise ImproperlyConfigured("DEBUG must not be enabled in production.")

if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "DATABASE_URL must name the PostgreSQL database in production "
        "(postgresql://user:password@host:5432/mend)."
    )

if CACHES["default"]["BACKEND"].endswith("LocMemCache"):  # noqa: F405
    raise ImproperlyConfigured(
        "Production needs a cache shared by every server process, or throttles and lockouts "
        "multiply by the number of workers: set REDIS_URL=redis://host:6379/0, or "
        "CACHE_BACKEND=database and run `manage.py createcachetable`."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this server answers to.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
