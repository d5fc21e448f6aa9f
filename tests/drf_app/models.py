"""The API's one model."""

from django.conf import settings
from django.db import models


class Item(models.Model):
    """Something with a name and a price, maybe owned."""

    name = models.CharField(max_length=50)
    price = models.IntegerField(default=0)
    note = models.CharField(max_length=100, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
