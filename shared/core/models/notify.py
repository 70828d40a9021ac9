"""What the notification channels carry: an email, a user of the directory."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class InlineImage:
    content_id: str  # referenced from the HTML as cid:<content_id>
    png: bytes
    filename: str = "chart.png"


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe (RFC 8058)
    images: tuple[InlineImage, ...] = ()


@dataclass(frozen=True)
class DirectoryUser:
    user_id: str
    email: str
