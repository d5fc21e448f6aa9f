"""AsyncDjangoApplication: Django 1.11's request pipeline, as coroutines.

One pipeline, two speeds:

* A request whose view is a plain sync view (and whose middleware is all
  sync) runs through **Django's own** sync pipeline, in one hop to the view
  thread pool, exactly as under ``WSGIHandler`` in Gunicorn's gthread worker.
* A request whose view is a coroutine (``@asyncio.coroutine``, ``async def``,
  a class-based view with an ``async def`` handler, or any view that turns
  out to return an awaitable) runs the coroutine version of the same
  pipeline: the view is awaited on the loop, and the pipeline's sync code
  around it (middleware hooks, resolving, rendering) runs on the loop too, as
  sync code, because a thread hop costs more than such hooks take; with
  ``ASYNC_APP_MIDDLEWARE_IN_THREADS`` it runs in the bridge pool instead,
  batched (with only ``MiddlewareMixin`` middleware, the usual case: one hop
  before the view, one after). Other middleware styles are layered as
  :mod:`async_app.middleware` describes.

Before a coroutine view, ``request.session`` and ``request.user`` are loaded
as sync code (both query the database lazily, which the database guard
forbids to coroutines), without marking the session accessed.

Both pipelines are built from the same middleware instances by
:meth:`AsyncDjangoApplication.load_middleware`, and every exception becomes a
response through Django's own ``response_for_exception``
(:func:`async_app.middleware.convert_exception`), so status codes, logging,
signals and technical pages match ``WSGIHandler``.

Importing this module sets Django up (as ``get_wsgi_application`` does), so
``DJANGO_SETTINGS_MODULE`` must be set first.
"""
import asyncio
import contextvars
import functools
import inspect
import logging
import sys

import django
from django.apps import apps

if not apps.ready:
    django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed  # noqa: E402
from django.core.handlers.base import BaseHandler  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402
from django.core.handlers.wsgi import get_path_info, get_script_name  # noqa: E402
from django.db import close_old_connections, connections  # noqa: E402
from django.dispatch.dispatcher import _make_id  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from django.http.response import HttpResponseBase  # noqa: E402
from django.urls import ResolverMatch, get_resolver, get_urlconf, set_script_prefix, set_urlconf  # noqa: E402
from django.utils.encoding import force_str  # noqa: E402
from django.utils.functional import LazyObject, SimpleLazyObject, empty  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402
from django_wsgi.handler import DjangoApplication  # noqa: E402

from . import db, locals as context_locals, streaming  # noqa: E402
from .streaming import aclose_iterator  # noqa: E402
from .middleware import (  # noqa: E402
    AsyncGetResponse,
    AsyncHookLayer,
    BridgeLayer,
    GetResponse,
    HookSegment,
    NativeLayer,
    call_with_exception,
    has_coroutine_hooks,
    is_async_native,
    is_coroutine_function,
    is_splittable,
    on_loop_pipeline,
    convert_exception,
)
from .sync import bridge_executor, call_here, is_inline, run_coroutine, run_sync, view_executor  # noqa: E402

__all__ = ["AsyncDjangoApplication", "is_async_view"]

logger = logging.getLogger("django.request")

context_locals.install()
streaming.install()
db.install_guard()

# How many resolved paths of the root urlconf an application remembers.
_RESOLVED_CACHE_SIZE = 2048

# _before_view's answer when the resolved view is sync after all.
_SYNC_VIEW = object()

# The current request's _RequestState.
_request_state = contextvars.ContextVar("async_app_request_state", default=None)


def is_async_view(view, method=None):
    """Whether calling ``view`` for an HTTP ``method`` should happen on the loop.

    Sees through ``functools.wraps`` decorators (``__wrapped__``: csrf_exempt,
    login_required, ...), ``functools.partial``, callable instances and
    ``as_view()`` functions (``view_class``: the handler for ``method``, or
    ``dispatch``, is a coroutine function). A view judged sync still works if
    it returns an awaitable: the pipeline awaits it on the loop.
    """
    seen = set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        if is_coroutine_function(view):
            return True
        view_class = getattr(view, "view_class", None)
        if view_class is not None:
            name = (method or "get").lower()
            handler = getattr(view_class, name, None)
            if handler is None and name == "head":
                handler = getattr(view_class, "get", None)
            return is_coroutine_function(handler) or is_coroutine_function(
                getattr(view_class, "dispatch", None)
            )
        if isinstance(view, functools.partial):
            view = view.func
        elif hasattr(view, "__wrapped__"):
            view = view.__wrapped__
        elif not inspect.isfunction(view) and not inspect.ismethod(view) and callable(view):
            view = type(view).__call__
        else:
            view = None
    return False


