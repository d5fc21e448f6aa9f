"""Class-based views as Django 4.1 has them: ``View.view_is_async`` and friends.

* ``View.view_is_async`` (a class property): True when every HTTP handler
  (``get``, ``post``, ... but ``options``) is a coroutine function; mixing
  sync and async handlers raises ``ImproperlyConfigured``, as in Django.
* ``as_view()`` of an async view returns a function marked as a coroutine
  function.
* ``options()`` and ``http_method_not_allowed()`` of an async view return a
  coroutine when called from coroutine code (an event loop running in the
  thread: async_app's pipeline, the async test client).

Two deliberate differences. Called with no event loop running (Django 1.11's
stock ``WSGIHandler``, which cannot await anything), those two return the
response itself, as in Django 1.11, so a sync server still answers 405 and
OPTIONS for an async view. And ``as_view()`` of a *mixed* view (an async
``post`` next to ``FormView``'s sync ``get``, which async_app's pipeline
serves, each method where it belongs) does not raise, so urlconfs of
existing projects keep loading; it warns (:class:`MixedHandlersWarning`)
with Django's message instead.
"""

import asyncio
import warnings

from .coroutines import iscoroutinefunction, markcoroutinefunction

__all__ = ["MixedHandlersWarning", "install_view"]


class MixedHandlersWarning(DeprecationWarning):
    """``as_view()`` of a view mixing sync and async handlers (Django 4.1+ refuses it)."""


class _ClassProperty:
    def __init__(self, fget):
        self.fget = fget
        self.__doc__ = fget.__doc__

    def __get__(self, instance, owner):
        return self.fget(owner)


def _handlers_async(cls):
    """True/False when all handlers are async/sync, None when mixed."""
    handlers = [
        getattr(cls, method)
        for method in cls.http_method_names
        if method != "options" and hasattr(cls, method)
    ]
    if not handlers:
        return False
    is_async = iscoroutinefunction(handlers[0])
    if not all(iscoroutinefunction(h) == is_async for h in handlers[1:]):
        return None
    return is_async


def _mixed_message(cls):
    return "%s HTTP handlers must either be all sync or all async." % cls.__qualname__


def view_is_async(cls):
    """Whether the view's HTTP handlers are coroutine functions (Django 4.1)."""
    from django.core.exceptions import ImproperlyConfigured

    is_async = _handlers_async(cls)
    if is_async is None:
        raise ImproperlyConfigured(_mixed_message(cls))
    return is_async


def _answer(view, response):
    """``response``, as a coroutine when an async view is called from coroutine code."""
    if not _handlers_async(type(view)) or asyncio._get_running_loop() is None:
        return response

    async def func():
        return response

    return func()


def install_view(base):
    """Patch ``django.views.generic.base.View`` (idempotent)."""
    from django.utils.decorators import classonlymethod

    View = base.View
    if View.__dict__.get("_async_app_backport"):  # not inherited: each class once
        return
    sync_as_view = View.__dict__["as_view"].__func__
    sync_options = View.options
    sync_not_allowed = View.http_method_not_allowed

    def as_view(cls, **initkwargs):
        view = sync_as_view(cls, **initkwargs)
        is_async = _handlers_async(cls)
        if is_async:
            markcoroutinefunction(view)
        elif is_async is None:
            warnings.warn(
                _mixed_message(cls) + " (Django 4.1+ raises ImproperlyConfigured)",
                MixedHandlersWarning,
                stacklevel=2,
            )
        return view

    def options(self, request, *args, **kwargs):
        return _answer(self, sync_options(self, request, *args, **kwargs))

    def http_method_not_allowed(self, request, *args, **kwargs):
        return _answer(self, sync_not_allowed(self, request, *args, **kwargs))

    as_view.__doc__ = sync_as_view.__doc__
    options.__doc__ = sync_options.__doc__
    View.as_view = classonlymethod(as_view)
    View.options = options
    View.http_method_not_allowed = http_method_not_allowed
    View.view_is_async = _ClassProperty(view_is_async)
    View._async_app_backport = True
