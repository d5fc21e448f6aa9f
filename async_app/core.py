"""The mode-agnostic core: Django 1.11's ``BaseHandler`` with a coroutine ``get_response``.

:class:`AsyncBaseHandler` is to :class:`async_app.handler.AsyncDjangoApplication`
what Django's ``BaseHandler`` is to ``WSGIHandler``. It builds Django's own
sync middleware chain and, from the same middleware instances, the coroutine
chain (:mod:`async_app.middleware`), and answers a request by one of two
paths:

* **sync fast path**: every middleware is sync and the root urlconf resolves
  the path to a sync view: Django's own ``get_response`` in one hop to the
  view pool;
* **coroutine pipeline**: anything else. The view is awaited on the loop and
  the pipeline's sync code around it runs where :class:`async_app.modes.Runner`
  says. With only ``MiddlewareMixin`` middleware (the usual case) the whole
  chain is *fused* (:mod:`async_app.fused`): one piece of sync code before
  the view (every process_request, resolving, every process_view), one after.
  Runs of sync middleware holding opaque ones are one piece of sync code on
  the greenlet bridge each (:class:`async_app.middleware.SyncRun`).

Where each view, middleware and hook runs is decided in :mod:`async_app.modes`.
"""

import asyncio
import functools
import logging
import sys

from django.conf import settings
from django.core import signals
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http.response import HttpResponseBase
from django.urls import ResolverMatch, get_resolver, get_urlconf, set_urlconf
from django.utils.module_loading import import_string
from django_wsgi.handler import DjangoApplication

from . import exception
from .exception import call_with_exception
from .fused import FusedLayer
from .middleware import AsyncGetResponse, GetResponse, SyncRun, build_async_chain, catching
from .middleware import on_loop_pipeline
from .modes import (
    Runner,
    has_coroutine_hooks,
    is_async_view,
    is_awaitable,
    is_coroutine_function,
    middleware_mode,
)
from .modes import (
    ViewAwaitedOnLoop,
    load_lazy_request_state,
    note_adaptation,
    refuse_stray_coroutine,
)
from .modes import wants_async_get_response
from .resolving import ResolvedPaths, view_call

__all__ = ["AsyncBaseHandler"]

logger = logging.getLogger("django.request")

# _before_view's answer when the resolved view is sync after all.
SYNC_VIEW = object()


