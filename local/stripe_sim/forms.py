"""Decoding of Stripe's bracketed form encoding, value coercion, and parameter-name validation.

stripe-python sends v1 parameters form-encoded (POST body, or query string for GET/DELETE) with
nested keys: ``metadata[plan]=pro``, ``line_items[0][price]=price_1``, ``expand[0]=latest_invoice``
(the server's own list URLs use ``expand[]=...``). Every value arrives as a string, so the typed
accessors below convert and fail with the same error codes Stripe uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from local.stripe_sim.errors import InvalidRequest

Params = dict[str, Any]

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")
# Keys under these names are user data: never turn {"0": ...} into a list there.
_FREE_FORM_KEYS = frozenset({"metadata"})
# Request options that typed Params classes list for the legacy resource API but that never travel
# as form fields.
_REQUEST_OPTION_KEYS = frozenset(
    {
        "api_key",
        "content_type",
        "headers",
        "idempotency_key",
        "max_network_retries",
        "stripe_account",
        "stripe_context",
        "stripe_version",
    }
)


def decode_form(raw: str) -> Params:
    """Turn ``a[b][0][c]=v&expand[]=x`` into ``{"a": {"b": [{"c": "v"}]}, "expand": ["x"]}``."""
    root: Params = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        bracket = key.find("[")
        if bracket <= 0:
            root[key] = value
            continue
        parts = [key[:bracket], *_KEY_PART.findall(key[bracket:])]
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "":
                # "expand[]": append semantics, kept as a dict keyed by position until normalised.
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return _normalise(root, parent_key=None)


def _normalise(node: Any, parent_key: str | None) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _normalise(value, key) for key, value in node.items()}
    if parent_key not in _FREE_FORM_KEYS and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def allowed_keys(params_class_name: str | None) -> frozenset[str] | None:
    """Top-level parameter names the real API accepts, read from stripe-python's typed Params.

    Using the SDK's own TypedDicts means the simulator rejects exactly the names Stripe would
    reject (``Received unknown parameter``) without a hand-kept list that drifts. Returns None
    (no validation) when the class is unknown or stripe is not importable.
    """
    if params_class_name is None:
        return None
    try:  # imported lazily: stripe is a dev dependency, the simulator merely benefits from it
        import stripe.params as stripe_params
        import stripe.params.checkout as checkout_params
    except ImportError:
        return None
    module: Any = stripe_params
    name = params_class_name
    if name.startswith("checkout."):
        module, name = checkout_params, name.removeprefix("checkout.")
    cls = getattr(module, name, None)
    if cls is None:
        return None
    keys = set(getattr(cls, "__required_keys__", set())) | set(getattr(cls, "__optional_keys__", set()))
    return frozenset((keys - _REQUEST_OPTION_KEYS) | {"expand"})


def validate_keys(params: Params, allowed: frozenset[str] | None) -> None:
    if allowed is None:
        return
    for key in params:
        if key not in allowed:
            raise InvalidRequest(f"Received unknown parameter: {key}", code="parameter_unknown", param=key)


# --- typed accessors ---------------------------------------------------------------------------


def get_str(params: Params, name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise missing(name)
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"Invalid string: {name}", code="parameter_invalid_string", param=name)
    return value


def get_int(params: Params, name: str, *, required: bool = False, param: str | None = None) -> int | None:
    value = params.get(name)
    label = param or name
    if value is None or value == "":
        if required:
            raise missing(label)
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise InvalidRequest(
            f"Invalid integer: {value}", code="parameter_invalid_integer", param=label
        ) from None


def get_bool(params: Params, name: str, *, param: str | None = None) -> bool | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "false"):
        return text == "true"
    raise InvalidRequest(f"Invalid boolean: {value}", code="parameter_invalid_boolean", param=param or name)


def get_dict(params: Params, name: str) -> Params | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise InvalidRequest(f"Invalid object: {name}", code="parameter_invalid_object", param=name)
    return value


def get_list(params: Params, name: str) -> list[Any]:
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    # A single "expand=x" (no brackets) is accepted by Stripe as a one-element array.
    return [value]


def get_metadata(params: Params, name: str = "metadata") -> dict[str, str] | None:
    """Metadata as sent; None when absent, {} when explicitly cleared with ``metadata=``."""
    if name not in params:
        return None
    value = params[name]
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(
            "Invalid metadata: must be an object", code="parameter_invalid_object", param=name
        )
    for key, item in value.items():
        if not isinstance(item, str):
            raise InvalidRequest(
                f"Invalid value for metadata[{key}]", code="parameter_invalid_string", param=f"{name}[{key}]"
            )
    return dict(value)


def merge_metadata(
    current: dict[str, str], update: dict[str, str] | None, *, clear_all: bool
) -> dict[str, str]:
    """Stripe semantics: keys merge, ``metadata[k]=`` deletes k, ``metadata=`` deletes everything."""
    if clear_all:
        return {}
    if update is None:
        return current
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def missing(param: str) -> InvalidRequest:
    return InvalidRequest(f"Missing required param: {param}.", code="parameter_missing", param=param)


def reject_unsupported(params: Params, names: Iterable[str], *, prefix: str = "") -> None:
    """Stripe accepts these parameters but the simulator does not implement them: refuse loudly rather
    than answer as if they had been applied."""
    for name in names:
        if name in params:
            param = f"{prefix}[{name}]" if prefix else name
            raise InvalidRequest(f"The Stripe simulator does not implement `{param}`.", param=param)
