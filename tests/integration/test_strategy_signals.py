"""A strategy's signal through the real handlers: the signal route into SQS (moto), the fan-out worker through
real ccxt into the Binance simulator, each follower sized to its risk and placed once."""

from __future__ import annotations

import os

import boto3
import pytest

from local.events import sqs_event
from local.seed import seed_signal_secrets
from tests.support import PROFESSIONAL, USER_A, USER_B, add_key, call, give_plan, invoke

STRATEGY = "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08"  # STRATEGY #1, BTC/USDT on Binance
CONSERVATIVE, MODERATE, AGGRESSIVE = (
    "ab00673a-cd19-44d4-a7c4-05c63e309663",
    "3dc38f3d-4b4e-43b3-a102-e250b7cd3551",
    "9234a512-48d0-4fa9-8b77-fdaec0fd3e00",
)
USER_C = "0b1c5e7a-3333-4a5b-9c2d-000000000003"
USER_D = "0b1c5e7a-4444-4a5b-9c2d-000000000004"
SIGNAL = {
    "side": "BUY",
    "type": "MARKET",
    "takeProfitPrices": [19400, 19600],
    "stopTriggerPrice": 19000,
    "leverage": 5,
}


@pytest.fixture
def signals(exchange, aws, monkeypatch):
    """The signal route's environment: its queue, and every strategy's secret in Secrets Manager."""
    from core import wiring
    from core.config import get_settings

    monkeypatch.setenv("FANOUT_QUEUE_URL", aws.local_values["StrategyFanOutQueue"])
    # A follow that starts queues its key's account read (the equity cache the fan-out sizes from).
    monkeypatch.setenv("SNAPSHOT_QUEUE_URL", aws.local_values["BalanceSnapshotQueue"])
    from aws_lambda_powertools.utilities import parameters

    get_settings.cache_clear()
    wiring.reset()
    parameters.clear_caches()  # each test's moto holds new secrets
    seed_signal_secrets(get_settings().stage)
    exchange.set_price("BTC/USDT", 19200)
    return exchange


def secret() -> str:
    from core.config import get_settings
    from core.signal_secrets import secret_name

    name = secret_name(get_settings().stage, STRATEGY)
    return boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]


def follower(exchange, user: str, usdt: float, profile: str) -> tuple[str, str]:
    """Given a user on PROFESSIONAL with an AUTOMATED FUTURES key holding ``usdt``, following the strategy."""
    give_plan(user, PROFESSIONAL)
    status, key = add_key(user, exchange.create_account(balances={"USDT": usdt}), strategyType="AUTOMATED")
    assert status == 200, key
    status, follow, _ = call(
        "POST",
        f"/v1/priv/strategy/follow/exchange/key/{key['id']}",
        user=user,
        body={"strategyAutomatedId": STRATEGY, "strategyRiskProfileId": profile},
    )
    assert status == 200, follow
    # The snapshot worker reads the new follower's account into the equity cache, as it does within
    # seconds on AWS.
    assert run_queue(os.environ["SNAPSHOT_QUEUE_URL"], "BalanceSnapshotWorkerFunction")["failures"] == []
    from core.repositories.equity_cache import EquityCacheRepository

    assert EquityCacheRepository().get(user, key["id"]).equity_usdt == usdt
    return key["id"], follow["id"]


def post_signal(body: dict) -> tuple[int, dict]:
    status, answer, _ = call("POST", f"/v1/hook/strategy/{STRATEGY}/signal", body=body)
    return status, answer


def run_fan_out(queue_url: str) -> dict:
    return run_queue(queue_url, "StrategyFanOutFunction")


def run_queue(queue_url: str, function: str) -> dict:
    """Delivers what the queue holds to its worker, as Lambda's SQS poller would (batches of 10)."""
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    failures: list = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        answer = invoke(function, sqs_event(messages, arn))
        failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
        failures += failed
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if failed:
            break
    return {"failures": failures}


def outcomes(trigger_id: str) -> dict[str, dict]:
    from core.repositories.triggers import TriggerRepository

    return {o.user_id: o.model_dump() for o in TriggerRepository().outcomes(trigger_id)}


def positions(user: str, key: str) -> dict | None:
    return call("GET", f"/v1/priv/exchange/position/{key}", user=user, query={"symbol": "BTC/USDT"})[1]


