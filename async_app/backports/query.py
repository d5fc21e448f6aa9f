"""The ``a``-methods of ``QuerySet`` and managers, and ``async for`` over a QuerySet.

Django 4.1's API: each ``a<name>()`` awaits ``<name>()`` run in the view pool
(:func:`async_app.db.database_sync_to_async`). Managers get them as Django's
manager methods do: proxies to ``get_queryset()``.
"""
from .coroutines import add_twins, run_in_pool

__all__ = ["QUERYSET_TWINS", "install_manager", "install_queryset"]

# QuerySet methods whose a-twin is a plain "run it in the pool".
QUERYSET_TWINS = (
    "aggregate", "count", "get", "create", "bulk_create", "bulk_update", "get_or_create",
    "update_or_create", "earliest", "latest", "first", "last", "in_bulk", "delete",
    "update", "exists",
)
# ... and the ones written out below.
_OWN = ("aiterator", "acontains")


def _fetch_all(queryset):
    queryset._fetch_all()


def _aiter(self):
    """``async for obj in queryset``: fetch in the view pool, then yield (Django 4.1)."""

    async def generator():
        await run_in_pool(_fetch_all)(self)
        for item in self._result_cache:
            yield item

    return generator()


def _raw_aiter(self):
    """``async for obj in raw_queryset`` (Django 4.1)."""

    async def generator():
        for item in await run_in_pool(list)(self):
            yield item

    return generator()


async def aiterator(self, chunk_size=2000):
    """An async iterator over the results (Django 4.1).

    Django 1.11's ``iterator()`` has no ``chunk_size``; the rows are fetched
    in one call in the view pool (without filling the result cache), then
    yielded.
    """
    if chunk_size <= 0:
        raise ValueError("Chunk size must be strictly positive.")
    for item in await run_in_pool(lambda: list(self.iterator()))():
        yield item


def _contains(queryset, obj):
    # Django 4.0's QuerySet.contains(), which Django 1.11 lacks.
    if queryset._fields is not None:
        raise TypeError("Cannot call QuerySet.contains() after .values() or .values_list().")
    try:
        if obj._meta.concrete_model != queryset.model._meta.concrete_model:
            return False
    except AttributeError:
        raise TypeError("'obj' must be a model instance.")
    if obj.pk is None:
        raise ValueError("QuerySet.contains() cannot be used on unsaved objects.")
    if queryset._result_cache is not None:
        return obj in queryset._result_cache
    return queryset.filter(pk=obj.pk).exists()


async def acontains(self, obj):
    """Whether ``obj`` is in the QuerySet (Django 4.0's ``contains()``, awaited)."""
    return await run_in_pool(_contains)(self, obj)


def install_queryset(query):
    """Add the a-methods and ``__aiter__`` to ``QuerySet`` and ``RawQuerySet`` (idempotent)."""
    QuerySet = query.QuerySet
    if getattr(QuerySet, "_async_app_backport", False):
        return
    add_twins(QuerySet, QUERYSET_TWINS)
    QuerySet.aiterator = aiterator
    QuerySet.acontains = acontains
    QuerySet.__aiter__ = _aiter
    query.RawQuerySet.__aiter__ = _raw_aiter
    QuerySet._async_app_backport = True


def _manager_proxy(name):
    def method(self, *args, **kwargs):
        return getattr(self.get_queryset(), name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = "Async QuerySet method ``%s`` of ``get_queryset()``." % name
    return method


def install_manager(manager):
    """Give ``BaseManager`` (so every manager, related ones too) the QuerySet a-methods."""
    BaseManager = manager.BaseManager
    if getattr(BaseManager, "_async_app_backport", False):
        return
    for name in tuple("a" + n for n in QUERYSET_TWINS) + _OWN:
        if not hasattr(BaseManager, name):
            setattr(BaseManager, name, _manager_proxy(name))
    BaseManager._async_app_backport = True
