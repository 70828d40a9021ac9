"""The caller's identity: the Cognito ``sub`` that API Gateway's authorizer verified, and nothing else."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from core.errors import UnauthorizedError


def caller_id(app: APIGatewayRestResolver) -> str:
    """The ``sub`` claim of the verified ID token; a private route without one is a 401."""
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.get("claims") if authorizer else None) or {}
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise UnauthorizedError
    return subject
