"""The benchmark's settings with ``CommonMiddleware`` as the only middleware."""

from bench.settings import *  # noqa: F401,F403

MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
