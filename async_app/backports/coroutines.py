"""What every backport shares: telling and marking coroutine functions, a-twins.

``iscoroutinefunction`` / ``markcoroutinefunction`` are asgiref's (Django
4.1+ uses them): a sync callable that returns an awaitable can be *marked* so
that both ``asyncio.iscoroutinefunction`` and, on 3.12+,
``inspect.iscoroutinefunction`` report it as a coroutine function.
"""

import asyncio
import functools
import inspect
import types

from ..db import database_sync_to_async

__all__ = [
    "ASYNCIO_MARK",
    "INSPECT_MARK",
    "async_twin",
    "iscoroutinefunction",
    "markcoroutinefunction",
    "run_in_pool",
]

_FUNCTION = types.FunctionType
_CO_COROUTINE = inspect.CO_COROUTINE
# The markers asyncio.iscoroutinefunction() (and, 3.12+, inspect's) look for.
ASYNCIO_MARK = getattr(asyncio.coroutines, "_is_coroutine", None)
INSPECT_MARK = getattr(
    inspect, "_is_coroutine_mark", getattr(inspect, "_is_coroutine_marker", None)
)


def iscoroutinefunction(func):
    """True for ``async def`` functions and callables marked with :func:`markcoroutinefunction`.

    Sees through bound methods and ``functools.partial`` on every Python (3.7's
    ``inspect`` does not).
    """
    if type(func) is _FUNCTION:  # the common case, cheaply (signals call this per receiver)
        if func.__code__.co_flags & _CO_COROUTINE:
            return True
        marks = func.__dict__
        return bool(marks) and (
            (ASYNCIO_MARK is not None and marks.get("_is_coroutine") is ASYNCIO_MARK)
            or (INSPECT_MARK is not None and marks.get("_is_coroutine_marker") is INSPECT_MARK)
        )
    while inspect.ismethod(func) or isinstance(func, functools.partial):
        func = func.__func__ if inspect.ismethod(func) else func.func
    if inspect.iscoroutinefunction(func):
        return True
    if ASYNCIO_MARK is not None and getattr(func, "_is_coroutine", None) is ASYNCIO_MARK:
        return True
    return INSPECT_MARK is not None and getattr(func, "_is_coroutine_marker", None) is INSPECT_MARK


def markcoroutinefunction(func):
    """Mark ``func`` (a function or an instance) as a coroutine function; returns it."""
    if hasattr(inspect, "markcoroutinefunction"):
        inspect.markcoroutinefunction(func)
    if ASYNCIO_MARK is not None:
        target = func.__func__ if inspect.ismethod(func) else func
        target._is_coroutine = ASYNCIO_MARK
    return func


def run_in_pool(func):
    """``func`` as a coroutine function run in the view pool (Django's ``sync_to_async``)."""
    return database_sync_to_async(func)


def async_twin(name, doc=None):
    """An ``async def a<name>(self, ...)`` method that awaits ``self.<name>(...)`` in the view pool."""

    async def method(self, *args, **kwargs):
        return await run_in_pool(getattr(self, name))(*args, **kwargs)

    method.__name__ = method.__qualname__ = "a" + name
    method.__doc__ = doc or "Async version of ``%s()`` (runs it in the view pool)." % name
    return method


def add_twins(cls, names, only_if_present=True):
    """Give ``cls`` an ``a<name>`` twin of each method in ``names`` it lacks."""
    for name in names:
        if only_if_present and not hasattr(cls, name):
            continue
        if "a" + name not in cls.__dict__:
            setattr(cls, "a" + name, async_twin(name))
