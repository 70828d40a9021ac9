"""AccountProfileExpressJSv1: the caller's own profile."""

from core.api import caller_id, create_resolver, lambda_entrypoint
from core.repositories.profile import ProfileRepository
from core.schemas.profile import ProfileOut, ProfileUpdate
from core.services.profile import update_profile

app = create_resolver()
profiles = ProfileRepository()


@app.get("/v1/priv/account/profile", summary="Get user profile", tags=["Account Profile"])
def get_profile() -> ProfileOut | None:
    profile = profiles.get(caller_id(app))
    return ProfileOut.of(profile) if profile else None


@app.put("/v1/priv/account/profile", summary="Put user profile (partial update)", tags=["Account Profile"])
def put_profile(body: ProfileUpdate) -> ProfileOut:
    return ProfileOut.of(update_profile(profiles, caller_id(app), body.changes()))


lambda_handler = lambda_entrypoint(app)
