"""AccountExchange through the real ccxt into the Binance simulator over HTTP, against moto."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from tests.support import BASIC, KEYS_PATH, USER_A, USER_B, a_key, add_key, call, give_plan


@pytest.fixture
def funded(exchange):
    """A simulator account comfortably inside the BASIC plan's balance limit."""
    return exchange.create_account(balances={"USDT": 1000})


def test_a_good_key_is_created_and_listed_without_its_secret(exchange, funded):
    # Given a BASIC user; When they add a key of a funded account
    give_plan(USER_A, BASIC)
    status, key = add_key(USER_A, funded)
    # Then the key is authorized and answered without its secret
    assert status == 200
    assert {
        k: key[k]
        for k in ("exchangeId", "tradeType", "strategyType", "active", "name", "apiKeyStatus", "apiKey")
    } == {
        "exchangeId": "BINANCE",
        "tradeType": "FUTURES",
        "strategyType": "MANUAL",
        "active": True,
        "name": "Default",
        "apiKeyStatus": "AUTHORIZED",
        "apiKey": funded["apiKey"],
    }
    assert set(key) == {
        "id",
        "exchangeId",
        "tradeType",
        "strategyType",
        "active",
        "name",
        "apiKeyStatus",
        "apiKey",
        "createdAt",
        "updatedAt",
    }
    # And the list shows the same key, uncached, without the secret
    status, listed, headers = call("GET", f"{KEYS_PATH}/list", user=USER_A)
    assert (status, listed) == (200, {"items": [key]})
    assert headers["Cache-Control"] == ["no-store"]
    assert funded["apiSecretKey"] not in json.dumps(listed)


def test_the_secret_is_stored_encrypted_and_bound_to_its_user_and_key(exchange, funded):
    # Given a key added by USER_A
    give_plan(USER_A, BASIC)
    _, key = add_key(USER_A, funded)
    # When its stored item is read; Then the secret is only there as KMS ciphertext
    table = boto3.resource("dynamodb").Table("trading-api-local-main")
    item = table.get_item(Key={"PK": f"USER#{USER_A}", "SK": f"KEY#{key['id']}"})["Item"]
    ciphertext = bytes(item["secret_ciphertext"])
    assert funded["apiSecretKey"].encode() not in ciphertext
    assert funded["apiSecretKey"] not in json.dumps(item, default=repr)
    # And it decrypts under its own user and key, never under another user's
    kms = boto3.client("kms")
    context = {"purpose": "exchange-api-secret", "userId": USER_A, "keyId": key["id"]}
    assert (
        kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext=context)["Plaintext"].decode()
        == funded["apiSecretKey"]
    )
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext={**context, "userId": USER_B})


def test_a_wrong_secret_is_1103(exchange, funded):
    give_plan(USER_A, BASIC)
    status, body = add_key(USER_A, {**funded, "apiSecretKey": "x" * 64})
    assert (status, body) == (433, {"error": "exchange API authorization failed (1103)"})
    assert call("GET", f"{KEYS_PATH}/list", user=USER_A)[1] == {"items": []}


def test_an_unknown_key_is_1103(exchange):
    give_plan(USER_A, BASIC)
    status, body = add_key(USER_A, {"apiKey": "A" * 64, "apiSecretKey": "B" * 64})
    assert (status, body) == (433, {"error": "exchange API authorization failed (1103)"})


def test_a_key_the_system_already_holds_is_1109_for_anyone(exchange, funded):
    # Given USER_A holds a key
    give_plan(USER_A, BASIC)
    give_plan(USER_B, BASIC)
    assert add_key(USER_A, funded)[0] == 200
    # When the same key is added again, by USER_A or by USER_B; Then it is 1109
    assert add_key(USER_A, funded) == (433, {"error": "exchange API key already exist (1109)"})
    assert add_key(USER_B, funded) == (433, {"error": "exchange API key already exist (1109)"})


def test_keys_beyond_the_plan_are_2129a_and_no_plan_means_no_keys(exchange):
    # Given no plan; Then no key slot
    assert add_key(USER_A, exchange.create_account(balances={"USDT": 10})) == (
        433,
        {"error": "exceed subscription max API key limit (2129a)"},
    )
    # Given BASIC's two keys held; When a third is added; Then it is 2129a
    give_plan(USER_A, BASIC)
    for _ in range(2):
        assert add_key(USER_A, exchange.create_account(balances={"USDT": 10}))[0] == 200
    assert add_key(USER_A, exchange.create_account(balances={"USDT": 10})) == (
        433,
        {"error": "exceed subscription max API key limit (2129a)"},
    )


