"""The local stack: every part of the application on this machine, wired as in AWS."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from local.authorizer import CognitoAuthorizer
from local.aws import LocalAws, apply_environment, provision, start_moto
from local.messaging import LocalMessaging
from local.seed import seed_reference_data, seed_signal_secrets
from local.template import LOCAL_STAGE, PROJECT_ROOT, Template, load_template
from local.workers import FunctionPool

# Where a running stack tells `python -m local invoke` how to reach its services.
STATE_FILE = Path(os.environ.get("LOCAL_STATE_FILE", PROJECT_ROOT / ".local" / "stack.json"))
LOCAL_STRIPE_API_KEY = "sk_test_local"
# Documentation addresses (RFC 5737): the local stack's stand-in for the functions' egress IPs.
LOCAL_EGRESS_IPS = "192.0.2.10,198.51.100.20,203.0.113.30"
STRIPE_WEBHOOK_PATH = "/v1/pub/subscription/stripe/webhook"
TELEGRAM_WEBHOOK_PATH = "/v1/hook/telegram"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DevRouteError(Exception):
    """A dev route's bad input: answered as a 422 in the API's own shape."""

    def __init__(self, value: Any, msg: str, param: str) -> None:
        super().__init__(msg)
        self.body = {"errors": [{"value": value, "msg": msg, "param": param, "location": "body"}]}


class LocalStack:
    def __init__(self, template: Template | None = None, recaptcha: bool = False) -> None:
        self.template = template or load_template()
        # With ``recaptcha``, the stack behaves as prod does: every write of the API needs a reCAPTCHA v3
        # token, verified by a local siteverify (local.recaptcha_sim: tokens like "local:0.9:submit").
        self.recaptcha = recaptcha
        self.siteverify: Any = None
        self.aws: LocalAws | None = None
        self.pools: dict[str, FunctionPool] = {}
        self.authorizer: CognitoAuthorizer | None = None
        self.messaging: LocalMessaging | None = None
        self.exchange: Any = None  # the Binance simulator (local.exchange_sim.RunningSimulator)
        self.stripe: Any = None  # the Stripe simulator (local.stripe_sim.RunningSimulator)
        self.telegram: Any = None  # the Telegram simulator (local.telegram_sim.RunningSimulator)
        self._telegram_webhook_secret = secrets.token_urlsafe(24)
        self._password_salt = secrets.token_hex(8)

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._start_simulators()
        server, endpoint_url = start_moto()
        try:
            self.aws = provision(self.template, endpoint_url, server)
        except BaseException:
            server.stop()  # nothing else holds it yet
            raise
        self._store_stripe_secret()
        self._store_telegram_secret()
        if self.recaptcha:
            self._start_siteverify()
        self._verify_email_sender()
        # This process also runs the dev routes (seed, token plans): it talks to the same moto.
        apply_environment({**self.aws.environment, **self.shared_function_environment()})
        from core import wiring
        from core.config import get_settings

        get_settings.cache_clear()
        wiring.reset()  # a second stack in this process (the benchmarks) talks to its own moto
        seed_reference_data()
        from local.demo import seed_demo_account  # the account events/ name (before the random secrets)

        seed_demo_account(
            self.template, self.exchange.simulator.create_account, self.aws.client("secretsmanager")
        )
        seed_signal_secrets(LOCAL_STAGE, self.aws.client("secretsmanager"))
        self._seed_stripe_prices()
        self.authorizer = CognitoAuthorizer(self.aws.jwks_url, self.aws.issuer, self.aws.user_pool_client_id)
        worker_environment = self.aws.environment
        self.pools = {
            logical_id: FunctionPool(spec, worker_environment)
            for logical_id, spec in self.template.functions().items()
        }
        # The template's EventBridge rules and SQS event source mappings, delivering to those pools.
        self.messaging = LocalMessaging(self.template, self.aws.client, self.pools)
        self.messaging.start()

    def _start_simulators(self) -> None:
        from local.exchange_sim import start_simulator as start_exchange_simulator
        from local.stripe_sim import StripeSimulator
        from local.stripe_sim import start_simulator as start_stripe_simulator

        self.exchange = start_exchange_simulator()
        self.stripe = start_stripe_simulator(simulator=StripeSimulator(api_key=LOCAL_STRIPE_API_KEY))
        from local.telegram_sim import start_simulator as start_telegram_simulator

        self.telegram = start_telegram_simulator()
        self.template.parameters["TelegramApiBase"] = self.telegram.url
        self.template.parameters["TelegramBotUsername"] = self.telegram.simulator.username
        # The functions find the simulators through the template's own parameters and secrets.
        self.template.parameters["ExchangeEndpoint"] = self.exchange.url
        self.template.parameters.setdefault("EgressIps", "")
        if not self.template.parameters["EgressIps"]:
            self.template.parameters["EgressIps"] = LOCAL_EGRESS_IPS
        # The trade monitor finishes an interrupted order sooner than in AWS (60 s), so it can be tried by hand;
        # finishing is idempotent (the planned client order ids), so a slow request is not doubled.
        self.template.parameters["MonitorStaleAfterSeconds"] = "5"
        if "StripeApiBase" in self.template.parameters:
            self.template.parameters["StripeApiBase"] = self.stripe.url

    def _store_stripe_secret(self) -> None:
        """The simulator's keys, stored as the operator stores Stripe's: a Secrets Manager secret."""
        assert self.aws is not None
        secret = self.aws.client("secretsmanager").create_secret(
            Name="trading-api-local-stripe",
            SecretString=json.dumps(
                {"apiKey": LOCAL_STRIPE_API_KEY, "webhookSecret": self.stripe.simulator.webhook_secret}
            ),
        )
        self.template.parameters["StripeSecretArn"] = secret["ARN"]

    def _store_telegram_secret(self) -> None:
        """The simulator's bot, stored as the operator stores the real bot's token: a Secrets Manager secret."""
        assert self.aws is not None
        secret = self.aws.client("secretsmanager").create_secret(
            Name="trading-api-local-telegram",
            SecretString=json.dumps(
                {"botToken": self.telegram.simulator.token, "webhookSecret": self._telegram_webhook_secret}
            ),
        )
        self.template.parameters["TelegramSecretArn"] = secret["ARN"]

    def _start_siteverify(self) -> None:
        """The site secret stored as the operator stores Google's; siteverify is the local stand-in."""
        from local.recaptcha_sim import start_simulator

        assert self.aws is not None
        site_secret = secrets.token_urlsafe(24)
        self.siteverify = start_simulator(site_secret)
        secret = self.aws.client("secretsmanager").create_secret(
            Name="trading-api-local-recaptcha", SecretString=site_secret
        )
        self.template.parameters.update(
            RecaptchaEverywhere="true",
            RecaptchaSecretArn=secret["ARN"],
            RecaptchaVerifyUrl=self.siteverify.verify_url,
        )

    def _verify_email_sender(self) -> None:
        """SES sends only from a verified identity: the operator verifies the sender's address (or domain)."""
        assert self.aws is not None
        sender = str(self.template.parameters.get("EmailSender", ""))
        if sender:
            self.aws.client("ses").verify_email_identity(EmailAddress=sender)

    def _seed_stripe_prices(self) -> None:
        """Stripe sells each public plan at its monthly price; a price's lookup_key is its plan's id."""
        from local.seed import REFERENCE_DATA

        for plan in json.loads(REFERENCE_DATA.read_text())["plans"]:
            if plan.get("public", True):
                self.stripe.simulator.seed_plan(
                    plan["name"], plan["monthly_price_usd"], lookup_key=plan["id"]
                )

    def connect_webhooks(self, api_url: str) -> None:
        """Stripe delivers its events to the API's webhook route and Telegram its Updates to the bot's, as
        they would in AWS; the links in emails point at this API."""
        self.stripe.simulator.webhook_url = f"{api_url}{STRIPE_WEBHOOK_PATH}"
        self.template.parameters["PublicApiUrl"] = api_url
        for pool in self.pools.values():  # workers start on first use, with this environment
            if "PUBLIC_API_URL" in pool.spec.environment:
                pool.spec.environment["PUBLIC_API_URL"] = api_url
        from adapters.telegram import TelegramBot

        bot = TelegramBot(self.telegram.simulator.token, api_base=self.telegram.url)
        bot.set_webhook(f"{api_url}{TELEGRAM_WEBHOOK_PATH}", self._telegram_webhook_secret)

    def shared_function_environment(self) -> dict[str, str]:
        """The variables every function gets (the template's Globals), resolved locally."""
        variables = self.template.document.get("Globals", {}).get("Function", {}).get("Environment", {})
        return {
            name: str(self.template.resolve(value)) for name, value in variables.get("Variables", {}).items()
        }

    def write_state(self, api_url: str) -> None:
        assert self.aws is not None
        STATE_FILE.parent.mkdir(exist_ok=True)
        STATE_FILE.write_text(
            json.dumps(
                {
                    "apiUrl": api_url,
                    "awsEndpointUrl": self.aws.endpoint_url,
                    "userPoolId": self.aws.user_pool_id,
                    "userPoolClientId": self.aws.user_pool_client_id,
                    "localValues": self.template.local_values,
                    "parameters": self.template.parameters,
                },
                indent=2,
            )
        )

    def stop(self) -> None:
        if self.messaging is not None:
            self.messaging.stop()
        for pool in self.pools.values():
            pool.stop()
        if self.aws is not None:
            self.aws.stop()
        for simulator in (self.exchange, self.stripe, self.telegram, self.siteverify):
            if simulator is not None:
                simulator.stop()
        if STATE_FILE.exists():
            STATE_FILE.unlink()

    # ---------------------------------------------------------------- events and queues
    def wait_until_drained(self, *functions: str, timeout: float = 60.0) -> None:
        """Blocks until the queues feeding the given functions (their SQS event source mappings and the
        taps of the EventBridge rules targeting them; every function's if none is given) are empty and
        nothing is in flight or awaiting an asynchronous retry: every message processed, or in its
        dead-letter queue. Raises ``TimeoutError`` after ``timeout`` seconds."""
        assert self.messaging is not None, "the stack is not started"
        self.messaging.wait_until_idle(functions or None, timeout=timeout)

    def log_events(self, log_group: str) -> list[dict[str, Any]]:
        """What a log group of the template (logical id, or name) received, oldest first, parsed."""
        assert self.messaging is not None, "the stack is not started"
        return self.messaging.log_events(log_group)

    def trade_events(self) -> list[dict[str, Any]]:
        """The trade-event audit trail: every event of source trading-api.trades that reached the bus, as
        the audit rule wrote it to ``TradeEventLogGroup`` (``detail-type``, ``detail``, ``id``, ``time``...)."""
        return self.log_events("TradeEventLogGroup")

    # ---------------------------------------------------------------- dev routes
    def issue_token(self, email: Any, plan: Any = None) -> dict[str, str]:
        """Creates the user if missing, signs in with USER_PASSWORD_AUTH and optionally gives them a plan."""
        assert self.aws is not None
        if not isinstance(email, str) or not EMAIL.match(email):
            raise DevRouteError(email, "must be a valid email", "email")
        chosen_plan = None
        if plan is not None:
            from core.repositories.catalog import CatalogRepository
            from local.plans import find_plan

            chosen_plan = find_plan(CatalogRepository(), str(plan))
            if chosen_plan is None:
                raise DevRouteError(plan, "must be a plan name or id", "plan")
        cognito = self.aws.client("cognito-idp")
        password = (
            "Local-" + hashlib.sha256(f"{self._password_salt}:{email}".encode()).hexdigest()[:20] + "!A1"
        )
        with contextlib.suppress(cognito.exceptions.UsernameExistsException):
            cognito.admin_create_user(
                UserPoolId=self.aws.user_pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
        cognito.admin_set_user_password(
            UserPoolId=self.aws.user_pool_id, Username=email, Password=password, Permanent=True
        )
        result = cognito.initiate_auth(
            ClientId=self.aws.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )["AuthenticationResult"]
        token = result["IdToken"]
        from jose import jwt

        subject = jwt.get_unverified_claims(token)["sub"]
        if chosen_plan is not None:
            self._give_plan(subject, email, chosen_plan)
        return {"idToken": token, "sub": subject}

    def _give_plan(self, user_id: str, email: str, plan: Any) -> None:
        """As a completed checkout would: the user's Stripe customer gets a paid subscription to the plan in
        the simulator (whose events reach the webhook route), replacing what it had. A private plan has no
        Stripe price: it is assigned directly, so GET .../subscription shows it and .../stripe stays null."""
        from adapters.billing import StripeBilling
        from core import wiring
        from core.repositories.catalog import CatalogRepository
        from core.repositories.stripe_customers import StripeCustomerRepository
        from core.repositories.stripe_events import StripeEventRepository
        from core.repositories.subscription import SubscriptionRepository
        from core.services.billing import BillingService
        from core.services.subscription import ACTIVE_STATUSES
        from local.plans import assign_plan

        simulator = self.stripe.simulator
        gateway = StripeBilling(api_key=LOCAL_STRIPE_API_KEY, api_base=self.stripe.url)
        billing = BillingService(
            gateway=gateway,
            customers=StripeCustomerRepository(),
            subscriptions=SubscriptionRepository(),
            catalog=CatalogRepository(),
            events=StripeEventRepository(),
            on_plan_changed=wiring.plan_change_listener(),  # as the deployed webhooks do
        )
        customer_id = billing.ensure_customer(user_id, email)
        for held in gateway.subscriptions_of(customer_id):
            if plan.public and held.plan_id == plan.id and held.status in ACTIVE_STATUSES:
                return  # already subscribed to it
            simulator.transact(lambda store, held_id=held.id: store.cancel_subscription(held_id, {}))
        price = gateway.price_for_plan(plan.id) if plan.public else None
        if price is None:
            assign_plan(user_id, plan)
            return
        metadata = {"userId": user_id, "planId": plan.id}
        created = simulator.transact(
            lambda store: store.create_subscription(
                {"customer": customer_id, "items": [{"price": price.id}], "metadata": metadata}
            )
        )
        # The webhook route has done this already when webhooks are connected; doing it again changes nothing.
        billing.sync_subscription(created["id"])

    def jobs(self) -> dict[str, Any]:
        return {
            schedule.job_name: schedule
            for spec in self.template.functions().values()
            for schedule in spec.schedules
        }

    def telegram_update(self, chat_id: Any, text: Any, username: Any = None) -> dict[str, Any]:
        """A user writes to the bot in their private chat: the simulator delivers the Update to the webhook."""
        if isinstance(chat_id, bool) or not isinstance(chat_id, int) or chat_id <= 0:
            raise DevRouteError(chat_id, "must be a positive integer", "chatId")
        if not isinstance(text, str) or not text or len(text) > 4096:
            raise DevRouteError(text, "must be a text of 1 to 4096 characters", "text")
        if username is not None and (
            not isinstance(username, str) or not re.fullmatch(r"\w{1,32}", username)
        ):
            raise DevRouteError(username, "must be a Telegram username", "username")
        from local.telegram_sim import DeliveryError

        try:
            return {"status": self.telegram.simulator.deliver_update(chat_id, text, username=username)}
        except DeliveryError as error:  # no webhook registered, or it cannot be reached
            raise DevRouteError(chat_id, f"the update could not be delivered: {error}", "chatId") from None

    def telegram_messages(self, chat_id: Any) -> dict[str, Any]:
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            raise DevRouteError(chat_id, "must be an integer", "chatId") from None
        return {"items": self.telegram.simulator.messages(chat)}

    def emails(self, to: Any) -> dict[str, Any]:
        """The emails SES (moto) sent to ``to``, oldest first, parsed as a mail client shows them."""
        if not isinstance(to, str) or not EMAIL.match(to):
            raise DevRouteError(to, "must be a valid email", "to")
        import requests

        from local.mailbox import sent_emails
        from local.moto_process import SENT_EMAILS_PATH

        assert self.aws is not None
        sent = requests.get(f"{self.aws.endpoint_url}{SENT_EMAILS_PATH}", timeout=10)
        sent.raise_for_status()
        return {"items": sent_emails(to, sent.json())}

    def run_job(self, name: str) -> Any:
        schedule = self.jobs()[name]
        event = {
            "version": "0",
            "id": "local",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "time": None,
            "resources": [],
            "detail": {},
            **(json.loads(schedule.event["input"]) if isinstance(schedule.event.get("input"), str) else {}),
        }
        result = self.pools[schedule.function].invoke(event)
        functions = self.template.functions()
        # A job that queues its work is done when its queue is, as its users see it: its own queue (the
        # reports), or the queues it sends to, which other functions take (the daily balance snapshot).
        variables = self.template.resources[schedule.function].get("Properties", {})
        variables = variables.get("Environment", {}).get("Variables", {})
        sent_to = {value["Ref"] for value in variables.values() if isinstance(value, dict) and "Ref" in value}
        workers = {
            spec.logical_id
            for spec in functions.values()
            if any(m.queue in sent_to or spec.logical_id == schedule.function for m in spec.sqs_mappings)
        }
        if workers:
            self.wait_until_drained(
                *sorted(workers), timeout=float(os.environ.get("LOCAL_JOB_TIMEOUT", "600"))
            )
        return result
