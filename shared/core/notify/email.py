"""Email through SES: one raw MIME message per email, so that inline images and the RFC 8058 headers travel."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from core import aws_clients
from core.models.notify import OutgoingEmail


def mime_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    """text/plain and text/html alternatives; the HTML's inline images ride along as related parts."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    if email.images:
        html_part = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
        for image in email.images:
            html_part.add_related(
                image.png,
                maintype="image",
                subtype="png",
                cid=f"<{image.content_id}>",
                filename=image.filename,
            )
    return message


class SesMailer:
    def __init__(self, sender: str, configuration_set: str | None = None) -> None:
        self._sender = sender
        self._configuration_set = configuration_set

    @property
    def _client(self) -> Any:
        return aws_clients.client("ses")

    def send(self, message: OutgoingEmail) -> str:
        request: dict[str, Any] = {
            "Source": self._sender,
            "Destinations": [message.to],
            "RawMessage": {"Data": mime_message(message, self._sender).as_bytes()},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        return str(self._client.send_raw_email(**request)["MessageId"])
