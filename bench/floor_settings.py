"""Settings for bench/api.py's server: the real settings, plus the floor view (bench/floor_urls.py)."""

from ftmv.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
