"""Local development: the README's first command runs with these."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
LOGGING["handlers"]["console"]["formatter"] = os.environ.get("LOG_FORMAT", "plain")  # noqa: F405
