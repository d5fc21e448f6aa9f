"""async_app: asyncio coroutine views for legacy Django 1.11 projects.

Importing this package first applies :mod:`async_app.compat` (the shims that
let Django 1.11 run on Python 3.8-3.13), so import it before Django.
It also registers :mod:`async_app.backports` (Django 5.2's async API where
Django 5.2 puts it: ``QuerySet.aget``, ``django.contrib.auth.alogin``, ...;
``ASYNC_APP_DJANGO5_API=0`` for none of it) and :mod:`async_app.speedups`
(Django 1.11 code that is slow on Python 3, fast with the same results;
``ASYNC_APP_SPEEDUPS=0`` for Django as it is).

The public API is listed in ``__all__``. Names that need configured Django
settings are imported lazily, on first access, so ``import async_app`` stays
cheap and safe before ``DJANGO_SETTINGS_MODULE`` is set.
"""

import importlib

from . import compat as _compat

_compat.apply()

from . import backports as _backports  # noqa: E402

_backports.apply()

from . import speedups as _speedups  # noqa: E402

_speedups.apply()

# Coroutine handlers in Django REST framework, once (if ever) it is imported.
from . import drf as _drf  # noqa: E402

_drf.install()

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "AsyncDjangoApplication": "async_app.handler",
    "coroutine": "async_app.compat",
    "sync_to_async": "async_app.sync",
    "async_to_sync": "async_app.sync",
    "database_sync_to_async": "async_app.db",
    "SynchronousOnlyOperation": "async_app.db",
    "spawn": "async_app.tasks",
    "http_session": "async_app.http",
    "publish": "async_app.pubsub",
    "subscribe": "async_app.pubsub",
    "shutting_down": "async_app.shutdown",
    "wait_for_shutdown": "async_app.shutdown",
    "accept_websocket": "async_app.websocket",
    "WebSocketClosed": "async_app.websocket",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    """Import public names on first use (PEP 562)."""
    try:
        module_name = _LAZY[name]
    except KeyError:
        raise AttributeError("module 'async_app' has no attribute %r" % name) from None
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
