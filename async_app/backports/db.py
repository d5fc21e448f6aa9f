"""``django.core.exceptions.SynchronousOnlyOperation`` and ``django.utils.asyncio`` (Django 3.0).

The exception async_app's database guard raises (:mod:`async_app.db`), under
the name Django 3.0+ gives it, and the ``async_unsafe`` decorator.
"""

import asyncio
import functools
import os
import sys
import types

from ..db import SynchronousOnlyOperation
from ..sync import in_sync_code

__all__ = ["async_unsafe", "check_async_unsafe", "install_exceptions", "install_utils_asyncio"]


def install_exceptions(exceptions):
    """Add ``SynchronousOnlyOperation`` to ``django.core.exceptions``."""
    if not hasattr(exceptions, "SynchronousOnlyOperation"):
        exceptions.SynchronousOnlyOperation = SynchronousOnlyOperation


_DEFAULT_MESSAGE = "You cannot call this from an async context - use a thread or sync_to_async."


def check_async_unsafe(message=_DEFAULT_MESSAGE):
    """Raise ``SynchronousOnlyOperation(message)`` when called from coroutine code on the loop."""
    if (
        asyncio._get_running_loop() is not None
        and not in_sync_code()
        and not os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    ):
        raise SynchronousOnlyOperation(message)


def async_unsafe(message):
    """Mark a function as unsafe from coroutine code on the loop (Django 3.0).

    Calling it there raises ``SynchronousOnlyOperation(message)`` unless
    ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set; sync code run through async_app's
    pools (or inline under the test client) is allowed, as for the database
    guard. Usable bare (``@async_unsafe``) or with a message.
    """

    def decorator(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            check_async_unsafe(message)
            return func(*args, **kwargs)

        return inner

    if callable(message):
        func, message = message, _DEFAULT_MESSAGE
        return decorator(func)
    return decorator


def install_utils_asyncio(utils):
    """Create the ``django.utils.asyncio`` module (``async_unsafe``), which 1.11 lacks."""
    name = utils.__name__ + ".asyncio"
    if name in sys.modules:
        return
    module = types.ModuleType(name, "Django 3.0's django.utils.asyncio, from async_app.backports.")
    module.async_unsafe = async_unsafe
    module.SynchronousOnlyOperation = SynchronousOnlyOperation
    sys.modules[name] = module
    utils.asyncio = module
