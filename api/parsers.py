"""The API's JSON parser: DRF's, made safe for two kinds of bodies Python's ``json`` accepts
but nothing after it can handle."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from api import errors

SURROGATE = re.compile("[\ud800-\udfff]")
# Enough to find the fields to fix; a body of 256 KiB could hold tens of thousands.
MAX_REPORTED = 10


class SurrogateInBody(ParseError):
    """A ``\\udxxx`` escape that is not half of a pair: JSON allows it, but it is no character,
    so neither PostgreSQL nor any UTF-8 answer (an error echoing the value) can hold it.
    ``field_errors`` names where it is, in the one error format's ``errors``."""

    default_detail = errors.SURROGATE_IN_BODY

    def __init__(self, field_errors: list[dict[str, str]]) -> None:
        super().__init__()
        self.field_errors = field_errors


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _add(found: list[dict[str, str]], path: str, message: str) -> None:
    item = {"field": path or "non_field_errors", "code": "surrogate", "message": message}
    if item not in found:
        found.append(item)


def surrogate_errors(data: Any) -> list[dict[str, str]]:
    """Where lone surrogates sit in parsed JSON, as error items with dotted paths: the value's
    path, or for a key, the path of the object holding it. Iterative: the parser lets JSON
    nest nearly to the recursion limit."""
    found: list[dict[str, str]] = []
    pending: list[tuple[str, Any]] = [("", data)]
    while pending and len(found) < MAX_REPORTED:
        path, value = pending.pop()
        if isinstance(value, str):
            if SURROGATE.search(value):
                _add(found, path, errors.SURROGATE_IN_VALUE)
        elif isinstance(value, dict):
            children = []
            for key, child in value.items():
                if SURROGATE.search(key):
                    _add(found, path, errors.SURROGATE_IN_KEY)
                else:
                    children.append((_join(path, key), child))
            pending.extend(reversed(children))  # in document order
        elif isinstance(value, list):
            pending.extend(reversed([(_join(path, i), item) for i, item in enumerate(value)]))
    return found


class JSONParser(parsers.JSONParser):
    """DRF's parser, but two bodies are bad requests (400) rather than crashes: JSON nested
    past Python's recursion limit (the body is small, the nesting is what hurts), and strings
    or keys holding lone surrogates, refused here once for every endpoint."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error
        found = surrogate_errors(data)
        if found:
            raise SurrogateInBody(found)
        return data
