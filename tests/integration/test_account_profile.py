"""GET and PUT /v1/priv/account/profile: the reference's rules, partial updates, one owner per profile."""

import json

from tests.support import USER_A, USER_B, api_event, call, invoke


def test_profile_is_null_before_the_first_put(aws):
    status, body, headers = call("GET", "/v1/priv/account/profile", user=USER_A)
    assert (status, body) == (200, None)
    assert headers["Cache-Control"] == ["no-store"]


def test_first_put_creates_the_profile_and_later_puts_change_only_what_they_send(aws):
    status, created, _ = call(
        "PUT",
        "/v1/priv/account/profile",
        user=USER_A,
        body={
            "lastName": "John",
            "firstName": "Doe",
            "country": "CA",
            "language": "EN",
            "timezone": "America/Toronto",
        },
    )
    assert status == 200
    status, updated, _ = call("PUT", "/v1/priv/account/profile", user=USER_A, body={"language": "AR"})
    assert status == 200
    assert updated == {**created, "language": "AR", "updatedAt": updated["updatedAt"]}
    assert updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] >= created["updatedAt"]
    assert call("GET", "/v1/priv/account/profile", user=USER_A)[1] == updated


def test_null_clears_a_field(aws):
    call("PUT", "/v1/priv/account/profile", user=USER_A, body={"firstName": "Doe", "country": "CA"})
    _, body, _ = call("PUT", "/v1/priv/account/profile", user=USER_A, body={"country": None})
    assert (body["firstName"], body["country"]) == ("Doe", None)


def test_invalid_fields_are_all_reported_at_once_as_in_the_reference(aws):
    status, body, _ = call(
        "PUT",
        "/v1/priv/account/profile",
        user=USER_A,
        body={"lastName": "Doe123", "country": "CAX", "language": "ENX", "timezone": "America/Torontox"},
    )
    assert status == 422
    assert body == {
        "errors": [
            {"value": "Doe123", "msg": "must be alpha character", "param": "lastName", "location": "body"},
            {"value": "CAX", "msg": "must be valid country", "param": "country", "location": "body"},
            {"value": "ENX", "msg": "must be a valid language", "param": "language", "location": "body"},
            {
                "value": "America/Torontox",
                "msg": "must be a valid timezone",
                "param": "timezone",
                "location": "body",
            },
        ]
    }
    assert call("GET", "/v1/priv/account/profile", user=USER_A)[1] is None  # nothing half-written


def test_wrong_types_are_422_not_500(aws):
    status, body, _ = call(
        "PUT", "/v1/priv/account/profile", user=USER_A, body={"firstName": 5, "language": ["EN"]}
    )
    assert status == 422
    assert {error["param"] for error in body["errors"]} == {"firstName", "language"}


def test_a_body_that_is_not_a_json_object_is_400(aws):
    for raw in ("not json", "[1, 2]", '"text"', "{", "42"):
        status, body, _ = call("PUT", "/v1/priv/account/profile", user=USER_A, raw_body=raw)
        assert (status, body) == (400, {"message": "request body must be a JSON object"}), raw


def test_form_encoded_body_is_not_read_as_fields(aws):
    status, _, _ = call(
        "PUT",
        "/v1/priv/account/profile",
        user=USER_A,
        raw_body="language=AR",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 400


def test_body_over_64_kib_is_refused_before_any_work(aws):
    status, body, _ = call(
        "PUT", "/v1/priv/account/profile", user=USER_A, raw_body=json.dumps({"firstName": "A" * 70_000})
    )
    assert (status, body) == (413, {"message": "request body too large"})
    assert call("GET", "/v1/priv/account/profile", user=USER_A)[1] is None


def test_each_user_sees_only_their_own_profile(aws):
    call("PUT", "/v1/priv/account/profile", user=USER_A, body={"firstName": "Alice"})
    assert call("GET", "/v1/priv/account/profile", user=USER_B)[1] is None
    call("PUT", "/v1/priv/account/profile", user=USER_B, body={"firstName": "Bob"})
    assert call("GET", "/v1/priv/account/profile", user=USER_A)[1]["firstName"] == "Alice"


def test_identity_comes_only_from_the_authorizer_claims(aws):
    function, event = api_event("GET", "/v1/priv/account/profile", headers={"X-User-Id": USER_A})
    response = invoke(function, event)
    assert (response["statusCode"], json.loads(response["body"])) == (401, {"message": "Unauthorized"})


def test_unknown_route_in_a_function_is_404_route_not_found(aws):
    function, event = api_event("GET", "/v1/priv/account/profile", user=USER_A)
    response = invoke(function, {**event, "path": "/v1/priv/account/profile/extra", "httpMethod": "DELETE"})
    assert (response["statusCode"], json.loads(response["body"])) == (404, {"message": "route not found"})
