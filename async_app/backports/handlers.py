"""Django 5.2's sync ``load_middleware`` rules for Django 1.11's own ``BaseHandler``.

Django 1.11's sync handlers (``WSGIHandler``, the stock test ``Client``'s
``ClientHandler``) know nothing of ``sync_capable``/``async_capable``. As in
Django 5.2's sync handler, :func:`install_handler` makes their
``load_middleware``

* refuse a middleware that is neither (``RuntimeError``, Django's message);
* adapt an async-only middleware: the handler below it is awaited as a
  coroutine, the middleware itself called through ``async_to_sync``, logging
  "Synchronous/Asynchronous handler adapted for middleware X." under DEBUG;
* call ``async def`` view, template-response and exception hooks through
  ``async_to_sync``.

A chain whose middleware are all sync-capable (every middleware of Django
1.11 and of old projects) is built by Django 1.11's own code, unchanged.
Sync code below an adapted middleware runs on the request's thread (Django's
thread-sensitive mode); so does sync code the adapted coroutines await.
"""

import functools
import logging

from django.conf import settings

from .coroutines import iscoroutinefunction

__all__ = ["install_handler"]

logger = logging.getLogger("django.request")

_HOOK_LISTS = ("_view_middleware", "_template_response_middleware", "_exception_middleware")


class AsyncToSync:
    """A coroutine function called from sync code, on the caller's thread.

    Keeps the bound method's ``__self__``: Django 1.11's complaints about a
    hook that returned None name the hook's class through it.
    """

    def __init__(self, func):
        # Not functools.update_wrapper: it would copy the coroutine marks
        # (markcoroutinefunction) of a marked instance onto this sync callable.
        self.func = func
        self_ = getattr(func, "__self__", None)
        if self_ is not None:
            self.__self__ = self_

    def __repr__(self):
        return "<AsyncToSync %r>" % (self.func,)

    def __call__(self, *args, **kwargs):
        from ..sync import inline_mode, run_coroutine

        with inline_mode():  # awaited sync code stays on this thread
            return run_coroutine(self.func(*args, **kwargs))


def sync_to_async_here(func):
    """A sync callable awaited by coroutines, called on the loop's (the request's) thread."""
    from ..sync import call_here

    @functools.wraps(func)
    async def inner(*args, **kwargs):
        return call_here(func, *args, **kwargs)

    return inner


def convert_exception_to_response_async(get_response):
    """Django 3.1's ``convert_exception_to_response`` for a coroutine ``get_response``."""
    from ..exception import convert_exception
    from ..sync import call_here

    @functools.wraps(get_response)
    async def inner(request):
        try:
            response = await get_response(request)
        except Exception as exc:
            response = call_here(convert_exception, request, exc)
        return response

    return inner


def adapt_method_mode(is_async, method, method_is_async=None, debug=False, name=None):
    """Django 5.2's ``BaseHandler.adapt_method_mode``: ``method`` made sync or async as asked."""
    if method_is_async is None:
        method_is_async = iscoroutinefunction(method)
    if debug and not name:
        name = "method %s()" % method.__qualname__
    if is_async:
        if not method_is_async:
            if debug:
                logger.debug("Synchronous handler adapted for %s.", name)
            return sync_to_async_here(method)
    elif method_is_async:
        if debug:
            logger.debug("Asynchronous handler adapted for %s.", name)
        return AsyncToSync(method)
    return method


def _load_middleware_5(self, import_string, convert_exception_to_response, exceptions):
    """Django 5.2's ``load_middleware(is_async=False)`` over Django 1.11's hook lists."""
    self._request_middleware = []
    self._response_middleware = []
    for name in _HOOK_LISTS:
        setattr(self, name, [])
    handler = convert_exception_to_response(self._get_response)
    handler_is_async = False
    for middleware_path in reversed(settings.MIDDLEWARE):
        middleware = import_string(middleware_path)
        middleware_can_sync = getattr(middleware, "sync_capable", True)
        middleware_can_async = getattr(middleware, "async_capable", False)
        if not middleware_can_sync and not middleware_can_async:
            raise RuntimeError(
                "Middleware %s must have at least one of sync_capable/async_capable set to True."
                % middleware_path
            )
        elif not handler_is_async and middleware_can_sync:
            middleware_is_async = False
        else:
            middleware_is_async = middleware_can_async
        try:
            adapted_handler = adapt_method_mode(
                middleware_is_async,
                handler,
                handler_is_async,
                debug=settings.DEBUG,
                name="middleware %s" % middleware_path,
            )
            mw_instance = middleware(adapted_handler)
        except exceptions.MiddlewareNotUsed as exc:
            if settings.DEBUG:
                if str(exc):
                    logger.debug("MiddlewareNotUsed(%r): %s", middleware_path, exc)
                else:
                    logger.debug("MiddlewareNotUsed: %r", middleware_path)
            continue
        handler = adapted_handler
        if mw_instance is None:
            raise exceptions.ImproperlyConfigured(
                "Middleware factory %s returned None." % middleware_path
            )
        if hasattr(mw_instance, "process_view"):
            self._view_middleware.insert(0, adapt_method_mode(False, mw_instance.process_view))
        if hasattr(mw_instance, "process_template_response"):
            self._template_response_middleware.append(
                adapt_method_mode(False, mw_instance.process_template_response)
            )
        if hasattr(mw_instance, "process_exception"):
            self._exception_middleware.append(
                adapt_method_mode(False, mw_instance.process_exception)
            )
        if middleware_is_async:
            handler = convert_exception_to_response_async(mw_instance)
        else:
            handler = convert_exception_to_response(mw_instance)
        handler_is_async = middleware_is_async
    self._middleware_chain = adapt_method_mode(False, handler, handler_is_async)


def install_handler(base):
    """Give ``django.core.handlers.base.BaseHandler.load_middleware`` Django 5.2's rules (idempotent)."""
    cls = base.BaseHandler
    if cls.__dict__.get("_async_app_backport"):
        return
    from django.core import exceptions
    from django.core.handlers.exception import convert_exception_to_response
    from django.utils.module_loading import import_string

    load_middleware_1_11 = cls.load_middleware

    def load_middleware(self):
        if settings.MIDDLEWARE is None:
            return load_middleware_1_11(self)
        factories = [import_string(path) for path in settings.MIDDLEWARE]
        if all(getattr(factory, "sync_capable", True) for factory in factories):
            load_middleware_1_11(self)
            for name in _HOOK_LISTS:  # async def hooks (none in Django 1.11)
                hooks = getattr(self, name)
                hooks[:] = [adapt_method_mode(False, hook) for hook in hooks]
            return None
        return _load_middleware_5(self, import_string, convert_exception_to_response, exceptions)

    load_middleware.__doc__ = load_middleware_1_11.__doc__
    cls.load_middleware = load_middleware
    cls._async_app_backport = True
