"""Coroutine handlers for DRF's ``APIView``, ``@api_view`` and viewsets.

DRF 3.11's ``APIView.dispatch`` calls the handler and hands what it returns
to ``finalize_response``: a coroutine handler's un-awaited coroutine. Here
``dispatch`` chooses per request, from the handler it will call:

* a sync handler gets DRF's own dispatch (``sync_dispatch``), unchanged;
* a coroutine handler (``async def``, ``@asyncio.coroutine``) gets
  :func:`async_dispatch`, a coroutine the pipeline awaits on the loop. It
  runs DRF's own steps in DRF's order: ``initialize_request``, ``initial``
  (content negotiation, versioning, authentication, permission and throttle
  checks), the awaited handler, ``handle_exception`` (``EXCEPTION_HANDLER``)
  and ``finalize_response``, which so always gets the handler's Response.

``initial`` may query the database (``TokenAuthentication``, permissions,
throttles over a database cache). It runs in one call, as sync code, where
the pipeline runs middleware hooks: on the loop, or with
``ASYNC_APP_MIDDLEWARE_IN_THREADS`` in the bridge pool; the database guard
lets it query either way. ``handle_exception`` and ``finalize_response`` run
on the loop as sync code too (DRF's bare ``raise`` for an unhandled
exception needs the ``except`` block it is called from).

The pipeline runs a view on the loop when ``is_async_view`` says so, and
looks for that at ``view.view_class``: DRF's ``api_view`` hides the function
inside a sync handler, and a viewset's view has no ``view_class`` (its
handlers are actions bound per request), so both are adapted here.
"""

import asyncio
import functools
import inspect

from django.conf import settings
from django.utils.decorators import classonlymethod

from ..db import call_closing_connections, database_sync_to_async
from ..modes import is_coroutine_function
from ..sync import bridge_executor, call_here, is_inline, run_sync

__all__ = ["async_dispatch", "dispatch", "patch", "run_framework_code"]


def _handler(view, method):
    """The handler DRF's dispatch calls for ``method``."""
    name = method.lower()
    if name in view.http_method_names:
        return getattr(view, name, view.http_method_not_allowed)
    return view.http_method_not_allowed


def dispatch(self, request, *args, **kwargs):
    """DRF's sync dispatch for a sync handler; the coroutine ``async_dispatch`` otherwise."""
    if is_coroutine_function(_handler(self, request.method)):
        return self.async_dispatch(request, *args, **kwargs)
    return self.sync_dispatch(request, *args, **kwargs)


async def run_framework_code(func):
    """Run DRF's sync code around a coroutine handler, where middleware hooks run.

    As sync code on the loop (the database guard allows it), or in the
    bridge pool when ``ASYNC_APP_MIDDLEWARE_IN_THREADS`` is set (not under
    the test client's inline mode, where everything runs on the test's thread).
    """
    if getattr(settings, "ASYNC_APP_MIDDLEWARE_IN_THREADS", False) and not is_inline():
        return await run_sync(call_closing_connections, func, executor=bridge_executor())
    return call_here(func)


async def async_dispatch(self, request, *args, **kwargs):
    """DRF's ``APIView.dispatch`` for a coroutine handler (adrf's name).

    A sync handler reached here (a subclass's own ``dispatch`` called this,
    or tools/drf_suite.py --coroutine-dispatch sends every view here) runs in
    the view pool.
    """
    self.args = args
    self.kwargs = kwargs
    request = self.initialize_request(request, *args, **kwargs)
    self.request = request
    self.headers = self.default_response_headers  # deprecate?

    try:
        await run_framework_code(functools.partial(self.initial, request, *args, **kwargs))
        handler = _handler(self, request.method)
        if is_coroutine_function(handler):
            response = handler(request, *args, **kwargs)
        else:
            response = await database_sync_to_async(handler)(request, *args, **kwargs)
        while inspect.isawaitable(response):
            response = await response
    except Exception as exc:
        if isinstance(exc, asyncio.CancelledError):
            raise
        response = call_here(self.handle_exception, exc)

    self.response = call_here(self.finalize_response, request, response, *args, **kwargs)
    return self.response


def _coroutine_handler(func):
    async def handler(self, *args, **kwargs):
        return await func(*args, **kwargs)

    return handler


def _api_view(drf_api_view):
    @functools.wraps(drf_api_view)
    def api_view(http_method_names=None):
        decorator = drf_api_view(http_method_names)

        @functools.wraps(decorator)
        def coroutine_aware_decorator(func):
            view = decorator(func)  # DRF's checks and WrappedAPIView
            if is_coroutine_function(func):
                handler = _coroutine_handler(func)
                for method in http_method_names or ["GET"]:
                    setattr(view.cls, method.lower(), handler)
            return view

        return coroutine_aware_decorator

    api_view._async_app_drf_view = True
    return api_view


def _handler_class(cls, actions):
    """A subclass of viewset ``cls`` with its actions bound to method names, as per request.

    What ``is_async_view`` reads at ``view.view_class``: the class whose
    ``get``/``post``/... the request will call.
    """
    handlers = {}
    for method, action in actions.items():
        handler = getattr(cls, action, None)
        if handler is not None:
            handlers[method] = handler
    if "get" in handlers and "head" not in handlers:
        handlers["head"] = handlers["get"]
    handlers.update(__module__=cls.__module__, __qualname__=cls.__qualname__, __doc__=cls.__doc__)
    return type(cls.__name__, (cls,), handlers)


def _viewset_as_view(drf_as_view):
    def as_view(cls, actions=None, **initkwargs):
        view = drf_as_view(cls, actions, **initkwargs)
        if any(
            is_coroutine_function(getattr(cls, action, None)) for action in view.actions.values()
        ):
            view.view_class = _handler_class(cls, view.actions)
        return view

    as_view.__doc__ = drf_as_view.__doc__
    return classonlymethod(as_view)


def patch(module):
    """Adapt ``rest_framework.views``, ``.decorators`` or ``.viewsets``."""
    name = module.__name__
    if name == "rest_framework.views":
        api_view_class = module.APIView
        api_view_class.sync_dispatch = api_view_class.dispatch
        api_view_class.async_dispatch = async_dispatch
        api_view_class.dispatch = dispatch
    elif name == "rest_framework.decorators":
        if not getattr(module.api_view, "_async_app_drf_view", False):
            module.api_view = _api_view(module.api_view)
    elif name == "rest_framework.viewsets":
        mixin = module.ViewSetMixin
        mixin.as_view = _viewset_as_view(mixin.__dict__["as_view"].__func__)
