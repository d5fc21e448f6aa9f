"""async_app.drf.serializers: adrf's adata/asave (and ais_valid) on DRF's serializers."""

import pytest

from async_app import SynchronousOnlyOperation, database_sync_to_async
from tests.drf_fixtures import api, db, drf_db, quote_service, settings_quote_url  # noqa: F401

pytest_plugins = ["async_app.testing.pytest_plugin"]


@pytest.fixture
def owned_item(db):  # noqa: F811
    from django.contrib.auth.models import User

    from tests.drf_app.models import Item

    return Item.objects.create(name="a", price=1, owner=User.objects.create_user("olga")).pk


async def _fresh_item(pk):
    from tests.drf_app.models import Item

    return await database_sync_to_async(Item.objects.get)(pk=pk)


async def test_adata_reads_related_fields_where_data_would_trip_the_guard(owned_item):
    from tests.drf_app.serializers import ItemSerializer

    item = await _fresh_item(owned_item)
    with pytest.raises(SynchronousOnlyOperation):
        ItemSerializer(item).data  # the owner is a query of its own, on the loop
    data = await ItemSerializer(await _fresh_item(owned_item)).adata
    assert data == {"id": owned_item, "name": "a", "price": 1, "note": "", "owner": "olga"}
    many = await ItemSerializer([item], many=True).adata
    assert [dict(row) for row in many] == [data]


async def test_ais_valid_and_asave_create_and_update(db):  # noqa: F811
    from tests.drf_app.models import Item
    from tests.drf_app.serializers import ItemSerializer

    serializer = ItemSerializer(data={"name": "b", "price": "x"})
    assert await serializer.ais_valid() is False
    assert set(serializer.errors) == {"price"}
    serializer = ItemSerializer(data={"name": "b", "price": "3"})
    assert await serializer.ais_valid(raise_exception=True) is True
    created = await serializer.asave(note="kw")
    assert (created.name, created.price, created.note) == ("b", 3, "kw")
    assert (await serializer.adata)["id"] == created.pk

    serializer = ItemSerializer(created, data={"price": 4}, partial=True)
    assert await serializer.ais_valid()
    assert (await serializer.asave()).pk == created.pk
    assert await database_sync_to_async(Item.objects.get)(pk=created.pk) == created
    assert (
        await database_sync_to_async(Item.objects.values_list("price", flat=True).get)(
            pk=created.pk
        )
    ) == 4


async def test_asave_checks_what_save_checks(db):  # noqa: F811
    from tests.drf_app.serializers import ItemSerializer, ShoutingItemSerializer

    for serializer_class in (ItemSerializer, ShoutingItemSerializer):
        with pytest.raises(AssertionError, match="is_valid"):
            await serializer_class(data={"name": "x"}).asave()
        invalid = serializer_class(data={})
        await invalid.ais_valid()
        with pytest.raises(AssertionError, match="invalid data"):
            await invalid.asave()
        valid = serializer_class(data={"name": "x"})
        await valid.ais_valid()
        with pytest.raises(AssertionError, match="commit"):
            await valid.asave(commit=False)


async def test_asave_awaits_the_serializers_own_acreate_and_aupdate(db):  # noqa: F811
    from tests.drf_app.serializers import ShoutingItemSerializer

    serializer = ShoutingItemSerializer(data={"name": "loud", "price": 2})
    await serializer.ais_valid(raise_exception=True)
    item = await serializer.asave(note="n")
    assert (item.name, item.note) == ("LOUD", "n")
    serializer = ShoutingItemSerializer(item, data={"name": "again"}, partial=True)
    await serializer.ais_valid(raise_exception=True)
    assert (await serializer.asave()).name == "AGAIN!"

    many = ShoutingItemSerializer(data=[{"name": "p"}, {"name": "q"}], many=True)
    await many.ais_valid(raise_exception=True)
    assert [i.name for i in await many.asave(price=5)] == ["P", "Q"]
    assert [row["price"] for row in await many.adata] == [5, 5]


def test_serializer_helpers_in_a_coroutine_handler(api):
    plain = api.post("/drf/serializer/plain/", {"name": "s"}, format="json")
    assert plain.status_code == 201 and plain.json()["price"] == 99
    shout = api.post("/drf/serializer/shout/", {"name": "s"}, format="json")
    assert shout.status_code == 201 and shout.json()["name"] == "S"
    assert api.post("/drf/serializer/plain/", {}, format="json").json() == {
        "name": ["This field is required."]
    }
    updated = api.put(
        "/drf/serializer/shout/", {"id": shout.json()["id"], "name": "t"}, format="json"
    )
    assert updated.json()["name"] == "T!"
    assert (
        api.put(
            "/drf/serializer/shout/", {"id": shout.json()["id"], "price": "x"}, format="json"
        ).status_code
        == 400
    )
