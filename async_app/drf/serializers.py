"""adrf's async serializer API on DRF's serializers: ``adata``, ``asave``, ``ais_valid``.

``await serializer.adata``, ``await serializer.asave(**kwargs)`` and
``await serializer.acreate(validated_data)``/``aupdate(instance,
validated_data)`` are adrf's names; ``await serializer.ais_valid()`` is
ours (adrf validates with ``sync_to_async(serializer.is_valid)``). Each
runs DRF's sync code in the view pool (validators and related fields may
query the database). ``asave`` is DRF's ``save()`` in one hop, unless the
serializer defines its own ``acreate``/``aupdate``: then it checks what
``save()`` checks and awaits those, as adrf's does.
"""

from ..db import database_sync_to_async

__all__ = ["AsyncListSerializerMethods", "AsyncSerializerMethods", "patch"]


def _in_pool(func, *args, **kwargs):
    return database_sync_to_async(func)(*args, **kwargs)


def _merged(validated_data, kwargs):
    return dict(list(validated_data.items()) + list(kwargs.items()))


class AsyncSerializerMethods:
    """Added to ``rest_framework.serializers.BaseSerializer``."""

    @property
    def adata(self):
        """An awaitable of ``serializer.data`` (read in the view pool)."""
        return _in_pool(getattr, self, "data")

    async def ais_valid(self, raise_exception=False):
        """``is_valid(raise_exception)`` in the view pool."""
        return await _in_pool(self.is_valid, raise_exception=raise_exception)

    async def asave(self, **kwargs):
        """``save(**kwargs)``, awaiting the serializer's own ``acreate``/``aupdate`` if it has them."""
        if not _defines_async_save(self):
            return await _in_pool(self.save, **kwargs)
        assert hasattr(self, "_errors"), "You must call `.is_valid()` before calling `.asave()`."
        assert not self.errors, "You cannot call `.asave()` on a serializer with invalid data."
        assert "commit" not in kwargs, (
            "'commit' is not a valid keyword argument to the 'asave()' method. "
            "If you need to access data before committing to the database then "
            "inspect 'serializer.validated_data' instead."
        )
        assert not hasattr(self, "_data"), (
            "You cannot call `.asave()` after accessing `serializer.data`. "
            "If you need to access data before committing to the database then "
            "inspect 'serializer.validated_data' instead."
        )
        if isinstance(self.validated_data, list):  # a ListSerializer's
            validated_data = [_merged(attrs, kwargs) for attrs in self.validated_data]
        else:
            validated_data = _merged(self.validated_data, kwargs)
        if self.instance is not None:
            self.instance = await self.aupdate(self.instance, validated_data)
            assert self.instance is not None, "`aupdate()` did not return an object instance."
        else:
            self.instance = await self.acreate(validated_data)
            assert self.instance is not None, "`acreate()` did not return an object instance."
        return self.instance

    async def acreate(self, validated_data):
        """``create(validated_data)`` in the view pool."""
        return await _in_pool(self.create, validated_data)

    async def aupdate(self, instance, validated_data):
        """``update(instance, validated_data)`` in the view pool."""
        return await _in_pool(self.update, instance, validated_data)


class AsyncListSerializerMethods:
    """Added to ``rest_framework.serializers.ListSerializer``."""

    async def acreate(self, validated_data):
        """The child's ``acreate`` for each item (adrf's), else DRF's ``create`` in one hop."""
        if not _defines_async_save(self.child):
            return await _in_pool(self.create, validated_data)
        return [await self.child.acreate(attrs) for attrs in validated_data]


def _defines_async_save(serializer):
    """Whether ``serializer`` (a ListSerializer: its child) has its own acreate or aupdate."""
    cls = type(getattr(serializer, "child", serializer))
    return (
        cls.acreate is not AsyncSerializerMethods.acreate
        or cls.aupdate is not AsyncSerializerMethods.aupdate
    )


def patch(module):
    """Adapt ``rest_framework.serializers``."""
    base = module.BaseSerializer
    for name in ("adata", "ais_valid", "asave", "acreate", "aupdate"):
        if name not in base.__dict__:
            setattr(base, name, AsyncSerializerMethods.__dict__[name])
    if "acreate" not in module.ListSerializer.__dict__:
        module.ListSerializer.acreate = AsyncListSerializerMethods.__dict__["acreate"]
