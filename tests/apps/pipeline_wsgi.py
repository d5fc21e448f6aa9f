"""``AsyncDjangoApplication`` over tests.apps.pipeline_settings.

Every ``request_started`` and ``request_finished`` is recorded (see
``worker_apps.record``) with its sender and thread.
"""
import os
import threading

import async_app  # noqa: F401  (compat shims first)

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.apps.pipeline_settings"

from django.core.signals import request_finished, request_started  # noqa: E402

from async_app import AsyncDjangoApplication  # noqa: E402
from tests.apps.worker_apps import record  # noqa: E402


def _on_started(sender, **kwargs):
    record("started:%s:%d" % (getattr(sender, "__name__", sender), threading.get_ident()))


def _on_finished(sender, **kwargs):
    record("finished:%s:%d" % (getattr(sender, "__name__", sender), threading.get_ident()))


request_started.connect(_on_started, weak=False)
request_finished.connect(_on_finished, weak=False)

application = AsyncDjangoApplication()
