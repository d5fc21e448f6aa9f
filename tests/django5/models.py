"""Models of Django 5.2's tests/async (app label here: django5)."""
from django.db import models
from django.utils import timezone


class RelatedModel(models.Model):
    simple = models.ForeignKey("SimpleModel", models.CASCADE, null=True)


class SimpleModel(models.Model):
    field = models.IntegerField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        # Django 5.2's app is "async"; its raw SQL test names the table.
        db_table = "async_simplemodel"


class ManyToManyModel(models.Model):
    simples = models.ManyToManyField("SimpleModel")
