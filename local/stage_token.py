"""An ID token for a deployed stage, for an operator trying the API with curl (``make token STAGE=dev``).

The web app signs in with SRP; an operator with AWS credentials for the stage uses Cognito's admin flow
instead (``ADMIN_USER_PASSWORD_AUTH``: it needs IAM permission ``cognito-idp:AdminInitiateAuth``, so no
browser can use it). With ``create``, a missing user is created with that password (email verified, no
invitation sent): for a dev stage's test users, not for real customers.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StagePool:
    user_pool_id: str
    client_id: str


def pool_of_stack(stack_name: str, cloudformation: Any) -> StagePool:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return StagePool(outputs["UserPoolId"], outputs["UserPoolClientId"])


def id_token(pool: StagePool, email: str, password: str, cognito: Any, create: bool = False) -> str:
    if create:
        with contextlib.suppress(cognito.exceptions.UsernameExistsException):
            cognito.admin_create_user(
                UserPoolId=pool.user_pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
            cognito.admin_set_user_password(
                UserPoolId=pool.user_pool_id, Username=email, Password=password, Permanent=True
            )
    result = cognito.admin_initiate_auth(
        UserPoolId=pool.user_pool_id,
        ClientId=pool.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    if "AuthenticationResult" not in result:
        # A challenge (a new password, MFA): finish it the way the web app does, then try again.
        raise RuntimeError(
            f"Cognito asks for {result.get('ChallengeName')}: sign in once in the web app first"
        )
    return str(result["AuthenticationResult"]["IdToken"])