def test_a_signal_places_one_order_per_follower_sized_to_its_risk(signals, aws):
    # Given three followers with different profiles and balances, and a fourth too small to trade
    keys = {
        USER_A: follower(signals, USER_A, 5000, CONSERVATIVE)[0],
        USER_B: follower(signals, USER_B, 8000, MODERATE)[0],
        USER_C: follower(signals, USER_C, 10000, AGGRESSIVE)[0],
        USER_D: follower(signals, USER_D, 40, MODERATE)[0],
    }
    # When the strategy fires
    status, answer = post_signal({**SIGNAL, "secret": secret(), "signalId": "alert-1"})
    assert status == 202
    assert answer["followers"] == 4
    assert run_fan_out(aws.local_values["StrategyFanOutQueue"])["failures"] == []
    # Then each is sized as equity x risk / |entry - stop|, rounded down to the step, and protected
    placed = outcomes(answer["triggerId"])
    assert {user: (o["outcome"], o["amount"]) for user, o in placed.items()} == {
        USER_A: ("PLACED", 0.375),  # 5000 x 1.5% / 200
        USER_B: ("PLACED", 0.8),  # 8000 x 2% / 200
        USER_C: ("PLACED", 1.5),  # 10000 x 3% / 200
        USER_D: ("SKIPPED", None),
    }
    assert placed[USER_D]["reason"] == "BELOW_MINIMUM"
    for user in (USER_A, USER_B, USER_C):
        assert positions(user, keys[user])["contracts"] == placed[user]["amount"]
        open_orders = call(
            "GET", f"/v1/priv/exchange/order/{keys[user]}/list", user=user, query={"symbol": "BTC/USDT"}
        )[1]
        assert sorted(o["type"] for o in open_orders) == ["stop_market", "take_profit", "take_profit"]
    assert positions(USER_D, keys[USER_D]) is None
    # And each placed order is in its user's automated history, with the strategy and the side
    status, history, _ = call("GET", "/v1/priv/account/trade/strategy/history", user=USER_B)
    assert status == 200
    (item,) = history["items"]
    assert (item["amount"], item["leverage"], item["riskProfilePercent"]) == (0.8, 5, 2)
    assert item["StrategyAutomatedTrigger"]["tradeSide"] == "BUY"


def test_a_duplicate_signal_places_nothing_and_a_redelivered_message_places_once(signals, aws):
    key, _ = follower(signals, USER_A, 5000, CONSERVATIVE)
    queue = aws.local_values["StrategyFanOutQueue"]
    first = post_signal({**SIGNAL, "secret": secret(), "signalId": "alert-2"})
    again = post_signal({**SIGNAL, "secret": secret(), "signalId": "alert-2"})
    assert (first[0], again[0]) == (202, 200)
    assert again[1] == first[1]
    # A message delivered twice (at-least-once) finds its outcome and places nothing more
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    for message in messages:
        sqs.send_message(QueueUrl=queue, MessageBody=message["Body"])
        sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    run_fan_out(queue)
    history = call(
        "GET", f"/v1/priv/exchange/order/{key}/history", user=USER_A, query={"symbol": "BTC/USDT"}
    )[1]
    assert len([o for o in history if o["type"] == "market"]) == 1
    assert positions(USER_A, key)["contracts"] == 0.375


def test_a_close_signal_leaves_every_follower_flat_with_no_orders(signals, aws):
    key_a, _ = follower(signals, USER_A, 5000, CONSERVATIVE)
    key_b, _ = follower(signals, USER_B, 8000, MODERATE)
    queue = aws.local_values["StrategyFanOutQueue"]
    post_signal({**SIGNAL, "secret": secret()})
    run_fan_out(queue)
    assert post_signal({"action": "CLOSE", "secret": secret()})[0] == 202
    run_fan_out(queue)
    for user, key in ((USER_A, key_a), (USER_B, key_b)):
        assert positions(user, key) is None
        assert (
            call("GET", f"/v1/priv/exchange/order/{key}/list", user=user, query={"symbol": "BTC/USDT"})[1]
            == []
        )


