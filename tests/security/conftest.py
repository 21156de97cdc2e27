from tests.api.conftest import api, clean_cache, owner, tryon_body  # noqa: F401 - shared fixtures
