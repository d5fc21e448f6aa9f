"""``AsyncDjangoApplication`` over tests.apps.worker_django_settings.

Each ``request_finished`` signal is recorded (see ``worker_apps.record``)
so tests can check it fires once per request, cancelled ones included.
"""

import os

import async_app  # noqa: F401  (compat shims first)

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.apps.worker_django_settings"

from django.core.signals import request_finished  # noqa: E402

from async_app import AsyncDjangoApplication  # noqa: E402
from tests.apps.worker_apps import record  # noqa: E402


def _finished(sender, **kwargs):
    record("request_finished")


request_finished.connect(_finished, weak=False)

application = AsyncDjangoApplication()
