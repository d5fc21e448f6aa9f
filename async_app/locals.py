"""Context-locals for the request state Django 1.11 keeps in thread-locals.

Django 1.11 stores the active urlconf, the script prefix, the active language
and the active time zone in ``threading.local()`` objects. Under asyncio, many
requests share the loop's thread, and one request's sync code hops between
pool threads, so thread-locals would leak state between requests and lose it
between hops. Django 3.0 replaced them with ``asgiref.local.Local``; we do the
same with :class:`ContextLocal`, backed by :mod:`contextvars`, which asyncio
copies per task and :mod:`async_app.sync` carries across thread hops.

For code that never touches asyncio a ContextLocal behaves exactly like a
thread-local: every thread starts with its own empty context.
"""

import contextvars
import threading

__all__ = ["ContextLocal", "install"]

_UNSET = object()


class ContextLocal:
    """A drop-in for ``threading.local()`` whose attributes live in contextvars."""

    __slots__ = ("_vars", "_lock", "_name")

    def __init__(self, name="local"):
        object.__setattr__(self, "_vars", {})
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_name", name)

    def _var(self, attr):
        var = self._vars.get(attr)
        if var is None:
            with self._lock:
                var = self._vars.get(attr)
                if var is None:
                    var = contextvars.ContextVar("%s.%s" % (self._name, attr), default=_UNSET)
                    self._vars[attr] = var
        return var

    def __getattr__(self, attr):
        var = self._vars.get(attr)
        value = _UNSET if var is None else var.get()
        if value is _UNSET:
            raise AttributeError(attr)
        return value

    def __setattr__(self, attr, value):
        self._var(attr).set(value)

    def __delattr__(self, attr):
        var = self._vars.get(attr)
        if var is None or var.get() is _UNSET:
            raise AttributeError(attr)
        var.set(_UNSET)


# (module, attribute) pairs holding Django 1.11's per-request thread-locals.
DJANGO_LOCALS = (
    ("django.urls.base", "_prefixes"),
    ("django.urls.base", "_urlconfs"),
    ("django.utils.translation.trans_real", "_active"),
    ("django.utils.timezone", "_active"),
)


def install():
    """Swap Django's per-request thread-locals for ContextLocals (idempotent).

    Values already set on the replaced thread-locals (in this thread) are
    carried over.
    """
    import importlib

    for module_name, attr in DJANGO_LOCALS:
        module = importlib.import_module(module_name)
        current = getattr(module, attr)
        if isinstance(current, ContextLocal):
            continue
        replacement = ContextLocal("%s.%s" % (module_name, attr))
        for key, value in getattr(current, "__dict__", {}).items():
            setattr(replacement, key, value)
        setattr(module, attr, replacement)
