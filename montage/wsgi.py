"""WSGI entry point of montage: ``montage.wsgi:application``.

``AsyncDjangoApplication`` is Django's handler with coroutine views; gunicorn
serves it with async_app's aiohttp worker (see ``gunicorn.conf.py``).
"""

import os

import async_app  # noqa: F401  (first: the compat shims for Django 1.11)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "montage.settings")

from async_app import AsyncDjangoApplication  # noqa: E402

application = AsyncDjangoApplication()