def test_balance_over_the_plan_is_2129b_counting_the_other_keys(exchange):
    # Given a BASIC user (2500 USD); Then an account holding more is 2129b on its own
    give_plan(USER_A, BASIC)
    rich = exchange.create_account(balances={"USDT": 3000})
    assert add_key(USER_A, rich) == (433, {"error": "exceed subscription max API balance limit (2129b)"})
    # Given a key holding 1500 USD; When one holding 0.06 BTC at 19200 (1152) is added: 2652 > 2500
    assert add_key(USER_A, exchange.create_account(balances={"USDT": 1500}))[0] == 200
    # Then it is 2129b too
    assert add_key(USER_A, exchange.create_account(balances={"BTC": 0.06}))[1] == {
        "error": "exceed subscription max API balance limit (2129b)"
    }


def test_a_key_that_can_withdraw_is_refused(exchange):
    give_plan(USER_A, BASIC)
    account = exchange.create_account(balances={"USDT": 10}, permissions={"enableWithdrawals": True})
    assert add_key(USER_A, account) == (
        433,
        {"error": "exchange API key must not have withdrawal permission (1116)"},
    )


def test_a_futures_key_without_futures_permission_is_refused_but_spot_is_fine(exchange):
    give_plan(USER_A, BASIC)
    account = exchange.create_account(balances={"USDT": 10}, permissions={"enableFutures": False})
    assert add_key(USER_A, account) == (
        433,
        {"error": "exchange API key must have futures permission (1117)"},
    )
    assert add_key(USER_A, account, tradeType="SPOT")[0] == 200


def test_automated_keys_must_be_futures_and_every_invalid_field_is_reported(exchange, funded):
    give_plan(USER_A, BASIC)
    status, body = add_key(
        USER_A,
        funded,
        tradeType="SPOT",
        strategyType="AUTOMATED",
        name="this is example of very long text input",
    )
    assert status == 422
    assert body == {
        "errors": [
            {
                "value": "SPOT",
                "msg": "cannot be assigned to AUTOMATED strategy",
                "param": "tradeType",
                "location": "body",
            },
            {
                "value": "this is example of very long text input",
                "msg": "length must be less than 25",
                "param": "name",
                "location": "body",
            },
        ]
    }


def test_missing_and_malformed_fields_are_422(exchange):
    give_plan(USER_A, BASIC)
    status, body, _ = call(
        "POST", KEYS_PATH, user=USER_A, body={"exchangeId": "KRAKEN", "tradeType": "MARGIN"}
    )
    assert status == 422
    assert {error["param"] for error in body["errors"]} == {
        "exchangeId",
        "tradeType",
        "strategyType",
        "name",
        "apiKey",
        "apiSecretKey",
    }
    assert "apiSecretKey" not in json.dumps(
        [e["value"] for e in body["errors"] if e["param"] == "apiSecretKey"]
    )


def test_a_rename_changes_only_the_name_and_a_bad_id_and_name_are_one_422(exchange, funded):
    # Given a key; When it is renamed; Then only its name and updatedAt change
    give_plan(USER_A, BASIC)
    _, key = add_key(USER_A, funded)
    status, renamed, _ = call(
        "PUT", f"{KEYS_PATH}/{key['id']}", user=USER_A, body={"name": "Change to different name"}
    )
    assert status == 200
    assert renamed == {**key, "name": "Change to different name", "updatedAt": renamed["updatedAt"]}
    # When the id and the name are both invalid; Then one 422 reports both, as the reference shows
    status, body, _ = call(
        "PUT", f"{KEYS_PATH}/invalid", user=USER_A, body={"name": "this is example of very long text input"}
    )
    assert (status, body) == (
        422,
        {
            "errors": [
                {"value": "invalid", "msg": "must be UUID", "param": "id", "location": "params"},
                {
                    "value": "this is example of very long text input",
                    "msg": "length must be less than 25",
                    "param": "name",
                    "location": "body",
                },
            ]
        },
    )


def test_another_users_key_is_404_on_every_route(exchange, funded):
    # Given a key of USER_A; When USER_B uses it on each key route; Then each is a 404
    give_plan(USER_A, BASIC)
    _, key = add_key(USER_A, funded)
    not_found = {"message": "route not found"}
    for method, path, body in [
        ("PUT", f"{KEYS_PATH}/{key['id']}", {"name": "mine now"}),
        ("DELETE", f"{KEYS_PATH}/{key['id']}", None),
        ("GET", f"{KEYS_PATH}/{key['id']}/balance", None),
        ("GET", f"{KEYS_PATH}/{key['id']}/balance/history", None),
    ]:
        status, answer, _ = call(method, path, user=USER_B, body=body)
        assert (status, answer) == (404, not_found), (method, path)
    # And the key is unchanged
    assert call("GET", f"{KEYS_PATH}/list", user=USER_A)[1]["items"][0]["name"] == "Default"


