"""Structured logs: one JSON object a line, each with the id of the request it belongs to.

What goes in a log line is what the code logs: Mend logs paths, ids and outcomes, never note
text, identifying client fields, tokens or passwords (a test runs a clinical workflow and
searches the captured logs for each of them).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

request_id: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger with Mend's field names: time, level, logger, request_id, message
    (and exception, with its traceback, when there is one)."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "exc_info": "exception",
            },
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            json_ensure_ascii=False,
        )