class _RequestState(object):
    """Per-request bookkeeping for cancellation (client disconnects)."""

    __slots__ = ("finish_delegated",)

    def __init__(self):
        # True once a sync call that outlived a cancellation will fire
        # request_finished itself (see AsyncDjangoApplication._finish_orphan).
        self.finish_delegated = False


class _AwaitingView(object):
    """Call a view on the sync pipeline; an awaitable result is run to completion.

    The sync pipeline only sees views judged sync; this makes a wrongly judged
    one (a plain function returning a coroutine) still work, at the cost of
    holding its thread while the coroutine runs on the loop.
    """

    __slots__ = ("view",)

    def __init__(self, view):
        self.view = view

    def __call__(self, *args, **kwargs):
        response = self.view(*args, **kwargs)
        while inspect.isawaitable(response):
            response = run_coroutine(_awaited(response))
        return response


async def _awaited(awaitable):
    return await awaitable


class _ResponseBody(list):
    """The WSGI body of a non-streaming response: in memory, closed async."""

    def __init__(self, chunks, closer):
        super(_ResponseBody, self).__init__(chunks)
        self._closer = closer

    async def aclose(self):
        """Close the Django response (fires ``request_finished``)."""
        await self._closer()


class _StreamingBody(object):
    """The WSGI body of a streaming response over a sync iterator (may block)."""

    def __init__(self, response, closer):
        self.response = response
        self._closer = closer

    def __iter__(self):
        return iter(self.response)

    async def aclose(self):
        """Close the response (fires ``request_finished``)."""
        await self._closer()


class _AsyncStreamingBody(_StreamingBody):
    """The WSGI body of a streaming response over an async iterator."""

    __iter__ = None

    def __aiter__(self):
        return self.response.__aiter__()

    async def aclose(self):
        """Close the stream's async iterator, then the response."""
        await aclose_iterator(self.response._iterator)
        await self._closer()


