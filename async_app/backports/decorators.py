"""View decorators that keep an ``async def`` view a coroutine function (Django 5.0).

Decorating a sync view changes nothing: Django 1.11's own decorator runs.
For a coroutine view, the wrapper is an ``async def`` that keeps the sync
decorator's exact semantics, in one of five ways:

* guards (``require_http_methods`` & co, ``csrf_exempt``,
  ``sensitive_post_parameters``): the sync wrapper
  runs around a stand-in view; if it would have called the view, the
  coroutine view is awaited;
* ``user_passes_test`` (so ``login_required``, ``permission_required``):
  Django 5.0's: the user from ``await request.auser()``, a sync test in the
  view pool, an ``async def`` test awaited (Django 5.1, sync views too);
* response post-processors (``cache_control``, ``never_cache``,
  ``vary_on_headers``, ``vary_on_cookie``, ``xframe_options_*``): the view
  is awaited, then the sync wrapper post-processes its response;
* middleware-made decorators (``decorator_from_middleware``: ``csrf_protect``,
  ``cache_page``, ``gzip_page``, ...): Django 5.0's ``make_middleware_decorator``
  (the hooks run on the loop, around the awaited view);
* ``condition``/``etag``/``last_modified`` (hooks before and after the view):
  the sync wrapper runs in a bridge thread, the view on the loop.

``sensitive_variables`` on an ``async def`` registers it and returns it
(Django 5.0). ``method_decorator`` of an ``async def`` method marks the
result as a coroutine function and hands the decorators an ``async def``
bound method.
"""

import asyncio
import contextvars
import functools

from ..sync import bridge_executor, in_sync_code, inline_mode, run_coroutine, run_sync
from .coroutines import iscoroutinefunction, markcoroutinefunction, run_in_pool

__all__ = [
    "install_auth_decorators",
    "install_cache_decorators",
    "install_clickjacking",
    "install_csrf",
    "install_debug",
    "install_http",
    "install_method_decorator",
    "install_vary",
]

_CALL_VIEW = object()  # what a guard's stand-in view returns
_response = contextvars.ContextVar("async_app_decorated_response")


def _stand_in_view(*args, **kwargs):
    return _CALL_VIEW


def _response_view(*args, **kwargs):
    return _response.get()


def _finish(async_wrapper, sync_wrapper, view_func):
    # Name, doc and the attributes the sync decorator set (csrf_exempt, ...).
    functools.update_wrapper(async_wrapper, sync_wrapper)
    async_wrapper.__wrapped__ = view_func
    return async_wrapper


def guard(sync_decorator):
    """Async-aware version of a decorator that only checks (or annotates) before the view."""

    @functools.wraps(sync_decorator)
    def decorator(view_func):
        if not iscoroutinefunction(view_func):
            return sync_decorator(view_func)
        check = sync_decorator(_stand_in_view)

        async def _view_wrapper(*args, **kwargs):
            result = check(*args, **kwargs)
            if result is _CALL_VIEW:
                return await view_func(*args, **kwargs)
            return result

        return _finish(_view_wrapper, sync_decorator(view_func), view_func)

    return decorator


def post_processor(sync_decorator):
    """Async-aware version of a decorator that only changes the view's response."""

    @functools.wraps(sync_decorator)
    def decorator(view_func):
        if not iscoroutinefunction(view_func):
            return sync_decorator(view_func)
        process = sync_decorator(_response_view)

        async def _view_wrapper(*args, **kwargs):
            token = _response.set(await view_func(*args, **kwargs))
            try:
                return process(*args, **kwargs)
            finally:
                _response.reset(token)

        return _finish(_view_wrapper, sync_decorator(view_func), view_func)

    return decorator


def bridged(sync_decorator):
    """Async-aware version of any decorator: its wrapper in a bridge thread, the view on the loop."""

    @functools.wraps(sync_decorator)
    def decorator(view_func):
        if not iscoroutinefunction(view_func):
            return sync_decorator(view_func)

        def view_on_loop(*args, **kwargs):
            return run_coroutine(view_func(*args, **kwargs))

        wrapper = sync_decorator(view_on_loop)

        async def _view_wrapper(*args, **kwargs):
            return await run_sync(wrapper, *args, executor=bridge_executor(), **kwargs)

        return _finish(_view_wrapper, sync_decorator(view_func), view_func)

    return decorator


def _factory(factory, kind, **options):
    """``factory(*args)`` returns a decorator: make that decorator async-aware with ``kind``."""

    @functools.wraps(factory)
    def new_factory(*args, **kwargs):
        return kind(factory(*args, **kwargs), **options)

    new_factory._async_app_backport = True
    return new_factory


