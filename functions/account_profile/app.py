"""AccountProfileExpressJSv1: the caller's own profile."""

from core import wiring
from core.api import caller_id, create_resolver, lambda_entrypoint
from core.schemas.profile import ProfileOut, ProfileUpdate

app = create_resolver()


@app.get(
    "/v1/priv/account/profile",
    summary="Get user profile",
    description="The caller's profile; `null` before the first PUT.",
    tags=["Account Profile"],
)
def get_profile() -> ProfileOut | None:
    profile = wiring.profile_service().get(caller_id(app))
    return ProfileOut.of(profile) if profile else None


@app.put(
    "/v1/priv/account/profile",
    summary="Put user profile (partial update)",
    description="Only the fields sent change; a field sent as null is cleared.",
    tags=["Account Profile"],
)
def put_profile(body: ProfileUpdate) -> ProfileOut:
    return ProfileOut.of(wiring.profile_service().update(caller_id(app), body.changes()))


lambda_handler = lambda_entrypoint(app)
