"""Message text as Telegram reads it: ``parse_mode`` HTML turned into plain text and entities.

The HTML rules and error messages are the Bot API's (tdlib's ``parse_html``): only the documented tags
(``b``, ``i``, ``u``, ``s``, ``a``, ``code``, ``pre``, ``blockquote``, ``tg-spoiler`` and their aliases),
every ``<`` must open or close one of them, tags must nest, and ``&lt;`` ``&gt;`` ``&amp;`` ``&quot;`` and
numeric entities are decoded (any other ``&`` stays as it is). A caller that forgets to escape a ``<`` in
user-supplied text gets the 400 Telegram would answer. Entity offsets and lengths count UTF-16 code
units, and leading and trailing whitespace is trimmed, as Telegram does. ``MarkdownV2`` and ``Markdown``
are accepted but not interpreted (the text is kept as sent).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from local.telegram_sim.errors import BotApiError, bad_request

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_TAG_NAME = re.compile(r"[^\s>]*")
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
PARSE_MODES = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    name: str
    offset: int  # UTF-16 offset in the plain text
    attributes: dict[str, str]
    language: str | None = None
    children: list[str] = field(default_factory=list)


def parse_text(text: str, parse_mode: str | None, entities: Any = None) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and its entities; 400 for an unknown ``parse_mode`` or malformed HTML."""
    if parse_mode:
        mode = PARSE_MODES.get(parse_mode.lower())
        if mode is None:
            raise bad_request("unsupported parse_mode")
        if mode == "HTML":
            plain, found = parse_html(text)
            return _trim(plain, found)
        return _trim(text, [])
    given = [entity for entity in entities if isinstance(entity, dict)] if isinstance(entities, list) else []
    return _trim(text, given)


def _error(detail: str) -> BotApiError:
    return bad_request(f"can't parse entities: {detail}")


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    plain: list[str] = []
    position = 0  # UTF-16 length of ``plain``
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "&":
            match = _HTML_ENTITY.match(source, index)
            if match:
                decoded = html.unescape(match.group(0))
                plain.append(decoded)
                position += utf16_len(decoded)
                index = match.end()
                continue
        if char != "<":
            plain.append(char)
            position += utf16_len(char)
            index += 1
            continue
        byte_offset = len(source[:index].encode("utf-8"))
        closing = source.startswith("</", index)
        # The tag name runs to the first space or ">" (tdlib's rule, so "a < b" names an empty tag).
        name_start = index + (2 if closing else 1)
        name_match = _TAG_NAME.match(source, name_start)
        name_end = name_match.end() if name_match else name_start
        name = source[name_start:name_end].lower()
        end = source.find(">", name_end)
        if closing:
            if end == -1 or source[name_end:end].strip():
                raise _error(f"Unclosed end tag at byte offset {byte_offset}")
            if not stack:
                raise _error(f"Unexpected end tag at byte offset {byte_offset}")
            opened = stack.pop()
            if name != opened.name:
                raise _error(
                    f'Unmatched end tag at byte offset {byte_offset}, expected "</{opened.name}>", found "</{name}>"'
                )
            _close(opened, position, stack, entities)
            index = end + 1
            continue
        if name_end == len(source):
            raise _error(f"Unclosed start tag at byte offset {byte_offset}")
        if name not in _ENTITY_TYPES:
            raise _error(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
        if end == -1:
            raise _error(f"Unclosed start tag at byte offset {byte_offset}")
        attributes = _attributes(source[name_end:end], name, byte_offset)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise _error(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset}')
        stack.append(_Open(name, position, attributes))
        index = end + 1
    if stack:
        raise _error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(plain), entities


def _attributes(text: str, tag: str, byte_offset: int) -> dict[str, str]:
    attributes: dict[str, str] = {}
    rest = text.rstrip("/ \t\r\n")
    while rest.strip():
        match = _ATTRIBUTE.match(rest)
        if match is None or not match.group(1):
            raise _error(f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset}')
        value = next((group for group in match.groups()[1:] if group is not None), "")
        attributes[match.group(1).lower()] = html.unescape(value)
        rest = rest[match.end() :]
    return attributes


def _close(opened: _Open, position: int, stack: list[_Open], entities: list[dict[str, Any]]) -> None:
    length = position - opened.offset
    if opened.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-python">: one pre entity that names its language.
        language = opened.attributes.get("class", "")
        if language.startswith("language-"):
            stack[-1].language = language.removeprefix("language-")
        return
    if length <= 0:
        return
    entity: dict[str, Any] = {"offset": opened.offset, "length": length, "type": _ENTITY_TYPES[opened.name]}
    if opened.name == "a":
        href = opened.attributes.get("href", "")
        if not href:
            return
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity.update(
                type="text_mention", user={"id": int(user.group(1)), "is_bot": False, "first_name": ""}
            )
        else:
            entity["url"] = href
    elif opened.name == "pre" and opened.language:
        entity["language"] = opened.language
    elif opened.name == "blockquote" and "expandable" in opened.attributes:
        entity["type"] = "expandable_blockquote"
    elif opened.name == "tg-emoji":
        entity["custom_emoji_id"] = opened.attributes.get("emoji-id", "")
    entities.append(entity)


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram drops leading and trailing whitespace, and entities shrink with it."""
    stripped = text.strip()
    if not stripped:
        return "", []
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(int(entity.get("offset", 0)) - shift, 0)
        end = min(int(entity.get("offset", 0)) + int(entity.get("length", 0)) - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept
