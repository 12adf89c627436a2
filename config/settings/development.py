"""Local development: the README's first command runs with these."""

import os

# Readable log lines on a terminal; set LOG_FORMAT=json to see what production writes.
os.environ.setdefault("LOG_FORMAT", "plain")

from config.settings.base import *  # noqa: E402, F403
from config.settings.base import env_bool  # noqa: E402

DEBUG = env_bool("DEBUG", True)
