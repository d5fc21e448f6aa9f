"""Django 3.1's async test tools where Django puts them.

* ``SimpleTestCase.async_client`` (an instance of ``async_client_class``,
  default :class:`async_app.testing.AsyncClient`), made in ``_pre_setup()``
  next to ``self.client``;
* ``async def`` test methods of ``SimpleTestCase`` and its subclasses run to
  completion (:func:`async_app.testing.runner.run_async`: a fresh loop,
  inline mode so a ``TestCase`` transaction is visible to views);
* ``django.test.AsyncClient`` / ``AsyncRequestFactory`` and the same names
  in ``django.test.client``, imported on first access;
* ``override_settings``/``modify_settings`` (every ``TestContextDecorator``)
  on ``async def`` tests, entering the context around the await;
* ``SimpleTestCase.assertWarnsMessage`` (Django 2.0) and, on Python < 3.10,
  ``assertNoLogs`` (Python 3.10's unittest), which Django 5.2's tests use;
* ``Client.asession()``, ``alogin()``, ``aforce_login()``, ``alogout()`` (Django 5.0).
"""

import functools

from .coroutines import add_twins, iscoroutinefunction, run_in_pool
from .db import check_async_unsafe

__all__ = ["install_client", "install_test_package", "install_test_utils", "install_testcases"]

_LAZY = {
    "AsyncClient": "async_app.testing.client",
    "AsyncRequestFactory": "async_app.testing.factory",
}


class _LazyClass:
    """A class attribute that imports its value on first access (non-data descriptor)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __get__(self, instance, owner):
        import importlib

        return getattr(importlib.import_module(self.module), self.name)


def _lazy_getattr(module, previous):
    def __getattr__(name):
        if name in _LAZY:
            import importlib

            value = getattr(importlib.import_module(_LAZY[name]), name)
            setattr(module, name, value)
            return value
        if previous is not None:
            return previous(name)
        raise AttributeError("module %r has no attribute %r" % (module.__name__, name))

    return __getattr__


def install_test_package(module):
    """``from django.test import AsyncClient`` (and from ``django.test.client``)."""
    previous = module.__dict__.get("__getattr__")
    if getattr(previous, "_async_app_backport", False):
        return
    getter = _lazy_getattr(module, previous)
    getter._async_app_backport = True
    module.__getattr__ = getter


async def _asession(self):
    """The client's session, loaded in the view pool (Django 5.0)."""
    return await run_in_pool(lambda: self.session)()


def install_client(client):
    """``Client.asession()``, ``alogin()``, ``aforce_login()``, ``alogout()`` (Django 5.0)."""
    Client = client.Client
    add_twins(Client, ("login", "force_login", "logout"))
    if "asession" not in Client.__dict__:
        Client.asession = _asession


def _assert_warns_message(self, expected_warning, expected_message, *args, **kwargs):
    """Assert a warning of ``expected_warning`` whose text contains ``expected_message`` (Django 2.0).

    A context manager (``as cm``: ``cm.warning``, ``cm.filename``), or called
    with a callable and its arguments.
    """
    context = _WarnsMessage(self, expected_warning, expected_message)
    if not args:
        return context
    func, args = args[0], args[1:]
    with context:
        func(*args, **kwargs)


class _WarnsMessage:
    def __init__(self, test, category, message):
        self.test, self.message = test, message
        self.context = test.assertWarns(category)

    def __enter__(self):
        return self.context.__enter__()

    def __exit__(self, *exc_info):
        result = self.context.__exit__(*exc_info)
        if exc_info[0] is None:
            self.test.assertIn(self.message, str(self.context.warning))
        return result


