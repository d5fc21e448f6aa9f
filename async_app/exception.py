"""Exceptions become responses exactly as in Django 1.11 (the one place).

The coroutine pipeline converts exceptions where Django's nested
``convert_exception_to_response`` wrappers would, always through Django's own
``response_for_exception`` (status codes, logging, ``got_request_exception``,
technical pages). Django 1.11's exception code reads ``sys.exc_info()`` or
uses a bare ``raise``, so each helper re-raises the exception first, making it
the one being handled in whatever thread or greenlet runs it.
"""

import asyncio
import types

from django.core.handlers.exception import response_for_exception
from django.db import connections

__all__ = [
    "call_with_exception",
    "check_atomic_requests",
    "convert_exception",
    "convert_unless_cancelled",
    "hook_returned_none",
    "view_returned_coroutine",
    "view_returned_none",
]

#: Django 3.1's refusal, word for word.
ATOMIC_REQUESTS_MESSAGE = "You cannot use ATOMIC_REQUESTS with async views."


def convert_exception(request, exc):
    """Turn ``exc`` into a response exactly as Django does."""
    try:
        raise exc
    except Exception:
        return response_for_exception(request, exc)


def convert_unless_cancelled(request, exc):
    """:func:`convert_exception` for sync code that awaited the loop.

    A cancellation passes: it is an Exception on 3.7, never a response.
    """
    if isinstance(exc, asyncio.CancelledError):
        raise exc
    return convert_exception(request, exc)


def call_with_exception(hook, request, exc):
    """Call a ``process_exception`` hook with ``exc`` as the exception being handled."""
    try:
        raise exc
    except Exception:
        return hook(request, exc)


def check_atomic_requests(view):
    """Refuse a coroutine view that ``ATOMIC_REQUESTS`` would wrap (as Django 3.1 does).

    A transaction cannot span awaits: the view's queries run in other threads.
    ``@transaction.non_atomic_requests`` on the view lifts the refusal.
    """
    non_atomic_requests = getattr(view, "_non_atomic_requests", set())
    for connection in connections.all():
        if (
            connection.settings_dict["ATOMIC_REQUESTS"]
            and connection.alias not in non_atomic_requests
        ):
            raise RuntimeError(ATOMIC_REQUESTS_MESSAGE)


def view_returned_none(callback):
    """Django's complaint about a view that returned None (a common error)."""
    raise ValueError(
        "The view %s.%s didn't return an HttpResponse object. It returned None instead."
        % (callback.__module__, getattr(callback, "__name__", type(callback).__name__))
    )


def view_returned_coroutine(callback):
    """Django 3.1+'s complaint about a view that returned an unawaited coroutine."""
    if isinstance(callback, types.FunctionType):
        name = "%s.%s" % (callback.__module__, callback.__name__)
    else:
        name = "%s.%s.__call__" % (callback.__module__, callback.__class__.__name__)
    raise ValueError(
        "The view %s didn't return an HttpResponse object. It returned an unawaited coroutine "
        "instead. You may need to add an 'await' into your view." % name
    )


def hook_returned_none(middleware_method):
    """Django's complaint about a template response hook that returned None."""
    raise ValueError(
        "%s.process_template_response didn't return an HttpResponse object. It returned None "
        "instead." % (middleware_method.__self__.__class__.__name__)
    )