class AsyncDjangoApplication(DjangoApplication):
    """A Django 1.11 WSGI application whose ``__call__`` is a coroutine.

    Swap it in for ``get_wsgi_application()`` in ``wsgi.py`` and serve it with
    ``async_app.worker.AiohttpWorker``. ``__call__(environ, start_response)``
    and :meth:`get_response` are coroutines; the worker awaits ``__call__``.
    """

    #: Serve requests for sync views through Django's own sync pipeline in one
    #: thread hop. False sends every request through the coroutine pipeline
    #: (slower for sync views; the regression suites run both ways).
    sync_fast_path = True

    #: Where the pipeline's own sync code runs for coroutine views (middleware
    #: hooks, URL resolution, template rendering, ``request_started``): on the
    #: event loop (False, the default: a thread hop costs more than these
    #: usually take), or in the bridge pool (True: for middleware that blocks,
    #: e.g. a remote session store). Set by ``settings.ASYNC_APP_MIDDLEWARE_IN_THREADS``.
    middleware_in_threads = False

    def load_middleware(self):
        """Build Django's sync chain and the coroutine chain from one set of middleware.

        Mirrors ``BaseHandler.load_middleware`` (same order, same hook lists,
        ``MiddlewareNotUsed``, ``MIDDLEWARE_CLASSES``), so the sync chain is
        Django's own.
        """
        self._request_middleware = []
        self._view_middleware = []
        self._template_response_middleware = []
        self._response_middleware = []
        self._exception_middleware = []
        self._all_sync = True
        self._resolved = {}
        self.middleware_in_threads = getattr(settings, "ASYNC_APP_MIDDLEWARE_IN_THREADS", False)

        if settings.MIDDLEWARE is None:
            # Old-style MIDDLEWARE_CLASSES: Django builds the hook lists.
            BaseHandler.load_middleware(self)
            self._fused_segment = None
            self._async_chain = self._async_exception_converter(self._legacy_get_response_async)
            self._all_sync = not any(
                has_coroutine_hooks(getattr(hook, "__self__", None))
                for hook in self._request_middleware + self._response_middleware
                + self._view_middleware + self._template_response_middleware
                + self._exception_middleware
            )
            return

        # Django's chain, innermost first; one instance per middleware.
        sync_handler = convert_exception_to_response(self._get_response)
        built = []
        for middleware_path in reversed(settings.MIDDLEWARE):
            factory = import_string(middleware_path)
            native = is_async_native(factory)
            get_response = AsyncGetResponse() if native else GetResponse(sync_handler)
            try:
                middleware = factory(get_response)
            except MiddlewareNotUsed as exc:
                if settings.DEBUG:
                    if str(exc):
                        logger.debug("MiddlewareNotUsed(%r): %s", middleware_path, exc)
                    else:
                        logger.debug("MiddlewareNotUsed: %r", middleware_path)
                continue
            if middleware is None:
                raise ImproperlyConfigured("Middleware factory %s returned None." % middleware_path)

            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)

            if native or has_coroutine_hooks(middleware):
                self._all_sync = False
            built.append((middleware, get_response, native))
            sync_handler = convert_exception_to_response(middleware)
        self._middleware_chain = sync_handler
        self._async_chain = self._build_async_chain(built)
        self._fused_segment = None
        if isinstance(self._async_chain, HookSegment) and self._async_chain.inner is self._view_layer:
            self._fused_segment = self._async_chain

    def _build_async_chain(self, built):
        """The coroutine chain over the middleware Django's chain uses (innermost first)."""
        async_handler = self._view_layer = self._async_exception_converter(self._get_response_async)
        run = []  # consecutive plain MiddlewareMixin middleware, innermost first
        for middleware, get_response, native in built + [(None, None, False)]:
            if middleware is not None and is_splittable(middleware) and not has_coroutine_hooks(middleware):
                get_response.async_inner = async_handler
                run.append(middleware)
                continue
            if run:
                async_handler = HookSegment(self, run[::-1], async_handler)
                run = []
            if middleware is None:
                break
            get_response.async_inner = async_handler
            if native:
                layer = NativeLayer(self, middleware)
            elif is_splittable(middleware):
                layer = AsyncHookLayer(self, middleware, async_handler)
            else:
                layer = BridgeLayer(self, middleware)
            async_handler = self._async_exception_converter(layer)
        return async_handler

    # load_middleware helpers -------------------------------------------------

    def _async_exception_converter(self, get_response):
        """``convert_exception_to_response`` for a coroutine ``get_response``."""

        async def inner(request):
            try:
                return await get_response(request)
            except Exception as exc:
                return await self._convert_exception(request, exc)

        return inner

    # running sync code -------------------------------------------------------

    async def _hop(self, func, *args, executor=None):
        """Await sync pipeline code ``func(*args)``.

        With an ``executor`` (sync views, a middleware ``__call__`` that waits
        for the view) it runs in that pool. Otherwise it is the pipeline's own
        sync code (middleware hooks, resolving, rendering): on the loop, as
        sync code, unless ``ASYNC_APP_MIDDLEWARE_IN_THREADS`` sends it to the
        bridge pool.
        """
        if executor is None:
            if not self.middleware_in_threads:
                return call_here(func, *args)
            executor = bridge_executor()
        if is_inline():
            return await run_sync(func, *args)
        return await run_sync(
            db.call_closing_connections,
            func,
            *args,
            executor=executor,
            on_orphan=self._orphaned_by(_request_state.get())
        )

    def _orphaned_by(self, state):
        if state is None:
            return None

        def on_orphan(future):
            state.finish_delegated = True
            future.add_done_callback(self._finish_orphan)

        return on_orphan

    def _finish_orphan(self, future):
        """A sync call outlived its cancelled request: close what it produced."""
        try:
            result = future.result()
        except BaseException:
            result = None
        if isinstance(result, HttpResponseBase):
            result.close()  # fires request_finished
        else:
            signals.request_finished.send(sender=self.__class__)

    async def _call_hook(self, hook, *args):
        """Await a middleware hook: coroutine hooks on the loop, sync ones in a thread."""
        if is_coroutine_function(hook):
            result = await hook(*args)
        else:
            result = await self._hop(hook, *args)
        while inspect.isawaitable(result):
            result = await result
        return result

    async def _convert_exception(self, request, exc):
        if isinstance(exc, asyncio.CancelledError):
            raise exc
        return await self._hop(convert_exception, request, exc)

    # the WSGI entry point ----------------------------------------------------

    async def __call__(self, environ, start_response):
        """Serve one request: the coroutine counterpart of ``WSGIHandler.__call__``."""
        set_script_prefix(get_script_name(environ))
        state = _RequestState()
        _request_state.set(state)
        try:
            if self._runs_sync(get_path_info(environ), environ.get("REQUEST_METHOD")):
                response = await self._hop(self._respond_sync, environ, executor=view_executor())
            else:
                request, response = await self._get_response_on_loop(None, environ)
        except asyncio.CancelledError:
            if not state.finish_delegated:
                signals.request_finished.send(sender=self.__class__)
            raise
        return self._start_response(response, environ, start_response)

    def _start_request(self, environ):
        signals.request_started.send(sender=self.__class__, environ=environ)
        _declare_seekable_input(environ)
        return self.request_class(environ)

    def _respond_sync(self, environ):
        """The whole of ``WSGIHandler.__call__`` up to the response, in one thread."""
        return BaseHandler.get_response(self, self._start_request(environ))

    def _start_response(self, response, environ, start_response):
        response._handler_class = self.__class__
        status = "%d %s" % (response.status_code, response.reason_phrase)
        response_headers = [(str(k), str(v)) for k, v in response.items()]
        for cookie in response.cookies.values():
            response_headers.append((str("Set-Cookie"), str(cookie.output(header=""))))
        start_response(force_str(status), response_headers)

        closer = functools.partial(self._close_response, response)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if getattr(response, "file_to_stream", None) is not None and file_wrapper:
            return self._wrap_file(response, file_wrapper)
        if response.streaming and response.is_async:
            return _AsyncStreamingBody(response, closer)
        if response.streaming:
            return _StreamingBody(response, closer)
        return _ResponseBody([response.content], closer)

    async def _close_response(self, response):
        """``response.close()``: on the loop when that is only bookkeeping, else in a thread.

        It closes the request (uploaded temporary files) and sends
        ``request_finished``; when Django's own ``close_old_connections`` is
        the only receiver (a no-op on the loop thread, which holds no
        connections), a thread hop would buy nothing.
        """
        if _only_close_old_connections_receives() and all(
            isinstance(obj, HttpRequest) for obj in response._closable_objects
        ):
            response.close()
        else:
            await self._hop(response.close)

    @staticmethod
    def _wrap_file(response, file_wrapper):
        # The server closes the file wrapper, not the response: route that
        # close() to response.close() so request_finished still fires (as
        # Django 2.1+ does), keeping the file's own close for the response.
        filelike = response.file_to_stream
        file_close = filelike.close
        response._closable_objects = [
            _Closer(file_close) if obj is filelike else obj for obj in response._closable_objects
        ]
        filelike.close = response.close
        return file_wrapper(filelike, response.block_size)

    # the pipeline ------------------------------------------------------------

    def _runs_sync(self, path_info, method):
        """Whether Django's own sync pipeline can serve this request."""
        if not (self.sync_fast_path and self._all_sync):
            return False
        match = self._resolve_root(path_info)
        return match is None or not is_async_view(match.func, method)

    def _resolve_root(self, path_info):
        """The root urlconf's match for ``path_info`` (None if none), cached per path.

        Resolving is a walk over every pattern with regular expressions; a
        path resolves the same way until the urlconf changes (a new
        ``ROOT_URLCONF``, ``clear_url_caches()``: a new resolver object).
        """
        resolver = get_resolver(settings.ROOT_URLCONF)
        resolved = self._resolved
        if resolved.get(_RESOLVER_KEY) is not resolver:
            resolved.clear()
            resolved[_RESOLVER_KEY] = resolver
        try:
            return resolved[path_info]
        except KeyError:
            pass
        try:
            match = resolver.resolve(path_info)
        except Exception:
            match = None  # 404 and the like: resolved again, and raised, by the pipeline
        if len(resolved) < _RESOLVED_CACHE_SIZE:
            resolved[path_info] = match
        return match

    async def get_response(self, request):
        """Return the response for ``request``: ``BaseHandler.get_response`` as a coroutine."""
        if self._runs_sync(request.path_info, request.method):
            return await self._hop(BaseHandler.get_response, self, request, executor=view_executor())
        request, response = await self._get_response_on_loop(request)
        return response

    async def _get_response_on_loop(self, request, environ=None):
        """The coroutine pipeline: returns ``(request, response)``.

        Without ``request``, the request is built from ``environ`` (in the
        first thread hop, with ``request_started``).
        """
        token = on_loop_pipeline.set(True)
        try:
            if self._fused_segment is not None:
                return await self._run_fused(self._fused_segment, request, environ)
            if request is None:
                request = await self._hop(self._start_request, environ)
            set_urlconf(settings.ROOT_URLCONF)
            response = await self._async_chain(request)
            if self._response_middleware:
                response = await self._hop(self._legacy_process_responses, request, response)
            return request, await self._hop(self._finish_response, request, response)
        finally:
            on_loop_pipeline.reset(token)

    def _legacy_process_responses(self, request, response):
        """The MIDDLEWARE_CLASSES response phase of ``BaseHandler.get_response``."""
        try:
            for middleware_method in self._response_middleware:
                response = middleware_method(request, response)
                if response is None:
                    raise ValueError(
                        "%s.process_response didn't return an HttpResponse object. It returned "
                        "None instead." % (middleware_method.__self__.__class__.__name__)
                    )
        except Exception:
            signals.got_request_exception.send(sender=self.__class__, request=request)
            response = self.handle_uncaught_exception(
                request, get_resolver(get_urlconf()), sys.exc_info()
            )
        return response

    async def _legacy_get_response_async(self, request):
        response = None
        if self._request_middleware:
            response = await self._hop(self._legacy_process_requests, request)
        if response is None:
            response = await self._get_response_async(request)
        return response

    def _legacy_process_requests(self, request):
        for middleware_method in self._request_middleware:
            response = middleware_method(request)
            if response:
                return response
        return None

    async def _get_response_async(self, request):
        """Resolve, run view middleware, await the view, render: ``_get_response`` on the loop."""
        if self._has_coroutine_view_hooks():
            return await self._get_response_with_coroutine_hooks(request)
        step = await self._hop(self._before_view, request)
        response, view_ran = await self._await_view(request, step)
        if view_ran:
            response = await self._hop(self._after_view, request, response, step)
        return response

    def _has_coroutine_view_hooks(self):
        return any(
            is_coroutine_function(hook)
            for hook in self._view_middleware + self._template_response_middleware + self._exception_middleware
        )

    def _resolve(self, request):
        """``_get_response``'s resolving; the root urlconf's answers come from the cache."""
        if hasattr(request, "urlconf"):
            urlconf = request.urlconf
            set_urlconf(urlconf)
            resolver_match = get_resolver(urlconf).resolve(request.path_info)
        else:
            cached = None
            if get_urlconf() == settings.ROOT_URLCONF:
                cached = self._resolve_root(request.path_info)
            if cached is None:
                resolver_match = get_resolver().resolve(request.path_info)
            else:
                resolver_match = _copy_match(cached)
        request.resolver_match = resolver_match
        return resolver_match

    def _before_view(self, request):
        """The sync part of ``_get_response`` before a coroutine view, in one hop.

        Returns ``_SYNC_VIEW`` if the resolved view is sync after all (a urlconf
        set by middleware, say), a response if view middleware answered, or
        the resolver match to call.
        """
        resolver_match = self._resolve(request)
        callback, callback_args, callback_kwargs = resolver_match
        if not is_async_view(callback, request.method):
            return _SYNC_VIEW
        _load_lazy_request_state(request)
        for middleware_method in self._view_middleware:
            response = middleware_method(request, callback, callback_args, callback_kwargs)
            if response:
                return response
        return resolver_match

    async def _await_view(self, request, step):
        """Run the view ``_before_view`` chose; return (response, whether _after_view applies)."""
        if step is _SYNC_VIEW:
            # Django's own _get_response (it resolves again) in the view pool.
            response = await self._hop(BaseHandler._get_response, self, request, executor=view_executor())
            return response, False
        if isinstance(step, HttpResponseBase):
            return step, True
        callback, callback_args, callback_kwargs = step
        response = await self._call_view(request, callback, callback_args, callback_kwargs, True)
        return response, True

    async def _call_view(self, request, callback, callback_args, callback_kwargs, on_loop):
        """Call the view and await what it returns; its exceptions go to exception middleware.

        A coroutine view is called on the loop (refused under ATOMIC_REQUESTS);
        a sync one in the view pool, wrapped by Django's ``make_view_atomic``.
        """
        if on_loop:
            self._check_atomic_requests(callback)
        try:
            if on_loop:
                response = callback(request, *callback_args, **callback_kwargs)
            else:
                view = functools.partial(
                    BaseHandler.make_view_atomic(self, callback),
                    request,
                    *callback_args,
                    **callback_kwargs
                )
                response = await self._hop(view, executor=view_executor())
            while inspect.isawaitable(response):
                response = await response
        except Exception as exc:
            response = await self._process_exception(exc, request)
        return response

    def _after_view(self, request, response, step):
        """The sync part of ``_get_response`` after the view, in one hop."""
        if response is None:
            _view_returned_none(step.func if isinstance(step, ResolverMatch) else step)
        if hasattr(response, "render") and callable(response.render):
            for middleware_method in self._template_response_middleware:
                response = middleware_method(request, response)
                if response is None:
                    _hook_returned_none(middleware_method)
            try:
                response = response.render()
            except Exception as exc:
                response = self.process_exception_by_middleware(exc, request)
        return response

    async def _get_response_with_coroutine_hooks(self, request):
        """``_get_response`` when some view, template or exception hook is a coroutine."""
        callback, callback_args, callback_kwargs = self._resolve(request)
        async_view = is_async_view(callback, request.method)
        await self._hop(_load_lazy_request_state, request)
        response = None
        for middleware_method in self._view_middleware:
            response = await self._call_hook(
                middleware_method, request, callback, callback_args, callback_kwargs
            )
            if response:
                break

        if response is None:
            response = await self._call_view(
                request, callback, callback_args, callback_kwargs, async_view
            )

        if response is None:
            _view_returned_none(callback)
        if hasattr(response, "render") and callable(response.render):
            for middleware_method in self._template_response_middleware:
                response = await self._call_hook(middleware_method, request, response)
                if response is None:
                    _hook_returned_none(middleware_method)
            try:
                response = await self._hop(response.render)
            except Exception as exc:
                response = await self._process_exception(exc, request)
        return response

    # the common case, fused: one segment of MiddlewareMixin around the view --

    async def _run_fused(self, segment, request, environ=None):
        """All middleware plain ``MiddlewareMixin``: two hops around the coroutine view.

        Hop one: (request start,) every process_request, resolve, view
        middleware. Then the view on the loop. Hop two: template middleware,
        render, every process_response. Exceptions become responses where
        Django's nested ``convert_exception_to_response`` wrappers would.
        """
        request, response, depth, step = await self._hop(
            self._fused_before_view, segment, request, environ
        )
        view_ran = False
        if response is None:
            try:
                response, view_ran = await self._await_view(request, step)
            except Exception as exc:
                response = await self._convert_exception(request, exc)
        response = await self._hop(
            self._fused_after_view, segment, request, response, depth, view_ran, step
        )
        return request, response

    def _fused_before_view(self, segment, request, environ):
        if request is None:
            request = self._start_request(environ)
        set_urlconf(settings.ROOT_URLCONF)
        response, depth = segment._process_requests(request)
        if response is not None:
            return request, response, depth, None
        try:
            step = self._before_view(request)
        except Exception as exc:
            return request, convert_exception(request, exc), depth, None
        return request, None, depth, step

    def _fused_after_view(self, segment, request, response, depth, view_ran, step):
        if view_ran:
            try:
                response = self._after_view(request, response, step)
            except Exception as exc:
                response = convert_exception(request, exc)
        return self._finish_response(request, segment._process_responses(request, response, depth))

    def _finish_response(self, request, response):
        """The end of ``BaseHandler.get_response``: close the request with the response, log 404s."""
        response._closable_objects.append(request)
        if not getattr(response, "is_rendered", True) and callable(getattr(response, "render", None)):
            response = response.render()
        if response.status_code == 404:
            logger.warning("Not Found: %s", request.path, extra={"status_code": 404, "request": request})
        return response

    def _check_atomic_requests(self, view):
        non_atomic_requests = getattr(view, "_non_atomic_requests", set())
        for connection in connections.all():
            if (
                connection.settings_dict["ATOMIC_REQUESTS"]
                and connection.alias not in non_atomic_requests
            ):
                raise RuntimeError(
                    "ATOMIC_REQUESTS cannot wrap coroutine view %r: a transaction cannot span "
                    "awaits. Decorate it with @transaction.non_atomic_requests and use "
                    "transaction.atomic() inside database_sync_to_async." % (view,)
                )

    async def _process_exception(self, exc, request):
        """``process_exception_by_middleware`` on the loop: hooks see ``exc``; if none answers, re-raise."""
        if isinstance(exc, asyncio.CancelledError):
            raise exc
        for middleware_method in self._exception_middleware:
            if is_coroutine_function(middleware_method):
                response = await middleware_method(request, exc)
            else:
                response = await self._hop(call_with_exception, middleware_method, request, exc)
            if response:
                return response
        raise exc

    def make_view_atomic(self, view):
        """Django's ``make_view_atomic``, plus awaiting a wrongly judged view's awaitable."""
        return _AwaitingView(super(AsyncDjangoApplication, self).make_view_atomic(view))


