"""Reading client input: JSON bodies and text fields, with clear errors."""
from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from .errors import HandoffError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Invisible characters that only hide or reorder text (zero-width space, bidi
# overrides that make "exe.txt" read as "txt.exe", BOM); emoji joiners are kept.
_INVISIBLE = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_\-:.@]{1,64}$")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/413 with a reason."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise HandoffError("body_too_large", "The request body is too large.", 413)
    if not raw:
        raise HandoffError("empty_body", "A JSON object body is required.")
    try:
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise HandoffError("malformed_json", "The request body must be a JSON object.")
        return _valid_unicode(body)
    except (ValueError, UnicodeDecodeError):
        raise HandoffError("malformed_json", "The request body is not valid JSON.")
    except RecursionError:  # [[[[...]]]] thousands deep
        raise HandoffError("malformed_json", "The request body is nested too deeply.")


def _valid_unicode(value: Any) -> Any:
    """Lone UTF-16 surrogates ("\\ud800" in JSON) become "?": they cannot be stored or sent on."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if _SURROGATE.search(value) else value
    if isinstance(value, list):
        return [_valid_unicode(v) for v in value]
    if isinstance(value, dict):
        return {_valid_unicode(k): _valid_unicode(v) for k, v in value.items()}
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json_text(raw: str) -> dict[str, Any]:
    """A WebSocket frame as a JSON object."""
    try:
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise HandoffError("malformed_json", "The message must be a JSON object.")
        return _valid_unicode(body)
    except ValueError:
        raise HandoffError("malformed_json", "The message is not valid JSON.")
    except RecursionError:
        raise HandoffError("malformed_json", "The message is nested too deeply.")


def message_text(value: Any, max_chars: int, field: str = "text") -> str:
    """A chat message: a non-empty string within the length limit, control characters removed."""
    if not isinstance(value, str):
        raise HandoffError("bad_text", f"{field} must be a string.")
    cleaned = _INVISIBLE.sub("", _CONTROL.sub("", value)).strip()
    if not cleaned:
        raise HandoffError("empty_text", f"{field} must not be empty.")
    if len(cleaned) > max_chars:
        raise HandoffError("text_too_long", f"{field} is {len(cleaned)} characters; the limit is {max_chars}.", 413)
    return cleaned


def optional_str(body: dict[str, Any], key: str, max_len: int) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise HandoffError("bad_field", f"{key} must be a string.")
    if len(value) > max_len:
        raise HandoffError("bad_field", f"{key} is longer than {max_len} characters.")
    return value


def optional_number(body: dict[str, Any], key: str, low: float | None = None, high: float | None = None) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise HandoffError("bad_field", f"{key} must be a number.")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HandoffError("bad_field", f"{key} must be a number.")
    if (low is not None and value < low) or (high is not None and value > high):
        raise HandoffError("bad_field", f"{key} must be between {low} and {high}.")
    return float(value)


def int_param(value: Any, name: str, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HandoffError("bad_field", f"{name} must be an integer.")
