"""``MiddlewareMixin``'s async mode (Django 3.1) and the middleware capability decorators.

A ``MiddlewareMixin`` built with a coroutine function as ``get_response``
marks itself as a coroutine function and its ``__call__`` returns
``__acall__(request)``: ``process_request``/``process_response`` run in the
view pool and ``get_response`` is awaited, as in Django 3.1+. Built with a
sync ``get_response`` (or none, Django 1.11's old-style use) nothing changes.
"""

from .coroutines import ASYNCIO_MARK, INSPECT_MARK, iscoroutinefunction, run_in_pool

__all__ = [
    "async_only_middleware",
    "install_capability_decorators",
    "install_middleware_mixin",
    "mixin_acall",
    "sync_and_async_middleware",
    "sync_only_middleware",
]


def sync_and_async_middleware(func):
    """Mark a middleware factory as returning a hybrid middleware supporting both kinds of request."""
    func.sync_capable = True
    func.async_capable = True
    return func


def sync_only_middleware(func):
    """Mark a middleware factory as returning a sync middleware (the default)."""
    func.sync_capable = True
    func.async_capable = False
    return func


def async_only_middleware(func):
    """Mark a middleware factory as returning an async middleware."""
    func.sync_capable = False
    func.async_capable = True
    return func


def install_capability_decorators(decorators):
    """Add the three decorators to ``django.utils.decorators`` (Django 3.1)."""
    for func in (sync_and_async_middleware, sync_only_middleware, async_only_middleware):
        if not hasattr(decorators, func.__name__):
            setattr(decorators, func.__name__, func)


async def mixin_acall(self, request):
    """Async version of ``__call__``, used when ``get_response`` is a coroutine function."""
    response = None
    if hasattr(self, "process_request"):
        response = await run_in_pool(self.process_request)(request)
    response = response or await self.get_response(request)
    if hasattr(self, "process_response"):
        response = await run_in_pool(self.process_response)(request, response)
    return response


def _async_mode(self):
    """True when ``get_response`` is a coroutine function (Django 3.1's ``async_mode``)."""
    # A property, not set in __init__: many of Django 1.11's middleware
    # (SessionMiddleware, CacheMiddleware, ...) never call the mixin's __init__.
    state = self.__dict__
    get_response = state.get("get_response")
    cached = state.get("_async_app_mode")
    if cached is None or cached[0] is not get_response:
        cached = state["_async_app_mode"] = (get_response, iscoroutinefunction(get_response))
    return cached[1]


def _coroutine_mark(mark):
    """A property giving ``mark`` in async mode: ``iscoroutinefunction(instance)``."""
    return property(lambda self: mark if _async_mode(self) else None)


def _repr(self):
    return "<%s get_response=%s>" % (
        self.__class__.__qualname__,
        getattr(self.get_response, "__qualname__", self.get_response.__class__.__name__),
    )


def install_middleware_mixin(deprecation):
    """Give ``MiddlewareMixin`` Django 3.1's async mode and 5.2's repr (idempotent)."""
    cls = deprecation.MiddlewareMixin
    if cls.__dict__.get("_async_app_backport"):  # not inherited: each class once
        return
    sync_call = cls.__call__

    def __call__(self, request):
        if _async_mode(self):
            return self.__acall__(request)
        return sync_call(self, request)

    __call__.__doc__ = sync_call.__doc__
    cls.__call__ = __call__
    cls.__acall__ = mixin_acall
    cls.__repr__ = _repr
    cls.async_mode = property(_async_mode)
    # What iscoroutinefunction() looks for, on the instance only.
    cls._is_coroutine = _coroutine_mark(ASYNCIO_MARK)
    if INSPECT_MARK is not None:
        cls._is_coroutine_marker = _coroutine_mark(INSPECT_MARK)
    cls.sync_capable = True
    cls.async_capable = True
    cls._async_app_backport = True