def _load_lazy_request_state(request):
    """Load ``request.session`` and ``request.user`` now, in a thread.

    Both hit the database lazily, on first use; a coroutine view (or a
    ``login_required`` around one) using them on the event loop would trip
    the database guard. Loading is not using: the session's ``accessed`` flag
    (which makes SessionMiddleware add ``Vary: Cookie``) is set only when the
    view or a later hook really touches the session or the user, as before.
    """
    session = getattr(request, "session", None)
    accessed = getattr(session, "accessed", None)
    if accessed is None or getattr(session, "session_key", None) is None:
        return  # without a session key, neither loads anything from the database
    user = getattr(request, "user", None)
    if isinstance(user, LazyObject) and user._wrapped is empty:
        user._setup()
        request.user = SimpleLazyObject(functools.partial(_touch_session, session, user._wrapped))
    if hasattr(session, "_get_session"):
        session._get_session()
    session.accessed = accessed


_RESOLVER_KEY = object()


def _copy_match(match):
    """A request's own copy of a cached ResolverMatch (views may change its containers)."""
    copy = ResolverMatch.__new__(ResolverMatch)
    copy.__dict__.update(match.__dict__)
    copy.args = tuple(match.args)
    copy.kwargs = dict(match.kwargs)
    copy.app_names = list(match.app_names)
    copy.namespaces = list(match.namespaces)
    return copy


