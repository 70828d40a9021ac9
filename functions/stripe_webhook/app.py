"""Stripe's webhook endpoint: keeps each user's plan in step with their Stripe subscription.

Public (Stripe signs instead of a token): the ``Stripe-Signature`` of the raw body is verified first, and a
delivery that does not verify is a 400 before anything is read or written. Stripe retries any non-2xx.
"""

from core import wiring
from core.api import create_resolver, lambda_entrypoint
from core.api.errors import json_response
from core.api.openapi_docs import answers, error_response
from core.errors import WebhookSignatureError
from core.observability import logger
from core.schemas.subscription import WebhookReceived

app = create_resolver()


@app.post(
    "/v1/pub/subscription/stripe/webhook",
    summary="Receive a Stripe event",
    description="Stripe's webhook: the raw body must verify against the `Stripe-Signature` header "
    "(signed with the endpoint's secret) before anything is read. Keeps each user's plan in step with "
    "their Stripe subscription; an event of no interest is acknowledged too.",
    tags=["Webhooks"],
    responses={
        **answers(503, ok_description="Acknowledged", ok_model=WebhookReceived),
        400: error_response(
            400, description="Invalid or missing Stripe-Signature, or a body that is not a JSON object"
        ),
    },
)
def receive_stripe_event():  # a 200 body or a 400 Response: no single model to validate against
    payload = app.current_event.body or ""
    signature = app.current_event.headers.get("Stripe-Signature")  # headers are case-insensitive
    billing = wiring.billing_service()
    try:
        event = billing.verify_event(payload, signature)
    except WebhookSignatureError as error:
        logger.warning("Stripe webhook refused", extra={"reason": str(error)})
        return json_response(400, {"message": "invalid Stripe signature"})
    outcome = billing.handle_event(event)
    logger.info(
        "Stripe event", extra={"event_id": event.id, "event_type": event.type, "outcome": outcome.value}
    )
    return {"received": True}


# Stripe decides how large an event is (an invoice with many lines); API Gateway allows up to 10 MB.
lambda_handler = lambda_entrypoint(app, max_body_bytes=512 * 1024)