def test_a_close_signal_cancels_a_resting_limit_entry_and_ends_its_trade(signals, aws):
    from core.repositories.trade_history import TradeRepository

    key, _ = follower(signals, USER_A, 5000, CONSERVATIVE)
    queue = aws.local_values["StrategyFanOutQueue"]
    post_signal({**SIGNAL, "type": "LIMIT", "price": 19100, "secret": secret()})
    run_fan_out(queue)
    listed = call("GET", f"/v1/priv/exchange/order/{key}/list", user=USER_A, query={"symbol": "BTC/USDT"})[1]
    assert "limit" in [o["type"] for o in listed]  # the entry rests below the market
    (trade,) = TradeRepository().open_on(key, "BTC/USDT")
    post_signal({"action": "CLOSE", "secret": secret()})
    run_fan_out(queue)
    assert (
        call("GET", f"/v1/priv/exchange/order/{key}/list", user=USER_A, query={"symbol": "BTC/USDT"})[1] == []
    )
    assert positions(USER_A, key) is None
    assert TradeRepository().open_on(key, "BTC/USDT") == []
    ended = TradeRepository().get(USER_A, trade.trade_id)
    assert ended is not None
    assert (ended.state.value, ended.close_reason.value if ended.close_reason else None) == (
        "CLOSED",
        "SIGNAL",
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({**SIGNAL}, 401),  # no secret
        ({**SIGNAL, "secret": "wrong"}, 401),
        ([SIGNAL], 400),
    ],
)
def test_a_signal_without_its_secret_records_nothing(signals, aws, body, status):
    answer = call("POST", f"/v1/hook/strategy/{STRATEGY}/signal", body=body)
    assert answer[0] == status
    sqs = boto3.client("sqs")
    assert sqs.receive_message(QueueUrl=aws.local_values["StrategyFanOutQueue"]).get("Messages") is None


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"type": "TRAILING_STOP"}, "type"),
        ({"stopTriggerPrice": None}, "stopTriggerPrice"),
        ({"leverage": 200}, "leverage"),
        ({"timestamp": "2022-10-11T21:06:03.069Z"}, "timestamp"),  # older than maxLagSeconds
        ({"signalId": "x" * 129}, "signalId"),
        ({"amount": True, "side": "UP"}, "side"),
    ],
)
def test_an_invalid_or_stale_signal_is_a_422_on_its_field(signals, change, param):
    body = {
        key: value for key, value in {**SIGNAL, **change, "secret": secret()}.items() if value is not None
    }
    status, answer = post_signal(body)
    assert status == 422
    assert param in [error["param"] for error in answer["errors"]]


def test_the_strategy_track_record_follows_the_signals(signals, aws):
    queue = aws.local_values["StrategyFanOutQueue"]
    post_signal({**SIGNAL, "secret": secret()})
    run_fan_out(queue)
    signals.set_price("BTC/USDT", 19500)
    post_signal({"action": "CLOSE", "secret": secret()})
    run_fan_out(queue)
    status, trades, _ = call("GET", f"/v1/pub/strategy/{STRATEGY}/trades")
    assert status == 200
    (trade,) = trades["items"]
    assert (trade["side"], trade["entry"], trade["reason"]) == ("BUY", 19200.0, "SIGNAL")
    assert trade["exits"][0]["price"] == 19500.0
    assert trade["returnPercent"] == pytest.approx((300 / 19200 * 5 - 0.0005 * 5 * 2) * 100, abs=1e-6)
    _, performance, _ = call("GET", f"/v1/pub/strategy/{STRATEGY}/performance", query={"limit": "1"})
    assert (performance["trades"], performance["winRate"]) == (1, 1)


def _follower_messages(queue: str) -> list[dict]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    return [m for m in messages if '"follow_id":null' not in m["Body"]]


def test_a_message_delivered_twice_at_once_places_once(signals, aws):
    """SQS may hand the same message to two workers at the same time (at least once; a visibility timeout
    running out while the first still works): the follower's lease lets one of them place, the other fails
    and is delivered again later, when the outcome is recorded."""
    import threading

    from core import wiring
    from core.models.signals import FanOutOrder
    from core.services.fan_out import FollowBusy

    key, _ = follower(signals, USER_A, 5000, CONSERVATIVE)
    queue = aws.local_values["StrategyFanOutQueue"]
    status, _ = post_signal({**SIGNAL, "secret": secret(), "signalId": "twice-at-once"})
    assert status == 202
    (message,) = _follower_messages(queue)
    order = FanOutOrder.model_validate_json(message["Body"])
    worker = wiring.fan_out_worker()
    results: list[object] = []
    barrier = threading.Barrier(2)

    def deliver() -> None:
        barrier.wait()
        try:
            results.append(worker.handle(order))
        except FollowBusy as busy:
            results.append(busy)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one delivery placed it and the other stood back; its redelivery finds the outcome
    assert sorted(type(r).__name__ for r in results) == ["FollowBusy", "FollowerOutcome"]
    again = worker.handle(order)
    assert again is not None
    assert again.outcome.value == "PLACED"
    history = call(
        "GET", f"/v1/priv/exchange/order/{key}/history", user=USER_A, query={"symbol": "BTC/USDT"}
    )[1]
    assert len([o for o in history if o["type"] == "market"]) == 1
    assert positions(USER_A, key)["contracts"] == 0.375


