from tests.api.conftest import api, clean_cache, owner  # noqa: F401 - shared fixtures
