"""Local development: the README's first command runs with these."""

import os

# Readable log lines on a terminal; set LOG_FORMAT=json to see what production writes.
os.environ.setdefault("LOG_FORMAT", "plain")

from config.database import database_config  # noqa: E402
from config.settings.base import *  # noqa: E402, F403
from config.settings.base import env_bool  # noqa: E402

DEBUG = env_bool("DEBUG", True)

# With no DATABASE_URL, the embedded PostgreSQL under .pgdata/ (README, "Two commands").
DATABASES = {"default": database_config(embedded=True)}
