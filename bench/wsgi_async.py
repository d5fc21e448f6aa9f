"""The benchmark project through ``AsyncDjangoApplication`` (for AiohttpWorker)."""

import os

import async_app  # noqa: F401  (compat shims first)

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

from async_app import AsyncDjangoApplication  # noqa: E402

application = AsyncDjangoApplication()
