"""Uploaded photos: their pixel size, read from the file, and the PhotoSize list Telegram answers with.

Telegram keeps a photo in several sizes (the longest side at most 90, 320, 800 and 1280 px, never
larger than the original) and answers ``sendPhoto`` with one PhotoSize per size, smallest first.
PNG, JPEG, GIF and WebP are read; anything else is refused as Telegram refuses it.
"""

from __future__ import annotations

import secrets
import struct
from typing import Any

from local.telegram_sim.errors import bad_request

MAX_PHOTO_BYTES = 10 * 1024 * 1024
SIZE_LIMITS = (90, 320, 800, 1280)


def photo_dimensions(data: bytes) -> tuple[int, int]:
    if not data:
        raise bad_request("file must be non-empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")
    size = _png(data) or _gif(data) or _webp(data) or _jpeg(data)
    if size is None or min(size) <= 0:
        raise bad_request("IMAGE_PROCESS_FAILED")
    width, height = size
    if width + height > 10000 or max(width, height) > 20 * min(width, height):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return size


def photo_sizes(width: int, height: int, file_size: int) -> list[dict[str, Any]]:
    sizes: list[dict[str, Any]] = []
    longest = max(width, height)
    for limit in SIZE_LIMITS:
        scale = min(1.0, limit / longest)
        scaled = (max(1, round(width * scale)), max(1, round(height * scale)))
        estimated = file_size if scale == 1.0 else max(100, int(file_size * scale * scale))
        sizes.append(
            {
                "file_id": "AgACAgIAAxkDAAI" + secrets.token_urlsafe(48),
                "file_unique_id": "AQAD" + secrets.token_urlsafe(10),
                "file_size": estimated,
                "width": scaled[0],
                "height": scaled[1],
            }
        )
        if scale == 1.0:
            break
    return sizes


def _png(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return None


def _gif(data: bytes) -> tuple[int, int] | None:
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    if data[:2] != b"\xff\xd8":
        return None
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        # Start-of-frame markers (baseline, progressive ...) carry the size; C4, C8 and CC do not.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + length
    return None
