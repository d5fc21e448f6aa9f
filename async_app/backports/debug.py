"""``sensitive_variables`` on coroutine functions (Django 5.0), and error reports of ``aauthenticate()``.

Django 1.11's ``SafeExceptionReporterFilter`` finds a frame's sensitive
variables by walking up its callers (``f_back``) to a
``sensitive_variables_wrapper`` frame. A coroutine function cannot have such
a wrapper (the wrapper would return before the coroutine runs), so, as
Django 5.0 does, ``sensitive_variables`` on an ``async def`` registers the
function (by file and first line) in
``django.views.decorators.debug.coroutine_functions_to_sensitive_variables``
and returns it unchanged; the filter then cleanses the frames *of that
function* by name. Everything else goes through Django 1.11's own filter.

The registry is consulted for a coroutine's own frame only, never up
``f_back``, so the result does not depend on the Python version: on 3.7-3.11
a finished coroutine frame's ``f_back`` is ``None``, but 3.12+ keeps it, so
there a sync frame's callers lead on into the coroutines that awaited it
(inline mode runs sync code on the loop's thread). Looking the registry up
along that chain lets an outer coroutine's names (``aauthenticate``'s
``credentials``) replace the nearer ``sensitive_variables_wrapper`` of the
sync code (a backend's ``password``): how a first version leaked it on 3.12+.

``aauthenticate()`` runs Django 1.11's ``authenticate()`` in the view pool
through :func:`sealed_call`: the credentials cross the bridges inside a
:class:`Sealed` (its ``repr`` is the cleansed substitute), and the sync
frames under the call are filtered as Django 5.0 filters them (a
``sensitive_variables_wrapper`` frame hides ``func_kwargs`` as well as
``func_args``). Sync code called outside it is filtered exactly as 1.11 does.
"""

import functools
import inspect

__all__ = [
    "Sealed",
    "coroutine_functions_to_sensitive_variables",
    "install_exception_filter",
    "sealed_call",
    "sensitive_coroutine",
]

# Django 5.0's registry: key of a decorated coroutine function -> names or "__ALL__".
coroutine_functions_to_sensitive_variables = {}
_SUBSTITUTE = "********************"  # django.views.debug.CLEANSED_SUBSTITUTE


def _key(filename, first_line):
    return hash("%s:%s" % (filename, first_line))  # Django 5.0's key


def sensitive_coroutine(func, variables):
    """Register ``func`` (an ``async def``) with its sensitive ``variables`` (all if empty); return it."""
    wrapped = func
    while getattr(wrapped, "__wrapped__", None) is not None:
        wrapped = wrapped.__wrapped__
    try:
        filename = inspect.getfile(wrapped)
    except TypeError:  # builtins, native extensions (Django 5.0's message)
        raise ValueError(
            "%s cannot safely be wrapped by @sensitive_variables, make it either "
            "non-async or defined in a Python file (not a builtin or from a native "
            "extension)." % func.__name__
        )
    key = _key(filename, wrapped.__code__.co_firstlineno)
    coroutine_functions_to_sensitive_variables[key] = tuple(variables) if variables else "__ALL__"
    return func


def _coroutine_frame_sensitivity(frame):
    code = frame.f_code
    if not code.co_flags & inspect.CO_COROUTINE or code.co_name == "sensitive_variables_wrapper":
        return None
    return coroutine_functions_to_sensitive_variables.get(
        _key(code.co_filename, code.co_firstlineno)
    )


def _under_sealed_call(frame):
    while frame is not None:
        if frame.f_code is _call_unsealed.__code__:
            return True
        frame = frame.f_back
    return False


def _is_wrapper_frame(frame):
    return (
        frame.f_code.co_name == "sensitive_variables_wrapper"
        and "sensitive_variables_wrapper" in frame.f_locals
    )


class Sealed:
    """Arguments in transit to a pool thread; their ``repr`` (error reports) shows none of them."""

    __slots__ = ("args", "kwargs")

    def __init__(self, args, kwargs):
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        return _SUBSTITUTE


def _call_unsealed(func, sealed):
    # Frames under this one get Django 5.0's wrapper rule. No local holds the unsealed arguments: this frame shows func and sealed.
    return func(*sealed.args, **sealed.kwargs)


async def sealed_call(func, *args, **kwargs):
    """Await sync ``func(*args, **kwargs)`` in the view pool, its arguments hidden from error reports.

    For a sensitive call (``aauthenticate``): the bridges' frames carry a
    :class:`Sealed`, and the frames under ``func`` are filtered with Django
    5.0's rule for ``sensitive_variables_wrapper`` frames.
    """
    from .coroutines import run_in_pool

    return await run_in_pool(_call_unsealed)(func, Sealed(args, kwargs))


sensitive_coroutine(sealed_call, ("args", "kwargs"))


def install_exception_filter(debug):
    """Teach ``django.views.debug.SafeExceptionReporterFilter`` Django 5.0's coroutine rule (idempotent)."""
    filter_class = debug.SafeExceptionReporterFilter
    sync_variables = filter_class.get_traceback_frame_variables
    if getattr(sync_variables, "_async_app_backport", False):
        return

    @functools.wraps(sync_variables)
    def get_traceback_frame_variables(self, request, tb_frame):
        sensitive = _coroutine_frame_sensitivity(tb_frame)
        if sensitive is None:
            variables = sync_variables(self, request, tb_frame)
            if not (_is_wrapper_frame(tb_frame) and _under_sealed_call(tb_frame)):
                return variables
            cleansed = dict(variables)
            cleansed["func_kwargs"] = debug.CLEANSED_SUBSTITUTE  # 1.11 hides func_args only
            return cleansed.items()
        cleansed = {}
        active = self.is_active(request)
        for name, value in tb_frame.f_locals.items():
            if active and (sensitive == "__ALL__" or name in sensitive):
                cleansed[name] = debug.CLEANSED_SUBSTITUTE
            else:
                cleansed[name] = self.cleanse_special_types(request, value)
        return cleansed.items()

    get_traceback_frame_variables._async_app_backport = True
    filter_class.get_traceback_frame_variables = get_traceback_frame_variables
