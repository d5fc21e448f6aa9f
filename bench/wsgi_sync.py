"""The benchmark project through Django's stock ``WSGIHandler`` (sync and gthread workers)."""

import os

import async_app  # noqa: F401  (compat shims: Django 1.11 on new Pythons)

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
