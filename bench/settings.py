"""montage's settings with the benchmark's URLs (a sync twin of ``/hello/``)."""

from montage.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
