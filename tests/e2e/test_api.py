"""The routes of the foundation over HTTP, as a web client uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import requests

from tests.support import BASIC, PROJECT_ROOT


def test_public_lists_answer_the_seeded_plans_profiles_and_strategies(stack):
    plans = stack.get("/v1/pub/subscription/list").json()["items"]
    assert [plan["name"] for plan in plans] == ["BASIC", "ADVANCED", "PROFESSIONAL"]
    profiles = stack.get("/v1/pub/strategy/profile/list").json()["items"]
    assert [(p["name"], p["percentage"]) for p in profiles] == [
        ("CONSERVATIVE", 1.5),
        ("MODERATE", 2),
        ("AGGRESSIVE", 3),
    ]
    assert len(stack.get("/v1/pub/strategy/list").json()["items"]) == 4


def test_a_profile_put_is_read_back_by_its_user_only(stack):
    # Given two new users without a profile
    alice, _ = stack.token("alice@example.com")
    bob, _ = stack.token("bob@example.com")
    assert stack.get("/v1/priv/account/profile", alice).json() is None
    # When Alice puts hers; Then it is answered uncached, and read back by her alone
    answer = stack.put("/v1/priv/account/profile", alice, json={"firstName": "Alice", "language": "AR"})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json()["language"] == "AR"
    assert stack.get("/v1/priv/account/profile", alice).json()["firstName"] == "Alice"
    assert stack.get("/v1/priv/account/profile", bob).json() is None


def test_an_invalid_or_form_encoded_profile_is_refused(stack):
    token, _ = stack.token("errors@example.com")
    invalid = stack.put("/v1/priv/account/profile", token, json={"lastName": "Doe123", "country": "CAX"})
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0] == {
        "value": "Doe123",
        "msg": "must be alpha character",
        "param": "lastName",
        "location": "body",
    }
    not_json = stack.put("/v1/priv/account/profile", token, data="lastName=Doe")
    assert (not_json.status_code, not_json.json()) == (400, {"message": "request body must be a JSON object"})


def test_token_with_plan_sets_the_subscription(stack):
    # When a token is asked with a plan; Then the user's subscription is that plan
    token, sub = stack.token("subscriber@example.com", plan="BASIC")
    answer = stack.get("/v1/priv/account/subscription", token)
    assert answer.status_code == 200
    assert answer.json() == {
        "paymentType": "STRIPE",
        "SubscriptionType": {
            "id": BASIC,
            "name": "BASIC",
            "maxBalanceUSD": 2500,
            "maxApiKey": 2,
            "strategyAutomated": True,
        },
    }
    # And a later token of the same user, without a plan, keeps it; a user never given one has none
    same_user_again, same_sub = stack.token("subscriber@example.com")
    assert same_sub == sub
    assert (
        stack.get("/v1/priv/account/subscription", same_user_again).json()["SubscriptionType"]["id"] == BASIC
    )
    plain, _ = stack.token("noplan@example.com")
    assert stack.get("/v1/priv/account/subscription", plain).json() is None


def test_token_route_validates_its_input(stack):
    answer = stack.post("/_local/token", json={"email": "a@example.com", "plan": "GOLD"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["param"] == "plan"
    assert stack.post("/_local/token", json={"email": "not-an-email"}).status_code == 422


def test_unknown_routes_and_methods_are_404(stack):
    token, _ = stack.token("nowhere@example.com")
    for method, path in [("GET", "/v1/pub/nothing"), ("DELETE", "/v1/priv/account/profile"), ("GET", "/")]:
        answer = requests.request(method, f"{stack.url}{path}", headers={"Authorization": token}, timeout=10)
        assert (answer.status_code, answer.json()) == (404, {"message": "route not found"}), (method, path)


def test_methods_api_gateway_does_not_serve_are_405(stack):
    for method in ("TRACE", "CONNECT", "BREW"):
        answer = requests.request(method, f"{stack.url}/v1/pub/subscription/list", timeout=10)
        assert (answer.status_code, answer.json()) == (405, {"message": "Method Not Allowed"}), method


def test_a_burst_of_new_connections_is_served(stack):
    """Twenty clients connecting at once (a page load, a load test) are all answered, none reset."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_: int) -> int:
        with requests.Session() as session:  # a new connection each
            return session.get(f"{stack.url}/v1/pub/subscription/list", timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(one, range(20))) == [200] * 20


def test_a_cors_preflight_allows_the_authorization_header(stack):
    answer = requests.options(f"{stack.url}/v1/priv/account/profile", timeout=10)
    assert answer.status_code == 200
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]


def test_unknown_job_lists_the_known_ones(stack):
    answer = stack.post("/_local/jobs/nothing")
    assert answer.status_code == 404
    assert "jobs" in answer.json()


def test_swagger_ui_serves_the_merged_openapi_document(stack):
    page = stack.get("/swagger")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert stack.get("/swagger/swagger-ui-bundle.min.js").status_code == 200
    document = stack.get("/swagger/openapi.json").json()
    assert {"/v1/pub/subscription/list", "/v1/priv/account/profile", "/v1/priv/account/subscription"} <= set(
        document["paths"]
    )
    assert document["paths"]["/v1/priv/account/profile"]["put"]["security"] == [{"CognitoIdToken": []}]


def test_invoke_one_function_against_the_running_stack(stack):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "local",
            "invoke",
            "AccountProfileFunction",
            "--event",
            "events/account_profile_put.json",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LOCAL_STATE_FILE": str(stack.state_file)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["language"] == "AR"


def test_invoke_without_a_running_stack_starts_its_own_services(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "local",
            "invoke",
            "PublicSubscriptionFunction",
            "--event",
            "events/public_subscription_list.json",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LOCAL_STATE_FILE": str(tmp_path / "none.json")},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert len(json.loads(response["body"])["items"]) == 3


def test_seed_command_works_against_the_running_local_stack(stack):
    result = subprocess.run(
        [sys.executable, "-m", "local", "seed", "--local"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LOCAL_STATE_FILE": str(stack.state_file)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "plans=4, risk_profiles=3, strategies=4" in result.stdout
    assert len(stack.get("/v1/pub/subscription/list").json()["items"]) == 3
