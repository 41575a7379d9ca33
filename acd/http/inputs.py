"""Checks on what a client sends that the handlers share, so bad input is a 400, never a
500 from deeper down (PostgreSQL refuses NUL and lone surrogates; `zoneinfo` and
`datetime` raise their own errors; a header value must not carry a newline)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from acd.http.auth import clean, json_error
from acd.vocabulary.localtime import zone_of

# Reports and recordings are looked for within these years: outside them `datetime`
# arithmetic overflows (9999-12-31 plus a day) and PostgreSQL's intervals explode.
FIRST_YEAR, LAST_YEAR = 2000, 2100


__all__ = ["attachment", "body_text", "clean", "in_range", "number", "query_text",
           "time_zone", "whole_number"]


def body_text(data: dict[str, Any], name: str, limit: int, *,
              required: bool = False) -> str | None:
    """A text field of a JSON body, stripped; empty or missing is None (or a 400)."""
    value = data.get(name)
    text = value.strip() if isinstance(value, str) else value
    if text is None or text == "":
        if required:
            raise json_error(400, f"'{name}' is text of 1 to {limit} characters")
        return None
    if not isinstance(value, str) or not clean(value) or len(value) > limit:
        raise json_error(400, f"'{name}' is text of at most {limit} characters")
    return str(text)


def whole_number(data: dict[str, Any], name: str, default: int | None, low: int,
                 high: int) -> int | None:
    """An integer field of a JSON body (12.0 is 12 in JSON), `default` when missing."""
    value = data.get(name, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is not None and (type(value) is not int or not low <= value <= high):
        raise json_error(400, f"'{name}' is a whole number from {low} to {high}")
    return value


def query_text(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    if value is not None and not clean(value):
        raise json_error(400, f"'{name}' holds a character that is not allowed")
    return value


def time_zone(request: web.Request, default: str) -> str:
    name = query_text(request, "tz") or default
    try:
        zone_of(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        raise json_error(400, f"'tz' is an IANA time zone such as {default}") from None
    return name


def number(request: web.Request, name: str, default: float) -> float:
    text = query_text(request, name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise json_error(400, f"'{name}' is a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise json_error(400, f"'{name}' is a number of seconds, 0 or more")
    return value


def in_range(*moments: datetime) -> None:
    if any(not FIRST_YEAR <= m.year <= LAST_YEAR for m in moments):
        raise json_error(400, f"dates lie between {FIRST_YEAR} and {LAST_YEAR}")


def attachment(disposition: str, filename: str) -> str:
    """A Content-Disposition value for any file name (RFC 6266): an ASCII fallback with
    quotes, backslashes and control characters replaced, and the exact name encoded."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    value = f'{disposition}; filename="{fallback}"'
    if fallback == filename:
        return value
    # surrogateescape: a file name that is not UTF-8 on disk still encodes byte for byte.
    return value + "; filename*=UTF-8''" + quote(
        filename.encode("utf-8", "surrogateescape"), safe="")