def test_a_delivery_that_died_holding_the_lease_is_taken_over_once_its_lease_runs_out(signals, aws):
    from core import wiring
    from core.config import get_settings
    from core.models.signals import FanOutOrder
    from core.repositories.triggers import FollowClaims
    from core.services.fan_out import FollowBusy, now_ms

    key, _ = follower(signals, USER_A, 5000, CONSERVATIVE)
    queue = aws.local_values["StrategyFanOutQueue"]
    post_signal({**SIGNAL, "secret": secret(), "signalId": "died-holding-it"})
    (message,) = _follower_messages(queue)
    order = FanOutOrder.model_validate_json(message["Body"])
    assert order.follow_id is not None
    worker = wiring.fan_out_worker()
    # Given a delivery that took the lease and was killed: while its lease runs, nobody else places
    taken_at = now_ms()
    assert FollowClaims().take(order.trigger_id, order.follow_id, taken_at, 60_000)
    lease = boto3.client("dynamodb").get_item(
        TableName=get_settings().table_name,
        Key={"PK": {"S": f"TRIGGER#{order.trigger_id}"}, "SK": {"S": f"CLAIM#{order.follow_id}"}},
    )["Item"]
    # (DynamoDB's TTL drops the lease a day after it ran out: the table does not keep one per follower forever)
    assert int(lease["expiresAt"]["N"]) == (taken_at + 60_000) // 1000 + 86400
    with pytest.raises(FollowBusy):
        worker.handle(order)
    assert positions(USER_A, key) is None
    # When its lease has run out (as the next delivery after the visibility timeout finds it)
    FollowClaims().release(order.trigger_id, order.follow_id)
    assert FollowClaims().take(order.trigger_id, order.follow_id, now_ms() - 120_000, 60_000)
    outcome = worker.handle(order)
    # Then the next delivery places it, once, protected
    assert outcome is not None
    assert outcome.outcome.value == "PLACED"
    assert positions(USER_A, key)["contracts"] == 0.375
    exits = call("GET", f"/v1/priv/exchange/order/{key}/list", user=USER_A, query={"symbol": "BTC/USDT"})[1]
    assert sorted(o["type"] for o in exits) == ["stop_market", "take_profit", "take_profit"]


@pytest.mark.parametrize("status", [503, 429])
def test_every_exchange_request_failing_leaves_no_follower_unprotected_and_a_retry_places_once(
    signals, aws, status
):
    key, _ = follower(signals, USER_A, 5000, CONSERVATIVE)
    queue = aws.local_values["StrategyFanOutQueue"]
    post_signal({**SIGNAL, "secret": secret(), "signalId": f"faults-{status}"})
    # When every exchange request fails, for the first delivery of its messages
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    signals.set_faults(error_rate=1.0, status=status)
    try:
        answer = invoke("StrategyFanOutFunction", sqs_event(messages, arn))
        assert answer["batchItemFailures"]  # the follower's record failed (nothing placed, or compensated)
    except BatchProcessingError:
        pass  # every record failed: the whole batch returns to the queue
    signals.set_faults()
    # Then nothing is left on the symbol half-done: no position without its stop
    exits = call("GET", f"/v1/priv/exchange/order/{key}/list", user=USER_A, query={"symbol": "BTC/USDT"})[1]
    position = positions(USER_A, key)
    assert position is None or "stop_market" in [o["type"] for o in exits]
    # And delivering the messages again (as SQS does after the visibility timeout) places at most once
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    run_fan_out(queue)
    history = call(
        "GET", f"/v1/priv/exchange/order/{key}/history", user=USER_A, query={"symbol": "BTC/USDT"}
    )[1]
    entries = [o for o in history if o["type"] == "market" and o["side"] == "buy" and o["status"] == "closed"]
    assert len(entries) <= 1
    # the retry placed it, protected (or, had it placed nothing, nothing is open)
    exits = call("GET", f"/v1/priv/exchange/order/{key}/list", user=USER_A, query={"symbol": "BTC/USDT"})[1]
    position = positions(USER_A, key)
    assert position is None or sorted(o["type"] for o in exits) == [
        "stop_market",
        "take_profit",
        "take_profit",
    ]