def _patch(module, name, replacement):
    current = getattr(module, name, None)
    if current is not None and not getattr(current, "_async_app_backport", False):
        replacement._async_app_backport = True
        setattr(module, name, replacement)


def install_http(http):
    """``require_http_methods``, ``require_GET``/``POST``/``safe``, ``condition``, ``etag``, ``last_modified``."""
    if getattr(http.require_http_methods, "_async_app_backport", False):
        return
    _patch(http, "require_http_methods", _factory(http.require_http_methods, guard))
    for name, methods in (
        ("require_GET", ["GET"]),
        ("require_POST", ["POST"]),
        ("require_safe", ["GET", "HEAD"]),
    ):
        decorator = http.require_http_methods(methods)
        decorator.__doc__ = getattr(http, name).__doc__
        decorator._async_app_backport = True
        setattr(http, name, decorator)
    # etag() and last_modified() call the module's condition().
    _patch(http, "condition", _factory(http.condition, bridged))


def install_cache_decorators(cache):
    """``cache_control``, ``never_cache`` (``cache_page`` is middleware-made)."""
    _patch(cache, "cache_control", _factory(cache.cache_control, post_processor))
    _patch(cache, "never_cache", post_processor(cache.never_cache))


def install_vary(vary):
    """``vary_on_headers``, ``vary_on_cookie``."""
    _patch(vary, "vary_on_headers", _factory(vary.vary_on_headers, post_processor))
    _patch(vary, "vary_on_cookie", post_processor(vary.vary_on_cookie))


def install_csrf(csrf):
    """``csrf_exempt`` (the other csrf decorators are middleware-made)."""
    _patch(csrf, "csrf_exempt", guard(csrf.csrf_exempt))


def install_clickjacking(clickjacking):
    """``xframe_options_deny``, ``xframe_options_sameorigin``, ``xframe_options_exempt``."""
    for name in ("xframe_options_deny", "xframe_options_sameorigin", "xframe_options_exempt"):
        _patch(clickjacking, name, post_processor(getattr(clickjacking, name)))


def install_debug(debug):
    """``sensitive_variables``, ``sensitive_post_parameters``.

    On an ``async def``, ``sensitive_variables`` registers the function in
    ``coroutine_functions_to_sensitive_variables`` and returns it unchanged
    (Django 5.0; :mod:`async_app.backports.debug`).
    """
    from .debug import coroutine_functions_to_sensitive_variables, sensitive_coroutine

    sync_sensitive_variables = debug.sensitive_variables

    @functools.wraps(sync_sensitive_variables)
    def sensitive_variables(*variables):
        sync_decorator = sync_sensitive_variables(*variables)

        def decorator(func):
            if iscoroutinefunction(func):
                return sensitive_coroutine(func, variables)
            return sync_decorator(func)

        return decorator

    if not hasattr(debug, "coroutine_functions_to_sensitive_variables"):
        debug.coroutine_functions_to_sensitive_variables = (
            coroutine_functions_to_sensitive_variables
        )
    _patch(debug, "sensitive_variables", sensitive_variables)
    _patch(debug, "sensitive_post_parameters", _factory(debug.sensitive_post_parameters, guard))


def _redirect_to_login(request, login_url, redirect_field_name):
    # What Django 1.11's user_passes_test() does when the test fails.
    from urllib.parse import urlparse

    from django.conf import settings
    from django.contrib.auth.views import redirect_to_login
    from django.shortcuts import resolve_url

    path = request.build_absolute_uri()
    resolved_login_url = resolve_url(login_url or settings.LOGIN_URL)
    login_scheme, login_netloc = urlparse(resolved_login_url)[:2]
    current_scheme, current_netloc = urlparse(path)[:2]
    if (not login_scheme or login_scheme == current_scheme) and (
        not login_netloc or login_netloc == current_netloc
    ):
        path = request.get_full_path()
    return redirect_to_login(path, resolved_login_url, redirect_field_name)


def _sync_test(async_test):
    """An ``async def`` test function for sync views (Django 5.1)."""

    def test_func(user):
        if asyncio._get_running_loop() is None and not in_sync_code():
            # A plain sync caller (no async_app pool): its sync steps run
            # here, as asgiref's thread-sensitive mode would.
            with inline_mode():
                return run_coroutine(async_test(user))
        return run_coroutine(async_test(user))

    return test_func


