"""One ``AsyncDjangoApplication`` per middleware stack of tests.apps.pipeline_settings.

``application`` hands each request to the stack its ``X-Stack`` header
names (each application loads its middleware under that stack's settings,
once; nothing reads them per request). Every ``request_started`` and ``request_finished`` is recorded (see
``worker_apps.record``) with its sender and thread.
"""

import os
import threading

import async_app  # noqa: F401  (compat shims first)

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.apps.pipeline_settings"

from django.core.signals import request_finished, request_started  # noqa: E402

from django.test.utils import override_settings  # noqa: E402

from async_app import AsyncDjangoApplication  # noqa: E402
from tests.apps.pipeline_settings import STACKS  # noqa: E402
from tests.apps.worker_apps import record  # noqa: E402


def _on_started(sender, **kwargs):
    record("started:%s:%d" % (getattr(sender, "__name__", sender), threading.get_ident()))


def _on_finished(sender, **kwargs):
    record("finished:%s:%d" % (getattr(sender, "__name__", sender), threading.get_ident()))


request_started.connect(_on_started, weak=False)
request_finished.connect(_on_finished, weak=False)


def _load(stack_settings):
    with override_settings(**stack_settings):
        return AsyncDjangoApplication()


APPLICATIONS = {name: _load(stack_settings) for name, stack_settings in STACKS.items()}


async def application(environ, start_response):
    """Serve the request with the application of its ``X-Stack`` (default ``mixins``)."""
    return await APPLICATIONS[environ.get("HTTP_X_STACK", "mixins")](environ, start_response)
