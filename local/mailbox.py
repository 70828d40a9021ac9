"""The emails SES sent in the local stack (moto keeps them in memory), read back as a mail client shows them."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from local.aws import REGION

ACCOUNT_ID = "123456789012"


def _parts(message: EmailMessage) -> tuple[str, str, int]:
    text, html, images = "", "", 0
    for part in message.walk():
        content_type = part.get_content_type()
        if part.is_multipart():
            continue
        if content_type.startswith("image/"):
            images += 1
        elif content_type == "text/plain" and not text:
            text = str(part.get_content())
        elif content_type == "text/html" and not html:
            html = str(part.get_content())
    return text, html, images


def parse_email(raw: str) -> dict[str, Any]:
    message = email.message_from_string(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text, html, images = _parts(message)
    return {
        "to": ", ".join(address for _, address in getaddresses(message.get_all("To", []))),
        "from": str(message.get("From", "")),
        "subject": str(message.get("Subject", "")),
        "text": text,
        "html": html,
        "headers": {name: str(value) for name, value in message.items()},
        "images": images,
    }


def sent_messages() -> list[dict[str, Any]]:
    """What SES sent, as moto keeps it in this process: raw MIME (SendRawEmail) or the simple fields."""
    from moto.ses.models import ses_backends

    backend = ses_backends[ACCOUNT_ID][REGION]
    messages = []
    for sent in list(backend.sent_messages):
        # SendEmail keeps {"ToAddresses": [...], ...}; SendRawEmail a list (its MIME says the same)
        destinations = getattr(sent, "destinations", None) or {}
        to = destinations.get("ToAddresses", []) if isinstance(destinations, dict) else list(destinations)
        messages.append(
            {
                "raw": getattr(sent, "raw_data", None),
                "to": to,
                "from": getattr(sent, "source", ""),
                "subject": getattr(sent, "subject", ""),
                "body": getattr(sent, "body", ""),
            }
        )
    return messages


def sent_emails(to: str, messages: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every email sent to ``to`` (case-insensitive), oldest first, from ``messages`` (``sent_messages()``
    of the moto that sent them; this process's by default). Raw messages are parsed; simple ones (SendEmail)
    are shown as sent."""
    found = []
    for sent in sent_messages() if messages is None else messages:
        if sent["raw"] is not None:
            parsed = parse_email(sent["raw"])
        else:
            parsed = {
                "to": ", ".join(sent["to"]),
                "from": sent["from"],
                "subject": sent["subject"],
                "text": sent["body"],
                "html": "",
                "headers": {},
                "images": 0,
            }
        recipients = [address.strip().lower() for address in parsed["to"].split(",")]
        if to.lower() in recipients:
            found.append(parsed)
    return found
