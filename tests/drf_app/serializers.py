"""Serializers of the test API."""

from rest_framework import serializers

from async_app import database_sync_to_async

from .models import Item


class ItemSerializer(serializers.ModelSerializer):
    """An item; ``owner`` reads the related user (a query of its own)."""

    owner = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = Item
        fields = ["id", "name", "price", "note", "owner"]
        read_only_fields = ["note"]


class ShoutingItemSerializer(ItemSerializer):
    """An adrf-style serializer with its own ``acreate``/``aupdate``."""

    async def acreate(self, validated_data):
        validated_data["name"] = validated_data["name"].upper()
        return await database_sync_to_async(Item.objects.create)(**validated_data)

    async def aupdate(self, instance, validated_data):
        instance.name = validated_data.get("name", instance.name).upper() + "!"
        await database_sync_to_async(instance.save)()
        return instance
