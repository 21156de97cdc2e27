"""The order domain's tests use the API's fixtures (a user with a key and credits, request bodies)."""

from tests.api.conftest import api, catalog_body, clean_cache, owner, tryon_body  # noqa: F401 - shared fixtures