class _NoLogs:
    """``assertNoLogs`` of Python 3.10's unittest, for 3.7-3.9 (Django 5.2's tests use it)."""

    def __init__(self, test, logger, level):
        import logging

        self.test = test
        self.logger = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
        self.level = logging._nameToLevel.get(level, level) if level else logging.INFO
        self.records = []

    def __enter__(self):
        import logging

        handler = logging.Handler(self.level)
        handler.emit = self.records.append
        self.saved = (self.logger.handlers[:], self.logger.level, self.logger.propagate)
        self.logger.handlers = [handler]
        self.logger.setLevel(self.level)
        self.logger.propagate = False

    def __exit__(self, *exc_info):
        self.logger.handlers, level, self.logger.propagate = self.saved
        self.logger.setLevel(level)
        if exc_info[0] is None and self.records:
            self.test.fail("Unexpected logs found: %r" % [r.getMessage() for r in self.records])


def _assert_no_logs(self, logger=None, level=None):
    """Fail if ``logger`` logs at ``level`` or above inside the ``with`` block."""
    return _NoLogs(self, logger, level)


def _run_coroutine_test(method):
    @functools.wraps(method)
    def run(*args, **kwargs):
        from async_app.testing.runner import run_async

        return run_async(method(*args, **kwargs))

    return run


def install_test_utils(utils):
    """Let ``TestContextDecorator`` subclasses decorate coroutine functions (idempotent).

    Django 3.1's ``decorate_callable``: for a coroutine function the wrapper
    is a coroutine function too, entering the context around the *await*.
    Django 1.11's would leave the ``with`` block as soon as the coroutine is
    *created*, so the test body would run without the override.
    """
    TestContextDecorator = utils.TestContextDecorator
    original = TestContextDecorator.decorate_callable
    if getattr(original, "_async_app_installed", False):
        return

    def decorate_callable(self, func):
        if not iscoroutinefunction(func):
            return original(self, func)

        @functools.wraps(func)
        async def inner(*args, **kwargs):
            with self as context:
                if self.kwarg_name:
                    kwargs[self.kwarg_name] = context
                return await func(*args, **kwargs)

        return inner

    decorate_callable._async_app_installed = True
    TestContextDecorator.decorate_callable = decorate_callable


def install_testcases(testcases):
    """Patch ``SimpleTestCase`` (idempotent)."""
    SimpleTestCase = testcases.SimpleTestCase
    if SimpleTestCase.__dict__.get("_async_app_backport"):  # not inherited: each class once
        return
    sync_pre_setup = SimpleTestCase._pre_setup
    sync_call = SimpleTestCase.__call__

    def _pre_setup(self):
        sync_pre_setup(self)
        self.async_client = self.async_client_class()

    def __call__(self, result=None):
        name = getattr(self, "_testMethodName", None)
        method = getattr(self, name, None) if name else None
        if (
            method is not None
            and not getattr(method, "__unittest_skip__", False)
            and iscoroutinefunction(method)
        ):
            setattr(self, name, _run_coroutine_test(method))
        return sync_call(self, result)

    _pre_setup.__doc__ = sync_pre_setup.__doc__
    __call__.__doc__ = sync_call.__doc__
    # As in Django 3.0+, where the connection's methods are async_unsafe: from
    # coroutine code the async check comes before SimpleTestCase's refusal.
    cursor_failure = testcases._CursorFailure
    sync_failure = cursor_failure.__call__

    def refuse(self, *args, **kwargs):
        check_async_unsafe()
        return sync_failure(self, *args, **kwargs)

    cursor_failure.__call__ = refuse
    if not hasattr(SimpleTestCase, "assertNoLogs"):  # Python < 3.10
        SimpleTestCase.assertNoLogs = _assert_no_logs
    if not hasattr(SimpleTestCase, "assertWarnsMessage"):
        SimpleTestCase.assertWarnsMessage = _assert_warns_message
    SimpleTestCase._pre_setup = _pre_setup
    SimpleTestCase.__call__ = __call__
    SimpleTestCase.async_client_class = _LazyClass("async_app.testing.client", "AsyncClient")
    SimpleTestCase._async_app_backport = True
