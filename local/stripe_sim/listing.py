"""List endpoints: Stripe's cursor pagination and the ``created`` filter every list accepts."""

from __future__ import annotations

from collections.abc import Callable

from local.stripe_sim import objects
from local.stripe_sim.errors import InvalidRequest
from local.stripe_sim.forms import Params, get_int, get_str
from local.stripe_sim.objects import JsonObject
from local.stripe_sim.state import State


def paginate(state: State, ids_newest_first: list[str], params: Params, url: str) -> JsonObject:
    """One page of a list: ``limit`` (1..100, default 10), ``starting_after`` or ``ending_before``."""
    limit = get_int(params, "limit")
    if limit is None:
        limit = 10
    if not 1 <= limit <= 100:
        raise InvalidRequest(
            "This value must be greater than or equal to 1 and less than or equal to 100.",
            code="parameter_invalid_integer",
            param="limit",
        )
    starting_after = get_str(params, "starting_after")
    ending_before = get_str(params, "ending_before")
    ids = ids_newest_first
    if starting_after:
        ids = ids[_cursor_index(ids_newest_first, starting_after, "starting_after") + 1 :]
        page, has_more = ids[:limit], len(ids) > limit
    elif ending_before:
        ids = ids[: _cursor_index(ids_newest_first, ending_before, "ending_before")]
        page, has_more = ids[-limit:], len(ids) > limit
    else:
        page, has_more = ids[:limit], len(ids) > limit
    return objects.list_object([state.render(object_id) for object_id in page], url, has_more=has_more)


def _cursor_index(ids: list[str], cursor: str, param: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise InvalidRequest(f"No such object: '{cursor}'", code="resource_missing", param=param) from None


def created_filter(params: Params) -> Callable[[JsonObject], bool]:
    """``created=<ts>`` or ``created[gt|gte|lt|lte]=<ts>``; everything when absent."""
    created = params.get("created")
    if created is None or created == "":
        return lambda _obj: True
    if isinstance(created, dict):
        bounds = {op: get_int(created, op, param=f"created[{op}]") for op in ("gt", "gte", "lt", "lte")}

        def within(obj: JsonObject) -> bool:
            value = obj["created"]
            return (
                (bounds["gt"] is None or value > bounds["gt"])
                and (bounds["gte"] is None or value >= bounds["gte"])
                and (bounds["lt"] is None or value < bounds["lt"])
                and (bounds["lte"] is None or value <= bounds["lte"])
            )

        return within
    exact = get_int(params, "created")
    return lambda obj: obj["created"] == exact