class AsyncBaseHandler(DjangoApplication):
    """Django 1.11's ``BaseHandler`` whose :meth:`get_response` is a coroutine."""

    def __init__(self, *args, is_async=True, **kwargs):
        #: Served to async callers (the worker, AsyncClient: Django 5.2's ASGIHandler) or not
        #: (the sync test client); decides only which adaptations DEBUG logs, as in Django 5.2.
        self.is_async = is_async
        super().__init__(*args, **kwargs)

    #: Serve requests for sync views through Django's own sync pipeline in one
    #: thread hop. False sends every request through the coroutine pipeline.
    sync_fast_path = True

    @property
    def middleware_in_threads(self):
        """Where the pipeline's sync code and opaque middleware run for coroutine views.

        On the loop (False, the default) or in the bridge pool (True: for
        middleware that blocks). Loaded from
        ``settings.ASYNC_APP_MIDDLEWARE_IN_THREADS``; may be changed later.
        """
        runner = getattr(self, "_runner", None)
        return runner.in_threads if runner is not None else False

    @middleware_in_threads.setter
    def middleware_in_threads(self, value):
        self._runner.in_threads = bool(value)

    #: Split plain ``MiddlewareMixin`` middleware into hooks. False treats
    #: every middleware as opaque (``make django-suite``'s all-opaque mode).
    split_middleware = True

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
        self._resolved = ResolvedPaths()
        self._runner = Runner(
            bool(getattr(settings, "ASYNC_APP_MIDDLEWARE_IN_THREADS", False)), self.__class__
        )
        self._fused = None  # the whole chain when it is one FusedLayer
        self._top_run = None  # the outermost SyncRun's sync code when it is the whole top

        if settings.MIDDLEWARE is None:
            # Old-style MIDDLEWARE_CLASSES: Django builds the hook lists.
            BaseHandler.load_middleware(self)
            self._async_chain = catching(self._runner, self._legacy_get_response_async)
            self._all_sync = not any(
                has_coroutine_hooks(getattr(hook, "__self__", None))
                for hook in self._request_middleware
                + self._response_middleware
                + self._view_middleware
                + self._template_response_middleware
                + self._exception_middleware
            )
            self._note_coroutine_view_hooks()
            return

        self._all_sync = True
        sync_handler = convert_exception_to_response(self._get_response)
        built = []  # innermost first; one instance per middleware
        below_is_async = self.is_async
        for middleware_path in reversed(settings.MIDDLEWARE):
            factory = import_string(middleware_path)
            native = wants_async_get_response(factory, middleware_path)
            is_async = note_adaptation(
                factory, native, below_is_async, middleware_path, settings.DEBUG
            )
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
            mode = middleware_mode(middleware, native, self.split_middleware)
            built.append((middleware, get_response, mode))
            sync_handler = convert_exception_to_response(middleware)
            below_is_async = is_async
        self._middleware_chain = sync_handler
        self._note_coroutine_view_hooks()
        view_layer = catching(self._runner, self._get_response_async)
        fuse = None if self._coroutine_view_hooks else functools.partial(FusedLayer, self)
        self._async_chain = build_async_chain(self._runner, built, view_layer, fuse)
        if isinstance(self._async_chain, FusedLayer):
            self._fused = self._async_chain
        elif isinstance(self._async_chain, SyncRun):
            self._top_run = self._async_chain.step

    def _note_coroutine_view_hooks(self):
        self._coroutine_view_hooks = any(
            is_coroutine_function(hook)
            for hook in self._view_middleware
            + self._template_response_middleware
            + self._exception_middleware
        )

    # choosing the path --------------------------------------------------------

    def runs_sync(self, path_info, method):
        """Whether Django's own sync pipeline can serve this request."""
        if not (self.sync_fast_path and self._all_sync):
            return False
        match = self._resolved.root_match(path_info)
        return match is None or not is_async_view(match.func, method)

    async def get_response(self, request):
        """Return the response for ``request``: ``BaseHandler.get_response`` as a coroutine."""
        if self.runs_sync(request.path_info, request.method):
            return await self._runner.run_in_view_pool(BaseHandler.get_response, self, request)
        request, response = await self.get_response_on_loop(request)
        return response

    async def get_response_on_loop(self, request, make_request=None, *args):
        """The coroutine pipeline: returns ``(request, response)``.

        Without ``request``, ``make_request(*args)`` builds it (in the first
        piece of sync code).
        """
        token = on_loop_pipeline.set(True)
        try:
            if self._fused is not None:
                return await self._fused.run(request, make_request, args, True)
            if self._top_run is not None:
                return await self._runner.run_opaque(self._run_top, request, make_request, args)
            if request is None:
                request = await self._runner.run_sync_code(make_request, *args)
            set_urlconf(settings.ROOT_URLCONF)
            response = await self._async_chain(request)
            if self._response_middleware:
                response = await self._runner.run_sync_code(
                    self._legacy_process_responses, request, response
                )
            return request, await self._runner.run_sync_code(
                self._finish_response, request, response
            )
        finally:
            on_loop_pipeline.reset(token)

    def _run_top(self, request, make_request, args):
        """The outermost SyncRun with the request's making and finishing, as one piece of sync code."""
        if request is None:
            request = make_request(*args)
        set_urlconf(settings.ROOT_URLCONF)
        response = self._top_run(request)
        return request, self._finish_response(request, response)

    # MIDDLEWARE_CLASSES --------------------------------------------------------

    async def _legacy_get_response_async(self, request):
        response = None
        if self._request_middleware:
            response = await self._runner.run_sync_code(self._legacy_process_requests, request)
        if response is None:
            response = await self._get_response_async(request)
        return response

    def _legacy_process_requests(self, request):
        for middleware_method in self._request_middleware:
            response = middleware_method(request)
            if response:
                return response
        return None

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

    # the view ------------------------------------------------------------------

    async def _get_response_async(self, request):
        """Resolve, run view middleware, await the view, render: ``_get_response`` on the loop."""
        if self._coroutine_view_hooks:
            return await self._get_response_with_coroutine_hooks(request)
        step = await self._runner.run_sync_code(self._before_view, request)
        response, view_ran = await self._await_view(request, step)
        if view_ran:
            response = await self._runner.run_sync_code(self._after_view, request, response, step)
            response = await self._awaited_render(request, response)
        return response

    def _before_view(self, request):
        """The sync part of ``_get_response`` before a coroutine view.

        Returns ``SYNC_VIEW`` if the resolved view is sync after all, a
        response if view middleware answered, or the resolver match to call.
        """
        resolver_match = self._resolved.resolve(request)
        callback, callback_args, callback_kwargs = view_call(resolver_match)
        if not is_async_view(callback, request.method):
            return SYNC_VIEW
        load_lazy_request_state(request)
        for middleware_method in self._view_middleware:
            response = middleware_method(request, callback, callback_args, callback_kwargs)
            if response:
                return response
        return resolver_match

    async def _await_view(self, request, step):
        """Run the view ``_before_view`` chose; return (response, whether _after_view applies)."""
        if step is SYNC_VIEW:
            # Django's own _get_response (it resolves again) in the view pool.
            response = await self._runner.run_in_view_pool(BaseHandler._get_response, self, request)
            return response, False
        if isinstance(step, HttpResponseBase):
            return step, True
        callback, callback_args, callback_kwargs = view_call(step)
        response = await self._call_view(request, callback, callback_args, callback_kwargs, True)
        return response, True

    async def _call_view(self, request, callback, callback_args, callback_kwargs, on_loop):
        """Call the view and await what it returns; its exceptions go to exception middleware.

        A coroutine view is called on the loop (refused under ATOMIC_REQUESTS);
        a sync one in the view pool, wrapped by Django's ``make_view_atomic``.
        """
        if on_loop:
            exception.check_atomic_requests(callback)
        try:
            if on_loop:
                response = callback(request, *callback_args, **callback_kwargs)
            else:
                view = functools.partial(
                    BaseHandler.make_view_atomic(self, callback),
                    request,
                    *callback_args,
                    **callback_kwargs,
                )
                response = await self._runner.run_in_view_pool(view)
            views_own = on_loop  # a coroutine view's own coroutine, awaited as is
            while is_awaitable(response):
                if not views_own:
                    refuse_stray_coroutine(callback, request, response)
                views_own = False
                response = await response
        except Exception as exc:
            response = await self._process_exception(exc, request)
        return response

    def _after_view(self, request, response, step):
        """The sync part of ``_get_response`` after the view (an ``async def render()`` pending)."""
        if response is None:
            exception.view_returned_none(step.func if isinstance(step, ResolverMatch) else step)
        if hasattr(response, "render") and callable(response.render):
            for middleware_method in self._template_response_middleware:
                response = middleware_method(request, response)
                if response is None:
                    exception.hook_returned_none(middleware_method)
            try:
                response = response.render()
            except Exception as exc:
                response = self.process_exception_by_middleware(exc, request)
        return response

    async def _awaited_render(self, request, rendered):
        """Await what an ``async def render()`` returned; its exceptions go to exception middleware."""
        try:
            while is_awaitable(rendered):
                rendered = await rendered
        except Exception as exc:
            rendered = await self._process_exception(exc, request)
        return rendered

    async def _get_response_with_coroutine_hooks(self, request):
        """``_get_response`` when some view, template or exception hook is a coroutine."""
        runner = self._runner
        callback, callback_args, callback_kwargs = view_call(self._resolved.resolve(request))
        async_view = is_async_view(callback, request.method)
        await runner.run_sync_code(load_lazy_request_state, request)
        response = None
        for middleware_method in self._view_middleware:
            response = await runner.call_hook(
                middleware_method, request, callback, callback_args, callback_kwargs
            )
            if response:
                break
        if response is None:
            response = await self._call_view(
                request, callback, callback_args, callback_kwargs, async_view
            )
        if response is None:
            exception.view_returned_none(callback)
        if hasattr(response, "render") and callable(response.render):
            for middleware_method in self._template_response_middleware:
                response = await runner.call_hook(middleware_method, request, response)
                if response is None:
                    exception.hook_returned_none(middleware_method)
            try:
                response = await runner.run_sync_code(response.render)
            except Exception as exc:
                response = await self._process_exception(exc, request)
            response = await self._awaited_render(request, response)
        return response

    async def _process_exception(self, exc, request):
        """``process_exception_by_middleware`` on the loop: hooks see ``exc``; if none answers, re-raise."""
        if isinstance(exc, asyncio.CancelledError):
            raise exc
        for middleware_method in self._exception_middleware:
            if is_coroutine_function(middleware_method):
                response = await middleware_method(request, exc)
            else:
                response = await self._runner.run_sync_code(
                    call_with_exception, middleware_method, request, exc
                )
            if response:
                return response
        raise exc

    def make_view_atomic(self, view):
        """Django's ``make_view_atomic`` on the sync chain; a coroutine view is awaited on the loop.

        The sync chain meets a coroutine view when middleware routes the
        request elsewhere (``request.urlconf``): it is refused under
        ATOMIC_REQUESTS, as Django 3.1 does, and otherwise awaited on the loop
        while this thread waits (a disconnect cancels it).
        """
        if is_async_view(view):
            exception.check_atomic_requests(view)
            return ViewAwaitedOnLoop(view)
        return ViewAwaitedOnLoop(super().make_view_atomic(view))

    def _finish_response(self, request, response):
        """The end of ``BaseHandler.get_response``: close the request with the response, log 404s."""
        response._closable_objects.append(request)
        if not getattr(response, "is_rendered", True) and callable(
            getattr(response, "render", None)
        ):
            response = response.render()
        if response.status_code == 404:
            logger.warning(
                "Not Found: %s", request.path, extra={"status_code": 404, "request": request}
            )
        return response
