"""The benchmark project behind ``CommonMiddleware`` only, through ``AsyncDjangoApplication``."""

import os

import async_app  # noqa: F401  (compat shims first)

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_common"

from async_app import AsyncDjangoApplication  # noqa: E402

application = AsyncDjangoApplication()
