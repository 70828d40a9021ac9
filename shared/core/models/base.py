"""The base of every model, the domain's and the API's shapes."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator is built on first use, not when its module is imported: a function
    serving a dozen routes builds, on a cold start, only the models its requests use (an exchange function's
    init is about 25 ms shorter)."""

    model_config = ConfigDict(defer_build=True)
