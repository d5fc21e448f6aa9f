"""The ``a``-methods of ``QuerySet`` and managers, and ``async for`` over a QuerySet.

Django 4.1's API: each ``a<name>()`` awaits ``<name>()`` run in the view pool
(:func:`async_app.db.database_sync_to_async`). Managers get them as Django's
manager methods do: proxies to ``get_queryset()``.
"""

from .coroutines import add_twins, run_in_pool

__all__ = ["QUERYSET_TWINS", "install_features", "install_manager", "install_queryset"]

# QuerySet methods whose a-twin is a plain "run it in the pool".
QUERYSET_TWINS = (
    "aggregate",
    "count",
    "get",
    "create",
    "bulk_create",
    "get_or_create",
    "update_or_create",
    "earliest",
    "latest",
    "first",
    "last",
    "in_bulk",
    "delete",
    "update",
    "exists",
)
# ... and the ones written out below.
_OWN = ("aiterator", "acontains", "abulk_update", "aexplain")


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


def _bulk_update(queryset, objs, fields, batch_size=None):
    # Django 2.2's QuerySet.bulk_update() (5.2's checks, 4.0's row count),
    # which Django 1.11 lacks.
    from django.db import connections, transaction
    from django.db.models import Case, Value, When
    from django.db.models.functions import Cast

    if batch_size is not None and batch_size <= 0:
        raise ValueError("Batch size must be a positive integer.")
    if not fields:
        raise ValueError("Field names must be given to bulk_update().")
    objs = tuple(objs)
    if any(obj.pk is None for obj in objs):
        raise ValueError("All bulk_update() objects must have a primary key set.")
    opts = queryset.model._meta
    fields = [opts.get_field(name) for name in fields]
    if any(not f.concrete or f.many_to_many for f in fields):
        raise ValueError("bulk_update() can only be used with concrete fields.")
    pk_fields = {opts.pk} | {parent._meta.pk for parent in opts.get_parent_list()}
    if any(f in pk_fields for f in fields):
        raise ValueError("bulk_update() cannot be used with primary key fields.")
    if not objs:
        return 0
    queryset._for_write = True
    connection = connections[queryset.db]
    max_batch_size = connection.ops.bulk_batch_size([opts.pk, opts.pk] + fields, objs)
    batch_size = min(batch_size, max_batch_size) if batch_size else max_batch_size
    requires_casting = connection.vendor == "postgresql"
    rows_updated = 0
    target = queryset.using(queryset.db)
    with transaction.atomic(using=queryset.db, savepoint=False):
        for start in range(0, len(objs), batch_size):
            batch_objs = objs[start : start + batch_size]
            update_kwargs = {}
            for field in fields:
                when_statements = []
                for obj in batch_objs:
                    attr = getattr(obj, field.attname)
                    if not hasattr(attr, "resolve_expression"):
                        attr = Value(attr, output_field=field)
                    when_statements.append(When(pk=obj.pk, then=attr))
                case_statement = Case(*when_statements, output_field=field)
                if requires_casting:
                    case_statement = Cast(case_statement, output_field=field)
                update_kwargs[field.attname] = case_statement
            rows_updated += target.filter(pk__in=[obj.pk for obj in batch_objs]).update(
                **update_kwargs
            )
    return rows_updated


async def abulk_update(self, objs, fields, batch_size=None):
    """Update ``fields`` of each of ``objs`` in the database (Django 4.1; 2.2's bulk_update)."""
    return await run_in_pool(_bulk_update)(self, objs, fields, batch_size)


# Django 2.1's QuerySet.explain() per backend: prefix, formats, options.
_EXPLAIN = {
    "sqlite": ("EXPLAIN QUERY PLAN", set(), set()),
    "postgresql": (
        "EXPLAIN",
        {"TEXT", "XML", "JSON", "YAML"},
        {"ANALYZE", "BUFFERS", "COSTS", "SETTINGS", "SUMMARY", "TIMING", "VERBOSE", "WAL"},
    ),
    "mysql": ("EXPLAIN", {"TRADITIONAL", "JSON", "TREE"}, set()),
}


def _explain(queryset, format=None, **options):
    # Django 2.1's QuerySet.explain(), which Django 1.11 lacks.
    import json

    from django.db import NotSupportedError, connections

    connection = connections[queryset.db]
    try:
        prefix, formats, known_options = _EXPLAIN[connection.vendor]
    except KeyError:
        raise NotSupportedError("This backend does not support explaining query execution.")
    if format:
        if format.upper() not in formats:
            msg = "%s is not a recognized format." % format.upper()
            if formats:
                msg += " Allowed formats: %s" % ", ".join(sorted(formats))
            raise ValueError(msg)
    unknown = sorted(name for name in options if name.upper() not in known_options)
    if unknown:
        raise ValueError("Unknown options: %s" % ", ".join(unknown))
    extra = [
        "%s %s" % (name.upper(), "true" if value else "false") for name, value in options.items()
    ]
    if format and connection.vendor == "postgresql":
        extra.append("FORMAT %s" % format.upper())
    if extra:
        prefix += " (%s)" % ", ".join(extra)
    elif format:
        prefix += " FORMAT=%s" % format.upper()
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("%s %s" % (prefix, sql), params)
        rows = cursor.fetchall()
    formatter = json.dumps if format and format.lower() == "json" else str
    return "\n".join(
        " ".join(value if isinstance(value, str) else formatter(value) for value in row)
        for row in rows
    )


def _supports_explaining(features):
    """Whether ``QuerySet.aexplain()`` works on this backend (Django 2.1's feature flag)."""
    return features.connection.vendor in _EXPLAIN


def _explain_formats(features):
    """The ``format`` values ``aexplain()`` accepts here (Django 2.1's feature flag)."""
    return set(_EXPLAIN.get(features.connection.vendor, ("", set(), set()))[1])


def install_features(features):
    """Add Django 2.1's explain feature flags to ``BaseDatabaseFeatures``, read from
    the backend's vendor as ``aexplain()`` is (every backend class inherits them)."""
    BaseDatabaseFeatures = features.BaseDatabaseFeatures
    if not hasattr(BaseDatabaseFeatures, "supports_explaining_query_execution"):
        BaseDatabaseFeatures.supports_explaining_query_execution = property(_supports_explaining)
    if not hasattr(BaseDatabaseFeatures, "supported_explain_formats"):
        BaseDatabaseFeatures.supported_explain_formats = property(_explain_formats)


async def aexplain(self, *, format=None, **options):
    """The database's plan for the query (Django 4.1; 2.1's ``explain()``, awaited)."""
    return await run_in_pool(_explain)(self, format, **options)


async def acontains(self, obj):
    """Whether ``obj`` is in the QuerySet (Django 4.0's ``contains()``, awaited)."""
    return await run_in_pool(_contains)(self, obj)


def install_queryset(query):
    """Add the a-methods and ``__aiter__`` to ``QuerySet`` and ``RawQuerySet`` (idempotent)."""
    QuerySet = query.QuerySet
    if QuerySet.__dict__.get("_async_app_backport"):  # not inherited: each class once
        return
    add_twins(QuerySet, QUERYSET_TWINS)
    QuerySet.aiterator = aiterator
    QuerySet.acontains = acontains
    QuerySet.abulk_update = abulk_update
    QuerySet.aexplain = aexplain
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
    if BaseManager.__dict__.get("_async_app_backport"):  # not inherited: each class once
        return
    for name in tuple("a" + n for n in QUERYSET_TWINS) + _OWN:
        if not hasattr(BaseManager, name):
            setattr(BaseManager, name, _manager_proxy(name))
    BaseManager._async_app_backport = True
