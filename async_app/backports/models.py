"""``Model.asave``/``adelete``/``arefresh_from_db`` and the related managers' a-methods.

Django 4.1 (models) and 4.2 (related managers): each awaits the sync method
run in the view pool. Related manager classes are built per relation by
factory functions; those are wrapped so every class they build gets the
twins of the methods it has (``aremove``/``aclear`` only where
``remove``/``clear`` exist, i.e. nullable foreign keys).
"""

import functools

from .coroutines import add_twins

__all__ = [
    "RELATED_MANAGER_TWINS",
    "install_generic_related_managers",
    "install_model",
    "install_related_managers",
]

RELATED_MANAGER_TWINS = (
    "add",
    "remove",
    "clear",
    "set",
    "create",
    "get_or_create",
    "update_or_create",
)


def install_model(base):
    """Add ``asave``, ``adelete``, ``arefresh_from_db`` to ``Model`` (idempotent)."""
    add_twins(base.Model, ("save", "delete", "refresh_from_db"))


def _twinning(factory):
    if getattr(factory, "_async_app_backport", False):
        return factory

    @functools.wraps(factory)
    def build(*args, **kwargs):
        cls = factory(*args, **kwargs)
        add_twins(cls, RELATED_MANAGER_TWINS)
        return cls

    build._async_app_backport = True
    return build


def install_related_managers(descriptors):
    """Wrap the many-to-one and many-to-many manager factories (idempotent)."""
    for name in ("create_reverse_many_to_one_manager", "create_forward_many_to_many_manager"):
        setattr(descriptors, name, _twinning(getattr(descriptors, name)))


def install_generic_related_managers(fields):
    """Wrap ``GenericRelation``'s manager factory (idempotent)."""
    name = "create_generic_related_manager"
    setattr(fields, name, _twinning(getattr(fields, name)))
