"""WSGI entry point of the test project for gunicorn (the toolkit's real-worker tests).

``ASYNC_APP_TEST_DB`` names the SQLite file the test prepared;
``DJANGO_SETTINGS_MODULE`` may pick ``toolkit_settings`` (function-style
middleware in the chain).
"""

import os

import async_app  # noqa: F401  (compat shims first)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_project.settings")

from async_app import AsyncDjangoApplication  # noqa: E402

application = AsyncDjangoApplication()
