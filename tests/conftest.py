"""Settings every test tier shares: fake AWS credentials, so nothing can ever reach a real account."""

import os

for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "trading-api-tests",
    "POWERTOOLS_DEV": "false",
}.items():
    os.environ[name] = value
# In-process tests use moto's mock; an endpoint inherited from a shell running the local stack would bypass it.
os.environ.pop("AWS_ENDPOINT_URL", None)
