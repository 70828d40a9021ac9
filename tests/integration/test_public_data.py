"""Public data comes out exactly as the API reference's examples show it."""

from tests.support import call


def test_subscription_plans_are_the_reference_example(aws):
    status, body, _ = call("GET", "/v1/pub/subscription/list")
    assert status == 200
    assert body == {
        "items": [
            {
                "id": "336e0577-784d-4482-8a37-46649118aa51",
                "name": "BASIC",
                "monthlyPriceUSD": 20,
                "maxBalanceUSD": 2500,
                "maxApiKey": 2,
                "strategyAutomated": True,
            },
            {
                "id": "eedb6709-40be-4425-bc8c-3f27b0f16606",
                "name": "ADVANCED",
                "monthlyPriceUSD": 40,
                "maxBalanceUSD": 5000,
                "maxApiKey": 3,
                "strategyAutomated": True,
            },
            {
                "id": "d6e3155b-caed-449c-b95b-857f1b765040",
                "name": "PROFESSIONAL",
                "monthlyPriceUSD": 60,
                "maxBalanceUSD": 10000,
                "maxApiKey": 5,
                "strategyAutomated": True,
            },
        ]
    }


def test_private_plans_are_not_listed(aws):
    _, body, _ = call("GET", "/v1/pub/subscription/list")
    assert "eefffe05-5d1d-4be8-a300-20c7c39c9fef" not in {plan["id"] for plan in body["items"]}


def test_risk_profiles_are_the_reference_example(aws):
    status, body, headers = call("GET", "/v1/pub/strategy/profile/list")
    assert status == 200
    assert body == {
        "items": [
            {
                "id": "ab00673a-cd19-44d4-a7c4-05c63e309663",
                "name": "CONSERVATIVE",
                "percentage": 1.5,
                "createdAt": "2022-09-09T01:57:36.304Z",
                "updatedAt": "2022-09-09T01:57:36.304Z",
            },
            {
                "id": "3dc38f3d-4b4e-43b3-a102-e250b7cd3551",
                "name": "MODERATE",
                "percentage": 2,
                "createdAt": "2022-09-09T01:58:12.344Z",
                "updatedAt": "2022-09-09T01:58:12.344Z",
            },
            {
                "id": "9234a512-48d0-4fa9-8b77-fdaec0fd3e00",
                "name": "AGGRESSIVE",
                "percentage": 3,
                "createdAt": "2022-09-09T01:59:23.456Z",
                "updatedAt": "2022-09-09T01:59:23.456Z",
            },
        ]
    }
    assert "Cache-Control" not in headers  # public data may be cached


def test_strategies_are_the_reference_example(aws):
    status, body, _ = call("GET", "/v1/pub/strategy/list")
    assert status == 200
    assert [strategy["name"] for strategy in body["items"]] == [
        "STRATEGY #1",
        "STRATEGY #2",
        "STRATEGY #3",
        "STRATEGY #4",
    ]
    assert body["items"][0] == {
        "id": "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08",
        "active": True,
        "name": "STRATEGY #1",
        "description": None,
        "exchangeId": "BINANCE",
        "symbol": "BTC/USDT",
        "createdAt": "2022-09-09T01:57:36.304Z",
        "updatedAt": "2022-09-09T01:57:36.304Z",
    }
