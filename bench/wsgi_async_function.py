"""The benchmark project plus a function-style middleware, through ``AsyncDjangoApplication``."""

import os

import async_app  # noqa: F401  (compat shims first)

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_function"

from async_app import AsyncDjangoApplication  # noqa: E402

application = AsyncDjangoApplication()
