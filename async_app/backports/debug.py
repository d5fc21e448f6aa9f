"""``sensitive_variables`` on coroutine functions (Django 5.0), through the bridges too.

Django 1.11's ``SafeExceptionReporterFilter`` finds a frame's sensitive
variables by walking up its callers to a ``sensitive_variables_wrapper``
frame. A coroutine's frame has no callers once it is suspended, so, as
Django 5.0 does, a decorated coroutine function's code object is remembered
and its frames are cleansed by name. Two more things hide what a call to the
view pool carries:

* the frames of async_app's bridges (``database_sync_to_async``, ``run_sync``
  and the pool thread's side) pass another function's arguments along: their
  ``args``/``kwargs`` are cleansed when the function they carry is sensitive;
* ``django.contrib.auth.authenticate`` is marked ``sensitive_variables("credentials")``,
  as later Django does, so ``aauthenticate()`` hides the credentials all the way.

Only under ``SafeExceptionReporterFilter`` (error e-mails and 500 pages with
``DEBUG = False``), exactly where Django's filtering applies.
"""

import functools

__all__ = ["install_authenticate", "install_exception_filter", "mark_bridge", "sensitive_coroutine"]

# code object of a decorated coroutine function -> its sensitive names or "__ALL__"
_SENSITIVE_CODES = {}
# code objects of the frames that carry another function's call to a pool thread
_BRIDGE_CODES = set()
_CARRIED = ("args", "kwargs", "func_args", "func_kwargs")


def sensitive_coroutine(func, variables):
    """Remember ``func``'s (an ``async def``'s) sensitive ``variables`` (all when empty); return ``func``."""
    inner = func
    while getattr(inner, "__wrapped__", None) is not None:
        inner = inner.__wrapped__
    code = getattr(inner, "__code__", None)
    if code is not None:
        _SENSITIVE_CODES[code] = tuple(variables) if variables else "__ALL__"
    return func


def mark_bridge(*functions):
    """Frames of these functions carry another function's call: cleanse it when that one is sensitive."""
    for function in functions:
        _BRIDGE_CODES.add(function.__code__)


def _is_sensitive(value):
    for _ in range(8):  # partials and wrappers, a few deep
        code = getattr(value, "__code__", None)
        if code is not None and (
            code in _SENSITIVE_CODES or code.co_name == "sensitive_variables_wrapper"
        ):
            return True
        if isinstance(value, functools.partial):
            value = value.func
        elif getattr(value, "__wrapped__", None) is not None:
            value = value.__wrapped__
        else:
            return False
    return False


def _carries_sensitive(frame):
    for value in frame.f_locals.values():
        if _is_sensitive(value):
            return True
        if type(value) is tuple and any(_is_sensitive(item) for item in value):
            return True
    return False


def _frame_sensitivity(tb_frame):
    frame = tb_frame
    while frame is not None:  # the frame, or a coroutine it was called from
        sensitive = _SENSITIVE_CODES.get(frame.f_code)
        if sensitive is not None:
            return sensitive
        frame = frame.f_back
    if tb_frame.f_code in _BRIDGE_CODES and _carries_sensitive(tb_frame):
        return _CARRIED
    return None


def install_exception_filter(debug):
    """Teach ``django.views.debug.SafeExceptionReporterFilter`` the registry above (idempotent)."""
    filter_class = debug.SafeExceptionReporterFilter
    sync_variables = filter_class.get_traceback_frame_variables
    if getattr(sync_variables, "_async_app_backport", False):
        return

    @functools.wraps(sync_variables)
    def get_traceback_frame_variables(self, request, tb_frame):
        sensitive = _frame_sensitivity(tb_frame)
        if sensitive is None or not self.is_active(request):
            return sync_variables(self, request, tb_frame)
        cleansed = {}
        for name, value in tb_frame.f_locals.items():
            if sensitive == "__ALL__" or name in sensitive:
                cleansed[name] = debug.CLEANSED_SUBSTITUTE
            else:
                cleansed[name] = self.cleanse_special_types(request, value)
        return cleansed.items()

    get_traceback_frame_variables._async_app_backport = True
    filter_class.get_traceback_frame_variables = get_traceback_frame_variables
    _mark_async_app_bridges()


def install_authenticate(auth):
    """``authenticate()`` as ``sensitive_variables("credentials")`` (idempotent)."""
    from django.views.decorators.debug import sensitive_variables

    if not _is_sensitive(auth.authenticate):
        auth.authenticate = sensitive_variables("credentials")(auth.authenticate)


def _mark_async_app_bridges():
    from .. import db, sync

    mark_bridge(
        sync.run_sync,
        sync._call_in_pool_thread,
        sync._call_marked_sync,
        db.call_closing_connections,
        db._apply,
        db.database_sync_to_async(_apply_stand_in),
    )


def _apply_stand_in():
    """What ``database_sync_to_async`` wraps to show its wrapper's code."""
