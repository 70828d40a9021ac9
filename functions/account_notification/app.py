"""AccountNotificationExpressJSv1: the caller's notification settings and alert method, and the one-click
unsubscribe of the links in every email (public: the link's signature stands in for a sign-in)."""

from html import escape
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from core import wiring
from core.api import caller_id, create_resolver, lambda_entrypoint
from core.api.openapi_docs import answers
from core.notify.links import UNSUBSCRIBE_PATH
from core.schemas.notifications import (
    API_NAMES,
    AlertMethodOut,
    NotificationSettingsOut,
    NotificationSettingsUpdate,
    Unsubscribed,
)

app = create_resolver()


@app.get("/v1/priv/account/notification/method", summary="Get alert method", tags=["Account Notification"])
def get_alert_method() -> AlertMethodOut:
    return AlertMethodOut.of(wiring.notification_settings_service().method(caller_id(app)))


@app.get("/v1/priv/account/notification", summary="Get notification settings", tags=["Account Notification"])
def get_notification_settings() -> NotificationSettingsOut | None:
    settings = wiring.notification_settings_service().get(caller_id(app))
    return NotificationSettingsOut.of(settings) if settings else None


@app.put("/v1/priv/account/notification", summary="Put notification settings", tags=["Account Notification"])
def put_notification_settings(body: NotificationSettingsUpdate) -> NotificationSettingsOut:
    service = wiring.notification_settings_service()
    return NotificationSettingsOut.of(service.update(caller_id(app), body.changes()))


def _page(status: int, title: str, text: str, form_action: str | None = None) -> Response[str]:
    form = (
        f'<form method="post" action="{escape(form_action)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
        if form_action
        else ""
    )
    html = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><h2>{escape(title)}</h2><p>{escape(text)}</p>{form}</body></html>"
    )
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=html)


HTML_PAGE: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}


@app.get(
    UNSUBSCRIBE_PATH,
    summary="Confirm an unsubscribe link",
    tags=["Account Notification"],
    responses={
        200: {"description": "A page asking to confirm (HTML)", "content": HTML_PAGE},
        404: {"description": "The link is not valid (HTML)", "content": HTML_PAGE},
    },
)
def confirm_unsubscribe(token: Annotated[str, Query(max_length=512)]) -> Response[str]:
    """A link opened in a browser (or fetched by a mail scanner) changes nothing: it asks to confirm."""
    found = wiring.unsubscribe_links().verify(token)
    if found is None or found[1] not in API_NAMES:
        return _page(404, "Link not valid", "This unsubscribe link is not valid.")
    return _page(200, "Unsubscribe", "Stop receiving these emails?", form_action=f"?token={token}")


@app.post(
    UNSUBSCRIBE_PATH,
    summary="One-click unsubscribe (RFC 8058)",
    description="The signed link of an email's `List-Unsubscribe`: turns that setting off without a sign-in.",
    tags=["Account Notification"],
    responses=answers(404, ok_description="The setting is off", ok_model=Unsubscribed),
)
def unsubscribe(token: Annotated[str, Query(max_length=512)]) -> Unsubscribed:
    found = wiring.unsubscribe_links().verify(token)
    if found is None or found[1] not in API_NAMES:
        from core.errors import NotFoundError

        raise NotFoundError
    user_id, setting = found
    wiring.notification_settings_service().update(user_id, {setting: False})
    return Unsubscribed(unsubscribed=API_NAMES[setting])


_handler = lambda_entrypoint(app)


def _is_form(event: dict[str, Any]) -> bool:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    # RFC 8058: the one-click POST is a form, urlencoded or multipart.
    return str(headers.get("content-type", "")).startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    )


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The one-click POST carries a form body (``List-Unsubscribe=One-Click``, RFC 8058), not JSON: the
    # signed token in the URL is all that route reads, so its body is dropped before the JSON-only entry.
    if event.get("resource") == UNSUBSCRIBE_PATH and _is_form(event):
        event = {**event, "body": None, "isBase64Encoded": False}
    return _handler(event, context)
