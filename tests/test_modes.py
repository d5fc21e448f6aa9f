"""The one decision (async_app.modes): how each middleware runs, and where the Runner puts code."""

import asyncio
import threading

import pytest
from django.utils.deprecation import MiddlewareMixin

from async_app.greenlet_bridge import on_greenlet_bridge
from async_app.modes import (
    ASYNC_HOOKS,
    HOOKS,
    NATIVE,
    OPAQUE,
    Runner,
    middleware_mode,
    note_adaptation,
    refuse_stray_coroutine,
    wants_async_get_response,
)
from async_app.sync import in_sync_code


def get_response(request):
    return "response"


class Plain(MiddlewareMixin):
    def process_request(self, request):
        return None


class WithAsyncHook(MiddlewareMixin):
    async def process_response(self, request, response):
        return response


class OwnCall(MiddlewareMixin):
    def __call__(self, request):
        return self.get_response(request)


class AsyncCall:
    def __init__(self, get_response):
        self.get_response = get_response

    async def __call__(self, request):
        return await self.get_response(request)


def function_middleware(get_response):
    def middleware(request):
        return get_response(request)

    return middleware


def flagged(sync_capable, async_capable):
    def factory(get_response):
        return function_middleware(get_response)

    factory.sync_capable = sync_capable
    factory.async_capable = async_capable
    return factory


# factory -> (wants an async get_response, mode, mode with split=False)
MIDDLEWARE = {
    "MiddlewareMixin": (Plain, False, HOOKS, OPAQUE),
    "MiddlewareMixin with an async def hook": (WithAsyncHook, False, ASYNC_HOOKS, ASYNC_HOOKS),
    "MiddlewareMixin with its own __call__": (OwnCall, False, OPAQUE, OPAQUE),
    "function middleware": (function_middleware, False, OPAQUE, OPAQUE),
    "class with async def __call__": (AsyncCall, True, NATIVE, NATIVE),
    "sync_only_middleware": (flagged(True, False), False, OPAQUE, OPAQUE),
    "sync_and_async_middleware": (flagged(True, True), False, OPAQUE, OPAQUE),
    "async_only_middleware": (flagged(False, True), True, NATIVE, NATIVE),
}


@pytest.mark.parametrize("name", sorted(MIDDLEWARE))
def test_middleware_mode(name):
    factory, native, mode, unsplit_mode = MIDDLEWARE[name]
    assert wants_async_get_response(factory) is native
    middleware = factory(get_response)
    assert middleware_mode(middleware, native) == mode
    assert middleware_mode(middleware, native, split=False) == unsplit_mode


def where():
    return threading.current_thread().name, on_greenlet_bridge(), in_sync_code()


# (in_threads, method) -> (runs on the loop's thread, on a greenlet, marked sync code)
PLACEMENT = {
    (False, "run_sync_code"): (True, False, True),
    (True, "run_sync_code"): (False, False, True),
    (False, "run_opaque"): (True, True, True),
    (True, "run_opaque"): (False, False, True),
    (False, "run_in_view_pool"): (False, False, True),
    (True, "run_in_view_pool"): (False, False, True),
}


@pytest.mark.parametrize("in_threads,method", sorted(PLACEMENT))
def test_runner_places_sync_code(in_threads, method):
    runner = Runner(in_threads, sender=object)

    async def main():
        loop_thread = threading.current_thread().name
        if method == "run_opaque":
            thread, greenlet, marked = await runner.run_opaque(lambda request: where(), None)
        else:
            thread, greenlet, marked = await getattr(runner, method)(where)
        return thread == loop_thread, greenlet, marked, thread

    on_loop, greenlet, marked, thread = asyncio.run(main())
    assert (on_loop, greenlet, marked) == PLACEMENT[in_threads, method]
    if method == "run_in_view_pool":
        assert thread.startswith("async_app-view")
    elif not on_loop:
        assert thread.startswith("async_app-bridge")


def test_call_hook_awaits_coroutine_hooks_on_the_loop():
    async def hook(value):
        return threading.current_thread().name, value

    async def main():
        return threading.current_thread().name, await Runner(True, object).call_hook(hook, 7)

    loop_thread, (hook_thread, value) = asyncio.run(main())
    assert (hook_thread, value) == (loop_thread, 7)


def test_convert_exception_lets_cancellation_through():
    async def main():
        await Runner(False, object).convert_exception(None, asyncio.CancelledError())

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())


async def _coroutine_view(request):
    return "response"


async def _star_args_view(*args, **kwargs):
    return "response"


def _stray_view(request):
    return asyncio.sleep(0)


class _FormView:
    """A class-based view whose sync ``post`` returns an ``async def form_valid()``."""

    def __init__(self, request):
        self.request = request

    async def form_valid(self, form):
        return "response"


def test_refuse_stray_coroutine_lets_a_wrapped_coroutine_views_coroutine_through():
    request = object()
    view_code = (
        _coroutine_view(request),
        _star_args_view(request),
        _FormView(request).form_valid("form"),
    )
    for coroutine in view_code:
        refuse_stray_coroutine(_stray_view, request, coroutine)  # no error
        assert asyncio.run(coroutine) == "response"


def test_refuse_stray_coroutine_refuses_any_other_coroutine_like_django():
    request = object()
    for coroutine in (asyncio.sleep(0), _coroutine_view(object())):
        with pytest.raises(ValueError) as raised:
            refuse_stray_coroutine(_stray_view, request, coroutine)
        coroutine.close()
        assert str(raised.value) == (
            "The view tests.test_modes._stray_view didn't return an HttpResponse object. It returned "
            "an unawaited coroutine instead. You may need to add an 'await' into your view."
        )


def test_refuse_stray_coroutine_leaves_other_awaitables_alone():
    async def main():
        future = asyncio.get_running_loop().create_future()
        refuse_stray_coroutine(_stray_view, object(), future)
        future.cancel()

    asyncio.run(main())


class SyncOnly:
    pass


class AsyncOnly:
    sync_capable = False
    async_capable = True


class Both:
    sync_capable = True
    async_capable = True


# (factory, native, below_is_async) -> (counts as async, the line logged under DEBUG)
ADAPTATIONS = [
    (SyncOnly, False, True, False, "Asynchronous handler adapted for middleware m."),
    (SyncOnly, False, False, False, None),
    (AsyncOnly, True, False, True, "Synchronous handler adapted for middleware m."),
    (AsyncOnly, True, True, True, None),
    (Both, False, True, True, None),
    (Both, False, False, False, None),
    (AsyncCall, True, False, True, "Synchronous handler adapted for middleware m."),
]


@pytest.mark.parametrize("factory,native,below,expected,line", ADAPTATIONS)
def test_note_adaptation_follows_django_5_2s_load_middleware(
    factory, native, below, expected, line, caplog
):
    import logging

    with caplog.at_level(logging.DEBUG, logger="django.request"):
        assert note_adaptation(factory, native, below, "m", debug=False) is expected
        assert caplog.messages == []
        assert note_adaptation(factory, native, below, "m", debug=True) is expected
    assert caplog.messages == ([line] if line else [])