def _declare_seekable_input(environ):
    """Spare WebOb (django-wsgi's request) a copy of a body that is already seekable.

    ``DjangoWSGIRequest`` makes the body seekable, copying ``wsgi.input``
    unless ``webob.is_body_seekable`` says it is. The worker hands over an
    in-memory or spooled body at offset 0 with its ``CONTENT_LENGTH``.
    """
    stream = environ.get("wsgi.input")
    if "webob.is_body_seekable" in environ or "CONTENT_LENGTH" not in environ:
        return
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable() and stream.tell() == 0:
        environ["webob.is_body_seekable"] = True


def _view_returned_none(callback):
    """Django's complaint about a view that returned None (a common error)."""
    raise ValueError(
        "The view %s.%s didn't return an HttpResponse object. It returned None instead."
        % (callback.__module__, getattr(callback, "__name__", type(callback).__name__))
    )


def _hook_returned_none(middleware_method):
    """Django's complaint about a template response hook that returned None."""
    raise ValueError(
        "%s.process_template_response didn't return an HttpResponse object. It returned None "
        "instead." % (middleware_method.__self__.__class__.__name__)
    )


def _only_close_old_connections_receives():
    return all(
        lookup_key[0] == _CLOSE_OLD_CONNECTIONS_ID
        for lookup_key, _ in signals.request_finished.receivers
    )


_CLOSE_OLD_CONNECTIONS_ID = _make_id(close_old_connections)


def _touch_session(session, value):
    """Mark the session used, as evaluating ``request.user`` would, and return ``value``."""
    session.accessed = True
    return value


class _Closer(object):
    """Something with a ``close()`` that calls the given function."""

    __slots__ = ("close",)

    def __init__(self, close):
        self.close = close
