"""``AsyncDjangoApplication`` over tests.apps.websocket_settings."""

import os

import async_app  # noqa: F401  (compat shims first)

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.apps.websocket_settings"

from async_app.handler import AsyncDjangoApplication  # noqa: E402

application = AsyncDjangoApplication()
