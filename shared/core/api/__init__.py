"""The API toolkit every function's handler is built with: resolver, error map, identity, paging."""

from core.api.identity import caller_id
from core.api.resolver import create_resolver, lambda_entrypoint

__all__ = ["caller_id", "create_resolver", "lambda_entrypoint"]