def install_auth_decorators(decorators):
    """``user_passes_test`` (``login_required`` and ``permission_required`` call it).

    For a coroutine view, as Django 5.0: the user comes from ``await
    request.auser()``, a sync test runs in the view pool, an async one is
    awaited.
    """
    sync_user_passes_test = decorators.user_passes_test

    @functools.wraps(sync_user_passes_test)
    def user_passes_test(
        test_func, login_url=None, redirect_field_name=decorators.REDIRECT_FIELD_NAME
    ):
        is_async_test = iscoroutinefunction(test_func)
        sync_decorator = sync_user_passes_test(
            _sync_test(test_func) if is_async_test else test_func, login_url, redirect_field_name
        )

        def decorator(view_func):
            if not iscoroutinefunction(view_func):
                return sync_decorator(view_func)

            async def _view_wrapper(request, *args, **kwargs):
                user = await request.auser()
                if is_async_test:
                    test_pass = await test_func(user)
                else:
                    test_pass = await run_in_pool(test_func)(user)
                if test_pass:
                    return await view_func(request, *args, **kwargs)
                return _redirect_to_login(request, login_url, redirect_field_name)

            return _finish(_view_wrapper, sync_decorator(view_func), view_func)

        return decorator

    _patch(decorators, "user_passes_test", user_passes_test)


# --------------------------------------------------------------------------
# django.utils.decorators


def _make_middleware_decorator(sync_make):
    @functools.wraps(sync_make)
    def make_middleware_decorator(middleware_class):
        def _make_decorator(*m_args, **m_kwargs):
            sync_decorator = sync_make(middleware_class)(*m_args, **m_kwargs)
            middleware = middleware_class(*m_args, **m_kwargs)

            def _decorator(view_func):
                if not iscoroutinefunction(view_func):
                    return sync_decorator(view_func)

                async def _view_wrapper(request, *args, **kwargs):
                    if hasattr(middleware, "process_request"):
                        result = middleware.process_request(request)
                        if result is not None:
                            return result
                    if hasattr(middleware, "process_view"):
                        result = middleware.process_view(request, view_func, args, kwargs)
                        if result is not None:
                            return result
                    try:
                        response = await view_func(request, *args, **kwargs)
                    except Exception as e:
                        if hasattr(middleware, "process_exception"):
                            result = middleware.process_exception(request, e)
                            if result is not None:
                                return result
                        raise
                    if hasattr(response, "render") and callable(response.render):
                        if hasattr(middleware, "process_template_response"):
                            response = middleware.process_template_response(request, response)
                        if hasattr(middleware, "process_response"):

                            def callback(response):
                                return middleware.process_response(request, response)

                            response.add_post_render_callback(callback)
                    elif hasattr(middleware, "process_response"):
                        return middleware.process_response(request, response)
                    return response

                return functools.wraps(view_func)(_view_wrapper)

            return _decorator

        return _make_decorator

    return make_middleware_decorator


def _async_method_wrapper(decorator, method):
    decorators = list(decorator[::-1]) if hasattr(decorator, "__iter__") else [decorator]

    def decorate(function):
        for dec in decorators:
            function = dec(function)
        return function

    def _wrapper(self, *args, **kwargs):
        @functools.wraps(method)
        async def bound_method(*args2, **kwargs2):
            return await method.__get__(self, type(self))(*args2, **kwargs2)

        return decorate(bound_method)(*args, **kwargs)

    # Copy the attributes each decorator adds to the function it decorates
    # (Django 5.2's _update_method_wrapper).
    for dec in decorators:

        def dummy(*args, **kwargs):
            pass

        functools.update_wrapper(_wrapper, dec(dummy))
    functools.update_wrapper(_wrapper, method)
    return markcoroutinefunction(_wrapper)


def _method_decorator(sync_method_decorator):
    @functools.wraps(sync_method_decorator)
    def method_decorator(decorator, name=""):
        sync_dec = sync_method_decorator(decorator, name)

        def _dec(obj):
            is_class = isinstance(obj, type)
            method = getattr(obj, name, None) if is_class and name else obj
            if not iscoroutinefunction(method):
                return sync_dec(obj)  # Django 1.11's, errors included
            wrapper = _async_method_wrapper(decorator, method)
            if is_class:
                setattr(obj, name, wrapper)
                return obj
            return wrapper

        functools.update_wrapper(_dec, sync_dec)
        return _dec

    return method_decorator


def install_method_decorator(utils_decorators):
    """Async-aware ``method_decorator`` and ``make_middleware_decorator`` (Django 5.0)."""
    _patch(
        utils_decorators, "method_decorator", _method_decorator(utils_decorators.method_decorator)
    )
    _patch(
        utils_decorators,
        "make_middleware_decorator",
        _make_middleware_decorator(utils_decorators.make_middleware_decorator),
    )