def test_invalid_ids_are_422_in_params(exchange):
    for method, path in [
        ("DELETE", f"{KEYS_PATH}/invalid"),
        ("GET", f"{KEYS_PATH}/invalid/balance"),
        ("GET", f"{KEYS_PATH}/invalid/balance/history"),
    ]:
        status, body, _ = call(method, path, user=USER_A)
        assert (status, body) == (
            422,
            {"errors": [{"value": "invalid", "msg": "must be UUID", "param": "id", "location": "params"}]},
        ), path


def test_delete_removes_the_key_its_secret_and_frees_the_slot_and_the_api_key(exchange, funded):
    # Given both BASIC key slots taken
    give_plan(USER_A, BASIC)
    _, key = add_key(USER_A, funded)
    assert add_key(USER_A, exchange.create_account(balances={"USDT": 10}))[0] == 200
    # When one key is deleted; Then it is gone, with its stored secret
    status, body, _ = call("DELETE", f"{KEYS_PATH}/{key['id']}", user=USER_A)
    assert (status, body) == (204, None)
    assert call("DELETE", f"{KEYS_PATH}/{key['id']}", user=USER_A)[0] == 404
    table = boto3.resource("dynamodb").Table("trading-api-local-main")
    assert "Item" not in table.get_item(Key={"PK": f"USER#{USER_A}", "SK": f"KEY#{key['id']}"})
    assert add_key(USER_A, funded)[0] == 200  # its slot and its apiKey are free again


def test_a_keys_live_balance_is_the_exchange_accounts(exchange):
    give_plan(USER_A, BASIC)
    _, key = add_key(USER_A, exchange.create_account(balances={"USDT": 2383.52587258, "BNB": 0}))
    status, balance, _ = call("GET", f"{KEYS_PATH}/{key['id']}/balance", user=USER_A)
    assert status == 200
    assert balance["total"]["USDT"] == 2383.52587258
    assert set(balance) == {"free", "used", "total"}


def test_balance_when_the_exchange_is_down_is_503(exchange, funded):
    # Given a key; When the exchange answers 503 to everything
    give_plan(USER_A, BASIC)
    _, key = add_key(USER_A, funded)
    exchange.set_faults(error_rate=1.0, status=503)
    status, body, _ = call("GET", f"{KEYS_PATH}/{key['id']}/balance", user=USER_A)
    assert (status, body) == (503, {"message": "exchange temporarily unavailable"})


def test_whitelist_ips_come_from_configuration(exchange):
    assert call("GET", "/v1/priv/account/exchange/whitelist/ip", user=USER_A)[:2] == (
        200,
        ["15.137.11.254", "221.110.159.85"],
    )


def test_no_secret_in_any_response_or_log_line(exchange, funded, caplog, capsys):
    # Given debug logging; When keys are added (one with a wrong secret) and balances read, then fail
    caplog.set_level(logging.DEBUG)
    give_plan(USER_A, BASIC)
    answers = [add_key(USER_A, funded), add_key(USER_A, {**funded, "apiSecretKey": "Z" * 64})]
    key_id = answers[0][1]["id"]
    answers.append(call("GET", f"{KEYS_PATH}/{key_id}/balance", user=USER_A)[:2])
    exchange.set_faults(error_rate=1.0, status=500)
    answers.append(call("GET", f"{KEYS_PATH}/{key_id}/balance", user=USER_A)[:2])
    # Then neither secret appears in any answer, log record or output
    captured = capsys.readouterr()
    everything = json.dumps(answers) + caplog.text + captured.out + captured.err
    assert funded["apiSecretKey"] not in everything
    assert "Z" * 64 not in everything


def test_the_key_limit_holds_under_concurrent_creates(exchange):
    """Eight creates race for two slots: the transaction lets exactly two through."""
    from core.errors import ApiKeyLimitExceeded
    from core.models.exchange import KeyLimits
    from core.repositories.exchange_keys import ExchangeKeyRepository

    repository = ExchangeKeyRepository()

    def create(index: int) -> str:
        try:
            repository.create(a_key(index), b"ciphertext", KeyLimits(max_keys=2, max_balance_usd=10_000))
        except ApiKeyLimitExceeded:
            return "refused"
        return "created"

    # When eight creates run at once; Then exactly two are created and counted
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(create, range(8)))
    assert outcomes.count("created") == 2
    assert len(repository.list(USER_A)) == 2
    assert repository.count(USER_A) == 2
