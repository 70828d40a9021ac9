"""Reading a Bot API request's parameters the ways Telegram accepts them.

Telegram takes parameters from the query string and from a body that is JSON
(``application/json``), form-encoded (``application/x-www-form-urlencoded``) or ``multipart/form-data``
(the only way to upload a file). In a JSON body values keep their JSON types; elsewhere every value is a
string, and structured ones (``allowed_updates``, ``reply_markup`` ...) are JSON-serialized strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from local.telegram_sim.errors import BotApiError, bad_request


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart body."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


Params = dict[str, Any]

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


def parse_request(query: str, content_type: str, body: bytes) -> Params:
    params: Params = dict(parse_qsl(query, keep_blank_values=True))
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params
    if media_type == "application/json":
        try:
            decoded = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise BotApiError(400, "Bad Request: can't parse JSON object") from None
        if not isinstance(decoded, dict):
            raise BotApiError(400, "Bad Request: can't parse JSON object")
        params.update(decoded)
    elif media_type == "multipart/form-data":
        params.update(_parse_multipart(content_type, body))
    else:  # form-encoded, and what curl sends without a content type
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _parse_multipart(content_type: str, body: bytes) -> Params:
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise bad_request("multipart boundary is missing")
    delimiter = b"--" + (match.group(1) or match.group(2)).encode("latin-1")
    params: Params = {}
    # Parts sit between "\r\n--boundary" lines; the first delimiter has no CRLF before it.
    for chunk in (b"\r\n" + body).split(b"\r\n" + delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            continue
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (
                line.partition(":") for line in head.decode("utf-8", "replace").split("\r\n") if line
            )
        }
        disposition = {
            key.lower(): (quoted.replace('\\"', '"') if quoted is not None else bare)
            for key, quoted, bare in _DISPOSITION_PARAM.findall(headers.get("content-disposition", ""))
        }
        name = disposition.get("name")
        if not name:
            continue
        if "filename" in disposition:
            params[name] = Upload(
                disposition["filename"], headers.get("content-type", "application/octet-stream"), content
            )
        else:
            params[name] = content.decode("utf-8", "replace")
    return params


# --- typed reads ---------------------------------------------------------------------------------


def text_param(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, Upload):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def bool_param(params: Params, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on")


def json_param(params: Params, name: str) -> Any:
    """A structured parameter: as is from a JSON body, decoded from its JSON string otherwise."""
    value = params.get(name)
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(f"can't parse {name} JSON object") from None


def chat_id_param(params: Params) -> int | str:
    """An integer chat id, or an ``@username`` (which only channels and groups have)."""
    value = params.get("chat_id")
    if isinstance(value, bool) or value is None or isinstance(value, Upload):
        raise bad_request("chat_id is empty")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if not text:
        raise bad_request("chat_id is empty")
    try:
        return int(text)
    except ValueError:
        return text
