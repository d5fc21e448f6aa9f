"""The soak project through ``AsyncDjangoApplication`` (for AiohttpWorker)."""

import os

import async_app  # noqa: F401  (compat shims first)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soak.settings")

from async_app import AsyncDjangoApplication  # noqa: E402

application = AsyncDjangoApplication()
