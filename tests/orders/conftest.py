from tests.api.conftest import clean_cache  # noqa: F401 - shared fixture
